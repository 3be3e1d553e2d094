package traceroute

import (
	"bytes"
	"encoding/json"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readAllFrom parses r with Read and collects traces and errors.
func jsReadAll(t *testing.T, data []byte, opts ReadOptions) ([]*Trace, []error) {
	t.Helper()
	var traces []*Trace
	var errs []error
	for tr, err := range Read(bytes.NewReader(data), opts) {
		if err != nil {
			var pe *ParseError
			require.ErrorAs(t, err, &pe, "Read errors are *ParseError")
			errs = append(errs, err)
			continue
		}
		require.NotNil(t, tr)
		traces = append(traces, tr)
	}
	return traces, errs
}

func jsReadFixture(t *testing.T, path string, format string) ([]*Trace, []error) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return jsReadAll(t, data, ReadOptions{Format: format, Input: filepath.Base(path)})
}

// microsecond compares RTTs to the microsecond, the resolution every tool
// here prints.
func jsAssertRTT(t *testing.T, want, got float64, msgAndArgs ...any) {
	t.Helper()
	assert.InDelta(t, want, got, 0.0005, msgAndArgs...)
}

type saganPacket struct {
	Hop      int         `json:"hop"`
	Packet   int         `json:"packet"`
	Addr     *string     `json:"addr"`
	RTT      *float64    `json:"rtt"`
	ReplyTTL *int        `json:"reply_ttl"`
	MTU      int         `json:"mtu"`
	Flags    []string    `json:"flags"`
	MPLS     []MPLSLabel `json:"mpls"`
}

type saganExpect struct {
	Test                 string            `json:"test"`
	TotalHops            *int              `json:"total_hops"`
	Source               string            `json:"source"`
	ProbeID              string            `json:"probe_id"`
	Protocol             string            `json:"protocol"`
	DstAddr              string            `json:"dst_addr"`
	LastHopTTL           int               `json:"last_hop_ttl"`
	LastMedianRTT        *float64          `json:"last_median_rtt"`
	DestinationResponded *bool             `json:"destination_responded"`
	LastHopResponded     *bool             `json:"last_hop_responded"`
	Error                string            `json:"error"`
	Hop0Packets          *int              `json:"hop0_packets"`
	Hop1PacketsWithout   *int              `json:"hop1_packets_without_late"`
	Packets              []json.RawMessage `json:"packets"`
}

// jsSaganView is a hop's probes as ripe.atlas.sagan sees them: sagan drops
// late replies (they have no RTT). We keep them, flagged "late", because the
// address is real evidence of the router at that TTL; comparisons with
// sagan's packet indexes use this view.
func jsSaganView(h Hop) []Probe {
	return slices.DeleteFunc(slices.Clone(h.Probes), func(p Probe) bool { return slices.Contains(p.Flags, "late") })
}

func jsMedian(v []float64) float64 {
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func TestJSONConformanceRIPEAtlas(t *testing.T) {
	dir := "testdata/json/ripe-atlas"
	raw, err := os.ReadFile(filepath.Join(dir, "sagan_traceroute_tests.jsonl"))
	require.NoError(t, err)
	var exp struct {
		Results []saganExpect `json:"results"`
	}
	eb, err := os.ReadFile(filepath.Join(dir, "sagan_expected.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(eb, &exp))
	lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	require.Len(t, exp.Results, len(lines))

	// The whole file as RIPE Atlas one-result-a-line (the fixture wraps each
	// result as {"test":..,"result":..}; unwrap it first).
	var results [][]byte
	for _, l := range lines {
		var w struct {
			Test   string          `json:"test"`
			Result json.RawMessage `json:"result"`
		}
		require.NoError(t, json.Unmarshal(l, &w))
		results = append(results, w.Result)
	}
	for i, e := range exp.Results {
		t.Run(strconv.Itoa(i)+"_"+e.Test, func(t *testing.T) {
			traces, errs := jsReadAll(t, results[i], ReadOptions{Input: e.Test})
			require.Empty(t, errs)
			require.Len(t, traces, 1)
			tr := traces[0]
			assert.Equal(t, FormatRIPEAtlas, tr.Format)
			if e.TotalHops != nil {
				assert.Len(t, tr.Hops, *e.TotalHops, "total_hops")
			}
			if e.Source != "" {
				assert.Equal(t, e.Source, tr.Source.Addr.String(), "origin")
			}
			if e.ProbeID != "" {
				assert.Equal(t, e.ProbeID, tr.Source.ProbeID)
			}
			if e.Protocol != "" {
				assert.Equal(t, e.Protocol, tr.Protocol)
			}
			if e.DstAddr != "" {
				assert.Equal(t, e.DstAddr, tr.Destination.Addr.String())
				// sagan reports destination_name == dst_name verbatim; a
				// dst_name that only repeats the address (even in another
				// spelling, "2001:6b0:e:3:0:0:0:1") carries no name, so we drop it.
				assert.Empty(t, tr.Destination.Name)
			}
			require.NotEmpty(t, tr.Hops)
			if e.LastHopTTL != 0 {
				assert.Equal(t, e.LastHopTTL, tr.Hops[len(tr.Hops)-1].TTL, "hops[-1].index")
			}
			if e.LastMedianRTT != nil {
				var rtts []float64
				for i := len(tr.Hops) - 1; i >= 0 && rtts == nil; i-- {
					for _, p := range tr.Hops[i].Probes {
						if !p.Lost {
							rtts = append(rtts, p.RTTMs)
						}
					}
				}
				jsAssertRTT(t, *e.LastMedianRTT, math.Round(jsMedian(rtts)*1000)/1000, "last_median_rtt")
			}
			last := tr.Hops[len(tr.Hops)-1]
			if e.LastHopResponded != nil {
				responded := slices.ContainsFunc(jsSaganView(last), func(p Probe) bool { return p.Addr.IsValid() })
				assert.Equal(t, *e.LastHopResponded, responded, "last_hop_responded")
			}
			if e.DestinationResponded != nil {
				responded := slices.ContainsFunc(jsSaganView(last), func(p Probe) bool { return p.Addr == tr.Destination.Addr })
				assert.Equal(t, *e.DestinationResponded, responded, "destination_ip_responded")
			}
			if e.Error != "" {
				assert.Equal(t, e.Error, tr.Error)
			}
			if e.Hop0Packets != nil {
				assert.Len(t, jsSaganView(tr.Hops[0]), *e.Hop0Packets)
			}
			if e.Hop1PacketsWithout != nil {
				h := tr.Hops[1]
				assert.Len(t, jsSaganView(h), *e.Hop1PacketsWithout)
				// ... and the late replies are kept, with their address.
				assert.Len(t, h.Probes, 6)
				for _, p := range h.Probes {
					if slices.Contains(p.Flags, "late") {
						assert.True(t, p.Lost)
						assert.Equal(t, "192.168.14.253", p.Addr.String())
					}
				}
			}
			for _, rp := range e.Packets {
				var fields map[string]json.RawMessage
				require.NoError(t, json.Unmarshal(rp, &fields))
				var want saganPacket
				require.NoError(t, json.Unmarshal(rp, &want))
				require.Less(t, want.Hop, len(tr.Hops))
				probes := jsSaganView(tr.Hops[want.Hop])
				require.Less(t, want.Packet, len(probes), "hop %d", want.Hop)
				got := probes[want.Packet]
				where := "hops[" + strconv.Itoa(want.Hop) + "].packets[" + strconv.Itoa(want.Packet) + "]"
				if _, ok := fields["addr"]; ok {
					if want.Addr == nil {
						assert.False(t, got.Addr.IsValid(), where+".origin")
					} else {
						assert.Equal(t, *want.Addr, got.Addr.String(), where+".origin")
					}
				}
				if _, ok := fields["rtt"]; ok {
					if want.RTT == nil {
						assert.True(t, got.Lost, where+".rtt is None")
					} else {
						require.False(t, got.Lost, where)
						jsAssertRTT(t, *want.RTT, got.RTTMs, where+".rtt")
					}
				}
				if _, ok := fields["reply_ttl"]; ok {
					if want.ReplyTTL == nil {
						assert.Zero(t, got.ReplyTTL, where+".ttl")
					} else {
						assert.Equal(t, *want.ReplyTTL, got.ReplyTTL, where+".ttl")
					}
				}
				if want.MTU != 0 {
					assert.Equal(t, want.MTU, got.MTU, where+".mtu")
				}
				if want.Flags != nil {
					assert.Equal(t, want.Flags, got.Flags, where+".flags")
				}
				if _, ok := fields["mpls"]; ok {
					if len(want.MPLS) == 0 {
						assert.Empty(t, got.MPLS, where+".icmp_header")
					} else {
						assert.Equal(t, want.MPLS, got.MPLS, where+".icmp_header.objects")
					}
				}
			}
		})
	}

	t.Run("array", func(t *testing.T) {
		// The same results as the API downloads them: one JSON array.
		arr := append([]byte("[\n"), bytes.Join(results, []byte(",\n"))...)
		arr = append(arr, "\n]\n"...)
		traces, errs := jsReadAll(t, arr, ReadOptions{})
		require.Empty(t, errs)
		require.Len(t, traces, len(results))
		for i, r := range results {
			one, _ := jsReadAll(t, r, ReadOptions{})
			require.Len(t, one, 1)
			assert.Equal(t, one[0], traces[i])
		}
	})
	t.Run("jsonl", func(t *testing.T) {
		traces, errs := jsReadAll(t, bytes.Join(results, []byte("\n")), ReadOptions{})
		require.Empty(t, errs)
		require.Len(t, traces, len(results))
	})
}

// M-Lab's expectations (m-lab/traceroute-caller parser/scamper{1,2}_test.go):
// wantErr per file and, for valid files, the set of hop addresses.
func TestJSONConformanceScamper(t *testing.T) {
	tests := []struct {
		file    string
		wantErr string // substring of our error; "" = no error
		mlabErr bool   // M-Lab rejects the file
		hops    []string
		nHops   int // hop count of the trace, -1 = no trace
		why     string
	}{
		// M-Lab checks the file shape strictly (exactly 4 lines and a final
		// newline, non-empty UUID). Those checks guard M-Lab's archive format;
		// none of them makes the traceroute wrong, so we read the trace.
		{file: "scamper1/invalid-num-lines", mlabErr: true, nHops: 0, why: "an extra blank line is harmless in JSON Lines"},
		{file: "scamper2/invalid-num-lines", mlabErr: true, nHops: 14, why: "an extra blank line is harmless in JSON Lines"},
		{file: "scamper1/invalid-metadata-uuid", mlabErr: true, nHops: 0, why: "the UUID is M-Lab bookkeeping, not part of the trace"},
		{file: "scamper2/invalid-metadata-uuid", mlabErr: true, nHops: 14, why: "the UUID is M-Lab bookkeeping, not part of the trace"},
		// Broken JSON or wrong record types: errors, as in M-Lab.
		{file: "scamper1/invalid-last-line", wantErr: `unknown scamper record type "cycle-extra"`, mlabErr: true, nHops: 0},
		{file: "scamper2/invalid-last-line", wantErr: `unknown scamper record type "cycle-extra"`, mlabErr: true, nHops: 14},
		{file: "scamper1/invalid-metadata", wantErr: "invalid character", mlabErr: true, nHops: 0},
		{file: "scamper2/invalid-metadata", wantErr: "invalid character", mlabErr: true, nHops: 14},
		{file: "scamper1/invalid-cycle-start", wantErr: "unterminated string", mlabErr: true, nHops: 0},
		{file: "scamper2/invalid-cycle-start", wantErr: "unterminated string", mlabErr: true, nHops: 14},
		{file: "scamper1/invalid-cycle-start-type", wantErr: `unknown scamper record type "cycle-start-invalid"`, mlabErr: true, nHops: -1},
		{file: "scamper2/invalid-cycle-start-type", wantErr: `unknown scamper record type "cycle-start-invalid"`, mlabErr: true, nHops: -1},
		{file: "scamper1/invalid-cycle-stop", wantErr: "unterminated string", mlabErr: true, nHops: 0},
		{file: "scamper2/invalid-cycle-stop", wantErr: "unterminated string", mlabErr: true, nHops: 14},
		{file: "scamper1/invalid-cycle-stop-type", wantErr: `unknown scamper record type "cycle-stop-invalid"`, mlabErr: true, nHops: -1},
		{file: "scamper2/invalid-cycle-stop-type", wantErr: `unknown scamper record type "cycle-stop-invalid"`, mlabErr: true, nHops: -1},
		{file: "scamper1/invalid-tracelb", wantErr: "unterminated string", mlabErr: true, nHops: -1},
		{file: "scamper2/invalid-trace", wantErr: "invalid character", mlabErr: true, nHops: -1},
		{file: "scamper1/invalid-tracelb-type", wantErr: `unknown scamper record type "tracelb-invalid"`, mlabErr: true, nHops: -1},
		{file: "scamper2/invalid-trace-type", wantErr: `unknown scamper record type "trace-invalid"`, mlabErr: true, nHops: -1},
		// M-Lab accepts these too: the link lists are inconsistent with the
		// counts (linkc) but the measured hops are fine.
		{file: "scamper1/invalid-tracelb-links", nHops: 6, hops: []string{
			"2001:4888:36:1002:3a2:1:0:1", "2001:550:1b01:1::1", "2001:550:3::1ca",
			"2001:4888:3f:6092:3a2:26:0:1", "2600:803::79", "2600:803:150f::4a"}},
		{file: "scamper2/invalid-trace-links", nHops: 14, hops: []string{"192.168.144.1", "91.189.88.142"}},
		{file: "scamper1/valid-simple", nHops: 0, hops: []string{}},
		{file: "scamper2/valid-simple", nHops: 2, hops: []string{}},
		{file: "scamper1/valid-complex", nHops: 6, hops: []string{
			"2001:4888:36:1002:3a2:1:0:1", "2001:550:1b01:1::1", "2001:550:3::1ca",
			"2001:4888:3f:6092:3a2:26:0:1", "2600:803::79", "2600:803:150f::4a"}},
		{file: "scamper2/valid-complex", nHops: 14, hops: []string{
			"192.168.144.1", "100.97.99.252", "100.96.216.1", "100.123.0.49", "104.133.8.193",
			"209.85.175.20", "108.170.242.254", "209.85.243.176", "72.14.223.90", "4.69.140.198",
			"212.187.137.18", "91.189.88.142"}},
		{file: "scamper2/valid-simple-json", nHops: 11, hops: []string{"64.15.3.115", "67.59.239.118", "67.83.247.145", "67.59.248.75"}},
		// All addresses anonymised to "*" or "": no hop address, but the
		// RTTs are still there (M-Lab: "all addr values are either * or empty").
		{file: "scamper1/valid-star", nHops: 9, hops: []string{}},
		{file: "scamper2/valid-star", nHops: 14, hops: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			traces, errs := jsReadFixture(t, filepath.Join("testdata/json/mlab-scamper", tc.file), "")
			if tc.wantErr == "" {
				require.Empty(t, errs, "M-Lab rejects=%v; %s", tc.mlabErr, tc.why)
			} else {
				require.NotEmpty(t, errs)
				var msgs []string
				for _, e := range errs {
					msgs = append(msgs, e.Error())
					assert.Contains(t, e.Error(), "scamper-json")
				}
				assert.True(t, slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, tc.wantErr) }), "%q in %q", tc.wantErr, msgs)
				var pe *ParseError
				require.ErrorAs(t, errs[0], &pe)
				assert.Positive(t, pe.Line, "errors name the line")
			}
			if tc.nHops < 0 {
				assert.Empty(t, traces)
				return
			}
			require.Len(t, traces, 1)
			tr := traces[0]
			assert.Len(t, tr.Hops, tc.nHops)
			if tc.hops != nil {
				got := map[string]bool{}
				for i := range tr.Hops {
					for _, a := range tr.Hops[i].Addrs() {
						got[a.String()] = true
					}
				}
				want := map[string]bool{}
				for _, h := range tc.hops {
					want[h] = true
				}
				assert.Equal(t, want, got)
			}
		})
	}

	t.Run("trace details", func(t *testing.T) {
		traces, errs := jsReadFixture(t, "testdata/json/mlab-scamper/scamper2/valid-complex", "")
		require.Empty(t, errs)
		tr := traces[0]
		assert.Equal(t, "icmp", tr.Protocol)
		assert.Equal(t, "192.168.144.2", tr.Source.Addr.String())
		assert.Equal(t, "91.189.88.142", tr.Destination.Addr.String())
		assert.Equal(t, int64(1638999963), tr.Started.Unix())
		assert.Equal(t, 787829000, tr.Started.Nanosecond())
		// TTLs 8 and 9 got no reply: hops without probes, not skipped.
		assert.Equal(t, 8, tr.Hops[7].TTL)
		assert.Empty(t, tr.Hops[7].Probes)
		assert.Equal(t, 14, tr.Hops[13].TTL)
		require.Len(t, tr.Hops[13].Probes, 1)
		jsAssertRTT(t, 135.610, tr.Hops[13].Probes[0].RTTMs)
		assert.Equal(t, 46, tr.Hops[13].Probes[0].ReplyTTL)
	})
	t.Run("tracelb details", func(t *testing.T) {
		traces, errs := jsReadFixture(t, "testdata/json/mlab-scamper/scamper1/valid-complex", "")
		require.Empty(t, errs)
		tr := traces[0]
		// The first node only appears as a node: its discovery replies are
		// not in tracelb output, so it is a Stats entry without times.
		require.Equal(t, 1, tr.Hops[0].TTL)
		require.Len(t, tr.Hops[0].Stats, 1)
		assert.Equal(t, "2001:550:1b01:1::1", tr.Hops[0].Stats[0].Addr.String())
		assert.Equal(t, 2, tr.Hops[1].TTL)
		require.Len(t, tr.Hops[1].Probes, 6, "six flows probed at TTL 2")
		jsAssertRTT(t, 36.803, tr.Hops[1].Probes[0].RTTMs)
		assert.Equal(t, "2001:550:3::1ca", tr.Hops[1].Probes[0].Addr.String())
		// IPv4-mapped source and destination of scamper1/valid-simple are unmapped.
		traces, _ = jsReadFixture(t, "testdata/json/mlab-scamper/scamper1/valid-simple", "")
		require.Len(t, traces, 1)
		assert.Equal(t, "180.87.97.101", traces[0].Source.Addr.String())
		assert.Equal(t, "1.47.236.62", traces[0].Destination.Addr.String())
	})
	t.Run("not a traceroute", func(t *testing.T) {
		// M-Lab annotation data sits next to the traces; it is no format of ours.
		traces, errs := jsReadFixture(t, "testdata/json/mlab-scamper/annotations-incomplete.json", "")
		assert.Empty(t, traces)
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], ErrUnknownFormat)
	})
}

// rich-traceroute's expected/mtr_json_*.json: per hop host, loss, avg, min, max.
func TestJSONConformanceMtrJSON(t *testing.T) {
	for _, name := range []string{"mtr_json_1.json", "mtr_json_2.json"} {
		t.Run(name, func(t *testing.T) {
			traces, errs := jsReadFixture(t, filepath.Join("testdata/json/mtr-json", name), "")
			require.Empty(t, errs)
			require.Len(t, traces, 1)
			tr := traces[0]
			assert.Equal(t, FormatMtrJSON, tr.Format)
			var exp struct {
				Hops map[string][]struct {
					Host   string  `json:"host"`
					Loss   float64 `json:"loss"`
					AvgRTT float64 `json:"avg_rtt"`
					MinRTT float64 `json:"min_rtt"`
					MaxRTT float64 `json:"max_rtt"`
				} `json:"hops"`
			}
			eb, err := os.ReadFile(filepath.Join("testdata/json/mtr-json/expected", name))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(eb, &exp))
			require.Len(t, tr.Hops, len(exp.Hops))
			for _, h := range tr.Hops {
				want := exp.Hops[strconv.Itoa(h.TTL)]
				require.Len(t, h.Stats, len(want), "ttl %d", h.TTL)
				assert.Empty(t, h.Probes, "aggregates never become probes")
				for i, w := range want {
					s := h.Stats[i]
					host := s.Name
					if s.Addr.IsValid() {
						host = s.Addr.String()
					}
					assert.Equal(t, w.Host, host)
					assert.InDelta(t, w.Loss, s.LossPct, 1e-9)
					jsAssertRTT(t, w.AvgRTT, s.AvgMs)
					jsAssertRTT(t, w.MinRTT, s.MinMs)
					jsAssertRTT(t, w.MaxRTT, s.MaxMs)
					assert.Equal(t, 5, s.Sent)
				}
			}
			assert.Equal(t, "localhost", tr.Source.Name)
		})
	}
	t.Run("mtr 0.93+ with -z", func(t *testing.T) {
		// Written by mtr 0.95 --json -z: numeric count, ASN column, a silent hop.
		in := `{"report":{"mtr":{"src":"probe.example","dst":"192.0.2.9","tos":0,"tests":10,"psize":"64","bitpattern":"0x00"},
"hubs":[{"count":1,"host":"192.0.2.1","ASN":"AS64500","Loss%":0.0,"Snt":10,"Last":0.4,"Avg":0.5,"Best":0.3,"Wrst":0.9,"StDev":0.1},
{"count":2,"host":"???","ASN":"AS???","Loss%":100.0,"Snt":10,"Last":0.0,"Avg":0.0,"Best":0.0,"Wrst":0.0,"StDev":0.0},
{"count":3,"host":"r3.example (198.51.100.3)","ASN":"AS64501","Loss%":20.0,"Snt":10,"Last":9.1,"Avg":9.5,"Best":8.7,"Wrst":11.2,"StDev":0.8}]}}`
		traces, errs := jsReadAll(t, []byte(in), ReadOptions{})
		require.Empty(t, errs)
		require.Len(t, traces, 1)
		tr := traces[0]
		assert.Equal(t, "192.0.2.9", tr.Destination.Addr.String())
		require.Len(t, tr.Hops, 3)
		assert.Equal(t, Stats{Addr: netip.MustParseAddr("192.0.2.1"), ASN: 64500, Sent: 10, LastMs: 0.4, AvgMs: 0.5, MinMs: 0.3, MaxMs: 0.9, StdevMs: 0.1}, tr.Hops[0].Stats[0])
		assert.Equal(t, Stats{Sent: 10, LossPct: 100}, tr.Hops[1].Stats[0])
		assert.Equal(t, "r3.example", tr.Hops[2].Stats[0].Name)
		assert.Equal(t, "198.51.100.3", tr.Hops[2].Stats[0].Addr.String())
		assert.Equal(t, uint32(64501), tr.Hops[2].Stats[0].ASN)
	})
}

// TestJSONConformanceMtrJSONFlat reads the flat form of mtr --json some
// builds print (issue 13 item 5). The fixtures are made here on the shape
// of a published output (testdata/json/ORIGIN.md); the expected values are
// what they state.
func TestJSONConformanceMtrJSONFlat(t *testing.T) {
	addr := netip.MustParseAddr
	tests := []struct {
		file     string
		src, dst Endpoint
		hops     [][]Stats
	}{
		{"mtr_json_flat.json", Endpoint{Name: "probe.example"}, Endpoint{Addr: addr("203.0.113.9")}, [][]Stats{
			{{Addr: addr("192.0.2.1"), Sent: 10, LastMs: 0.5, AvgMs: 0.6, MinMs: 0.4, MaxMs: 0.9, StdevMs: 0.1}},
			{{Addr: addr("198.51.100.1"), Name: "ae1.core1.ams.example.net", Sent: 10, LossPct: 10, LastMs: 7.1, AvgMs: 7.4, MinMs: 6.9, MaxMs: 9.2, StdevMs: 0.7}},
			{{Sent: 10, LossPct: 100}},
			{{Addr: addr("198.51.100.77"), Sent: 10, LastMs: 14.6, AvgMs: 14.9, MinMs: 14.1, MaxMs: 17.3, StdevMs: 0.9}},
			{{Addr: addr("203.0.113.9"), Name: "www.example.org", Sent: 10, LastMs: 15.1, AvgMs: 15.2, MinMs: 14.9, MaxMs: 15.8, StdevMs: 0.3}},
		}},
		{"mtr_json_flat_asn.json", Endpoint{Name: "probe.example"}, Endpoint{Addr: addr("2001:db8:9::9")}, [][]Stats{
			{{Addr: addr("2001:db8::1"), Sent: 5, LastMs: 0.7, AvgMs: 0.8, MinMs: 0.6, MaxMs: 1.2, StdevMs: 0.2}},
			{{Addr: addr("2001:db8:1::2"), Name: "xe-0-0-1.edge2.fra.example.net", ASN: 64500, Sent: 5, LastMs: 11.8, AvgMs: 12, MinMs: 11.5, MaxMs: 12.9, StdevMs: 0.5}},
			{{Addr: addr("2001:db8:9::9"), Name: "www.example.org", ASN: 64501, Sent: 5, LossPct: 20, LastMs: 12.3, AvgMs: 12.4, MinMs: 12.2, MaxMs: 12.7, StdevMs: 0.2}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			for _, format := range []string{"", FormatMtrJSON} { // detected, and forced
				traces, errs := jsReadFixture(t, filepath.Join("testdata/json/mtr-json", tc.file), format)
				require.Empty(t, errs)
				require.Len(t, traces, 1)
				tr := traces[0]
				assert.Equal(t, FormatMtrJSON, tr.Format)
				assert.Equal(t, tc.src, tr.Source)
				assert.Equal(t, tc.dst, tr.Destination)
				require.Len(t, tr.Hops, len(tc.hops))
				for i, h := range tr.Hops {
					assert.Equal(t, i+1, h.TTL)
					assert.Empty(t, h.Probes, "aggregates never become probes")
					assert.Equal(t, tc.hops[i], h.Stats, "ttl %d", h.TTL)
				}
			}
		})
	}
}

// napalm's expected_result.json: {"success": {ttl: {"probes": {n: {rtt, ip_address, host_name}}}}}.
type jsNapalmExpected struct {
	Success map[string]struct {
		Probes map[string]struct {
			RTT      float64 `json:"rtt"`
			IP       string  `json:"ip_address"`
			HostName string  `json:"host_name"`
		} `json:"probes"`
	} `json:"success"`
}

func TestJSONConformanceNapalm(t *testing.T) {
	tests := []struct {
		dir, file, format string
		// lostRTT is the RTT napalm reports for a probe that timed out.
		lostRTT float64
	}{
		{dir: "junos", file: "traceroute.xml", format: FormatJunosXML},
		{dir: "iosxr_netconf", file: "traceroute-act_traceroute.xml", format: FormatIOSXRXML, lostRTT: 2000},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			dir := filepath.Join("testdata/json/napalm", tc.dir)
			traces, errs := jsReadFixture(t, filepath.Join(dir, tc.file), "")
			require.Empty(t, errs)
			require.Len(t, traces, 1)
			tr := traces[0]
			assert.Equal(t, tc.format, tr.Format)
			assert.Equal(t, "8.8.8.8", tr.Destination.Addr.String())
			var exp jsNapalmExpected
			eb, err := os.ReadFile(filepath.Join(dir, "expected_result.json"))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(eb, &exp))
			jsCompareNapalm(t, exp, tr, tc.lostRTT)
		})
	}
}

func jsCompareNapalm(t *testing.T, exp jsNapalmExpected, tr *Trace, lostRTT float64) {
	t.Helper()
	require.Len(t, tr.Hops, len(exp.Success))
	for _, h := range tr.Hops {
		want, ok := exp.Success[strconv.Itoa(h.TTL)]
		require.True(t, ok, "ttl %d", h.TTL)
		require.Len(t, h.Probes, len(want.Probes), "ttl %d", h.TTL)
		for i, p := range h.Probes {
			w := want.Probes[strconv.Itoa(i+1)]
			if p.Lost {
				// napalm turns a timed-out probe ("*") into an RTT equal to
				// the timeout (2 s): that would place the router up to 200 000
				// km away. It is a lost probe.
				assert.Equal(t, lostRTT, w.RTT, "ttl %d probe %d", h.TTL, i+1)
				continue
			}
			assert.Equal(t, w.IP, p.Addr.String(), "ttl %d probe %d", h.TTL, i+1)
			jsAssertRTT(t, w.RTT, p.RTTMs, "ttl %d probe %d", h.TTL, i+1)
			name := p.Name
			if name == "" {
				name = p.Addr.String() // napalm repeats the address as the name
			}
			assert.Equal(t, w.HostName, name)
		}
	}
}

func TestJSONConformanceNXOS(t *testing.T) {
	dir := "testdata/json/napalm/nxos"
	text, err := os.ReadFile(filepath.Join(dir, "traceroute_8.8.8.8.json"))
	require.NoError(t, err)
	// napalm saved the CLI text; NX-API wraps it in a JSON reply like this.
	env := map[string]any{"ins_api": map[string]any{"type": "cli_show_ascii", "version": "1.0", "sid": "eoc",
		"outputs": map[string]any{"output": map[string]any{"input": "traceroute 8.8.8.8", "msg": "Success", "code": "200", "body": string(text)}}}}
	b, err := json.Marshal(env)
	require.NoError(t, err)
	// The body is read by the NX-OS text parser (parse_text*.go).
	traces, errs := jsReadAll(t, b, ReadOptions{Input: "nxapi.json"})
	require.Empty(t, errs)
	require.Len(t, traces, 1)
	assert.Equal(t, FormatNXOSJSON, traces[0].Format)
	var exp jsNapalmExpected
	eb, err := os.ReadFile(filepath.Join(dir, "expected_result.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(eb, &exp))
	jsCompareNapalm(t, exp, traces[0], 5000) // napalm's nxos driver uses 5 s for "*"
}
