package output

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/outputtest"
)

// aggTraces are the two European traces and four more from Oslo through
// Frankfurt: the Oslo → Frankfurt link is shared by four traces.
func aggTraces() []*geoloc.TraceResult { return append(europe(), outputtest.Many(4)...) }

// Every map writer has a golden file of its aggregate drawing.
func TestAggregateGolden(t *testing.T) {
	for _, format := range []string{"kml", "geojson", "svg", "html"} {
		t.Run(format, func(t *testing.T) {
			out := render(t, format, aggTraces(), Options{Aggregate: true, Title: "aggregate"})
			if format != "geojson" && format != "html" {
				wellFormedXML(t, out)
			}
			golden(t, "aggregate."+format, out)
		})
	}
}

// The GeoJSON aggregate: a Point per place and a LineString per link,
// each with its count; the shared link has the count of the traces
// through it.
func TestAggregateGeoJSON(t *testing.T) {
	out := render(t, "geojson", aggTraces(), Options{Aggregate: true})
	var fc struct {
		Type      string `json:"type"`
		Aggregate struct {
			Traces    int            `json:"traces"`
			Links     int            `json:"links"`
			Countries []CountryCount `json:"countries"`
		} `json:"aggregate"`
		Features []struct {
			Geometry struct {
				Type string `json:"type"`
			} `json:"geometry"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	require.NoError(t, json.Unmarshal(out, &fc))
	assert.Equal(t, "FeatureCollection", fc.Type)
	assert.Equal(t, 6, fc.Aggregate.Traces)
	kinds := map[string]int{}
	var osloFrankfurt float64
	for _, f := range fc.Features {
		kind := f.Properties["kind"].(string)
		kinds[kind]++
		assert.Contains(t, f.Properties, "count")
		if kind == "link" {
			assert.Equal(t, "LineString", f.Geometry.Type)
			if strings.HasPrefix(f.Properties["from"].(string), "Oslo,") && strings.HasPrefix(f.Properties["to"].(string), "Frankfurt am Main") {
				osloFrankfurt = f.Properties["count"].(float64)
			}
		}
	}
	assert.Equal(t, fc.Aggregate.Links, kinds["link"])
	assert.Equal(t, 4.0, osloFrankfurt, "the four Many traces go Oslo → Frankfurt")
	assert.Positive(t, kinds["place"])
	assert.Equal(t, 1, kinds["start"], "every trace starts at the Oslo probe")
}

// The counts of traces per country are the countries report's.
func TestAggregateCountriesMatchReport(t *testing.T) {
	rs := append(outputtest.Traces(), outputtest.Many(60)...)
	rs = append(rs, outputtest.Hostile()...)
	a := NewAggregate(AggregateOptions{})
	for _, r := range rs {
		a.Add(r)
	}
	want := map[string]int{}
	for _, c := range BuildReport(rs).Countries {
		want[c.Key] = c.Traces
	}
	got := map[string]int{}
	for _, c := range a.Countries() {
		got[c.Country] = c.Traces
	}
	require.NotEmpty(t, want)
	assert.Equal(t, want, got)
}

// With AggregateAbove, a map of up to that many traces is the per-trace
// map; one more and the whole batch is drawn aggregated, with one note.
// The other formats are written trace by trace whatever the options.
func TestAggregateAbove(t *testing.T) {
	fixed := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	rs := aggTraces()
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			var notes []string
			o := Options{AggregateAbove: len(rs), Modified: fixed, SpoolDir: t.TempDir(), Note: func(s string) { notes = append(notes, s) }}
			plain := Options{Modified: fixed}
			assert.Equal(t, string(render(t, format, rs, plain)), string(render(t, format, rs, o)), "up to the threshold: per trace")
			assert.Empty(t, notes)

			more := append(rs, nil, outputtest.Many(5)[4])
			got := render(t, format, more, o)
			if !IsMap(format) {
				assert.Equal(t, string(render(t, format, more, plain)), string(got))
				assert.Empty(t, notes)
				return
			}
			assert.Equal(t, string(render(t, format, more, Options{Aggregate: true, Modified: fixed})), string(got), "above: aggregated")
			assert.Equal(t, []string{fmt.Sprintf("more than %d traces: drawing each distinct link once with its count", len(rs))}, notes)
		})
	}
}

// The KMZ aggregate is the KML aggregate zipped.
func TestAggregateKMZ(t *testing.T) {
	fixed := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	b := render(t, "kmz", aggTraces(), Options{Aggregate: true, Modified: fixed})
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	require.Len(t, zr.File, 1)
	f, err := zr.File[0].Open()
	require.NoError(t, err)
	doc, err := io.ReadAll(f)
	require.NoError(t, err)
	assert.Equal(t, string(render(t, "kml", aggTraces(), Options{Aggregate: true})), string(doc))
}

// Hostile names reach the aggregate maps only escaped.
func TestAggregateHostile(t *testing.T) {
	for _, format := range []string{"kml", "geojson", "svg", "html"} {
		out := string(render(t, format, outputtest.Hostile(), Options{Aggregate: true}))
		assert.NotContains(t, out, "<script>alert", format)
		if format == "html" {
			assert.Equal(t, 2, strings.Count(out, "<script"), "the page's data and script, nothing injected")
		}
		assert.NotContains(t, out, "<img", format)
		assert.NotContains(t, out, "\x1b", format)
		assert.NotContains(t, out, "\u202e", format)
	}
	_, err := ForName("csv")
	require.NoError(t, err)
	assert.Error(t, WriteAggregate(io.Discard, "csv", NewAggregate(AggregateOptions{}), Options{}), "csv is not a map")
}

// The cap on links leaves the least used out, says so in the map, and
// notes it once.
func TestAggregateCapInMap(t *testing.T) {
	var notes []string
	out := render(t, "geojson", outputtest.Many(60), Options{Aggregate: true, MaxLinks: 4, Note: func(s string) { notes = append(notes, s) }})
	var fc struct {
		Aggregate struct {
			Links        int `json:"links"`
			DroppedLinks int `json:"dropped_links"`
		} `json:"aggregate"`
	}
	require.NoError(t, json.Unmarshal(out, &fc))
	assert.LessOrEqual(t, fc.Aggregate.Links, 4)
	assert.Positive(t, fc.Aggregate.DroppedLinks)
	assert.Len(t, notes, 1)
	svg := string(render(t, "svg", outputtest.Many(60), Options{Aggregate: true, MaxLinks: 4}))
	assert.Contains(t, svg, "left out to keep the map bounded")
}

// Map Streams begun with one SharedAggregate, fed the same results as a
// run writing several files feeds them, fold each result into it once
// (its Traces would be doubled otherwise) and write, and note, what each
// would with an Aggregate of its own.
func TestSharedAggregate(t *testing.T) {
	fixed := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		rs    []*geoloc.TraceResult
		o     Options
		noted bool
	}{
		{"forced", aggTraces(), Options{Aggregate: true}, false},
		{"above the threshold", append(aggTraces(), nil), Options{AggregateAbove: 3}, true},
		{"at the threshold, per trace", aggTraces(), Options{AggregateAbove: 6}, false},
		{"at the cap", outputtest.Many(60), Options{Aggregate: true, MaxLinks: 4}, true},
	}
	formats := []string{"kml", "kmz", "geojson", "html", "svg"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Title, tt.o.Modified, tt.o.SpoolDir = "shared", fixed, t.TempDir()
			sh := NewSharedAggregate(tt.o.MaxLinks)
			bufs := make([]bytes.Buffer, len(formats))
			notes := make([][]string, len(formats))
			streams := make([]Stream, len(formats))
			for i, format := range formats {
				w, err := ForName(format)
				require.NoError(t, err)
				o := tt.o
				o.Shared = sh
				o.Note = func(s string) { notes[i] = append(notes[i], s) }
				streams[i], err = w.Begin(&bufs[i], o)
				require.NoError(t, err)
			}
			traces := 0
			for _, r := range tt.rs {
				if r != nil {
					traces++
				}
				for _, st := range streams {
					require.NoError(t, st.Add(r))
				}
			}
			for _, st := range streams {
				require.NoError(t, st.Close())
			}
			assert.Equal(t, traces, sh.Aggregate().Traces(), "each result folded in once")
			for i, format := range formats {
				var alone []string
				o := tt.o
				o.Note = func(s string) { alone = append(alone, s) }
				assert.Equal(t, string(render(t, format, tt.rs, o)), bufs[i].String(), format)
				assert.Equal(t, alone, notes[i], format+" notes")
				assert.Equal(t, tt.noted, len(notes[i]) > 0, format+" noted")
			}
		})
	}
}

// TestAggregateMemoryBounded streams many traces over a few links into
// every map format, aggregated, and checks that the heap stays flat and
// the output small. .ci/run runs it without the race detector.
func TestAggregateMemoryBounded(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("streams thousands of traces: skipped with -short and under the race detector")
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	for _, format := range []string{"kml", "kmz", "geojson", "html", "svg"} {
		t.Run(format, func(t *testing.T) {
			w, err := ForName(format)
			require.NoError(t, err)
			var out countingWriter
			s, err := w.Begin(&out, Options{AggregateAbove: 100, SpoolDir: t.TempDir()})
			require.NoError(t, err)
			rs := outputtest.Many(60)
			var base uint64
			const warm, n = 500, 20000
			for i := range n {
				r := rs[i%len(rs)]
				r.Destination.Name = fmt.Sprintf("www%d.example.de", i)
				require.NoError(t, s.Add(r))
				if i == warm {
					base = heap()
				}
			}
			grown := int64(heap()) - int64(base)
			require.NoError(t, s.Close())
			t.Logf("%s: %d traces, %.1f kB written, heap grew %.2f MB after the first %d", format, n, float64(out.n)/1024, float64(grown)/(1<<20), warm)
			assert.Less(t, grown, int64(1<<20), "the heap grows with the traces")
			assert.Less(t, out.n, int64(1<<20), "the map grows with the traces")
		})
	}
}

// An aggregated map keeps none of the results either: each is wiped right
// after Add, yet the map is the same, forced or past the threshold.
func TestAggregateKeepsNoResult(t *testing.T) {
	for _, o := range []Options{{Aggregate: true}, {AggregateAbove: 2}, {AggregateAbove: 100}} {
		for _, format := range []string{"kml", "kmz", "geojson", "html", "svg"} {
			o.Modified = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
			o.SpoolDir = t.TempDir()
			want := render(t, format, aggTraces(), o)
			w, err := ForName(format)
			require.NoError(t, err)
			var buf bytes.Buffer
			s, err := w.Begin(&buf, o)
			require.NoError(t, err)
			for _, r := range aggTraces() {
				require.NoError(t, s.Add(r))
				*r = geoloc.TraceResult{}
			}
			require.NoError(t, s.Close())
			assert.Equal(t, string(want), buf.String(), "%s %+v", format, o)
			agg, ok := s.(interface{ Aggregated() bool })
			require.True(t, ok)
			assert.Equal(t, o.AggregateAbove != 100, agg.Aggregated())
		}
	}
}

// The aggregated page loads in Chromium, its script runs (zoom and pan),
// it draws every link and place, and it requests nothing.
func TestAggregateHTMLInChromium(t *testing.T) {
	bin := chromium(t)
	proxy := proxySink(t)
	rs := append(outputtest.Traces(), outputtest.Many(100)...)
	a := NewAggregate(AggregateOptions{})
	for _, r := range rs {
		a.Add(r)
	}
	path := filepath.Join(t.TempDir(), "aggregate.html")
	require.NoError(t, os.WriteFile(path, render(t, "html", rs, Options{Aggregate: true}), 0o644))
	dom := string(runChromium(t, bin, path, proxy, "--dump-dom"))
	body := regexp.MustCompile(`<body[^>]*>`).FindString(dom)
	require.Contains(t, body, `data-ready="1"`, "the map's script ran to the end")
	assert.Equal(t, len(a.Links()), strings.Count(dom, `class="link"`))
	assert.Equal(t, len(a.Points()), strings.Count(dom, `class="place"`)+strings.Count(dom, `class="start"`))
	assert.Empty(t, proxy.pageHosts(), "the page attempted a network request")
}
