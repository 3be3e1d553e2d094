package traceroute_test

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/geoloc-dev/geoloc/traceroute"
)

// Write traces as interchange JSON Lines, one trace a line.
func ExampleNewEncoder() {
	t := &traceroute.Trace{
		Format:      traceroute.FormatGeoloc,
		Destination: traceroute.Endpoint{Name: "www.example.org", Addr: netip.MustParseAddr("203.0.113.9")},
		Protocol:    "icmp",
		Started:     time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Hops: []traceroute.Hop{
			{TTL: 1, Probes: []traceroute.Probe{{Addr: netip.MustParseAddr("192.0.2.1"), RTTMs: 0.447}, {Lost: true}}},
		},
	}
	enc := traceroute.NewEncoder(os.Stdout)
	if err := enc.Encode(t); err != nil {
		fmt.Println(err)
	}
	if err := enc.Flush(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"format":"geoloc","destination":{"addr":"203.0.113.9","name":"www.example.org"},"protocol":"icmp","started":"2026-01-02T03:04:05Z","hops":[{"ttl":1,"probes":[{"addr":"192.0.2.1","rtt_ms":0.447},{"lost":true}]}]}
}

// Read interchange JSON Lines back: Read detects the format, and each trace
// keeps the name of the tool output it first came from.
func ExampleRead_interchange() {
	in := `{"format":"ripe-atlas","source":{"addr":"192.0.2.7","probe_id":"6001"},"hops":[{"ttl":1,"probes":[{"addr":"192.0.2.1","rtt_ms":1.5}]}]}
{"format":"mtr-json","hops":[{"ttl":1,"stats":[{"addr":"198.51.100.1","sent":10,"loss_pct":20,"min_ms":1.9,"avg_ms":2.7,"max_ms":3.7}]}]}
`
	for t, err := range traceroute.Read(strings.NewReader(in), traceroute.ReadOptions{Input: "traces.jsonl"}) {
		if err != nil {
			fmt.Println(err)
			continue
		}
		for _, h := range t.Hops {
			for _, a := range h.Addrs() {
				rtt, _ := h.MinRTTMs(a)
				fmt.Printf("%s ttl %d %s %.1f ms\n", t.Format, h.TTL, a, rtt)
			}
		}
	}
	// Output:
	// ripe-atlas ttl 1 192.0.2.1 1.5 ms
	// mtr-json ttl 1 198.51.100.1 1.9 ms
}

// Read RIPE Atlas results, here one per line; a downloaded JSON array works
// the same, streamed one result at a time.
func ExampleRead_ripeAtlas() {
	in := `{"type":"traceroute","prb_id":6001,"from":"192.0.2.7","dst_addr":"203.0.113.9","proto":"ICMP","timestamp":1700000000,
"result":[{"hop":1,"result":[{"from":"192.0.2.1","rtt":1.234,"ttl":64},{"x":"*"}]},{"hop":2,"result":[{"from":"203.0.113.9","rtt":9.87,"ttl":60,"err":"H"}]}]}`
	for t, err := range traceroute.Read(strings.NewReader(in), traceroute.ReadOptions{}) {
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(t.Format, t.Source.ProbeID, t.Protocol, t.Started.Format(time.RFC3339))
		for _, h := range t.Hops {
			for _, p := range h.Probes {
				if p.Lost {
					fmt.Println(h.TTL, "*")
					continue
				}
				fmt.Println(h.TTL, p.Addr, p.RTTMs, p.Flags)
			}
		}
	}
	// Output:
	// ripe-atlas 6001 icmp 2023-11-14T22:13:20Z
	// 1 192.0.2.1 1.234 []
	// 1 *
	// 2 203.0.113.9 9.87 [!H]
}

// A bad record gives a one-line error naming the input and line; reading
// goes on with the next record.
func ExampleParseError() {
	in := `{"type":"traceroute","dst_addr":"203.0.113.9","result":[{"hop":1,"result":[{"from":"192.0.2.1","rtt":1}]}]}
{"type":"traceroute","dst_addr":"203.0.113.9","result":[{"hop":"one"}]}
`
	for t, err := range traceroute.Read(strings.NewReader(in), traceroute.ReadOptions{Input: "atlas.jsonl"}) {
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(len(t.Hops), "hop")
	}
	// Output:
	// 1 hop
	// atlas.jsonl:2: ripe-atlas: column 64: want a number, found '"'
}
