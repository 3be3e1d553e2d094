package kml_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/outputtest"
	"github.com/geoloc-dev/geoloc/kml"
)

// A Stream writes the same document as Write, byte for byte, without
// keeping the results: each is wiped right after Add.
func TestStreamSameAsWrite(t *testing.T) {
	for _, circles := range []bool{false, true} {
		opts := kml.Options{Name: "stream", Circles: circles}
		rs := append(outputtest.Traces(), nil, outputtest.Hostile()[0])
		var want bytes.Buffer
		require.NoError(t, kml.Write(&want, rs, opts))

		var got bytes.Buffer
		s, err := kml.NewStream(&got, t.TempDir(), opts)
		require.NoError(t, err)
		for _, r := range append(outputtest.Traces(), nil, outputtest.Hostile()[0]) {
			require.NoError(t, s.Add(r))
			if r != nil {
				*r = geoloc.TraceResult{}
			}
		}
		require.NoError(t, s.Close())
		assert.Equal(t, want.String(), got.String())
	}
}
