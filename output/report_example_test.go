package output_test

import (
	"net/netip"
	"os"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/output"
	"github.com/geoloc-dev/geoloc/traceroute"
)

func ExampleReport_WriteTable() {
	at := func(ttl int, addr string, asn uint32, org string, lat, lon float64) geoloc.HopResult {
		return geoloc.HopResult{TTL: ttl, Addr: netip.MustParseAddr(addr), ASN: asn, ASOrg: org, Confidence: 0.8,
			Location: &geoloc.Location{Lat: lat, Lon: lon}}
	}
	r := output.BuildReport([]*geoloc.TraceResult{{
		Destination: traceroute.Endpoint{Name: "ns1.example.no"},
		Hops: []geoloc.HopResult{
			at(1, "198.51.100.1", 2119, "Telenor Norge AS", 59.9139, 10.7522), // Oslo
			at(2, "198.51.100.2", 2119, "Telenor Norge AS", 59.3293, 18.0686), // Stockholm
			at(3, "198.51.100.3", 39832, "Opera Norway AS", 59.9139, 10.7522), // Oslo again
		},
	}})
	r.WriteTable(os.Stdout)
	// Output:
	// TRACE           COUNTRIES (min confidence)      TROMBONE
	// ns1.example.no  NO(0.80) > SE(0.80) > NO(0.80)  yes: NO
	//
	// COUNTRY    DESTINATIONS (of 1)  TRACES  HOPS  MEAN CONFIDENCE
	// NO Norway  1                    1       2     0.80
	// SE Sweden  1                    1       1     0.80
	//
	// ORGANISATION             DESTINATIONS (of 1)  TRACES  HOPS  MEAN CONFIDENCE
	// AS2119 Telenor Norge AS  1                    1       2     0.80
	// AS39832 Opera Norway AS  1                    1       1     0.80
}
