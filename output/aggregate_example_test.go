package output_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/output"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// An Aggregate takes a batch one trace at a time and keeps each distinct
// link once, with the number of traces through it; WriteAggregate draws
// it, and ForName's writers draw one themselves with Options.Aggregate
// (always) or Options.AggregateAbove (for batches above a size).
func ExampleNewAggregate() {
	hop := func(ttl int, addr, city, cc string, lat, lon float64, asn uint32) geoloc.HopResult {
		return geoloc.HopResult{TTL: ttl, Addr: netip.MustParseAddr(addr), ASN: asn, Confidence: 0.9,
			Location: &geoloc.Location{Lat: lat, Lon: lon, RadiusKm: 25, City: city, Country: cc}}
	}
	osl := hop(1, "198.51.100.9", "Oslo", "NO", 59.9139, 10.7522, 1299)
	ffm := hop(2, "198.51.100.33", "Frankfurt am Main", "DE", 50.1109, 8.6821, 1299)
	ams := hop(3, "198.51.100.40", "Amsterdam", "NL", 52.3676, 4.9041, 1200)
	par := hop(3, "198.51.100.41", "Paris", "FR", 48.8566, 2.3522, 5511)

	a := output.NewAggregate(output.AggregateOptions{})
	for i := range 1000 {
		last := ams
		if i%4 == 0 {
			last = par
		}
		a.Add(&geoloc.TraceResult{
			Destination: traceroute.Endpoint{Name: fmt.Sprintf("www%d.example", i)},
			Hops:        []geoloc.HopResult{osl, ffm, last},
		})
	}
	for _, l := range a.Links() {
		fmt.Printf("%s → %s: %d\n", l.From.City, l.To.City, l.Traces)
	}
	for _, c := range a.Countries() {
		fmt.Printf("%s %d\n", c.Country, c.Traces)
	}
	var buf bytes.Buffer
	if err := output.WriteAggregate(&buf, "geojson", a, output.Options{}); err != nil {
		fmt.Println(err)
	}
	fmt.Println(strings.Count(buf.String(), `"kind":"link"`), "links in the GeoJSON")
	// Output:
	// Oslo → Frankfurt am Main: 1000
	// Frankfurt am Main → Amsterdam: 750
	// Frankfurt am Main → Paris: 250
	// DE 1000
	// NO 1000
	// NL 750
	// FR 250
	// 3 links in the GeoJSON
}
