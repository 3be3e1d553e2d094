package candidates

import (
	"github.com/geoloc-dev/geoloc/rdns"
)

// RDNSPlaces is the default PlaceResolver: it finds a city in the embedded
// place dictionary of package rdns ([rdns.LookupPlace]), the most populous
// place of that name in the feed's country, and in its region when both the
// feed and the dictionary name one. A city unknown there is left
// unresolved, so the entry stays at country level rather than in a namesake
// town abroad.
func RDNSPlaces(city, region, country string) (lat, lon float64, ok bool) {
	if city == "" || country == "" {
		return 0, 0, false
	}
	p, ok := rdns.LookupPlace(city, region, country)
	if !ok || p.Lat == 0 && p.Lon == 0 {
		return 0, 0, false
	}
	return p.Lat, p.Lon, true
}
