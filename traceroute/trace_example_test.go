package traceroute_test

import (
	"fmt"
	"net/netip"

	"github.com/geoloc-dev/geoloc/traceroute"
)

// AppendAddrs collects the responding addresses of every hop into one
// slice (each hop's distinct, in order of first appearance), without a
// slice per hop.
func ExampleHop_AppendAddrs() {
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.7")
	tr := traceroute.Trace{Hops: []traceroute.Hop{
		{TTL: 1, Probes: []traceroute.Probe{{Addr: a, RTTMs: 0.4}, {Addr: a, RTTMs: 0.5}}},
		{TTL: 2, Probes: []traceroute.Probe{{Lost: true}, {Addr: b, RTTMs: 9.1}, {Addr: a, RTTMs: 9.3}}},
	}}
	var all []netip.Addr
	for i := range tr.Hops {
		from := len(all)
		all = tr.Hops[i].AppendAddrs(all)
		fmt.Println(tr.Hops[i].TTL, all[from:])
	}
	// Output:
	// 1 [192.0.2.1]
	// 2 [198.51.100.7 192.0.2.1]
}
