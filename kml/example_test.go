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
	// Show the outline of the document: names and geometry.
	for line := range strings.Lines(buf.String()) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "<name>") || strings.HasPrefix(line, "<coordinates>") {
			fmt.Println(line)
		}
	}
	// Output:
	// <name>example</name>
	// <name>www.example.de</name>
	// <name>1 osl-b2-link.ip.twelve99.net</name>
	// <coordinates>10.7522,59.9139</coordinates>
	// <name>2 ffm-bb1-link.ip.twelve99.net</name>
	// <coordinates>8.6821,50.1109</coordinates>
	// <name>path</name>
	// <coordinates>10.7522,59.9139 8.6821,50.1109</coordinates>
}
