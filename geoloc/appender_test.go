package geoloc_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/accuracy"
)

// lookupOnly hides a source's AppendLookup: the engine then takes the
// Answer path.
type lookupOnly struct{ candidates.Source }

// TestAppenderSameAsLookup locates the same simulated traces (names, two
// city databases, an ASN database) once with the databases as Appenders
// and once through Lookup only: the results must be equal.
func TestAppenderSameAsLookup(t *testing.T) {
	w, err := accuracy.Build(accuracy.Config{Seed: 3, Traces: 150})
	require.NoError(t, err)
	var direct, wrapped []candidates.Source
	for _, d := range w.DBs {
		s, err := candidates.OpenMMDBBytes(d.Image, d.Name+".mmdb")
		require.NoError(t, err)
		var _ candidates.Appender = s // the path under test
		direct, wrapped = append(direct, s), append(wrapped, lookupOnly{s})
	}
	asn, err := candidates.OpenMMDBBytes(w.ASN, "asn.mmdb")
	require.NoError(t, err)
	direct, wrapped = append(direct, asn), append(wrapped, lookupOnly{asn})

	a := geoloc.New(geoloc.Options{Sources: direct})
	b := geoloc.New(geoloc.Options{Sources: wrapped})
	fromDB, withAS := 0, 0
	for _, tr := range w.Traces {
		ra, err := a.Locate(context.Background(), tr)
		require.NoError(t, err)
		rb, err := b.Locate(context.Background(), tr)
		require.NoError(t, err)
		require.Equal(t, ra, rb)
		for _, h := range ra.Hops {
			for _, ev := range h.Evidence {
				if ev.Kind != "hint" {
					fromDB++
				}
			}
			if h.ASN != 0 {
				withAS++
			}
		}
	}
	t.Logf("%d database candidates, %d hops with an AS", fromDB, withAS)
	assert.Greater(t, fromDB, 500, "the traces exercised the city databases")
	assert.Greater(t, withAS, 20, "and the ASN database")
}
