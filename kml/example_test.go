package kml_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/kml"
	"github.com/geoloc-dev/geoloc/traceroute"
)

func ExampleWrite() {
	res := []*geoloc.TraceResult{{
		Destination: traceroute.Endpoint{Name: "www.example.de"},
		Hops: []geoloc.HopResult{
			{TTL: 1, Addr: netip.MustParseAddr("198.51.100.9"), Name: "osl-b2-link.ip.twelve99.net", ASN: 1299,
				Location: &geoloc.Location{Lat: 59.9139, Lon: 10.7522, RadiusKm: 25, City: "Oslo", Country: "NO"}, Confidence: 0.9},
			{TTL: 2, Addr: netip.MustParseAddr("198.51.100.33"), Name: "ffm-bb1-link.ip.twelve99.net", ASN: 1299,
				Location: &geoloc.Location{Lat: 50.1109, Lon: 8.6821, RadiusKm: 30, City: "Frankfurt am Main", Country: "DE"}, Confidence: 0.9},
		},
	}}
	var buf bytes.Buffer
	if err := kml.Write(&buf, res, kml.Options{Name: "example", Indent: true}); err != nil {
		fmt.Println(err)
	}
	// Show the outline of the document: names and geometry (a line as its
	// number of points and its ends: the route is drawn as arcs, each hop
	// higher than the one before).
	for line := range strings.Lines(buf.String()) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "<name>"):
			fmt.Println(line)
		case strings.HasPrefix(line, "<coordinates>"):
			pts := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(line, "<coordinates>"), "</coordinates>"))
			if len(pts) == 1 {
				fmt.Println("point", pts[0])
			} else {
				fmt.Println("line of", len(pts), "points from", pts[0], "to", pts[len(pts)-1])
			}
		}
	}
	// Output:
	// <name>example</name>
	// <name>www.example.de: Norway → Germany</name>
	// <name>1 osl-b2-link.ip.twelve99.net</name>
	// point 10.7522,59.9139,4000
	// <name>2 ffm-bb1-link.ip.twelve99.net</name>
	// point 8.6821,50.1109,8000
	// <name>path</name>
	// line of 17 points from 10.7522,59.9139,4000 to 8.6821,50.1109,8000
}
