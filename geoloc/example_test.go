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
	// 2 62.115.120.1: Amsterdam, NL by rdns:operator-site (confidence 0.94)
	//   example-city-db said Stockholm: needs at least 10.8 ms from Amsterdam, saw 1.2 ms
	// 3 62.115.116.17: Frankfurt, DE by rdns:operator-site (confidence 0.94)
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

func ExampleEngine_Stream() {
	lat, lon := 52.37, 4.89
	mk := func(name string, rtt float64) *traceroute.Trace {
		return &traceroute.Trace{
			Source: traceroute.Endpoint{Lat: &lat, Lon: &lon},
			Hops:   []traceroute.Hop{{TTL: 1, Probes: []traceroute.Probe{{Addr: netip.MustParseAddr("62.115.116.17"), Name: name, RTTMs: rtt}}}},
		}
	}
	traces := func(yield func(*traceroute.Trace, error) bool) {
		for _, t := range []*traceroute.Trace{mk("ffm-b4-link.ip.twelve99.net", 7.1), mk("adm-b1-link.ip.twelve99.net", 0.9), mk("prs-bb1-link.ip.twelve99.net", 6.2)} {
			if !yield(t, nil) {
				return
			}
		}
	}
	e := geoloc.New(geoloc.Options{})
	// Results come back in input order, located on every core.
	for r, err := range e.Stream(context.Background(), traces, 0) {
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(r.Hops[0].Location.City)
	}
	// Output:
	// Frankfurt
	// Amsterdam
	// Paris
}

func ExampleEngine_Observe() {
	// 1.1.1.1 answers in 2 ms from both Oslo and Tokyo: no single place
	// can do that, so fused locating flags it anycast.
	at := func(name string, lat, lon float64) *traceroute.Trace {
		return &traceroute.Trace{
			Source: traceroute.Endpoint{Name: name, Lat: &lat, Lon: &lon},
			Hops:   []traceroute.Hop{{TTL: 1, Probes: []traceroute.Probe{{Addr: netip.MustParseAddr("1.1.1.1"), RTTMs: 2}}}},
		}
	}
	oslo, tokyo := at("Oslo", 59.91, 10.75), at("Tokyo", 35.68, 139.65)
	e := geoloc.New(geoloc.Options{})
	e.Observe(oslo) // first pass: every trace
	e.Observe(tokyo)
	r, _ := e.Locate(context.Background(), oslo) // second pass
	fmt.Println(r.Hops[0].Anycast)
	fmt.Println(r.Hops[0].Why)
	// Output:
	// true
	// anycast: seen at 2.0 ms from Oslo and 2.0 ms from Tokyo, 8405 km apart; no single place is that close to both; no name hint and no database knows this address
}

// fusedMap is a first pass held outside the engine, as a pipeline would
// hold it after combining per address and per source.
type fusedMap struct {
	fused map[netip.Addr]geoloc.Fused
	votes map[string]geoloc.Votes
}

func (m fusedMap) Fused(a netip.Addr) (geoloc.Fused, bool) { f, ok := m.fused[a]; return f, ok }
func (m fusedMap) Votes(k string) (geoloc.Votes, bool)     { v, ok := m.votes[k]; return v, ok }

func ExampleEngine_LocateFused() {
	// The first pass run elsewhere: what each trace gives (FirstPassOf),
	// combined per address with Fused.Add and Merge, in any order.
	at := func(name string, lat, lon, rtt float64) *traceroute.Trace {
		return &traceroute.Trace{
			Source: traceroute.Endpoint{Name: name, Lat: &lat, Lon: &lon},
			Hops:   []traceroute.Hop{{TTL: 1, Probes: []traceroute.Probe{{Addr: netip.MustParseAddr("8.8.12.1"), RTTMs: rtt}}}},
		}
	}
	traces := []*traceroute.Trace{at("London", 51.51, -0.13, 4.0), at("Paris", 48.86, 2.35, 3.5), at("Amsterdam", 52.37, 4.90, 2.5)}
	e := geoloc.New(geoloc.Options{})
	m := fusedMap{fused: map[netip.Addr]geoloc.Fused{}, votes: map[string]geoloc.Votes{}}
	for _, t := range traces {
		for _, o := range e.FirstPassOf(context.Background(), t).Observations {
			f := m.fused[o.Addr]
			f.Add(o.Vantage, o.RTTMs)
			m.fused[o.Addr] = f
		}
	}
	// The second pass: nothing but the RTTs from three cities places it.
	r, _ := e.LocateFused(context.Background(), traces[0], m)
	h := r.Hops[0]
	fmt.Println(h.Method, h.Location.Country, h.Location.RadiusKm < 300)
	// Output:
	// latency:multilateration BE true
}
