// Command benchdb writes the databases of scripts/bench-regeo.sh into a
// directory: two city databases (GeoIP2-City and DB-IP Lite layouts) and a
// GeoLite2-ASN one, each covering 40,000 random /16 networks of IPv4 with
// real cities, so that most addresses internal/atlasgen makes are found,
// as in a real run. The same files on every run (fixed seed).
//
//	go run ./internal/cmd/benchdb DIR
package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/geoloc-dev/geoloc/internal/mmdbtest"
)

var cities = []mmdbtest.CityRecord{
	{Lat: 50.1109, Lon: 8.6821, City: "Frankfurt am Main", Country: "DE", Continent: "EU"},
	{Lat: 52.3676, Lon: 4.9041, City: "Amsterdam", Country: "NL", Continent: "EU"},
	{Lat: 51.5072, Lon: -0.1276, City: "London", Country: "GB", Continent: "EU"},
	{Lat: 48.8566, Lon: 2.3522, City: "Paris", Country: "FR", Continent: "EU"},
	{Lat: 59.3293, Lon: 18.0686, City: "Stockholm", Country: "SE", Continent: "EU"},
	{Lat: 40.7128, Lon: -74.006, City: "New York", Country: "US", Continent: "NA"},
	{Lat: 39.0438, Lon: -77.4874, City: "Ashburn", Country: "US", Continent: "NA"},
	{Lat: 37.3387, Lon: -121.8853, City: "San Jose", Country: "US", Continent: "NA"},
	{Lat: 35.6762, Lon: 139.6503, City: "Tokyo", Country: "JP", Continent: "AS"},
	{Lat: 1.3521, Lon: 103.8198, City: "Singapore", Country: "SG", Continent: "AS"},
	{Lat: -33.8688, Lon: 151.2093, City: "Sydney", Country: "AU", Continent: "OC"},
	{Lat: -23.5505, Lon: -46.6333, City: "São Paulo", Country: "BR", Continent: "SA"},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: benchdb DIR")
		os.Exit(2)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	seen := map[int]bool{}
	var city, dbip []mmdbtest.CityRecord
	var asn []mmdbtest.ASNRecord
	for len(seen) < 40000 {
		n := rng.IntN(223<<8) + 1<<8 // 1.0.0.0/16 .. 223.255.0.0/16
		if seen[n] {
			continue
		}
		seen[n] = true
		prefix := fmt.Sprintf("%d.%d.0.0/16", n>>8, n&0xff)
		c := cities[rng.IntN(len(cities))]
		c.Prefix, c.AccuracyKm = prefix, uint16(10+rng.IntN(200))
		city = append(city, c)
		d := cities[rng.IntN(len(cities))]
		d.Prefix = prefix
		dbip = append(dbip, d)
		a := uint32(64512 + rng.IntN(1000))
		asn = append(asn, mmdbtest.ASNRecord{Prefix: prefix, ASN: a, Org: fmt.Sprintf("Example Networks %d", a)})
	}
	for name, build := range map[string]func() ([]byte, error){
		"bench-city.mmdb": func() ([]byte, error) { return mmdbtest.BuildCity(city) },
		"bench-dbip.mmdb": func() ([]byte, error) { return mmdbtest.BuildDBIPCity(dbip) },
		"bench-asn.mmdb":  func() ([]byte, error) { return mmdbtest.BuildASN(asn) },
	} {
		b, err := build()
		if err == nil {
			err = os.WriteFile(filepath.Join(os.Args[1], name), b, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchdb:", err)
			os.Exit(1)
		}
	}
}
