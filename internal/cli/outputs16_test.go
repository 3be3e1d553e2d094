package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOutputRelativePaths is issue 16 item 6 at the command line: -o
// ./r.kml and -o ../x.geojson were usage errors.
func TestOutputRelativePaths(t *testing.T) {
	chdirRoot(t)
	sample, err := filepath.Abs(sample)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	t.Chdir(filepath.Join(dir, "sub"))
	r := run(t, "", nil, "regeo", "--no-db", "-q", sample, "-o", "./r.kml", "-o", "../x.geojson")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.FileExists(t, filepath.Join(dir, "sub", "r.kml"))
	assert.FileExists(t, filepath.Join(dir, "x.geojson"))
}

// TestHelpExamplesKeepTheirPromise is issue 16 item 7: regeo's help showed
// "-o atlas.kml > results.jsonl", which leaves results.jsonl empty (with
// -o, a piped stdout stays empty). No example redirects stdout beside an
// -o, and the way the help gives instead writes the JSON Lines.
func TestHelpExamplesKeepTheirPromise(t *testing.T) {
	for _, c := range commands() {
		h := run(t, "", nil, c.name, "--help")
		for line := range strings.Lines(h.stdout) {
			if strings.HasPrefix(line, "  geoloc ") && strings.Contains(line, " -o ") && strings.Contains(line, " > ") {
				t.Errorf("geoloc %s --help: %q redirects stdout, which stays empty with -o", c.name, strings.TrimSpace(line))
			}
		}
	}
	h := run(t, "", nil, "regeo", "--help")
	assert.Contains(t, h.stdout, "add -o results.jsonl")

	chdirRoot(t)
	dir := t.TempDir()
	jl := filepath.Join(dir, "results.jsonl")
	r := run(t, "", nil, "regeo", "--no-db", sample, "-o", filepath.Join(dir, "atlas.kml"), "-o", jl)
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Empty(t, r.stdout, "piped stdout stays empty with -o, as the help says")
	b, err := os.ReadFile(jl)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(b), "\n"), "one result a line")
}
