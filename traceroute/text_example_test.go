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

// mtr prints aggregates, which stay aggregates: Hop.Stats, never probes.
func ExampleRead_mtrReport() {
	out := `Start: 2024-05-01T09:30:00+0000
HOST: laptop                      Loss%   Snt   Last   Avg  Best  Wrst StDev
  1.|-- 192.0.2.1                  0.0%    10    0.5   0.6   0.4   0.9   0.1
  2.|-- ???                       100.0    10    0.0   0.0   0.0   0.0   0.0
  3.|-- 203.0.113.9               10.0%    10    9.1   9.4   9.0  10.2   0.4
`
	for t, err := range traceroute.Read(strings.NewReader(out), traceroute.ReadOptions{}) {
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(t.Format, "from", t.Source.Name, "at", t.Started.Format("15:04"))
		for _, h := range t.Hops {
			for _, s := range h.Stats {
				fmt.Printf("%d %v sent=%d loss=%g%% best=%gms avg=%gms probes=%d\n", h.TTL, s.Addr, s.Sent, s.LossPct, s.MinMs, s.AvgMs, len(h.Probes))
			}
		}
	}
	// Output:
	// mtr-report from laptop at 09:30
	// 1 192.0.2.1 sent=10 loss=0% best=0.4ms avg=0.6ms probes=0
	// 2 invalid IP sent=10 loss=100% best=0ms avg=0ms probes=0
	// 3 203.0.113.9 sent=10 loss=10% best=9ms avg=9.4ms probes=0
}
