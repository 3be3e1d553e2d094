package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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
	bin := buildBinary(t)

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
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "wrote route.kml")

	k := parseKML(t, filepath.Join(work, "route.kml"))
	assert.Equal(t, 1, k.folders, "one folder per trace")
	assert.GreaterOrEqual(t, k.points, 4, "NTT's tokyjp routers are placed from their names alone")
	b, err := os.ReadFile(filepath.Join(work, "route.kml"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "Tokyo")
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// buildBinary builds cmd/geoloc once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "geoloc-bin")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "geoloc")
		build := exec.Command("go", "build", "-o", binPath, "./cmd/geoloc")
		build.Dir = repoRoot(t)
		if out, err := build.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	require.NoError(t, binErr)
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// Without root or CAP_NET_RAW (and with ping sockets closed to the user),
// trace says in one line what to do and exits 1.
func TestTraceWithoutPrivilege(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	needRoot(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv (util-linux) not installed")
	}
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range"); err != nil || !strings.HasPrefix(strings.TrimSpace(string(b)), "1\t0") {
		t.Skip("ping sockets are open to unprivileged users here; nothing to refuse")
	}
	bin := buildBinary(t)
	// The binary must be readable by the unprivileged user.
	require.NoError(t, os.Chmod(filepath.Dir(bin), 0o755))
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin, "trace", "127.0.0.1", "--ptr=false", "--no-db")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "%s", out)
	assert.Equal(t, ExitPartial, ee.ExitCode())
	assert.Equal(t, 1, strings.Count(string(out), "\n"), "one line: %s", out)
	assert.Contains(t, string(out), "setcap cap_net_raw+ep")
}
