package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/internal/remotetest"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/remote/atlas"
)

// saganResults are real RIPE Atlas traceroute results (see
// traceroute/testdata/json/ORIGIN.md) and their probe ids.
func saganResults(t testing.TB) ([]json.RawMessage, []int64) {
	t.Helper()
	out, err := remotetest.AtlasTraceroutes()
	require.NoError(t, err)
	var ids []int64
	seen := map[int64]bool{}
	for _, r := range out {
		var meta struct {
			PrbID int64 `json:"prb_id"`
		}
		require.NoError(t, json.Unmarshal(r, &meta))
		if !seen[meta.PrbID] {
			seen[meta.PrbID] = true
			ids = append(ids, meta.PrbID)
		}
	}
	return out, ids
}

func repoRootTB(t testing.TB) string {
	wd, err := os.Getwd()
	require.NoError(t, err)
	return filepath.Join(wd, "..", "..")
}

// atlasStandIn serves real traceroute results as measurement 5001 and a
// made-up position (a real city) for each of their probes.
func atlasStandIn(t *testing.T) (*remotetest.Atlas, map[string]string) {
	t.Helper()
	results, ids := saganResults(t)
	a := &remotetest.Atlas{}
	a.AddMeasurement(&remotetest.AtlasMeasurement{ID: 5001, Type: "traceroute", Results: results})
	// Positions made up for the test: the probes of those results at
	// Amsterdam, Paris, Frankfurt, ... in turn.
	spots := [][2]float64{{52.37, 4.90}, {48.86, 2.35}, {50.11, 8.68}, {51.51, -0.13}, {40.71, -74.01}}
	for i, id := range ids {
		s := spots[i%len(spots)]
		a.AddProbe(id, s[0], s[1], "NL")
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return a, map[string]string{"GEOLOC_ATLAS_API": srv.URL + "/api/v2", "GEOLOC_CACHE_DIR": t.TempDir()}
}

func resultLines(t *testing.T, stdout string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for l := range strings.SplitSeq(strings.TrimSpace(stdout), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		out = append(out, m)
	}
	return out
}

func TestRegeoAtlas(t *testing.T) {
	a, env := atlasStandIn(t)
	results, _ := saganResults(t)
	r := run(t, "", env, "regeo", "--no-db", "--atlas", "5001")
	require.Equal(t, 0, r.code, r.stderr)
	lines := resultLines(t, r.stdout)
	require.Len(t, lines, len(results))
	for _, l := range lines {
		v, ok := l["vantage"].(map[string]any)
		require.True(t, ok, "every trace has its probe as vantage point: %v", l["source"])
		assert.NotEqual(t, true, v["inferred"])
		src := l["source"].(map[string]any)
		assert.NotNil(t, src["lat"], "the source is placed at its probe")
	}
	assert.Equal(t, 1, a.Count("GET", "/measurements/5001/results/"))
	assert.Equal(t, 1, a.Count("GET", "/probes/"), "one batch of probe positions")

	// The measurement is stopped: its results and the probe positions
	// are cached, and a second run reads no result stream.
	cached := filepath.Join(env["GEOLOC_CACHE_DIR"], "atlas", "msm-5001.jsonl")
	require.FileExists(t, cached)
	require.FileExists(t, filepath.Join(env["GEOLOC_CACHE_DIR"], "atlas", "probes.jsonl"))
	before := len(a.Requests())
	a.Fail(remotetest.Fault{Path: "/measurements/5001/results/", Status: 500})
	a.Fail(remotetest.Fault{Path: "/probes/", Status: 500})
	r2 := run(t, "", env, "regeo", "--no-db", "--atlas", "5001")
	require.Equal(t, 0, r2.code, r2.stderr)
	assert.Equal(t, r.stdout, r2.stdout)
	assert.Len(t, a.Requests(), before, "a cached measurement needs nothing from the API")

	// --atlas-cache=false goes to the API (which now fails, after retries).
	r3 := run(t, "", env, "regeo", "--no-db", "--atlas", "5001", "--atlas-cache=false", "-q")
	assert.Equal(t, 1, r3.code)
	assert.Contains(t, r3.stderr, "RIPE Atlas API: GET /measurements/5001/results/: 500 Internal Server Error")
}

func TestRegeoAtlasWindowAndErrors(t *testing.T) {
	a, env := atlasStandIn(t)
	r := run(t, "", env, "regeo", "--no-db", "-q", "--atlas", "5001", "--atlas-start", "2012-06-22", "--atlas-stop", "1344556800")
	require.Equal(t, 0, r.code, r.stderr)
	var q string
	for _, req := range a.Requests() {
		if strings.HasSuffix(req.Path, "/results/") {
			q = req.Query
		}
	}
	assert.Contains(t, q, "start=1340323200")
	assert.Contains(t, q, "stop=1344556800")
	for _, l := range resultLines(t, r.stdout) {
		_ = l // every line a result; the window is the stand-in's filter
	}

	tests := []struct {
		name  string
		args  []string
		fault remotetest.Fault
		code  int
		want  string
	}{
		{"unknown measurement", []string{"--atlas", "999"}, remotetest.Fault{}, 1, "RIPE Atlas API: GET /measurements/999/: 404 Not Found"},
		{"401", []string{"--atlas", "5001"}, remotetest.Fault{Path: "/measurements/", Status: 401}, 1, "(set ATLAS_API_KEY to a RIPE Atlas API key)"},
		{"bad id", []string{"--atlas", "x"}, remotetest.Fault{}, 2, `"x" is not a measurement id`},
		{"stop before start", []string{"--atlas", "5001", "--atlas-start", "2024-05-02", "--atlas-stop", "2024-05-01"}, remotetest.Fault{}, 2, "--atlas-stop is before --atlas-start"},
		{"window without --atlas", []string{"x.txt", "--atlas-start", "2024-05-02"}, remotetest.Fault{}, 2, "--atlas-start and --atlas-stop go with --atlas"},
		{"bad time", []string{"--atlas", "5001", "--atlas-start", "yesterday"}, remotetest.Fault{}, 2, "want RFC 3339"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, env := atlasStandIn(t)
			if tc.fault.Status != 0 {
				a.Fail(tc.fault)
			}
			r := run(t, "", env, append([]string{"regeo", "--no-db"}, tc.args...)...)
			assert.Equal(t, tc.code, r.code, r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			assert.Empty(t, r.stdout)
		})
	}
}

// TestRegeoAtlasPingsFuse reads a ping measurement: each result is one RTT
// from a probe; fused, they place the destination together.
func TestRegeoAtlasPingsFuse(t *testing.T) {
	a := &remotetest.Atlas{}
	dest := latency.Point{Lat: 50.8503, Lon: 4.3517} // Brussels
	cities := [][2]float64{{50.1109, 8.6821}, {52.3676, 4.9041}, {48.8566, 2.3522}, {51.5074, -0.1278}, {50.6292, 3.0573}, {50.9375, 6.9603}}
	var results []json.RawMessage
	var probes strings.Builder
	probes.WriteString(`{"objects":[`)
	for i, c := range cities {
		id := 7000 + i
		km := latency.DistanceKm(latency.Point{Lat: c[0], Lon: c[1]}, dest)
		rtt := 2*1.4*km/200 + 0.8
		results = append(results, json.RawMessage(fmt.Sprintf(`{"fw":5080,"af":4,"dst_addr":"151.101.129.229","dst_name":"151.101.129.229","from":"198.51.100.%d","prb_id":%d,"proto":"ICMP","result":[{"rtt":%.3f},{"rtt":%.3f}],"sent":2,"rcvd":2,"min":%.3f,"ttl":52,"timestamp":1714564800,"msm_id":6001,"type":"ping"}`, i+1, id, rtt, rtt+0.4, rtt)))
		if i > 0 {
			probes.WriteByte(',')
		}
		fmt.Fprintf(&probes, `{"id":%d,"latitude":%v,"longitude":%v,"status":1,"status_name":"Connected"}`, id, c[0], c[1])
	}
	probes.WriteString("]}")
	a.AddMeasurement(&remotetest.AtlasMeasurement{ID: 6001, Type: "ping", Results: results})
	srv := httptest.NewServer(a)
	defer srv.Close()
	dir := t.TempDir()
	vp := filepath.Join(dir, "probes.json")
	require.NoError(t, os.WriteFile(vp, []byte(probes.String()), 0o644))
	env := map[string]string{"GEOLOC_ATLAS_API": srv.URL + "/api/v2", "GEOLOC_CACHE_DIR": dir}
	r := run(t, "", env, "regeo", "--no-db", "-q", "--atlas", "6001", "--fuse", "--vantage-points", vp)
	require.Equal(t, 0, r.code, r.stderr)
	lines := resultLines(t, r.stdout)
	require.Len(t, lines, len(cities))
	hop := lines[0]["hops"].([]any)[0].(map[string]any)
	loc, ok := hop["location"].(map[string]any)
	require.True(t, ok, "placed: %v", hop["why"])
	km := latency.DistanceKm(latency.Point{Lat: loc["lat"].(float64), Lon: loc["lon"].(float64)}, dest)
	t.Logf("ping destination placed %.0f km from the truth by %s", km, hop["method"])
	assert.Less(t, km, 100.0)
	assert.Regexp(t, `^latency:(multilateration|shortest-ping)$`, hop["method"], "placed by the pings alone")
	assert.Zero(t, a.Count("GET", "/probes/"), "the table knew every probe")
	assert.Equal(t, 1, a.Count("GET", "/measurements/6001/results/"), "read twice, fetched once")
}

func globalpingStandIn(t *testing.T) (*remotetest.Globalping, map[string]string) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(repoRootTB(t), "traceroute/testdata/json/globalping/traceroute-full.json"))
	require.NoError(t, err)
	g := &remotetest.Globalping{InProgressPolls: 1}
	g.OnCreate = func(req map[string]any) (json.RawMessage, error) { return doc, nil }
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, map[string]string{"GEOLOC_GLOBALPING_API": srv.URL + "/v1"}
}

func TestTraceGlobalping(t *testing.T) {
	g, env := globalpingStandIn(t)
	r := run(t, "", env, "trace", "--no-db", "--globalping", "Sydney", "--globalping", "AS16276", "--probes", "2", "-T", "--port", "443", "cdn.jsdelivr.net")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "Globalping measurement gp")
	lines := resultLines(t, r.stdout)
	require.Len(t, lines, 1)
	v := lines[0]["vantage"].(map[string]any)
	assert.Equal(t, "Sydney, AU, AS16276", v["name"])
	assert.Len(t, lines[0]["hops"], 11)
	var req struct {
		Type      string           `json:"type"`
		Target    string           `json:"target"`
		Locations []map[string]any `json:"locations"`
		Options   map[string]any   `json:"measurementOptions"`
	}
	for _, q := range g.Requests() {
		if q.Method == "POST" {
			require.NoError(t, json.Unmarshal([]byte(q.Body), &req))
		}
	}
	assert.Equal(t, "traceroute", req.Type)
	assert.Equal(t, "cdn.jsdelivr.net", req.Target, "the probes resolve the name")
	assert.Equal(t, []map[string]any{{"magic": "Sydney", "limit": float64(2)}, {"magic": "AS16276", "limit": float64(2)}}, req.Locations)
	assert.Equal(t, map[string]any{"protocol": "TCP", "port": float64(443)}, req.Options)

	// --mtr, --raw: the measurement type, and the traces themselves.
	r = run(t, "", env, "trace", "--globalping", "ZA", "--mtr", "--raw", "-q", "example.org")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"format":"globalping"`)

	// A dry run sends nothing.
	before := g.Count("POST", "")
	r = run(t, "", env, "trace", "--globalping", "Germany", "--dry-run", "example.org")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "would send POST ")
	assert.Contains(t, r.stdout, `"magic": "Germany"`)
	assert.Equal(t, before, g.Count("POST", ""))

	// The API says no.
	g.Fail(remotetest.Fault{Method: "POST", Status: 429, RetryAfter: "3600"})
	r = run(t, "", env, "trace", "--globalping", "Germany", "-q", "example.org")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "example.org: Globalping traceroute: Globalping API: POST /measurements: 429 Too Many Requests: API rate limit exceeded. (rate limited: try again in 1h0m0s, or set GLOBALPING_TOKEN for a higher limit)")
}

func TestTraceAtlasProbes(t *testing.T) {
	a, env := atlasStandIn(t)
	results, _ := saganResults(t)
	a.Key = "the-key"
	a.OnCreate = func(def map[string]any, probes []map[string]any) *remotetest.AtlasMeasurement {
		return &remotetest.AtlasMeasurement{Type: "traceroute", Statuses: []string{"Stopped"}, Results: results[:4]}
	}
	r := run(t, "", env, "trace", "--no-db", "--atlas-probes", "country:DE", "--probes", "4", "example.org")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "set ATLAS_API_KEY")
	assert.Zero(t, a.Count("POST", ""), "no key, nothing sent")

	env["ATLAS_API_KEY"] = "the-key"
	r = run(t, "", env, "trace", "--no-db", "--atlas-probes", "country:DE", "--atlas-probes", "asn:3320", "--probes", "4", "example.org")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "RIPE Atlas measurement 1000000001: traceroute to example.org")
	assert.Len(t, resultLines(t, r.stdout), 4)
	var body struct {
		Definitions []map[string]any `json:"definitions"`
		Probes      []map[string]any `json:"probes"`
		IsOneoff    bool             `json:"is_oneoff"`
	}
	for _, q := range a.Requests() {
		if q.Method == "POST" {
			require.NoError(t, json.Unmarshal([]byte(q.Body), &body))
			assert.True(t, q.Authorized)
		}
	}
	assert.True(t, body.IsOneoff)
	assert.Equal(t, "example.org", body.Definitions[0]["target"])
	assert.Equal(t, true, body.Definitions[0]["resolve_on_probe"])
	assert.Equal(t, "ICMP", body.Definitions[0]["protocol"])
	assert.Equal(t, []map[string]any{{"type": "country", "value": "DE", "requested": float64(4)}, {"type": "asn", "value": float64(3320), "requested": float64(4)}}, body.Probes)

	r = run(t, "", env, "trace", "--atlas-probes", "planet:Mars", "example.org")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `unknown kind "planet"`)
}

func TestLocatePing(t *testing.T) {
	g := &remotetest.Globalping{}
	dest := latency.Point{Lat: 50.8503, Lon: 4.3517}
	cities := []struct {
		name, cc string
		lat, lon float64
	}{{"Frankfurt", "DE", 50.1109, 8.6821}, {"Amsterdam", "NL", 52.3676, 4.9041}, {"Paris", "FR", 48.8566, 2.3522},
		{"London", "GB", 51.5074, -0.1278}, {"Lille", "FR", 50.6292, 3.0573}, {"Cologne", "DE", 50.9375, 6.9603}, {"Tokyo", "JP", 35.6762, 139.6503}}
	var list []map[string]any
	for _, c := range cities {
		list = append(list, map[string]any{"version": "0.30.0", "location": map[string]any{"country": c.cc, "city": c.name, "latitude": c.lat, "longitude": c.lon, "asn": 64500}, "tags": []string{}})
	}
	g.Probes, _ = json.Marshal(list)
	g.OnCreate = func(req map[string]any) (json.RawMessage, error) {
		var res []any
		locs, _ := req["locations"].([]any)
		if len(locs) == 0 { // anywhere: the stand-in picks the first ones
			for _, c := range cities[:int(req["limit"].(float64))] {
				locs = append(locs, map[string]any{"city": c.name, "limit": 1.0})
			}
		}
		for _, l := range locs {
			for _, c := range cities {
				if c.name != l.(map[string]any)["city"] {
					continue
				}
				rtt := 2*1.4*latency.DistanceKm(latency.Point{Lat: c.lat, Lon: c.lon}, dest)/200 + 0.8
				for range int(l.(map[string]any)["limit"].(float64)) {
					res = append(res, map[string]any{"probe": map[string]any{"country": c.cc, "city": c.name, "latitude": c.lat, "longitude": c.lon, "asn": 64500},
						"result": map[string]any{"status": "finished", "resolvedAddress": req["target"], "timings": []any{map[string]any{"ttl": 50, "rtt": rtt}}}})
				}
			}
		}
		return json.Marshal(res)
	}
	srv := httptest.NewServer(g)
	defer srv.Close()
	env := map[string]string{"GEOLOC_GLOBALPING_API": srv.URL + "/v1"}

	// No database: nothing is known, so the probes come from anywhere.
	r := run(t, "", env, "locate", "--no-db", "--ptr=false", "--format", "jsonl", "151.101.129.229", "--ping", "6")
	require.Equal(t, 0, r.code, r.stderr)
	var h struct {
		Location *struct{ Lat, Lon float64 } `json:"location"`
		Method   string                      `json:"method"`
		Evidence []struct {
			Kind, Source, Why string
		} `json:"evidence"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &h))
	require.NotNil(t, h.Location)
	km := latency.DistanceKm(latency.Point{Lat: h.Location.Lat, Lon: h.Location.Lon}, dest)
	t.Logf("placed %.0f km from the truth by %s", km, h.Method)
	assert.Less(t, km, 150.0)
	pings := 0
	for _, e := range h.Evidence {
		if e.Kind == "ping" {
			pings++
			assert.True(t, strings.HasPrefix(e.Source, "globalping:"), e.Source)
		}
	}
	assert.Equal(t, 6, pings, "every ping is in the evidence")
	assert.Equal(t, 1, g.Count("POST", "/measurements"))

	// Table output lists the pings too.
	r = run(t, "", env, "locate", "--no-db", "--ptr=false", "--format", "table", "151.101.129.229", "--ping", "3")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "ping")
	assert.Contains(t, r.stdout, "measured")

	// Dry run: the plan, nothing created.
	before := g.Count("POST", "")
	r = run(t, "", env, "locate", "--no-db", "--ptr=false", "151.101.129.229", "--ping", "3", "--dry-run")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "would ping 151.101.129.229 from at most 3 globalping probes anywhere")
	assert.Equal(t, before, g.Count("POST", ""))

	// Via RIPE Atlas without a key: a clear error, nothing created.
	r = run(t, "", env, "locate", "--no-db", "--ptr=false", "151.101.129.229", "--ping", "3", "--ping-via", "atlas")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "151.101.129.229: ping via atlas failed: RIPE Atlas: creating measurements needs an API key: set ATLAS_API_KEY")

	for _, bad := range [][]string{{"--ping", "-1"}, {"--ping", "3", "--ping-via", "ripe"}, {"--dry-run"}, {"--ping", "3", "--candidates"}} {
		r = run(t, "", env, append([]string{"locate", "151.101.129.229"}, bad...)...)
		assert.Equal(t, 2, r.code, "%v: %s", bad, r.stderr)
	}
}

// TestRegeoPingBudget: an address in many traces is pinged once, from at
// most N probes; placed addresses below --ping-above are not pinged.
func TestRegeoPingBudget(t *testing.T) {
	g := &remotetest.Globalping{}
	g.Probes = json.RawMessage(`[{"version":"0.30.0","location":{"country":"DE","city":"Frankfurt","latitude":50.1109,"longitude":8.6821,"asn":64500},"tags":[]},{"version":"0.30.0","location":{"country":"NL","city":"Amsterdam","latitude":52.3676,"longitude":4.9041,"asn":64500},"tags":[]}]`)
	g.OnCreate = func(req map[string]any) (json.RawMessage, error) {
		return json.RawMessage(`[{"probe":{"country":"DE","city":"Frankfurt","latitude":50.1109,"longitude":8.6821},"result":{"status":"finished","resolvedAddress":"` + req["target"].(string) + `","timings":[{"ttl":50,"rtt":30}]}}]`), nil
	}
	srv := httptest.NewServer(g)
	defer srv.Close()
	env := map[string]string{"GEOLOC_GLOBALPING_API": srv.URL + "/v1"}
	dir := t.TempDir()
	// Three traces through the same two unnamed public routers.
	var in strings.Builder
	for i := range 3 {
		fmt.Fprintf(&in, "traceroute to 151.101.%d.1 (151.101.%d.1), 30 hops max, 60 byte packets\n 1  151.101.9.9  10.1 ms\n 2  151.101.8.8  12.5 ms\n 3  151.101.%d.1  14.0 ms\n", i, i, i)
	}
	file := filepath.Join(dir, "traces.txt")
	require.NoError(t, os.WriteFile(file, []byte(in.String()), 0o644))

	r := run(t, "", env, "regeo", "--no-db", file, "--ping", "2", "--ping-above", "50", "--dry-run")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, 5, strings.Count(r.stdout, "would ping "), r.stdout)
	assert.Zero(t, g.Count("POST", ""))

	r = run(t, "", env, "regeo", "--no-db", file, "--ping", "2", "--ping-above", "50", "--ping-max", "3")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, 3, g.Count("POST", "/measurements"), "--ping-max caps the addresses pinged")
	assert.Contains(t, r.stderr, "2 more addresses over --ping-above not pinged (--ping-max 3)")
	for _, q := range g.Requests() {
		if q.Method == "POST" {
			var req struct {
				Limit     int `json:"limit"`
				Locations []struct {
					Limit int `json:"limit"`
				} `json:"locations"`
			}
			require.NoError(t, json.Unmarshal([]byte(q.Body), &req))
			n := req.Limit
			for _, l := range req.Locations {
				n += l.Limit
			}
			assert.LessOrEqual(t, n, 2, "never more than N probes per address: %s", q.Body)
		}
	}
	lines := resultLines(t, r.stdout)
	require.Len(t, lines, 3)
	pingRows := 0
	for _, l := range lines {
		for _, h := range l["hops"].([]any) {
			ev, _ := h.(map[string]any)["evidence"].([]any)
			for _, e := range ev {
				if e.(map[string]any)["kind"] == "ping" {
					pingRows++
				}
			}
		}
	}
	assert.Positive(t, pingRows, "the pings show in the evidence")

	r = run(t, "", env, "regeo", "--no-db", "-", "--ping", "2")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--ping reads the input twice")
	_ = strconv.Itoa
}

var atlasStreamResults = flag.Int("atlas-results", 0, "results streamed by TestRegeoAtlasStreamMemory (default 50000; 5000 with -short or -race)")

// lineCounter counts the lines written to it and keeps nothing.
type lineCounter struct{ n int }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += bytes.Count(p, []byte("\n"))
	return len(p), nil
}

// TestRegeoAtlasStreamMemory streams a large RIPE Atlas measurement (real
// results repeated, from 2,000 probes) through regeo from the stand-in
// server and samples the heap while it runs: it must stay flat, far below
// the size of the stream.
//
//	go test -run TestRegeoAtlasStreamMemory -v ./internal/cli -args -atlas-results 50000
func TestRegeoAtlasStreamMemory(t *testing.T) {
	n := *atlasStreamResults
	if n == 0 {
		n = 50000
		if testing.Short() || raceEnabled {
			n = 5000
		}
	}
	results, _ := saganResults(t)
	a := &remotetest.Atlas{}
	const probes = 2000
	for i := range probes {
		a.AddProbe(int64(100000+i), 40+float64(i%200)/10, -10+float64(i%300)/10, "DE")
	}
	streamed := 0
	a.AddMeasurement(&remotetest.AtlasMeasurement{ID: 9001, Type: "traceroute", Statuses: []string{"Ongoing"},
		Stream: func(w io.Writer, _ string) error {
			bw := bufio.NewWriterSize(w, 256<<10)
			for i := range n {
				r := results[i%len(results)]
				// Each result from one of the probes, in turn.
				var m map[string]json.RawMessage
				if err := json.Unmarshal(r, &m); err != nil {
					return err
				}
				m["prb_id"] = json.RawMessage(strconv.Itoa(100000 + i%probes))
				b, _ := json.Marshal(m)
				streamed += len(b) + 1
				bw.Write(b)
				bw.WriteByte('\n')
			}
			return bw.Flush()
		}})
	srv := httptest.NewServer(a)
	defer srv.Close()
	env := map[string]string{"GEOLOC_ATLAS_API": srv.URL + "/api/v2", "GEOLOC_CACHE_DIR": t.TempDir()}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	start := time.Now()
	var out lineCounter
	var errb bytes.Buffer
	code := Run(context.Background(), []string{"regeo", "--no-db", "-q", "--format", "jsonl", "--atlas", "9001"}, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	close(stop)
	<-sampled
	require.Equal(t, 0, code, errb.String())
	require.Equal(t, n, out.n, "one result line per streamed result")
	grown := int64(peak.Load()) - int64(base)
	t.Logf("%d results (%.1f MB) streamed through regeo in %v: heap peak %.1f MB over a %.1f MB baseline (sampled every 20 ms)",
		n, float64(streamed)/1e6, time.Since(start).Round(time.Millisecond), float64(grown)/1e6, float64(base)/1e6)
	assert.Less(t, grown, int64(96<<20), "the heap must not grow with the stream")
	assert.Equal(t, (probes+atlas.MaxIDsPerRequest-1)/atlas.MaxIDsPerRequest, a.Count("GET", "/probes/"), "probe positions in batches of 500 ids")
}
