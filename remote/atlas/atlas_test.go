package atlas_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/internal/remotetest"
	"github.com/geoloc-dev/geoloc/remote/atlas"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// saganResults are real RIPE Atlas traceroute results (ripe.atlas.sagan's
// tests, see traceroute/testdata/json/ORIGIN.md), one a line.
func saganResults(t testing.TB) []json.RawMessage {
	t.Helper()
	out, err := remotetest.AtlasTraceroutes()
	require.NoError(t, err)
	require.NotEmpty(t, out)
	return out
}

func standIn(t *testing.T) (*remotetest.Atlas, *remotetest.Sleeps, func(atlas.Options) *atlas.Client) {
	t.Helper()
	a := &remotetest.Atlas{}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	s := &remotetest.Sleeps{}
	return a, s, func(o atlas.Options) *atlas.Client {
		if o.BaseURL == "" {
			o.BaseURL = srv.URL + "/api/v2"
		}
		o.Sleep = s.Sleep
		return atlas.New(o)
	}
}

func readTraces(t *testing.T, rc io.ReadCloser) ([]*traceroute.Trace, []error) {
	t.Helper()
	defer rc.Close()
	var ts []*traceroute.Trace
	var errs []error
	for tr, err := range traceroute.Read(rc, traceroute.ReadOptions{Input: "stream"}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ts = append(ts, tr)
	}
	return ts, errs
}

func TestMeasurementAndResults(t *testing.T) {
	a, _, client := standIn(t)
	results := saganResults(t)
	a.AddMeasurement(&remotetest.AtlasMeasurement{ID: 5001, Type: "traceroute", Results: results,
		Fields: map[string]any{"target": "example.org", "start_time": 1340000000, "stop_time": 1350000000}})
	c := client(atlas.Options{})
	ctx := context.Background()

	m, err := c.Measurement(ctx, 5001)
	require.NoError(t, err)
	assert.Equal(t, int64(5001), m.ID)
	assert.Equal(t, "traceroute", m.Type)
	assert.True(t, m.Status.Final())
	assert.False(t, m.Status.Failed())
	assert.Equal(t, int64(1350000000), m.StopTime)

	rc, err := c.Results(ctx, 5001, atlas.ResultsQuery{})
	require.NoError(t, err)
	traces, errs := readTraces(t, rc)
	assert.Empty(t, errs)
	assert.Len(t, traces, len(results), "every result of the stream is read")

	// The query narrows by time and probe, as the endpoint documents.
	start, stop := time.Unix(1340000000, 0), time.Unix(1345000000, 0)
	rc, err = c.Results(ctx, 5001, atlas.ResultsQuery{Start: start, Stop: stop, ProbeIDs: []int64{190, 426}})
	require.NoError(t, err)
	traces, errs = readTraces(t, rc)
	assert.Empty(t, errs)
	require.NotEmpty(t, traces)
	for _, tr := range traces {
		assert.Contains(t, []string{"190", "426"}, tr.Source.ProbeID)
		assert.False(t, tr.Started.Before(start) || tr.Started.After(stop), "%v", tr.Started)
	}
	reqs := a.Requests()
	last := reqs[len(reqs)-1]
	assert.Equal(t, "/measurements/5001/results/", last.Path)
	assert.Contains(t, last.Query, "format=txt")
	assert.Contains(t, last.Query, "probe_ids=190%2C426")
	assert.Contains(t, last.Query, "start=1340000000")
	assert.Contains(t, last.Query, "stop=1345000000")
	assert.False(t, last.Authorized, "no key, no Authorization header")
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name   string
		fault  remotetest.Fault
		key    string
		want   string // in the error message
		status int
		waits  int // retries waited for
	}{
		{name: "404", fault: remotetest.Fault{Path: "/measurements/", Status: 404}, want: "RIPE Atlas API: GET /measurements/5001/: 404 Not Found: Not found.", status: 404},
		{name: "401 names the variable", fault: remotetest.Fault{Path: "/measurements/", Status: 401}, want: "(set ATLAS_API_KEY to a RIPE Atlas API key)", status: 401},
		{name: "403 names the variable", key: "k", fault: remotetest.Fault{Path: "/measurements/", Status: 403}, want: "(set ATLAS_API_KEY to a RIPE Atlas API key allowed to do this", status: 403},
		{name: "5xx then success", fault: remotetest.Fault{Path: "/measurements/", Status: 502, Times: 2}, waits: 2},
		{name: "429 with Retry-After waits as asked", fault: remotetest.Fault{Path: "/measurements/", Status: 429, Times: 1, RetryAfter: "7"}, waits: 1},
		{name: "429 asking too long fails at once", fault: remotetest.Fault{Path: "/measurements/", Status: 429, RetryAfter: "3600"}, want: "rate limited: try again in 1h0m0s", status: 429},
		{name: "5xx for ever gives up", fault: remotetest.Fault{Path: "/measurements/", Status: 503}, want: "503 Service Unavailable", status: 503, waits: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, s, client := standIn(t)
			a.AddMeasurement(&remotetest.AtlasMeasurement{ID: 5001, Type: "ping"})
			a.Fail(tc.fault)
			c := client(atlas.Options{Key: tc.key})
			m, err := c.Measurement(context.Background(), 5001)
			assert.Len(t, s.All(), tc.waits, "retries: %v", s.All())
			if tc.want == "" {
				require.NoError(t, err)
				assert.Equal(t, int64(5001), m.ID)
				if tc.fault.RetryAfter != "" {
					assert.Equal(t, 7*time.Second, s.All()[0])
				}
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			var ae *atlas.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.status, ae.StatusCode)
		})
	}
}

func TestResultStreamFaults(t *testing.T) {
	results := saganResults(t)
	t.Run("truncated", func(t *testing.T) {
		a, _, client := standIn(t)
		var many []json.RawMessage // past the reader's 64 KiB look-ahead
		for range 10 {
			many = append(many, results...)
		}
		a.AddMeasurement(&remotetest.AtlasMeasurement{ID: 7, Type: "traceroute", Results: many})
		a.Fail(remotetest.Fault{Path: "/measurements/7/results/", CutAfter: 200000})
		rc, err := client(atlas.Options{}).Results(context.Background(), 7, atlas.ResultsQuery{})
		require.NoError(t, err)
		traces, errs := readTraces(t, rc)
		assert.NotEmpty(t, traces, "the results before the cut are read")
		assert.Less(t, len(traces), len(many))
		require.NotEmpty(t, errs, "the cut is reported")
	})
	t.Run("stalled", func(t *testing.T) {
		a, _, client := standIn(t)
		a.AddMeasurement(&remotetest.AtlasMeasurement{ID: 8, Type: "traceroute", Results: results})
		a.Fail(remotetest.Fault{Path: "/measurements/8/results/", Stall: time.Minute})
		rc, err := client(atlas.Options{IdleTimeout: 200 * time.Millisecond}).Results(context.Background(), 8, atlas.ResultsQuery{})
		require.NoError(t, err)
		_, errs := readTraces(t, rc)
		require.NotEmpty(t, errs)
		assert.Contains(t, errs[0].Error(), "stream stalled: nothing received for 200ms")
	})
	t.Run("malformed JSON", func(t *testing.T) {
		a, _, client := standIn(t)
		bad := append(append([]json.RawMessage{}, results[:2]...), json.RawMessage(`{"type":"traceroute","result":[{"hop":1,"result":[{"from":"192.0.2.1","rtt":}]}]}`), results[2])
		a.AddMeasurement(&remotetest.AtlasMeasurement{ID: 9, Type: "traceroute", Results: bad})
		rc, err := client(atlas.Options{}).Results(context.Background(), 9, atlas.ResultsQuery{})
		require.NoError(t, err)
		traces, errs := readTraces(t, rc)
		assert.Len(t, traces, 3, "the good results around the bad one are kept")
		require.Len(t, errs, 1)
		assert.Contains(t, errs[0].Error(), "stream:3: ripe-atlas:")
	})
	t.Run("canceled", func(t *testing.T) {
		a, _, client := standIn(t)
		a.AddMeasurement(&remotetest.AtlasMeasurement{ID: 10, Type: "traceroute", Results: results})
		a.Fail(remotetest.Fault{Path: "/measurements/10/results/", Stall: time.Minute})
		ctx, cancel := context.WithCancel(context.Background())
		rc, err := client(atlas.Options{}).Results(ctx, 10, atlas.ResultsQuery{})
		require.NoError(t, err)
		time.AfterFunc(100*time.Millisecond, cancel)
		_, errs := readTraces(t, rc)
		require.NotEmpty(t, errs)
	})
}

// TestResultStreamMemory streams many results through the client and the
// reader: the heap stays bounded by a few results, not the stream.
func TestResultStreamMemory(t *testing.T) {
	results := saganResults(t)
	n := 20000
	if raceEnabled {
		n = 4000
	}
	total := 0
	a, _, client := standIn(t)
	a.AddMeasurement(&remotetest.AtlasMeasurement{ID: 11, Type: "traceroute", Stream: func(w io.Writer, _ string) error {
		bw := bufio.NewWriterSize(w, 64<<10)
		for i := range n {
			r := results[i%len(results)]
			total += len(r) + 1
			if _, err := bw.Write(r); err != nil {
				return err
			}
			bw.WriteByte('\n')
		}
		return bw.Flush()
	}})
	rc, err := client(atlas.Options{}).Results(context.Background(), 11, atlas.ResultsQuery{})
	require.NoError(t, err)
	defer rc.Close()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	peak := uint64(0)
	count := 0
	for tr, err := range traceroute.Read(rc, traceroute.ReadOptions{Input: "msm 11"}) {
		require.NoError(t, err)
		require.NotNil(t, tr)
		count++
		if count%2000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	require.Equal(t, n, count)
	grown := int64(peak) - int64(base)
	t.Logf("%d results, %.1f MB streamed, heap grew by at most %.1f MB", count, float64(total)/1e6, float64(grown)/1e6)
	assert.Less(t, grown, int64(8<<20), "memory must not grow with the stream (%.1f MB streamed)", float64(total)/1e6)
}

func TestProbes(t *testing.T) {
	a, _, client := standIn(t)
	page, err := os.ReadFile("../../internal/remotetest/testdata/atlas-probes-page.json")
	require.NoError(t, err)
	var p struct {
		Results []json.RawMessage `json:"results"`
	}
	require.NoError(t, json.Unmarshal(page, &p))
	require.NoError(t, a.AddProbes(p.Results...))
	// 1200 more probes: three id__in batches, and pages within them.
	var ids []int64
	for i := range int64(1200) {
		a.AddProbe(2000000+i, 50+float64(i%40)/10, 8+float64(i%30)/10, "DE")
		ids = append(ids, 2000000+i)
	}
	ids = append(ids, 1002572, 18335, 999999999)
	c := client(atlas.Options{})
	got := map[int64]atlas.Probe{}
	for pr, err := range c.Probes(context.Background(), ids) {
		require.NoError(t, err)
		got[pr.ID] = pr
	}
	assert.Len(t, got, 1202, "the unknown id is left out")
	us := got[1002572]
	assert.True(t, us.Located)
	assert.Equal(t, 43.3885, us.Lat)
	assert.Equal(t, -72.0895, us.Lon)
	assert.Equal(t, "US", us.CountryCode)
	assert.Equal(t, uint32(13977), us.ASNv4)
	assert.Equal(t, "64.222.227.13", us.AddressV4.String())
	assert.Equal(t, "Abandoned", us.Status)
	assert.False(t, got[18335].Located, "geometry null: no position")
	assert.Equal(t, 3, a.Count("GET", "/probes/")-countPages(a), "one request per 500 ids")
}

// countPages counts the requests for second and later pages.
func countPages(a *remotetest.Atlas) int {
	n := 0
	for _, r := range a.Requests() {
		if strings.Contains(r.Query, "page=") {
			n++
		}
	}
	return n
}

func TestReadProbes(t *testing.T) {
	page, err := os.ReadFile("../../internal/remotetest/testdata/atlas-probes-page.json")
	require.NoError(t, err)
	archive, err := os.ReadFile("../../internal/remotetest/testdata/atlas-probe-archive.json")
	require.NoError(t, err)
	var p struct {
		Results []json.RawMessage `json:"results"`
	}
	require.NoError(t, json.Unmarshal(page, &p))
	var lines bytes.Buffer
	for _, r := range p.Results {
		var v any
		require.NoError(t, json.Unmarshal(r, &v))
		b, _ := json.Marshal(v)
		lines.Write(b)
		lines.WriteByte('\n')
	}
	array, _ := json.Marshal(p.Results)
	for name, in := range map[string][]byte{"API page": page, "probe archive": archive, "JSON Lines": lines.Bytes(), "array": array} {
		t.Run(name, func(t *testing.T) {
			var got []atlas.Probe
			for pr, err := range atlas.ReadProbes(bytes.NewReader(in)) {
				require.NoError(t, err)
				got = append(got, pr)
			}
			require.Len(t, got, 4)
			assert.Equal(t, atlas.Probe{ID: 1003272, Lat: 45.4985, Lon: 12.2405, Located: true, CountryCode: "IT", ASNv4: 29447,
				AddressV4: got[1].AddressV4, Status: "Written Off"}, got[1])
			assert.Equal(t, "81.56.27.40", got[1].AddressV4.String())
			assert.False(t, got[3].Located)
		})
	}
	bad := []struct{ name, in, want string }{
		{"empty", "", "line 1: empty input"},
		{"not JSON", "id,lat,lon\n1,2,3\n", `line 1: unexpected 'i' where a probe or a list of probes should start`},
		{"position out of range", `{"results":[{"id":1,"latitude":91,"longitude":0}]}`, "line 1: probe 1: id 1: position 91,0 out of range"},
		{"no id", "[\n{\"id\":1,\"latitude\":1,\"longitude\":2},\n{\"latitude\":1,\"longitude\":2}\n]", `line 3: probe 2: probe without an "id"`},
		{"truncated", "{\"objects\":[\n{\"id\":1,\"latitude\":1,\"longitude\":2},\n{\"id\":2,\"lat", "line 3: probe 2: unexpected EOF"},
		{"results not a list", `{"results":{"id":1}}`, `line 1: "results" is not a list`},
		{"JSON Lines, bad third", "{\"id\":1}\n\n{\"id\":2}\n{\"id\":3,\"latitude\":1,\"longitude\":999}\n", "line 4: probe 3: id 3: position 1,999 out of range"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			var errs []error
			for _, err := range atlas.ReadProbes(strings.NewReader(tc.in)) {
				if err != nil {
					errs = append(errs, err)
				}
			}
			require.NotEmpty(t, errs)
			assert.Contains(t, errs[0].Error(), tc.want)
		})
	}
}

// TestReadProbesMemory decodes a probe archive far bigger than the heap
// it is allowed to grow by.
func TestReadProbesMemory(t *testing.T) {
	n := 200000
	if raceEnabled {
		n = 40000
	}
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriter(pw)
		fmt.Fprintf(bw, `{"meta":{"total_count":%d},"objects":[`, n)
		for i := range n {
			if i > 0 {
				bw.WriteByte(',')
			}
			fmt.Fprintf(bw, `{"id":%d,"latitude":%.4f,"longitude":%.4f,"country_code":"NL","status":1,"status_name":"Connected","tags":["system-ipv4-works","home"]}`, i+1, 52+float64(i%100)/100, 4+float64(i%100)/100)
		}
		bw.WriteString("]}")
		bw.Flush()
		pw.Close()
	}()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak, count := ms.HeapInuse, uint64(0), 0
	for p, err := range atlas.ReadProbes(pr) {
		require.NoError(t, err)
		require.True(t, p.Located)
		count++
		if count%20000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	require.Equal(t, n, count)
	assert.Less(t, int64(peak)-int64(base), int64(4<<20), "about 30 MB of probes read with a flat heap")
}

func TestCreateAndWait(t *testing.T) {
	results := saganResults(t)
	a, s, client := standIn(t)
	a.Key = "secret-key-123"
	var defs []map[string]any
	a.OnCreate = func(def map[string]any, probes []map[string]any) *remotetest.AtlasMeasurement {
		defs = append(defs, def)
		return &remotetest.AtlasMeasurement{Type: "traceroute", Statuses: []string{"Specified", "Ongoing", "Ongoing", "Stopped"}, Results: results[:3]}
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	sel, err := atlas.ParseProbeSelection("country:de", 5)
	require.NoError(t, err)
	req := atlas.CreateRequest{IsOneoff: true, Probes: []atlas.ProbeSelection{sel},
		Definitions: []atlas.Definition{{Type: "traceroute", Target: "192.0.2.9", AF: 4, Description: "geoloc trace", Protocol: "ICMP"}}}

	// Without a key nothing is sent.
	_, err = client(atlas.Options{Logger: log}).Create(context.Background(), req)
	require.ErrorIs(t, err, atlas.ErrNoKey)
	assert.Contains(t, err.Error(), "set ATLAS_API_KEY")
	assert.Zero(t, a.Count("POST", "/measurements/"))

	// A wrong key: 403, naming the variable.
	_, err = client(atlas.Options{Key: "wrong", Logger: log}).Create(context.Background(), req)
	var ae *atlas.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 403, ae.StatusCode)
	assert.Contains(t, err.Error(), "ATLAS_API_KEY")

	// A 502 on creation is not retried (a twin could be created) ...
	a.Fail(remotetest.Fault{Method: "POST", Path: "/measurements/", Status: 502, Times: 1})
	c := client(atlas.Options{Key: "secret-key-123", Logger: log})
	_, err = c.Create(context.Background(), req)
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 502, ae.StatusCode)
	// ... a 503 is.
	a.Fail(remotetest.Fault{Method: "POST", Path: "/measurements/", Status: 503, Times: 1})
	ids, err := c.Create(context.Background(), req)
	require.NoError(t, err)
	require.Len(t, ids, 1)
	require.Len(t, defs, 1)
	assert.Equal(t, "192.0.2.9", defs[0]["target"])
	assert.Equal(t, "ICMP", defs[0]["protocol"])
	var body struct {
		Probes []map[string]any `json:"probes"`
	}
	reqs := a.Requests()
	require.NoError(t, json.Unmarshal([]byte(reqs[len(reqs)-1].Body), &body))
	assert.Equal(t, map[string]any{"type": "country", "value": "DE", "requested": float64(5)}, body.Probes[0])

	waitsBefore := len(s.All())
	var seen []string
	m, err := c.Wait(context.Background(), ids[0], atlas.WaitOptions{Interval: 10 * time.Second, Progress: func(m *atlas.Measurement) { seen = append(seen, m.Status.Name) }})
	require.NoError(t, err)
	assert.Equal(t, "Stopped", m.Status.Name)
	assert.Equal(t, []string{"Specified", "Ongoing", "Ongoing", "Stopped"}, seen)
	assert.Equal(t, []time.Duration{10 * time.Second, 10 * time.Second, 10 * time.Second}, s.All()[waitsBefore:])

	assert.NotContains(t, logs.String(), "secret-key-123", "the key is never logged")
	assert.Contains(t, logs.String(), "POST")
}

func TestWaitBounded(t *testing.T) {
	a, _, client := standIn(t)
	a.AddMeasurement(&remotetest.AtlasMeasurement{ID: 42, Type: "traceroute", Statuses: []string{"Ongoing"}})
	a.AddMeasurement(&remotetest.AtlasMeasurement{ID: 43, Type: "traceroute", Statuses: []string{"Scheduled", "No suitable probes"}})
	c := client(atlas.Options{})
	_, err := c.Wait(context.Background(), 42, atlas.WaitOptions{Interval: time.Minute, MaxWait: 5 * time.Minute})
	var nf *atlas.NotFinishedError
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, `RIPE Atlas measurement 42 still "Ongoing" after 5m0s; its results may come later (geoloc regeo --atlas 42)`, err.Error())
	assert.Equal(t, 6, a.Count("GET", "/measurements/42/"), "polls at 0, 1, ..., 5 minutes")

	_, err = c.Wait(context.Background(), 43, atlas.WaitOptions{})
	var fe *atlas.FailedError
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, err.Error(), "ended without results: No suitable probes")
}

func TestParseProbeSelection(t *testing.T) {
	tests := []struct {
		spec string
		n    int
		want atlas.ProbeSelection
		err  string
	}{
		{"country:de", 5, atlas.ProbeSelection{Type: "country", Value: "DE", Requested: 5}, ""},
		{"asn:AS3320", 0, atlas.ProbeSelection{Type: "asn", Value: "3320", Requested: 1}, ""},
		{"area:ww", 10, atlas.ProbeSelection{Type: "area", Value: "WW", Requested: 10}, ""},
		{"prefix:193.0.1.7/16", 3, atlas.ProbeSelection{Type: "prefix", Value: "193.0.0.0/16", Requested: 3}, ""},
		{"probes:1, 2,3", 0, atlas.ProbeSelection{Type: "probes", Value: "1,2,3", Requested: 3}, ""},
		{"probes:1,2,3", 2, atlas.ProbeSelection{Type: "probes", Value: "1,2,3", Requested: 2}, ""},
		{"msm:5001", 4, atlas.ProbeSelection{Type: "msm", Value: "5001", Requested: 4}, ""},
		{"de", 1, atlas.ProbeSelection{}, "want KIND:VALUE"},
		{"country:Germany", 1, atlas.ProbeSelection{}, "two-letter country code"},
		{"asn:x", 1, atlas.ProbeSelection{}, "want an AS number"},
		{"area:Mars", 1, atlas.ProbeSelection{}, "area is one of WW, West"},
		{"probes:1,a", 1, atlas.ProbeSelection{}, `"a" is not a probe id`},
		{"city:Paris", 1, atlas.ProbeSelection{}, `unknown kind "city"`},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := atlas.ParseProbeSelection(tc.spec, tc.n)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	b, err := json.Marshal(atlas.ProbeSelection{Type: "asn", Value: "3320", Requested: 2})
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"asn","value":3320,"requested":2}`, string(b), "asn values are numbers, as documented")
}

func TestNewFromEnv(t *testing.T) {
	env := map[string]string{atlas.EnvBaseURL: "http://127.0.0.1:9/api/v2/", atlas.EnvKey: "k"}
	c := atlas.NewFromEnv(func(k string) string { return env[k] }, atlas.Options{})
	assert.Equal(t, "http://127.0.0.1:9/api/v2", c.BaseURL())
	assert.True(t, c.HasKey())
	assert.Equal(t, atlas.DefaultBaseURL, atlas.NewFromEnv(func(string) string { return "" }, atlas.Options{}).BaseURL())
}

func TestContextCanceled(t *testing.T) {
	a, _, _ := standIn(t)
	a.Fail(remotetest.Fault{Status: 503})
	srv := httptest.NewServer(a)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := atlas.New(atlas.Options{BaseURL: srv.URL})
	_, err := c.Measurement(ctx, 1)
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
	_ = http.StatusOK
}
