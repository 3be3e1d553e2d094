package traceroute

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// saganPing is what ripe.atlas.sagan's tests/ping.py asserts about one
// result, transcribed by hand. nil RTTs and zero TTLs are sagan's None.
type saganPing struct {
	test       string
	dst, name  string
	origin     string // sagan's "origin" is the "from" field only
	probe      string
	created    string
	sent, rcvd int
	min, max   float64 // 0: sagan's None
	rtts       []any   // float64, or nil for a lost packet
	ttls       []int
	dups       []bool
}

var saganPings = []saganPing{
	{test: "test_ping_0", dst: "62.2.16.12", probe: "677", created: "2012-01-31T14:23:12Z", sent: 3, rcvd: 3, min: 57.876, max: 58.272},
	{test: "test_ping_1", dst: "62.2.16.12", name: "hsi.cablecom.ch", origin: "194.85.27.7", probe: "165", created: "2012-06-24T07:45:08Z", sent: 3, rcvd: 3, min: 123.894, max: 125.445},
	{test: "test_ping_4460", dst: "62.2.16.12", name: "hsi.cablecom.ch", origin: "188.194.234.136", probe: "270", created: "2012-06-24T07:57:06Z", sent: 3, rcvd: 3, min: 43.87, max: 56.949,
		rtts: []any{43.87, 56.949, 44.346}, ttls: []int{52, 52, 52}},
	{test: "test_ping_4470", dst: "62.2.16.12", name: "hsi.cablecom.ch", origin: "194.85.27.7", probe: "165", created: "2012-08-09T12:09:11Z", sent: 3, rcvd: 3, min: 193.059, max: 197.793,
		rtts: []any{196.095, 197.793, 193.059}, ttls: []int{46, 46, 46}},
	{test: "test_ping_4480", dst: "62.2.16.12", name: "hsi.cablecom.ch", origin: "194.85.27.7", probe: "165", created: "2012-10-09T09:51:08Z", sent: 3, rcvd: 3, min: 95.389, max: 96.148,
		rtts: []any{95.733, 96.148, 95.389}, ttls: []int{46, 46, 46}},
	{test: "test_ping_4500", dst: "62.2.16.12", name: "hsi.cablecom.ch", origin: "80.56.151.3", probe: "202", created: "2013-02-19T03:27:11Z", sent: 3, rcvd: 3, min: 29.961, max: 30.345,
		rtts: []any{30.038, 29.961, 30.345}, ttls: []int{55, 55, 55}},
	{test: "test_ping_4520", dst: "62.2.16.12", name: "hsi.cablecom.ch", origin: "194.85.27.7", probe: "165", created: "2013-04-08T00:03:00Z", sent: 3, rcvd: 3, min: 65.975, max: 70.231,
		rtts: []any{70.231, 65.975, 66.057}, ttls: []int{47, 47, 47}},
	{test: "test_ping_4550", dst: "62.2.16.12", name: "hsi.cablecom.ch", origin: "80.56.151.3", probe: "202", created: "2013-09-04T05:15:10Z", sent: 3, rcvd: 1, min: 27.301, max: 27.301,
		rtts: []any{nil, nil, 27.301}, ttls: []int{0, 0, 54}},
	{test: "test_ping_4560", dst: "62.2.16.12", name: "hsi.cablecom.ch", origin: "62.195.143.53", probe: "202", created: "2013-10-01T00:09:11Z", sent: 3, rcvd: 3, min: 34.748, max: 40.234,
		rtts: []any{40.234, 34.748, 35.679}, ttls: []int{54, 54, 54}},
	{test: "test_ping_4570", dst: "62.2.16.12", name: "hsi.cablecom.ch", origin: "62.195.143.53", probe: "202", created: "2013-11-15T07:27:05Z", sent: 3, rcvd: 3, min: 36.424, max: 36.741,
		rtts: []any{36.741, 36.66, 36.424}, ttls: []int{0, 0, 0}},
	{test: "test_ping_4600", dst: "62.2.16.24", name: "hsi.cablecom.ch", origin: "188.195.183.141", probe: "270", created: "2014-02-13T19:57:50Z", sent: 3, rcvd: 3, min: 45.939, max: 48.99,
		rtts: []any{45.939, 48.927, 48.99}, ttls: []int{50, 50, 50}},
	{test: "test_ping_4610", dst: "62.2.16.24", name: "hsi.cablecom.ch", origin: "188.195.181.120", probe: "270", created: "2014-03-21T15:39:43Z", sent: 3, rcvd: 3, min: 47.941, max: 63.213,
		rtts: []any{63.213, 47.941, 60.268}, ttls: []int{50, 51, 50}},
	{test: "test_ping_duplicate", dst: "62.2.16.24", name: "hsi.cablecom.ch", origin: "109.190.83.40", probe: "1216", created: "2014-03-20T01:08:48Z", sent: 2, rcvd: 1, min: 27.768, max: 27.768,
		rtts: []any{nil, 36.454, 37.756, 27.768}, ttls: []int{0, 54, 54, 54}, dups: []bool{false, true, true, false}},
	{test: "test_ping_buggy", dst: "62.2.16.24", name: "hsi.cablecom.ch", origin: "62.195.143.53", probe: "202", created: "2014-03-13T21:23:51Z", sent: 1, rcvd: 0,
		rtts: []any{nil, 1635.423, 1800.494}, ttls: []int{0, 55, 55}, dups: []bool{false, true, true}},
}

// TestJSONConformanceAtlasPing reads every ping result of ripe.atlas.sagan's
// tests and compares with sagan's reading. Where we differ, on purpose:
//   - sagan's origin is "from" only; a result without it (firmware 0) gets
//     its Source.Addr from "src_addr", as traceroute results do.
//   - sagan reports no protocol for firmware 0 and 1; ping is ICMP, so we
//     say "icmp".
//   - firmware 0 and 1 have no packets: we keep their min/avg/max as one
//     Stats aggregate instead of inventing packets.
//   - sagan drops min/max of -1 (the "buggy" result); so do we, and its
//     duplicate replies keep their RTTs, flagged "dup": a duplicate still
//     crossed the distance, so it still bounds it.
func TestJSONConformanceAtlasPing(t *testing.T) {
	raw, err := os.ReadFile("testdata/json/ripe-atlas-ping/sagan_ping_tests.jsonl")
	require.NoError(t, err)
	lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	require.Len(t, lines, len(saganPings))
	var all bytes.Buffer
	for i, l := range lines {
		var w struct {
			Test   string          `json:"test"`
			Result json.RawMessage `json:"result"`
		}
		require.NoError(t, json.Unmarshal(l, &w))
		want := saganPings[i]
		require.Equal(t, want.test, w.Test)
		all.Write(w.Result)
		all.WriteByte('\n')
		t.Run(want.test, func(t *testing.T) {
			traces, errs := jsReadAll(t, w.Result, ReadOptions{Input: want.test})
			require.Empty(t, errs)
			require.Len(t, traces, 1)
			tr := traces[0]
			assert.Equal(t, FormatRIPEAtlasPing, tr.Format)
			assert.Equal(t, want.dst, tr.Destination.Addr.String())
			assert.Equal(t, want.name, tr.Destination.Name)
			if want.origin != "" {
				assert.Equal(t, want.origin, tr.Source.Addr.String())
			}
			assert.Equal(t, want.probe, tr.Source.ProbeID)
			assert.Equal(t, want.created, tr.Started.Format(time.RFC3339))
			assert.Equal(t, "icmp", tr.Protocol)
			require.Len(t, tr.Hops, 1)
			h := tr.Hops[0]
			if want.rtts == nil { // firmware 0 and 1: an aggregate
				require.Len(t, h.Stats, 1)
				st := h.Stats[0]
				assert.Equal(t, want.dst, st.Addr.String())
				jsAssertRTT(t, want.min, st.MinMs, "rtt_min")
				jsAssertRTT(t, want.max, st.MaxMs, "rtt_max")
				assert.Equal(t, want.sent, st.Sent)
				assert.InDelta(t, 100*float64(want.sent-want.rcvd)/float64(want.sent), st.LossPct, 1e-9)
				return
			}
			require.Len(t, h.Probes, len(want.rtts))
			minRTT, ok := h.MinRTTMs(tr.Destination.Addr)
			var answered []float64
			for j, p := range h.Probes {
				if want.rtts[j] == nil {
					assert.True(t, p.Lost, "packets[%d]", j)
					assert.False(t, p.Addr.IsValid(), "packets[%d]", j)
					continue
				}
				assert.False(t, p.Lost, "packets[%d]", j)
				assert.Equal(t, tr.Destination.Addr, p.Addr, "packets[%d]", j)
				jsAssertRTT(t, want.rtts[j].(float64), p.RTTMs, "packets[%d].rtt", j)
				assert.Equal(t, want.ttls[j], p.ReplyTTL, "packets[%d].ttl", j)
				dup := want.dups != nil && want.dups[j]
				assert.Equal(t, dup, slices.Contains(p.Flags, "dup"), "packets[%d].dup", j)
				if !dup {
					answered = append(answered, p.RTTMs)
				}
			}
			if want.min != 0 {
				// sagan's rtt_min is over non-duplicate replies: ours is the
				// same wherever a duplicate came later, as they do.
				require.True(t, ok)
				jsAssertRTT(t, want.min, slices.Min(answered), "rtt_min")
				jsAssertRTT(t, want.min, minRTT, "MinRTTMs")
			}
		})
	}
	// The same results as one stream, the way the API's format=txt gives
	// them: nothing lost, in order.
	traces, errs := jsReadAll(t, all.Bytes(), ReadOptions{Input: "all.jsonl"})
	require.Empty(t, errs)
	require.Len(t, traces, len(saganPings))
	for i, tr := range traces {
		assert.Equal(t, saganPings[i].probe, tr.Source.ProbeID)
	}
}

func TestJSONAtlasPingFixtures(t *testing.T) {
	traces, errs := jsReadFixture(t, "testdata/json/ripe-atlas-ping/msm41688561.jsonl", "")
	require.Empty(t, errs)
	require.Len(t, traces, 2)
	tr := traces[0]
	assert.Equal(t, FormatRIPEAtlasPing, tr.Format)
	assert.Equal(t, "79.156.126.125", tr.Source.Addr.String())
	assert.Equal(t, "1000650", tr.Source.ProbeID)
	assert.Equal(t, "34.140.152.85", tr.Destination.Addr.String())
	assert.Empty(t, tr.Destination.Name, "dst_name only repeats the address")
	require.Len(t, tr.Hops, 1)
	assert.Equal(t, 10, tr.Hops[0].TTL, "reply TTL 55 from an initial 64: 9 routers back, so the 10th hop")
	rtt, ok := tr.Hops[0].MinRTTMs(tr.Destination.Addr)
	require.True(t, ok)
	assert.InDelta(t, 31.469868, rtt, 1e-9)
	assert.Equal(t, 12, traces[1].Hops[0].TTL)

	traces, errs = jsReadFixture(t, "testdata/json/ripe-atlas-ping/docs_fw1_example.json", "")
	require.Empty(t, errs)
	require.Len(t, traces, 1)
	tr = traces[0]
	assert.Equal(t, "atlas.ripe.net", tr.Destination.Name)
	assert.Equal(t, "178.63.78.16", tr.Destination.Addr.String())
	assert.Equal(t, "62.194.83.50", tr.Source.Addr.String())
	require.Len(t, tr.Hops[0].Stats, 1)
	assert.InDelta(t, 19.938, tr.Hops[0].Stats[0].MinMs, 1e-9)
	assert.Equal(t, 1, tr.Hops[0].TTL, "no reply TTL: hop 1")
}

// Hand-made pings for what the corpus does not show, shaped on the
// documented format.
func TestJSONAtlasPingCases(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, trs []*Trace)
		err   string
	}{
		{name: "all lost", in: `{"type":"ping","dst_addr":"192.0.2.9","prb_id":9,"sent":3,"rcvd":0,"min":-1,"max":-1,"avg":-1,"result":[{"x":"*"},{"x":"*"},{"x":"*"}]}`,
			check: func(t *testing.T, trs []*Trace) {
				h := trs[0].Hops[0]
				assert.Len(t, h.Probes, 3)
				assert.Empty(t, h.Addrs(), "no reply, no address")
				assert.Equal(t, 1, h.TTL)
			}},
		{name: "sendto error in a packet", in: `{"type":"ping","dst_addr":"2001:db8::9","af":6,"result":[{"error":"sendto failed: Network is unreachable"},{"rtt":3.5,"ttl":120}]}`,
			check: func(t *testing.T, trs []*Trace) {
				tr := trs[0]
				assert.Equal(t, "sendto failed: Network is unreachable", tr.Error)
				assert.True(t, tr.Hops[0].Probes[0].Lost)
				assert.Equal(t, 9, tr.Hops[0].TTL, "120 from 128: 8 routers back")
			}},
		{name: "name resolution failed", in: `{"type":"ping","dst_name":"nx.example","prb_id":1,"result":[{"error":"dns resolution failed: non-recoverable failure in name resolution"}],"from":"198.51.100.7"}`,
			check: func(t *testing.T, trs []*Trace) {
				tr := trs[0]
				assert.Equal(t, "nx.example", tr.Destination.Name)
				assert.False(t, tr.Destination.Addr.IsValid())
				assert.Contains(t, tr.Error, "dns resolution failed")
				assert.Empty(t, tr.Hops)
			}},
		{name: "mixed with traceroutes, type last", in: "[\n" +
			`{"fw":5080,"dst_addr":"192.0.2.9","result":[{"hop":1,"result":[{"from":"192.0.2.1","rtt":1.5,"ttl":64}]}],"prb_id":7,"type":"traceroute"},` + "\n" +
			`{"fw":5080,"dst_addr":"192.0.2.9","result":[{"rtt":9.5}],"prb_id":7,"sent":1,"rcvd":1,"type":"ping"}` + "\n]",
			check: func(t *testing.T, trs []*Trace) {
				require.Len(t, trs, 2)
				assert.Equal(t, FormatRIPEAtlas, trs[0].Format)
				assert.Equal(t, FormatRIPEAtlasPing, trs[1].Format)
				assert.Equal(t, 9.5, trs[1].Hops[0].Probes[0].RTTMs)
			}},
		{name: "no destination, no error", in: `{"type":"ping","prb_id":1,"result":[{"rtt":1}]}`, err: "in:1: ripe-atlas-ping: ping result without a destination address"},
		{name: "bad address", in: `{"type":"ping","dst_addr":"192.0.2.300","result":[]}`, err: `in:1: ripe-atlas-ping: column 27: dst_addr "192.0.2.300"`},
		{name: "bad number string", in: `{"type":"ping","dst_addr":"192.0.2.9","min":"fast","rcvd":1}`, err: `column 45: min "fast": not a number`},
		{name: "other type", in: `{"type":"dns","prb_id":1,"result":{}}`, err: `not a ping or traceroute result (type "dns")`},
		{name: "timestamp out of range", in: `{"type":"ping","dst_addr":"192.0.2.9","timestamp":253402300800}`, err: "out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			traces, errs := jsReadAll(t, []byte(tc.in), ReadOptions{Input: "in", Format: FormatRIPEAtlasPing})
			if tc.err != "" {
				require.Len(t, errs, 1)
				assert.Contains(t, errs[0].Error(), tc.err)
				assert.Empty(t, traces)
				return
			}
			require.Empty(t, errs)
			require.NotEmpty(t, traces)
			tc.check(t, traces)
		})
	}
	// The traceroute reader reads pings mixed in as well.
	in := `[{"type":"traceroute","dst_addr":"192.0.2.9","result":[]},{"type":"ping","dst_addr":"192.0.2.9","result":[{"rtt":2}]}]`
	traces, errs := jsReadAll(t, []byte(in), ReadOptions{Input: "in"})
	require.Empty(t, errs)
	require.Len(t, traces, 2)
	assert.Equal(t, FormatRIPEAtlasPing, traces[1].Format)
}

func TestHopsAway(t *testing.T) {
	for reply, want := range map[int]int{64: 1, 55: 10, 1: 64, 65: 64, 128: 1, 116: 13, 129: 127, 255: 1, 240: 16} {
		assert.Equal(t, want, hopsAway(reply), "reply TTL %d", reply)
	}
}

func FuzzAtlasPing(f *testing.F) {
	jsFuzzSeeds(f, "ripe-atlas-ping/*")
	raw, err := os.ReadFile(filepath.Join("testdata/json/ripe-atlas-ping", "sagan_ping_tests.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	for l := range strings.SplitSeq(strings.TrimSpace(string(raw)), "\n") {
		var w struct {
			Result json.RawMessage `json:"result"`
		}
		if json.Unmarshal([]byte(l), &w) == nil {
			f.Add([]byte(w.Result))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		jsFuzzCheck(t, data, FormatRIPEAtlasPing)
	})
}
