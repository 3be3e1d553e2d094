package output

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestForNameRelativePaths is issue 16 item 6: -o ./r.kml and -o
// ../x.geojson were taken for bare extensions and refused.
func TestForNameRelativePaths(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"./r.kml", "kml"}, {"../x.geojson", "geojson"}, {"./out/map.html", "html"},
		{".hidden.csv", "csv"}, {"../../a.b/c.svg", "svg"}, {".kml", "kml"}, {"./.kmz", "kmz"},
	} {
		w, err := ForName(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, w.Format(), tc.in)
	}
	for _, in := range []string{"./r", "../x.unknown", "."} {
		_, err := ForName(in)
		assert.ErrorIs(t, err, ErrUnknownFormat, in)
	}
}
