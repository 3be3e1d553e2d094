package output

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	goldenfile "github.com/geoloc-dev/geoloc/internal/golden"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/outputtest"
	"github.com/geoloc-dev/geoloc/internal/style"
	"github.com/geoloc-dev/geoloc/traceroute"
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

func render(t testing.TB, format string, rs []*geoloc.TraceResult, opts Options) []byte {
	t.Helper()
	w, err := ForName(format)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, w.Write(&buf, rs, opts))
	return buf.Bytes()
}

// europe is the two European traces: a small map, so its golden files stay
// small.
func europe() []*geoloc.TraceResult { return outputtest.Traces()[:2] }

func TestForName(t *testing.T) {
	tests := []struct{ in, want string }{
		{".kml", "kml"}, {"kmz", "kmz"}, {".KMZ", "kmz"}, {"out/map.geojson", "geojson"},
		{".jsonl", "jsonl"}, {"x.ndjson", "jsonl"}, {".json", "json"}, {"results.csv", "csv"},
		{"map.html", "html"}, {".htm", "html"}, {"map.svg", "svg"}, {"as.dot", "dot"}, {".gv", "dot"},
		{"countries.txt", "report"}, {"report-json", "report-json"}, {"GeoJSON", "geojson"},
	}
	for _, tt := range tests {
		w, err := ForName(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, w.Format(), tt.in)
	}
	for _, bad := range []string{"", ".pdf", "map", "x.kml.bak", "kml2"} {
		_, err := ForName(bad)
		assert.ErrorIs(t, err, ErrUnknownFormat, bad)
	}
	assert.Len(t, Describe(), len(Formats()))
	assert.Contains(t, Formats(), "html")
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "map.kml")
	require.NoError(t, WriteFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "first")
		return err
	}))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "first", string(b))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())

	// A failing writer, after writing half its output, leaves the old file
	// and no temporary file.
	require.NoError(t, os.Chmod(path, 0o600))
	boom := errors.New("boom")
	err = WriteFileAtomic(path, func(w io.Writer) error {
		io.WriteString(w, "half a ma")
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), path)
	b, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "first", string(b))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")

	// A replacement keeps the old file's permissions.
	require.NoError(t, WriteFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "second")
		return err
	}))
	st, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	// A directory that does not exist is an error naming the path.
	err = WriteFileAtomic(filepath.Join(dir, "nope", "x.kml"), func(io.Writer) error { return nil })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nope")
}

// TestKMZModified checks that Options.Modified reaches the KMZ entry's
// date, so the CLI can write reproducible archives.
func TestKMZModified(t *testing.T) {
	fixed := time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)
	b := render(t, "kmz", europe(), Options{Modified: fixed})
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	require.Len(t, zr.File, 1)
	assert.True(t, fixed.Equal(zr.File[0].Modified), "entry dated %v, want %v", zr.File[0].Modified, fixed)
	assert.Equal(t, b, render(t, "kmz", europe(), Options{Modified: fixed}), "reproducible")
}

func TestGolden(t *testing.T) {
	type tc struct {
		name string
		rs   []*geoloc.TraceResult
		opts Options
	}
	cases := map[string][]tc{
		"geojson": {{"traces", outputtest.Traces(), Options{}}, {"circles", outputtest.Traces()[2:3], Options{Circles: true}}, {"hostile", outputtest.Hostile(), Options{}}},
		"csv":     {{"traces", outputtest.Traces(), Options{}}, {"hostile", outputtest.Hostile(), Options{}}},
		"jsonl":   {{"traces", outputtest.Traces(), Options{}}, {"hostile", outputtest.Hostile(), Options{}}},
		"json":    {{"europe", europe(), Options{}}},
		"dot":     {{"traces", outputtest.Traces(), Options{}}, {"hostile", outputtest.Hostile(), Options{}}},
		"svg":     {{"europe", europe(), Options{}}, {"hostile", outputtest.Hostile(), Options{Circles: true}}},
		"html":    {{"europe", europe(), Options{Title: "Oslo"}}, {"hostile", outputtest.Hostile(), Options{Circles: true}}},
		"report":  {{"traces", outputtest.Traces(), Options{}}},
	}
	for format, tcs := range cases {
		for _, c := range tcs {
			t.Run(format+"/"+c.name, func(t *testing.T) {
				golden(t, c.name+"."+format, render(t, format, c.rs, c.opts))
			})
		}
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	in := append(outputtest.Traces(), outputtest.Hostile()...)
	out := render(t, "jsonl", append(in, nil), Options{})
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	require.Len(t, lines, len(in), "one line per trace, nil skipped")
	for i, l := range lines {
		var got geoloc.TraceResult
		require.NoError(t, json.Unmarshal([]byte(l), &got))
		want := *in[i]
		if i == len(in)-1 {
			// encoding/json replaces invalid UTF-8; the fixture has none
			// but its control characters must survive the trip.
			assert.Equal(t, outputtest.HostileName, got.Hops[0].Name)
		}
		assert.Equal(t, want.Destination, got.Destination)
		assert.True(t, want.Started.Equal(got.Started), "started %v, want %v", got.Started, want.Started)
		assert.Equal(t, want.Hops, got.Hops)
		assert.NotContains(t, l, "<", "encoding/json escapes < so a line can be embedded")
	}
}

func TestCSV(t *testing.T) {
	rs := append(outputtest.Traces(), outputtest.Hostile()...)
	out := render(t, "csv", rs, Options{})
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	require.NoError(t, err)
	hops := 0
	for _, r := range rs {
		hops += len(r.Hops)
	}
	require.Len(t, recs, hops+1)
	assert.Equal(t, csvHeader, recs[0])
	for _, r := range recs[1:] {
		require.Len(t, r, len(csvHeader))
		for _, c := range r {
			if c != "" && strings.ContainsRune("=+@", rune(c[0])) {
				t.Errorf("cell %q starts a formula", c)
			}
		}
	}
	// The private first hop has no position; the second has one.
	assert.Equal(t, []string{"", ""}, recs[1][7:9])
	assert.Equal(t, []string{"59.9139", "10.7522"}, recs[2][7:9])
	assert.Equal(t, "private address", recs[1][18])

	evil := outputtest.Hostile()
	evil[0].Hops[0].Name = "=HYPERLINK(\"http://x.example\",\"x\")"
	evil[0].Hops[0].ASOrg = "+cmd|' /C calc'!A0"
	evil[0].Hops[0].Method = "@SUM(1+1)"
	recs, err = csv.NewReader(bytes.NewReader(render(t, "csv", evil, Options{}))).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, "'=HYPERLINK(\"http://x.example\",\"x\")", recs[1][4])
	assert.Equal(t, "'+cmd|' /C calc'!A0", recs[1][6])
	assert.Equal(t, "'@SUM(1+1)", recs[1][15])
}

// CSV rows regroup into their traces by trace_index (1-based position in
// the output), even when two traces share a destination; each row names
// the trace's source, RIPE Atlas probe id and start (RFC 3339 UTC).
func TestCSVRegroupsTraces(t *testing.T) {
	rs := outputtest.Traces()
	again := *rs[0] // the same destination, traced again later
	again.Started = again.Started.Add(time.Hour)
	again.Hops = again.Hops[:3]
	// A trace without hops has no row; its index is missing.
	rs = append(rs, &geoloc.TraceResult{Error: "timed out"}, &again)
	recs, err := csv.NewReader(bytes.NewReader(render(t, "csv", rs, Options{}))).ReadAll()
	require.NoError(t, err)
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, h := range []string{"trace_index", "source", "probe_id", "started"} {
		require.Contains(t, col, h)
	}
	type group struct {
		rows                   int
		source, probe, started string
	}
	groups := map[string]*group{}
	var order []string
	for _, r := range recs[1:] {
		k := r[col["trace_index"]]
		g, ok := groups[k]
		if !ok {
			g = &group{source: r[col["source"]], probe: r[col["probe_id"]], started: r[col["started"]]}
			groups[k] = g
			order = append(order, k)
		}
		g.rows++
		assert.Equal(t, []string{g.source, g.probe, g.started}, []string{r[col["source"]], r[col["probe_id"]], r[col["started"]]}, "one trace, one source and start")
	}
	assert.Equal(t, []string{"1", "2", "3", "4", "6"}, order)
	for i, r := range rs {
		if g := groups[strconv.Itoa(i+1)]; g != nil || len(r.Hops) > 0 {
			assert.Equal(t, len(r.Hops), g.rows, "trace %d", i+1)
		}
	}
	assert.Equal(t, group{9, "192.0.2.10", "6001", "2026-03-01T12:00:05Z"}, *groups["1"])
	assert.Equal(t, group{4, "192.0.2.10", "6001", ""}, *groups["2"])
	assert.Equal(t, group{4, "192.0.2.77", "7002", "2026-03-01T12:30:00Z"}, *groups["3"], "UTC")
	assert.Equal(t, group{5, "2001:db8:100::1", "", ""}, *groups["4"])
	assert.Equal(t, group{3, "192.0.2.10", "6001", "2026-03-01T13:00:05Z"}, *groups["6"])
	assert.Equal(t, recs[1][col["trace"]], recs[len(recs)-1][col["trace"]], "the trace column alone cannot tell them apart")
}

type geoJSON struct {
	Type     string `json:"type"`
	Features []struct {
		Type     string `json:"type"`
		Geometry struct {
			Type        string          `json:"type"`
			Coordinates json.RawMessage `json:"coordinates"`
		} `json:"geometry"`
		Properties map[string]any `json:"properties"`
	} `json:"features"`
}

func TestGeoJSON(t *testing.T) {
	out := render(t, "geojson", outputtest.Traces(), Options{Circles: true})
	var fc geoJSON
	require.NoError(t, json.Unmarshal(out, &fc))
	assert.Equal(t, "FeatureCollection", fc.Type)
	counts := map[string]int{}
	for _, f := range fc.Features {
		counts[f.Properties["kind"].(string)+"/"+f.Geometry.Type]++
		if f.Properties["kind"] == "source" && f.Properties["trace"] == 1.0 {
			assert.JSONEq(t, "[10.7522,59.9139]", string(f.Geometry.Coordinates), "longitude first")
		}
		if f.Properties["trace"] == 3.0 && f.Properties["kind"] == "path" {
			require.Equal(t, "MultiLineString", f.Geometry.Type, "Tokyo to Los Angeles crosses the antimeridian")
			var ml [][][2]float64
			require.NoError(t, json.Unmarshal(f.Geometry.Coordinates, &ml))
			require.Len(t, ml, 2)
			assert.Equal(t, 180.0, ml[0][len(ml[0])-1][0])
			assert.Equal(t, -180.0, ml[1][0][0])
			assert.Equal(t, ml[0][len(ml[0])-1][1], ml[1][0][1], "both halves meet at the same latitude")
		}
	}
	assert.Equal(t, map[string]int{
		"source/Point": 4, "hop/Point": 7 + 4 + 4 + 5, "path/LineString": 3, "path/MultiLineString": 1,
		"ecmp/LineString": 1, "uncertainty/Polygon": 20,
	}, counts)
}

func TestSplitAntimeridian(t *testing.T) {
	tests := []struct {
		name string
		in   [][2]float64
		want [][][2]float64
	}{
		{"none", [][2]float64{{10, 59}, {8, 50}}, [][][2]float64{{{10, 59}, {8, 50}}}},
		{"eastwards", [][2]float64{{170, 0}, {-170, 10}}, [][][2]float64{{{170, 0}, {180, 5}}, {{-180, 5}, {-170, 10}}}},
		{"westwards", [][2]float64{{-170, 10}, {170, 0}}, [][][2]float64{{{-170, 10}, {-180, 5}}, {{180, 5}, {170, 0}}}},
		{"there and back", [][2]float64{{179, 0}, {-179, 0}, {179, 0}}, [][][2]float64{{{179, 0}, {180, 0}}, {{-180, 0}, {-179, 0}, {-180, 0}}, {{180, 0}, {179, 0}}}},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, SplitAntimeridian(tt.in))
		})
	}
}

func TestDOT(t *testing.T) {
	out := string(render(t, "dot", outputtest.Traces(), Options{}))
	assert.Contains(t, out, `subgraph "cluster_AS1299" {`)
	assert.Contains(t, out, `label="AS1299 Arelion Sweden AB";`)
	assert.Equal(t, 1, strings.Count(out, `"198.51.100.2" [label=`), "a router on two traces is one node")
	// ECMP: TTL 5 fans out to both TTL 6 addresses.
	assert.Contains(t, out, `"198.51.100.21" -> "198.51.100.33"`)
	assert.Contains(t, out, `"198.51.100.21" -> "198.51.100.34"`)
	// TTL 1 of the Oslo-Frankfurt trace is private but responded: it is a node.
	assert.Contains(t, out, `"source 192.0.2.10" -> "192.168.1.1"`)

	host := string(render(t, "dot", outputtest.Hostile(), Options{}))
	assert.NotContains(t, host, "\x00")
	assert.NotContains(t, host, "\x1b")
	for _, line := range strings.Split(host, "\n") {
		assert.True(t, closedStrings(line), "a DOT string runs past the end of the line: %q", line)
	}
}

func TestDotRenders(t *testing.T) {
	bin, err := exec.LookPath("dot")
	if err != nil {
		t.Skip("dot not installed (Debian graphviz)")
	}
	for name, rs := range map[string][]*geoloc.TraceResult{"traces": outputtest.Traces(), "hostile": outputtest.Hostile(), "many": outputtest.Many(30)} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(bin, "-Tsvg")
			cmd.Stdin = bytes.NewReader(render(t, "dot", rs, Options{}))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			svg, err := cmd.Output()
			require.NoError(t, err, stderr.String())
			assert.Empty(t, stderr.String())
			wellFormedXML(t, svg)
			if name == "traces" {
				// Graphviz draws each cluster as <g class="cluster">.
				assert.Equal(t, 11, strings.Count(string(svg), `class="cluster"`), "10 AS clusters and the legend")
			}
		})
	}
}

func wellFormedXML(t testing.TB, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
	}
}

func TestSVG(t *testing.T) {
	for name, rs := range map[string][]*geoloc.TraceResult{"traces": outputtest.Traces(), "hostile": outputtest.Hostile(), "many": outputtest.Many(100), "none": nil} {
		t.Run(name, func(t *testing.T) {
			out := render(t, "svg", rs, Options{Circles: true})
			wellFormedXML(t, out)
			s := string(out)
			assert.NotContains(t, s, "<script")
			assert.NotContains(t, s, "<img")
			lines, hops := 0, 0
			for _, r := range rs {
				for _, j := range r.Hops {
					if j.Location != nil {
						hops++
					}
				}
				lines += len(stylesLines(r))
			}
			assert.Equal(t, lines, strings.Count(s, `class="route"`)+strings.Count(s, `class="route ecmp"`))
			assert.Equal(t, hops, strings.Count(s, `class="hop"`)+strings.Count(s, `class="hop uncertain"`))
		})
	}
}

func TestXmllintSVG(t *testing.T) {
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (Debian libxml2-utils)")
	}
	path := filepath.Join(t.TempDir(), "hostile.svg")
	require.NoError(t, os.WriteFile(path, render(t, "svg", outputtest.Hostile(), Options{}), 0o644))
	out, err := exec.Command(bin, "--noout", "--nonet", path).CombinedOutput()
	assert.NoError(t, err, "%s", out)
}

func TestOgrinfoGeoJSON(t *testing.T) {
	bin, err := exec.LookPath("ogrinfo")
	if err != nil {
		t.Skip("ogrinfo not installed (Debian gdal-bin)")
	}
	path := filepath.Join(t.TempDir(), "traces.geojson")
	require.NoError(t, os.WriteFile(path, render(t, "geojson", append(outputtest.Traces(), outputtest.Hostile()...), Options{}), 0o644))
	out, err := exec.Command(bin, "-ro", "-al", "-so", path).CombinedOutput()
	require.NoError(t, err, "%s", out)
	// 4+1 sources, 20+2 hops, 4+1 paths, 1 ECMP branch.
	assert.Contains(t, string(out), "Feature Count: "+strconv.Itoa(5+22+5+1), "%s", out)
	// GDAL sees the hop properties as fields.
	for _, f := range []string{"ttl: Integer", "asn: Integer", "confidence: Real", "as_org: String"} {
		assert.Contains(t, string(out), f)
	}
	// And reads back the hostile name intact (sanitised only of control
	// characters).
	full, err := exec.Command(bin, "-ro", "-al", "-where", "trace = 5 AND ttl = 1", path).CombinedOutput()
	require.NoError(t, err, "%s", full)
	assert.Contains(t, string(full), "<script>alert('x')</script>]]>")
}

// TestDegenerate feeds values no engine should produce but a hand-written
// or corrupted JSON Lines file can: NaN and infinite numbers, positions out
// of range, zero addresses, empty traces, nil entries. Every writer must
// still produce a valid file (JSON Lines and JSON excepted: they carry the
// records as they are, and encoding/json refuses NaN, which WriteFileAtomic
// then keeps off the disk).
func TestDegenerate(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	bad := 95.0
	rs := []*geoloc.TraceResult{
		nil,
		{},
		{
			Source: traceroute.Endpoint{Lat: &nan, Lon: &bad},
			Hops: []geoloc.HopResult{
				{TTL: 1, RTTMs: nan, Confidence: inf, Location: &geoloc.Location{Lat: nan, Lon: 10}},
				{TTL: 2, RTTMs: inf, Confidence: nan, Location: &geoloc.Location{Lat: 10, Lon: 200}},
				{TTL: 3, RTTMs: 1, Confidence: nan, Location: &geoloc.Location{Lat: 10, Lon: 20, RadiusKm: inf}},
				{TTL: 3, Location: &geoloc.Location{Lat: -90, Lon: 180, RadiusKm: nan}},
			},
		},
	}
	for _, f := range Formats() {
		if f == "jsonl" || f == "json" {
			continue
		}
		t.Run(f, func(t *testing.T) {
			out := render(t, f, rs, Options{Circles: true})
			switch f {
			case "geojson", "report-json":
				assert.True(t, json.Valid(out), "%s", out)
				assert.NotContains(t, string(out), "NaN")
			case "svg", "kml":
				wellFormedXML(t, out)
				assert.NotContains(t, string(out), "NaN")
				assert.NotContains(t, string(out), "Inf")
			case "html":
				assert.NotContains(t, string(out), "NaN")
			}
		})
	}
}

func TestPolygonAntimeridian(t *testing.T) {
	// A 100 km circle round a point on Taveuni, Fiji (179.9°E) crosses
	// the antimeridian: two polygons, each within [-180, 180], touching
	// ±180.
	g := polygonGeometry(style.Circle(-16.85, 179.9, 100, 48))
	require.Equal(t, "MultiPolygon", g.Type)
	parts := g.Coordinates.([][][][]float64)
	require.Len(t, parts, 2)
	for _, p := range parts {
		ring := p[0]
		assert.Equal(t, ring[0], ring[len(ring)-1], "closed")
		touches := false
		for _, pt := range ring {
			assert.True(t, pt[0] >= -180 && pt[0] <= 180, "%v", pt)
			if math.Abs(pt[0]) == 180 {
				touches = true
			}
		}
		assert.True(t, touches)
	}
	assert.Equal(t, "Polygon", polygonGeometry(style.Circle(50, 8, 100, 48)).Type)
}

// TestMapStory: the SVG (and the HTML map, which embeds the same drawing)
// tells the route's story: a start marker at the vantage point, marked
// inferred when the engine inferred it; direction arrows; hop numbers;
// uncertain hops hollow with their radius; hops the countries rule could
// not give a country named as such; labels in words.
func TestMapStory(t *testing.T) {
	loc := func(lat, lon float64, city, cc string) *geoloc.Location {
		return &geoloc.Location{Lat: lat, Lon: lon, RadiusKm: 40, City: city, Country: cc}
	}
	tr := &geoloc.TraceResult{
		Destination: traceroute.Endpoint{Addr: netip.MustParseAddr("203.0.113.9")},
		Vantage:     &geoloc.Vantage{Lat: 59.91, Lon: 10.75, Name: "inferred vantage near Oslo, NO", Inferred: true},
		Hops: []geoloc.HopResult{
			{TTL: 1, Addr: netip.MustParseAddr("198.51.100.1"), Location: loc(59.91, 10.75, "Oslo", "NO"), Confidence: 0.9},
			{TTL: 2, Addr: netip.MustParseAddr("198.51.100.2"), Location: loc(55.68, 12.57, "Copenhagen", "DK"), Confidence: 0.3},
			{TTL: 3, Addr: netip.MustParseAddr("198.51.100.3"), Location: loc(50.11, 8.68, "Frankfurt", "DE"), Confidence: 0.9},
		},
		Countries:          []string{"NO", "DE"},
		CountriesUncertain: []geoloc.UncertainHop{{TTL: 2, Addr: netip.MustParseAddr("198.51.100.2"), Countries: []string{"DK", "SE"}}},
	}
	out := render(t, "svg", []*geoloc.TraceResult{tr}, Options{})
	wellFormedXML(t, out)
	s := string(out)
	assert.Equal(t, 1, strings.Count(s, `class="start inferred"`), "an inferred start is marked as such")
	assert.Contains(t, s, "start (inferred, near Oslo, NO)")
	assert.Equal(t, 2, strings.Count(s, `class="hop"`))
	assert.Equal(t, 1, strings.Count(s, `class="hop uncertain"`), "the 0.3-confidence hop is hollow")
	assert.Contains(t, s, "country uncertain: Denmark or Sweden")
	assert.Regexp(t, `<g class="radii"[^>]*><ellipse data-t="0" data-h="1"`, s, "its radius is drawn")
	arrows := regexp.MustCompile(`<g class="arrows".*?</g>`).FindString(s)
	assert.Equal(t, 2, strings.Count(arrows, `<path`),
		"one arrow per long segment: Oslo→Copenhagen, Copenhagen→Frankfurt (the start is at Oslo)")
	for _, want := range []string{">1<", ">2<", ">3<", "Oslo, Norway", "Copenhagen, Denmark", "Frankfurt, Germany"} {
		assert.Contains(t, s, want)
	}
	h := string(render(t, "html", []*geoloc.TraceResult{tr}, Options{}))
	assert.Contains(t, h, "1 trace, 3 located hops, 2 countries, 1 network.", "grammar")
	assert.Contains(t, h, "Copenhagen, Denmark (country uncertain: Denmark or Sweden)")
}
