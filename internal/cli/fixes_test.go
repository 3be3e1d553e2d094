package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// When no input gives a trace, existing -o files are left as they were
// (an empty map must not replace a good one), and stderr says so.
func TestNoTraceKeepsOutputs(t *testing.T) {
	chdirRoot(t)
	tests := []struct {
		name  string
		args  []string
		stdin string
	}{
		{"missing-file", []string{"regeo", "--no-db", "testdata/sample/missing.txt"}, ""},
		{"garbage-stdin", []string{"regeo", "--no-db", "-"}, "this is no traceroute\n"},
		{"empty-stdin", []string{"regeo", "--no-db", "-"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			kml := filepath.Join(dir, "route.kml")
			csv := filepath.Join(dir, "route.csv")
			require.NoError(t, os.WriteFile(kml, []byte("old kml"), 0o644))
			r := run(t, tt.stdin, nil, append(tt.args, "-o", kml, "-o", csv)...)
			assert.Equal(t, ExitPartial, r.code, r.stderr)
			assert.Contains(t, r.stderr, "no trace located; "+kml+", "+csv+" not written")
			b, err := os.ReadFile(kml)
			require.NoError(t, err)
			assert.Equal(t, "old kml", string(b), "existing output untouched")
			assert.NoFileExists(t, csv, "no empty output created")
		})
	}
}
