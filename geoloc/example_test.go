package geoloc_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// headOffice is a stand-in GeoIP database that, like many real ones, puts
// every router of AS1299 at the operator's head office in Stockholm.
type headOffice struct{}

func (headOffice) Name() string { return "example-city-db" }

func (headOffice) Lookup(q candidates.Query) (candidates.Answer, error) {
	if !netip.MustParsePrefix("62.115.0.0/16").Contains(q.Addr) {
		return candidates.Answer{}, nil
	}
	return candidates.Answer{
		Candidates: []candidates.Candidate{{Lat: 59.3293, Lon: 18.0686, RadiusKm: 20, City: "Stockholm", Country: "SE", Source: "example-city-db", Kind: candidates.KindGeoIP}},
		AS:         &candidates.ASInfo{Number: 1299, Org: "Arelion Sweden AB"},
	}, nil
}

func ExampleEngine_Locate() {
	lat, lon := 52.37, 4.89 // the trace was run from Amsterdam
	tr := &traceroute.Trace{
		Source: traceroute.Endpoint{Name: "Amsterdam", Lat: &lat, Lon: &lon},
		Hops: []traceroute.Hop{
			{TTL: 1, Probes: []traceroute.Probe{{Addr: netip.MustParseAddr("192.168.1.1"), RTTMs: 0.6}}},
			{TTL: 2, Probes: []traceroute.Probe{{Addr: netip.MustParseAddr("62.115.120.1"), Name: "adm-b1-link.ip.twelve99.net", RTTMs: 1.2}}},
			{TTL: 3, Probes: []traceroute.Probe{{Addr: netip.MustParseAddr("62.115.116.17"), Name: "ffm-b4-link.ip.twelve99.net", RTTMs: 7.1}}},
		},
	}
	e := geoloc.New(geoloc.Options{Sources: []candidates.Source{headOffice{}}})
	r, err := e.Locate(context.Background(), tr)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range r.Hops {
		fmt.Printf("%d %s: %s, %s by %s (confidence %.2f)\n", h.TTL, h.Addr, h.Location.City, h.Location.Country, h.Method, h.Confidence)
		for _, ev := range h.Evidence {
			if ev.Status == geoloc.StatusRuledOut {
				fmt.Printf("  %s said %s: %s\n", ev.Source, ev.City, ev.Why)
			}
		}
	}
	fmt.Println(r.Countries)
	// Output:
	// 1 192.168.1.1: Amsterdam, NL by neighbour (confidence 0.29)
	// 2 62.115.120.1: Amsterdam, NL by rdns:operator-site (confidence 0.92)
	//   example-city-db said Stockholm: needs at least 10.8 ms from Amsterdam, saw 1.2 ms
	// 3 62.115.116.17: Frankfurt, DE by rdns:operator-site (confidence 0.92)
	//   example-city-db said Stockholm: needs at least 10.8 ms from Amsterdam, saw 7.1 ms
	// [NL DE]
}

func ExampleEngine_LocateAddr() {
	e := geoloc.New(geoloc.Options{})
	// `geoloc locate 4.69.0.1 --rtt 3.1 --from 51.5,-0.13`: the name says
	// London or Frankfurt? Only one is 3.1 ms from London.
	from := &geoloc.Vantage{Lat: 51.5, Lon: -0.13, Name: "London"}
	h, err := e.LocateAddr(context.Background(), netip.MustParseAddr("4.69.0.1"), "ae-1.r21.londen12.uk.bb.gin.ntt.net", 3.1, from)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.Location.City, h.Location.Country, h.Method)
	// Output:
	// London GB rdns:clli-like
}
