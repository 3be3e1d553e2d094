package hopstats_test

import (
	"fmt"
	"net/netip"

	"github.com/geoloc-dev/geoloc/hopstats"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// Rounds from the live tracer (here written by hand) go into a Path; its
// hops carry mtr's columns.
func ExamplePath() {
	gw, dst := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("203.0.113.9")
	rounds := [][2]float64{{0.4, 10.2}, {0.6, -1}, {0.5, 10.8}} // -1: lost
	var p hopstats.Path
	for _, r := range rounds {
		t := &traceroute.Trace{Destination: traceroute.Endpoint{Addr: dst}}
		t.Hops = append(t.Hops, traceroute.Hop{TTL: 1, Probes: []traceroute.Probe{{Addr: gw, RTTMs: r[0]}}})
		last := traceroute.Probe{Addr: dst, RTTMs: r[1]}
		if r[1] < 0 {
			last = traceroute.Probe{Lost: true}
		}
		t.Hops = append(t.Hops, traceroute.Hop{TTL: 2, Probes: []traceroute.Probe{last}})
		p.Add(t)
	}
	for _, h := range p.Hops() {
		fmt.Printf("%d %-12s loss %3.0f%% sent %d last %.1f avg %.1f best %.1f worst %.1f stdev %.2f\n",
			h.TTL, h.Responders[0].Addr, h.LossPct(), h.Sent, h.RTT.LastMs, h.RTT.AvgMs, h.RTT.BestMs, h.RTT.WorstMs, h.RTT.StdevMs())
	}
	// Output:
	// 1 192.0.2.1    loss   0% sent 3 last 0.5 avg 0.5 best 0.4 worst 0.6 stdev 0.08
	// 2 203.0.113.9  loss  33% sent 3 last 10.8 avg 10.5 best 10.2 worst 10.8 stdev 0.30
}
