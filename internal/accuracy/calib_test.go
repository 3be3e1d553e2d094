package accuracy

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
)

// TestCountryCalibration measures, by band of country confidence, how often
// a hop placed from its own evidence stands in the country named, on whole
// paths from vantage points the engine is not told, over seeds the engine
// was not developed on. geoloc.MinCountryConfidence is set from this table:
// from it up, nine hops in ten or more are right.
//
//	go test -run TestCountryCalibration -v ./internal/accuracy
func TestCountryCalibration(t *testing.T) {
	seeds := []uint64{5, 6, 7, 8, 9, 10, 11, 12}
	if testing.Short() || raceEnabled {
		seeds = seeds[:2]
	}
	const bands = 20
	var n, ok [bands]int
	for _, seed := range seeds {
		w, err := Build(Config{Seed: seed, Traces: 200, Access: true})
		require.NoError(t, err)
		_, sources, err := w.openDBs()
		require.NoError(t, err)
		e := geoloc.New(geoloc.Options{Sources: sources})
		for _, t0 := range w.Traces {
			c := *t0
			c.Source.Lat, c.Source.Lon = nil, nil
			r, err := e.Locate(context.Background(), &c)
			require.NoError(t, err)
			ts := w.truthOf(t0)
			for i, h := range r.Hops {
				if ts[i].router < 0 || h.Location == nil || h.Inferred || h.Anycast {
					continue
				}
				b := min(bands-1, int(max(h.Confidence, h.CountryConfidence)*bands))
				n[b]++
				if geoloc.LocationCountry(h.Location) == w.Cities[w.Routers[ts[i].router].City].Country {
					ok[b]++
				}
			}
		}
	}
	var above, aboveOK, edge, edgeOK int
	for b := range n {
		lo := float64(b) / bands
		fmt.Printf("country confidence [%.2f,%.2f): %5d hops, country right %5.1f%%\n", lo, lo+1.0/bands, n[b], 100*float64(ok[b])/float64(max(1, n[b])))
		if lo+1e-9 >= geoloc.MinCountryConfidence {
			above += n[b]
			aboveOK += ok[b]
			if lo < geoloc.MinCountryConfidence+0.1 {
				edge += n[b]
				edgeOK += ok[b]
			}
		}
	}
	require.Positive(t, edge)
	assert.GreaterOrEqual(t, float64(edgeOK)/float64(edge), 0.85, "the band just above the threshold names the right country")
	assert.GreaterOrEqual(t, float64(aboveOK)/float64(above), 0.97, "every hop above the threshold")
}
