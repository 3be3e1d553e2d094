// Package golden is the tests' one golden-file helper: it compares output
// with a file under testdata and, when the test binary runs with -update,
// rewrites the file instead.
//
//	golden.Check(t, filepath.Join("testdata", "traces.kml"), got)
//
// A test package that imports golden gets the -update flag from it and must
// not define its own.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files instead of comparing with them")

// Update reports whether the tests run with -update.
func Update() bool { return *update }

// Check compares got with the golden file at path (text, compared as a
// string so that a difference shows as a diff). With -update it writes got
// to path, creating the directory, and passes.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file %s: run the tests with -update to create it", path)
	assert.Equal(t, string(want), string(got), "output differs from %s (go test -update rewrites it)", path)
}
