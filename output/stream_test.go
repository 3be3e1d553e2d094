package output

import (
	"bytes"
	"encoding/json"
	"math"
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
