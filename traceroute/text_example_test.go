package traceroute_test

import (
	"fmt"
	"strings"

	"github.com/geoloc-dev/geoloc/traceroute"
)

// Read detects the format (here Linux traceroute with -A) and streams the
// traces; errors name the input, the line and the format.
func ExampleRead() {
	out := `traceroute to example.org (203.0.113.9), 30 hops max, 60 byte packets
 1  gw.example (192.0.2.1) [AS64500]  0.447 ms  0.401 ms  0.390 ms
 2  198.51.100.1 (198.51.100.1)  1.902 ms 198.51.100.5 (198.51.100.5)  2.110 ms *
 3  * * *
 4  example.org (203.0.113.9)  9.310 ms !H  9.280 ms  9.301 ms
 5  example.org (203.0.113.9)
`
	for t, err := range traceroute.Read(strings.NewReader(out), traceroute.ReadOptions{Input: "trace.txt"}) {
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(t.Format, "to", t.Destination.Name, t.Destination.Addr)
		for _, h := range t.Hops {
			fmt.Print(h.TTL)
			for _, p := range h.Probes {
				switch {
				case p.Lost:
					fmt.Print(" *")
				default:
					fmt.Print(" ", p.Addr, " ", p.RTTMs, "ms", p.Flags)
				}
			}
			fmt.Println()
		}
	}
	// Output:
	// error: trace.txt:6: linux-traceroute: host "example.org" without round-trip times
	// linux-traceroute to example.org 203.0.113.9
	// 1 192.0.2.1 0.447ms[] 192.0.2.1 0.401ms[] 192.0.2.1 0.39ms[]
	// 2 198.51.100.1 1.902ms[] 198.51.100.5 2.11ms[] *
	// 3 * * *
	// 4 203.0.113.9 9.31ms[!H] 203.0.113.9 9.28ms[] 203.0.113.9 9.301ms[]
}
