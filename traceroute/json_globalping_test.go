package traceroute

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJSONConformanceGlobalping reads the API's documented examples. The
// expected values are the examples' own: the probe's coordinates, the
// resolved address, each hop's address and RTTs (and, for the full
// traceroute, what its rawOutput printed on each line).
func TestJSONConformanceGlobalping(t *testing.T) {
	t.Run("ping", func(t *testing.T) {
		traces, errs := jsReadFixture(t, "testdata/json/globalping/ping.json", "")
		require.Empty(t, errs)
		require.Len(t, traces, 1)
		tr := traces[0]
		assert.Equal(t, FormatGlobalping, tr.Format)
		require.True(t, tr.Source.HasLocation())
		assert.Equal(t, -36.86667, *tr.Source.Lat)
		assert.Equal(t, 174.76667, *tr.Source.Lon)
		assert.Equal(t, "Auckland, NZ, AS61138", tr.Source.Name)
		assert.Equal(t, "cdn.jsdelivr.net", tr.Destination.Name)
		assert.Equal(t, "151.101.129.229", tr.Destination.Addr.String())
		assert.Equal(t, "icmp", tr.Protocol)
		assert.Equal(t, time.Date(2023, 7, 14, 18, 25, 52, 414e6, time.UTC), tr.Started)
		require.Len(t, tr.Hops, 1)
		h := tr.Hops[0]
		assert.Equal(t, 6, h.TTL, "reply TTL 59 from 64")
		require.Len(t, h.Probes, 2)
		for _, p := range h.Probes {
			assert.Equal(t, tr.Destination.Addr, p.Addr)
			assert.Equal(t, 24.2, p.RTTMs)
			assert.Equal(t, 59, p.ReplyTTL)
		}
	})
	t.Run("traceroute as documented (hops shortened)", func(t *testing.T) {
		traces, errs := jsReadFixture(t, "testdata/json/globalping/traceroute.json", "")
		require.Empty(t, errs)
		require.Len(t, traces, 1)
		tr := traces[0]
		assert.Equal(t, "Sydney, AU, AS16276", tr.Source.Name)
		assert.Equal(t, -33.86778, *tr.Source.Lat)
		require.Len(t, tr.Hops, 2)
		assert.Equal(t, "172.68.208.3", tr.Hops[0].Probes[0].Addr.String())
		assert.Equal(t, 1.777, tr.Hops[0].Probes[0].RTTMs)
		assert.Empty(t, tr.Hops[0].Probes[0].Name, "resolvedHostname only repeats the address")
		assert.Equal(t, []float64{0.826, 0.733}, []float64{tr.Hops[1].Probes[0].RTTMs, tr.Hops[1].Probes[1].RTTMs})
	})
	t.Run("traceroute, all hops", func(t *testing.T) {
		traces, errs := jsReadFixture(t, "testdata/json/globalping/traceroute-full.json", "")
		require.Empty(t, errs)
		require.Len(t, traces, 1)
		tr := traces[0]
		// rawOutput, line by line: TTL, name, address, RTTs.
		want := []struct {
			name, addr string
			rtt        [2]float64
		}{
			{"", "139.99.172.1", [2]float64{0.315, 0.301}},
			{"", "192.168.143.254", [2]float64{0.295, 0.292}},
			{"", "10.29.250.254", [2]float64{0.289, 0.286}},
			{"", "10.29.231.208", [2]float64{0.338, 0.349}},
			{"", "10.133.18.32", [2]float64{0.502, 0.596}},
			{"", "10.75.8.8", [2]float64{0.322, 0.344}},
			{"", "10.75.248.66", [2]float64{1.101, 1.106}},
			{"syd-sy2-bb1-a9.au.asia", "103.5.14.220", [2]float64{1.105, 1.160}},
			{"as13335.nsw.ix.asn.au", "218.100.52.11", [2]float64{1.097, 1.097}},
			{"", "172.68.208.3", [2]float64{1.777, 1.778}},
			{"", "104.16.85.20", [2]float64{0.826, 0.733}},
		}
		require.Len(t, tr.Hops, len(want))
		for i, w := range want {
			h := tr.Hops[i]
			assert.Equal(t, i+1, h.TTL)
			require.Len(t, h.Probes, 2)
			for j := range 2 {
				assert.Equal(t, w.addr, h.Probes[j].Addr.String(), "ttl %d", i+1)
				assert.Equal(t, w.name, h.Probes[j].Name, "ttl %d", i+1)
				assert.Equal(t, w.rtt[j], h.Probes[j].RTTMs, "ttl %d", i+1)
			}
		}
		assert.Equal(t, tr.Destination.Addr, tr.Hops[10].Probes[0].Addr, "the last hop is the destination")
	})
	t.Run("mtr", func(t *testing.T) {
		traces, errs := jsReadFixture(t, "testdata/json/globalping/mtr.json", "")
		require.Empty(t, errs)
		require.Len(t, traces, 1)
		tr := traces[0]
		assert.Equal(t, "Johannesburg, ZA, AS199524", tr.Source.Name)
		require.Len(t, tr.Hops, 2)
		st := tr.Hops[0].Stats
		require.Len(t, st, 1)
		assert.Equal(t, Stats{Addr: st[0].Addr, ASN: 174, Sent: 2, LossPct: 0, MinMs: 176.348, AvgMs: 176.4, MaxMs: 176.416}, st[0])
		assert.Equal(t, "149.6.2.38", st[0].Addr.String())
		assert.Equal(t, uint32(54113), tr.Hops[1].Stats[0].ASN)
		assert.Equal(t, 0.1, tr.Hops[1].Stats[0].StdevMs)
	})
}

func TestJSONGlobalpingCases(t *testing.T) {
	probe := `{"continent":"EU","region":"Western Europe","country":"DE","state":null,"city":"Frankfurt","asn":64500,"longitude":8.68,"latitude":50.11,"network":"Example","tags":[],"resolvers":[]}`
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, trs []*Trace)
		err   string
	}{
		{name: "silent hop and two probes",
			in: `{"id":"a","type":"traceroute","status":"finished","createdAt":"2024-01-02T03:04:05Z","target":"192.0.2.9","probesCount":2,"measurementOptions":{"protocol":"UDP"},"results":[` +
				`{"probe":` + probe + `,"result":{"status":"finished","rawOutput":"","resolvedAddress":"192.0.2.9","resolvedHostname":"192.0.2.9","hops":[` +
				`{"resolvedAddress":"192.0.2.1","resolvedHostname":"gw.example","timings":[{"rtt":1.1},{"rtt":1.3}]},{"resolvedAddress":null,"resolvedHostname":null,"timings":[]},{"resolvedAddress":"192.0.2.9","resolvedHostname":"192.0.2.9","timings":[{"rtt":9}]}]}},` +
				`{"probe":` + probe + `,"result":{"status":"failed","rawOutput":"traceroute: connect: Network is unreachable\n"}}]}`,
			check: func(t *testing.T, trs []*Trace) {
				require.Len(t, trs, 2)
				tr := trs[0]
				assert.Equal(t, "udp", tr.Protocol)
				assert.Empty(t, tr.Destination.Name, "the target is an address")
				assert.Equal(t, "gw.example", tr.Hops[0].Probes[0].Name)
				assert.Len(t, tr.Hops[1].Probes, 2, "a silent hop gets the busiest hop's count of lost probes")
				assert.True(t, tr.Hops[1].Probes[0].Lost)
				assert.Equal(t, "test failed: traceroute: connect: Network is unreachable", trs[1].Error)
				assert.Empty(t, trs[1].Hops)
			}},
		{name: "ping with no reply", in: `{"id":"p","type":"ping","status":"finished","target":"192.0.2.9","results":[{"probe":` + probe + `,"result":{"status":"finished","resolvedAddress":"192.0.2.9","timings":[],"stats":{"min":null,"max":null,"avg":null,"total":3,"rcv":0,"drop":3,"loss":100}}}]}`,
			check: func(t *testing.T, trs []*Trace) {
				h := trs[0].Hops[0]
				assert.Len(t, h.Probes, 3)
				assert.Empty(t, h.Addrs())
			}},
		{name: "in progress and offline", in: `{"id":"q","type":"mtr","status":"in-progress","target":"example.org","results":[{"probe":` + probe + `,"result":{"status":"in-progress","rawOutput":""}},{"probe":` + probe + `,"result":{"status":"offline","rawOutput":""}}]}`,
			check: func(t *testing.T, trs []*Trace) {
				assert.Equal(t, "test still in progress", trs[0].Error)
				assert.Equal(t, "probe offline", trs[1].Error)
				assert.Equal(t, "example.org", trs[1].Destination.Name)
			}},
		{name: "probe without coordinates", in: `{"id":"r","type":"ping","status":"finished","target":"192.0.2.9","results":[{"probe":{"city":"Nowhere","latitude":null,"longitude":200},"result":{"status":"finished","resolvedAddress":"192.0.2.9","timings":[{"rtt":5,"ttl":250}]}}]}`,
			check: func(t *testing.T, trs []*Trace) {
				assert.False(t, trs[0].Source.HasLocation())
				assert.Equal(t, 6, trs[0].Hops[0].TTL)
			}},
		{name: "one bad result among good ones", in: `{"id":"s","type":"ping","status":"finished","target":"192.0.2.9","results":[` +
			`{"probe":` + probe + `,"result":{"status":"finished","resolvedAddress":"192.0.2.300","timings":[]}},` +
			`{"probe":` + probe + `,"result":{"status":"finished","resolvedAddress":"192.0.2.9","timings":[{"rtt":5}]}}]}`,
			err: `measurement s: results[0]: resolvedAddress "192.0.2.300"`,
			check: func(t *testing.T, trs []*Trace) {
				require.Len(t, trs, 1, "the good result is kept")
			}},
		{name: "dns measurement", in: `{"id":"d","type":"dns","status":"finished","target":"example.org","probesCount":1,"results":[]}`, err: `measurement d of type "dns" carries no path`},
		{name: "wrong shape", in: `{"id":"w","type":"traceroute","status":"finished","target":"x","probesCount":1,"results":{}}`, err: "in:1: globalping: column"},
		{name: "bad time", in: `{"id":"t","type":"ping","status":"finished","target":"x","probesCount":0,"createdAt":"yesterday","results":[]}`, err: `createdAt "yesterday"`},
		{name: "too many hops", in: `{"id":"h","type":"traceroute","status":"finished","target":"x","probesCount":1,"results":[{"probe":{},"result":{"status":"finished","hops":[` + strings.TrimSuffix(strings.Repeat(`{"timings":[]},`, 256), ",") + `]}}]}`, err: "256 hops"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			traces, errs := jsReadAll(t, []byte(tc.in), ReadOptions{Input: "in"})
			if tc.err != "" {
				require.Len(t, errs, 1)
				assert.Contains(t, errs[0].Error(), tc.err)
			} else {
				require.Empty(t, errs)
			}
			if tc.check != nil {
				tc.check(t, traces)
			}
		})
	}
	// Several measurements, one a line, and an array of them.
	one := `{"id":"a","type":"ping","status":"finished","target":"192.0.2.9","probesCount":1,"results":[{"probe":` + probe + `,"result":{"status":"finished","resolvedAddress":"192.0.2.9","timings":[{"rtt":5}]}}]}`
	for _, in := range []string{one + "\n" + one + "\n", "[" + one + "," + one + "]"} {
		traces, errs := jsReadAll(t, []byte(in), ReadOptions{Input: "in"})
		require.Empty(t, errs)
		assert.Len(t, traces, 2)
	}
}

// A consumer that stops early stops the reader, even in the middle of a
// measurement's results.
func TestJSONGlobalpingStopEarly(t *testing.T) {
	probe := `{"probe":{"latitude":1,"longitude":2},"result":{"status":"finished","resolvedAddress":"192.0.2.9","timings":[{"rtt":5}]}}`
	in := `{"id":"a","type":"ping","status":"finished","target":"192.0.2.9","probesCount":3,"results":[` + probe + "," + probe + "," + probe + `]}`
	n := 0
	for range Read(strings.NewReader(in), ReadOptions{}) {
		n++
		break
	}
	assert.Equal(t, 1, n)
}

func FuzzGlobalping(f *testing.F) {
	jsFuzzSeeds(f, "globalping/*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		jsFuzzCheck(t, data, FormatGlobalping)
	})
}
