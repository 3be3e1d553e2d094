package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuickStart builds the real binary and runs the README's quick-start
// command (the README runs it with `go run`; the arguments are the same),
// then checks the KML it wrote: well-formed, one folder for the trace, and
// routers placed from their names alone (no database).
func TestQuickStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	root := repoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	m := regexp.MustCompile("(?m)^go run ./cmd/geoloc (regeo .*)$").FindSubmatch(readme)
	require.NotNil(t, m, "README has a `go run ./cmd/geoloc regeo ...` quick-start line")
	args := strings.Fields(string(m[1]))
	require.Equal(t, []string{"-o", "route.kml"}, args[len(args)-2:], "the quick-start writes route.kml")

	dir := t.TempDir()
	bin := filepath.Join(dir, "geoloc")
	build := exec.Command("go", "build", "-o", bin, "./cmd/geoloc")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	// Run from a copy of the sample's directory layout so that route.kml
	// lands in the temporary directory, with an empty cache and no GeoIP
	// database: the quick-start must work on a fresh machine.
	work := filepath.Join(dir, "work")
	for _, a := range args {
		if strings.HasPrefix(a, "testdata/") {
			b, err := os.ReadFile(filepath.Join(root, a))
			require.NoError(t, err)
			require.NoError(t, os.MkdirAll(filepath.Join(work, filepath.Dir(a)), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(work, a), b, 0o644))
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = work
	cmd.Env = []string{"HOME=" + dir, "GEOLOC_CACHE_DIR=" + filepath.Join(dir, "cache"), "PATH=" + os.Getenv("PATH")}
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "wrote route.kml")

	k := parseKML(t, filepath.Join(work, "route.kml"))
	assert.Equal(t, 1, k.folders, "one folder per trace")
	assert.GreaterOrEqual(t, k.points, 4, "NTT's tokyjp routers are placed from their names alone")
	b, err := os.ReadFile(filepath.Join(work, "route.kml"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "Tokyo")
}
