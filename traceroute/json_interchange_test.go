package traceroute

import (
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsCorpusTraces parses every fixture under testdata (structured and text
// formats) and returns the traces read, by file.
func jsCorpusTraces(t *testing.T) map[string][]*Trace {
	t.Helper()
	out := map[string][]*Trace{}
	for _, root := range []string{"testdata/json", "testdata/text"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			name := d.Name()
			if strings.HasSuffix(name, ".md") || strings.HasPrefix(name, "expected") || strings.Contains(path, "/expected/") || strings.Contains(path, "/fuzz/") {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if strings.HasSuffix(name, "sagan_traceroute_tests.jsonl") {
				data = jsUnwrapSagan(t, data)
			}
			for tr, err := range Read(bytes.NewReader(data), ReadOptions{Input: path}) {
				if err == nil {
					out[path] = append(out[path], tr)
				}
			}
			return nil
		})
		if !os.IsNotExist(err) {
			require.NoError(t, err)
		}
	}
	return out
}

func jsUnwrapSagan(t *testing.T, data []byte) []byte {
	t.Helper()
	var out [][]byte
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		i := bytes.Index(l, []byte(`"result": `))
		require.Positive(t, i)
		out = append(out, bytes.TrimSuffix(bytes.TrimSpace(l[i+len(`"result": `):]), []byte("}")))
	}
	return bytes.Join(out, []byte("\n"))
}

// TestJSONInterchangeRoundTrip: every trace any parser reads from the corpus
// survives encode → Read unchanged, and the interchange is detected as such.
func TestJSONInterchangeRoundTrip(t *testing.T) {
	files := jsCorpusTraces(t)
	require.NotEmpty(t, files)
	total := 0
	for path, traces := range files {
		var buf bytes.Buffer
		enc := NewEncoder(&buf)
		for _, tr := range traces {
			require.NoError(t, enc.Encode(tr))
		}
		require.NoError(t, enc.Flush())
		require.Equal(t, len(traces), bytes.Count(buf.Bytes(), []byte("\n")), "one trace a line")
		got, errs := jsReadAll(t, buf.Bytes(), ReadOptions{Input: path + ".jsonl"})
		require.Empty(t, errs, path)
		require.Len(t, got, len(traces), path)
		for i := range traces {
			// Deep-equal, Started included: the interchange keeps the
			// instant and its UTC offset, not a *time.Location, so every
			// parser sets Started in UTC (never time.Local).
			assert.Equal(t, traces[i], got[i], "%s trace %d", path, i)
		}
		total += len(traces)
	}
	t.Logf("%d traces from %d files round-tripped", total, len(files))
	assert.Greater(t, total, 50)
}

func TestJSONInterchangeFields(t *testing.T) {
	lat, lon := 59.91, 10.75
	tr := &Trace{
		Format:      "linux-traceroute",
		Source:      Endpoint{Addr: netip.MustParseAddr("192.0.2.7"), Name: "probe.example", Lat: &lat, Lon: &lon, ProbeID: "6001"},
		Destination: Endpoint{Name: "www.example.org", Addr: netip.MustParseAddr("203.0.113.9")},
		Protocol:    "udp",
		Started:     time.Date(2017, 1, 9, 10, 0, 0, 0, time.UTC),
		Hops: []Hop{
			{TTL: 1, Probes: []Probe{
				{Addr: netip.MustParseAddr("192.0.2.1"), Name: "gw.example", RTTMs: 0.447, ASN: 64500, Flags: []string{"!H"}, MPLS: []MPLSLabel{{Label: 24001, S: true, TTL: 1}}},
				{Lost: true},
				{Addr: netip.MustParseAddr("192.0.2.1"), RTTMs: 0}, // a 0 ms reply is not a lost probe
			}},
			{TTL: 2, Stats: []Stats{{Addr: netip.MustParseAddr("198.51.100.1"), Name: "r2.example", Sent: 10, LossPct: 20, MinMs: 1.9, AvgMs: 2.7, MaxMs: 3.7, StdevMs: 0.5}}},
		},
	}
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	require.NoError(t, enc.Encode(tr))
	require.NoError(t, enc.Flush())
	// The field names are a fixed contract (issue 2).
	want := `{"format":"linux-traceroute","source":{"addr":"192.0.2.7","name":"probe.example","lat":59.91,"lon":10.75,"probe_id":"6001"},` +
		`"destination":{"addr":"203.0.113.9","name":"www.example.org"},"protocol":"udp","started":"2017-01-09T10:00:00Z",` +
		`"hops":[{"ttl":1,"probes":[{"addr":"192.0.2.1","name":"gw.example","rtt_ms":0.447,"asn":64500,"flags":["!H"],"mpls":[{"label":24001,"tc":0,"s":true,"ttl":1}]},{"lost":true},{"addr":"192.0.2.1","rtt_ms":0}]},` +
		`{"ttl":2,"stats":[{"addr":"198.51.100.1","name":"r2.example","sent":10,"loss_pct":20,"min_ms":1.9,"avg_ms":2.7,"max_ms":3.7,"stdev_ms":0.5}]}]}` + "\n"
	assert.Equal(t, want, buf.String())
	got, errs := jsReadAll(t, buf.Bytes(), ReadOptions{})
	require.Empty(t, errs)
	require.Len(t, got, 1)
	assert.Equal(t, tr, got[0])
}

// TestJSONInterchangeProbeFlow: a probe's flow index is written after its
// other fields, only when not 0, and read back by both decoders.
func TestJSONInterchangeProbeFlow(t *testing.T) {
	tr := &Trace{Format: FormatGeoloc, Hops: []Hop{{TTL: 1, Probes: []Probe{
		{Addr: netip.MustParseAddr("192.0.2.1"), RTTMs: 1.5},
		{Addr: netip.MustParseAddr("192.0.2.2"), RTTMs: 1.25, MPLS: []MPLSLabel{{Label: 16, S: true, TTL: 1}}, Flow: 1},
		{Lost: true, Flow: 2},
	}}}}
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	require.NoError(t, enc.Encode(tr))
	require.NoError(t, enc.Flush())
	want := `{"format":"geoloc","hops":[{"ttl":1,"probes":[{"addr":"192.0.2.1","rtt_ms":1.5},` +
		`{"addr":"192.0.2.2","rtt_ms":1.25,"mpls":[{"label":16,"tc":0,"s":true,"ttl":1}],"flow":1},{"lost":true,"flow":2}]}]}` + "\n"
	assert.Equal(t, want, buf.String())
	ref, err := jsReferenceEncode(tr)
	require.NoError(t, err)
	assert.Equal(t, string(ref), buf.String(), "encoding/json writes the same")

	got, errs := jsReadAll(t, buf.Bytes(), ReadOptions{})
	require.Empty(t, errs)
	require.Len(t, got, 1)
	assert.Equal(t, tr, got[0])
	viaJSON, err := UnmarshalTrace(bytes.TrimSpace(buf.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, tr, viaJSON)

	for _, tc := range []struct{ in, want string }{
		{`{"hops":[{"ttl":1,"probes":[{"lost":true,"flow":-1}]}]}`, "in.jsonl:1: geoloc: hops[0].probes[0]: negative flow -1"},
		{`{"hops":[{"ttl":1,"probes":[{"lost":true,"flow":1.5}]}]}`, "in.jsonl:1: geoloc: "},
		{`{"hops":[{"ttl":1,"probes":[{"lost":true,"flow":"1"}]}]}`, "in.jsonl:1: geoloc: "},
	} {
		got, errs := jsReadAll(t, []byte(tc.in), ReadOptions{Input: "in.jsonl", Format: FormatGeoloc})
		assert.Empty(t, got, tc.in)
		if assert.Len(t, errs, 1, tc.in) {
			assert.Contains(t, errs[0].Error(), tc.want)
		}
	}
}

func TestJSONInterchangeErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
		good           int
	}{
		{"bad line in the middle", `{"format":"geoloc","hops":[{"ttl":1}]}` + "\n" + `{"format":"geoloc","hops":[{"ttl":"x"}]}` + "\n" + `{"format":"geoloc","hops":[]}` + "\n", "in.jsonl:2: geoloc: ", 2},
		{"ttl out of range", `{"hops":[{"ttl":300}]}`, "in.jsonl:1: geoloc: hops[0]: ttl 300 out of range", 0},
		{"bad address", `{"hops":[{"ttl":1,"probes":[{"addr":"300.1.1.1","rtt_ms":1}]}]}`, "in.jsonl:1: geoloc: ", 0},
		{"truncated", `{"format":"geoloc","hops":[{"ttl":1,"probes":[{"addr":"192.0.2.1"`, "in.jsonl:1: geoloc: unexpected end of input", 0},
		{"raw newline in string", "{\"format\":\"geo\nloc\",\"hops\":[]}\n{\"hops\":[]}\n", "in.jsonl:1: geoloc: unterminated string", 1},
		{"object without hops", `{"format":"geoloc"}` + "\n" + `{}`, `in.jsonl:1: geoloc: not an interchange trace (no "hops")`, 0},
		{"garbage line", "{\"hops\":[]}\nnot json at all\n{\"hops\":[]}\n", `in.jsonl:2: geoloc: unexpected 'n'`, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := jsReadAll(t, []byte(tc.in), ReadOptions{Input: "in.jsonl", Format: FormatGeoloc})
			require.NotEmpty(t, errs)
			assert.Contains(t, errs[0].Error(), tc.want)
			assert.Len(t, got, tc.good)
		})
	}
}

var jsonUpdate = flag.Bool("jsonupdate", false, "rewrite testdata/json/interchange/golden.jsonl")

// TestJSONInterchangeGolden pins what the structured parsers read from the
// corpus, in the interchange format: any change to a parser's output shows
// up as a diff of testdata/json/interchange/golden.jsonl (refresh with
// go test -run TestJSONInterchangeGolden -jsonupdate). The file also seeds
// FuzzInterchange.
func TestJSONInterchangeGolden(t *testing.T) {
	var paths []string
	err := filepath.WalkDir("testdata/json", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(path, "/interchange/") || strings.Contains(path, "/expected") || strings.HasSuffix(path, ".md") || strings.HasSuffix(path, "expected_result.json") || strings.HasSuffix(path, "version.md") || strings.HasSuffix(path, "sagan_expected.json") {
			return err
		}
		paths = append(paths, path)
		return nil
	})
	require.NoError(t, err)
	slices.Sort(paths)
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	for _, path := range paths {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		if strings.HasSuffix(path, "sagan_traceroute_tests.jsonl") {
			data = jsUnwrapSagan(t, data)
		}
		if strings.HasSuffix(path, ".json") && strings.Contains(path, "/nxos/") {
			continue // CLI text: the text parsers' business
		}
		for tr, err := range Read(bytes.NewReader(data), ReadOptions{Input: path}) {
			if err == nil {
				require.NoError(t, enc.Encode(tr))
			}
		}
	}
	require.NoError(t, enc.Flush())
	golden := "testdata/json/interchange/golden.jsonl"
	if *jsonUpdate {
		require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run with -jsonupdate to create it")
	assert.Equal(t, string(want), buf.String())
}

// jsReferenceEncode is what Encoder writes, done by encoding/json.
func jsReferenceEncode(t *Trace) ([]byte, error) {
	if t.Hops == nil {
		c := *t
		c.Hops = []Hop{}
		t = &c
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(t)
	return buf.Bytes(), err
}

// TestJSONEncoderMatchesEncodingJSON: the hand-written encoder writes the
// bytes encoding/json writes, over the corpus and awkward values.
func TestJSONEncoderMatchesEncodingJSON(t *testing.T) {
	var traces []*Trace
	for _, ts := range jsCorpusTraces(t) {
		traces = append(traces, ts...)
	}
	lat := -0.0
	odd := &Trace{
		Format:  "x\"\\\n\t\x01\x7f<>&\u2028\u2029\xff\xfeé😀",
		Source:  Endpoint{Lat: &lat, Name: "\b\f\r"},
		Started: time.Date(2020, 2, 3, 4, 5, 6, 789, time.FixedZone("", -7*3600-30*60)),
		Hops: []Hop{{TTL: -3, Probes: []Probe{
			{Addr: netip.MustParseAddr("fe80::1%eth0"), RTTMs: 1e-7},
			{Addr: netip.MustParseAddr("::ffff:192.0.2.1"), RTTMs: 1e21, Flags: []string{}},
			{RTTMs: 123456789.123456789, MPLS: []MPLSLabel{{Label: 1<<20 - 1, TC: 7, S: true, TTL: 255}}},
			{RTTMs: 5e-324, Flow: 3}, {RTTMs: -1.5e-9, Flow: -1}, {Lost: true, RTTMs: 3, Flow: math.MaxInt64},
		}}, {TTL: 2, Stats: []Stats{{LossPct: -0.0, MinMs: 0.1, StdevMs: 1e300}, {}}}},
	}
	traces = append(traces, odd, &Trace{})
	for i, tr := range traces {
		want, wantErr := jsReferenceEncode(tr)
		var buf bytes.Buffer
		enc := NewEncoder(&buf)
		err := enc.Encode(tr)
		require.NoError(t, enc.Flush())
		if wantErr != nil {
			assert.Error(t, err, "trace %d", i)
			continue
		}
		require.NoError(t, err, "trace %d", i)
		assert.Equal(t, string(want), buf.String(), "trace %d", i)
	}
	for _, bad := range []*Trace{
		{Hops: []Hop{{TTL: 1, Probes: []Probe{{RTTMs: math.NaN()}}}}},
		{Hops: []Hop{{TTL: 1, Stats: []Stats{{AvgMs: math.Inf(1)}}}}},
		{Started: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		_, wantErr := jsReferenceEncode(bad)
		require.Error(t, wantErr)
		var buf bytes.Buffer
		enc := NewEncoder(&buf)
		assert.Error(t, enc.Encode(bad))
		require.NoError(t, enc.Flush())
		assert.Empty(t, buf.String(), "nothing written for a failed trace")
	}
}
