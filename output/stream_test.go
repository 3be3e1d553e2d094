package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/outputtest"
)

// A Stream writes what Write writes for the same results, and keeps none
// of them: each result is wiped right after Add, yet the document is the
// same. The formats drawn as a whole read them back from the spool.
func TestStreamKeepsNoResult(t *testing.T) {
	opts := Options{Title: "stream", Circles: true, Modified: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), SpoolDir: t.TempDir()}
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			want := render(t, format, append(outputtest.Traces(), nil, outputtest.Hostile()[0]), opts)
			w, err := ForName(format)
			require.NoError(t, err)
			var buf bytes.Buffer
			s, err := w.Begin(&buf, opts)
			require.NoError(t, err)
			for _, r := range append(outputtest.Traces(), nil, outputtest.Hostile()[0]) {
				require.NoError(t, s.Add(r))
				if r != nil {
					*r = geoloc.TraceResult{} // the stream must not look at it again
				}
			}
			require.NoError(t, s.Close())
			assert.Equal(t, string(want), buf.String())
		})
	}
}

// A result JSON cannot carry (a NaN the caller made) still reaches the
// formats that spool.
func TestStreamNonFinite(t *testing.T) {
	rs := outputtest.Traces()[:1]
	rs[0].Hops[1].RTTMs = math.NaN()
	_, err := json.Marshal(rs[0])
	require.Error(t, err, "the case this test is about")
	for _, format := range []string{"kml", "svg", "report"} {
		want := render(t, format, rs, Options{})
		w, err := ForName(format)
		require.NoError(t, err)
		var buf bytes.Buffer
		s, err := w.Begin(&buf, Options{SpoolDir: t.TempDir()})
		require.NoError(t, err)
		require.NoError(t, s.Add(rs[0]))
		require.NoError(t, s.Close())
		assert.Equal(t, string(want), buf.String(), format)
	}
}

// TestStreamMemoryBounded streams thousands of traces into every format
// written as results come and checks that the heap does not grow with
// them: what each trace adds is written out (or spooled to disk), not
// kept. .ci/run runs it without the race detector.
func TestStreamMemoryBounded(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("streams thousands of traces: skipped with -short and under the race detector")
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	for _, format := range []string{"kml", "kmz", "geojson", "csv", "jsonl", "json"} {
		t.Run(format, func(t *testing.T) {
			w, err := ForName(format)
			require.NoError(t, err)
			var out countingWriter
			s, err := w.Begin(&out, Options{Circles: true, SpoolDir: t.TempDir()})
			require.NoError(t, err)
			r := outputtest.Traces()[0]
			var base uint64
			const warm, n = 300, 2000
			for i := range n {
				r.Destination.Name = fmt.Sprintf("www%d.example.de", i)
				require.NoError(t, s.Add(r))
				if i == warm {
					base = heap()
				}
			}
			grown := int64(heap()) - int64(base)
			require.NoError(t, s.Close())
			t.Logf("%s: %d traces, %.1f MB written, heap grew %.2f MB after the first %d", format, n, float64(out.n)/(1<<20), float64(grown)/(1<<20), warm)
			assert.Greater(t, out.n, int64(256<<10), "the traces were written")
			assert.Less(t, grown, int64(2<<20), "the heap grows with the traces")
		})
	}
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
