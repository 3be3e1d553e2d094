package candidates

import "github.com/geoloc-dev/geoloc/internal/countries"

// Country is a country's identity and extent, as used for country-level
// candidates. The data is geoloc's one country table (world-countries
// 5.1.0, ODbL-1.0; extents from Natural Earth 1:10m outlines, public
// domain), the one the engine and the map writers use too.
type Country struct {
	ISO2, ISO3 string
	Name       string  // common English name
	Lat, Lon   float64 // centroid, degrees
	// RadiusKm is the distance from the centroid to the farthest point of
	// the country's largest polygon (its mainland), so a disc of this
	// radius covers the mainland; overseas parts are outside it.
	RadiusKm float64
	AreaKm2  float64 // area of all its polygons (0 when unknown)
}

// LookupCountry returns the country for an ISO 3166-1 alpha-2 code (any
// case); ok is false for an unknown code.
func LookupCountry(iso2 string) (Country, bool) {
	if len(iso2) != 2 {
		return Country{}, false
	}
	c, ok := countries.Lookup(iso2)
	return Country(c), ok
}
