package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// bin is the geoloc binary TestMain built for this run.
var bin string

// runTimeout bounds every run: a hang is a failure, not a stuck CI job.
const runTimeout = 90 * time.Second

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "geoloc-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "geoloc")
	// The binary is built without the race detector even when these tests
	// run under it: a race-instrumented geoloc runs several times slower,
	// which put this package near go test's ten-minute limit on a loaded
	// machine, and the CLI's concurrent paths are race-tested in process
	// by internal/cli's tests.
	args := []string{"build", "-o", bin, "github.com/geoloc-dev/geoloc/cmd/geoloc"}
	cmd := exec.Command(goTool(), args...)
	cmd.Dir = repoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go %s: %v\n%s", strings.Join(args, " "), err, out)
		return 1
	}
	return m.Run()
}

// goTool is the go command of the toolchain running the tests.
func goTool() string {
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return "go"
}

// repoRoot is the module root (this package sits at internal/e2e).
func repoRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Join(wd, "..", "..")
}

// repoPath names a file of the repository by its path from the root.
func repoPath(p string) string { return filepath.Join(repoRoot(), filepath.FromSlash(p)) }

// cmdSpec is one run of the binary.
type cmdSpec struct {
	args  []string
	stdin io.Reader // nil: empty standard input
	dir   string    // working directory; "" = a fresh temporary one
	// signal, when not nil, is sent after signalAfter (for interrupt tests).
	signal      os.Signal
	signalAfter time.Duration
}

// result is what one run left behind.
type result struct {
	stdout, stderr string
	code           int
}

// run runs the binary with a hermetic environment: an empty database cache,
// no GEOLOC_DB, no colour, HOME in a temporary directory. It fails the test
// on a timeout, a panic, a data race or an exit status other than 0, 1, 2.
func run(t *testing.T, c cmdSpec) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, c.args...)
	cmd.Dir = c.dir
	if cmd.Dir == "" {
		cmd.Dir = t.TempDir()
	}
	home := t.TempDir()
	cmd.Env = append(cleanEnv(),
		"HOME="+home,
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"GEOLOC_CACHE_DIR="+filepath.Join(home, "geoloc-cache"),
		"GEOLOC_DB=",
		"NO_COLOR=1",
	)
	cmd.Stdin = c.stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start(), "start %v", c.args)
	if c.signal != nil {
		timer := time.AfterFunc(c.signalAfter, func() { _ = cmd.Process.Signal(c.signal) })
		defer timer.Stop()
	}
	err := cmd.Wait()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "%v: %v", c.args, err)
		code = ee.ExitCode()
	}
	r := result{stdout: stdout.String(), stderr: stderr.String(), code: code}
	require.NoError(t, ctx.Err(), "%v: no answer within %v (hang?)\nstderr: %s", c.args, runTimeout, clip(r.stderr))
	require.False(t, panicked(r.stderr), "%v: panic or data race:\n%s", c.args, clip(r.stderr))
	codes := []int{0, 1, 2}
	if s, ok := c.signal.(syscall.Signal); ok {
		codes = append(codes, 128+int(s)) // stopped by the signal
	}
	require.Contains(t, codes, r.code, "%v: exit %d is none of the documented %v\nstderr: %s", c.args, r.code, codes, clip(r.stderr))
	return r
}

// geoloc runs the binary with args in a fresh directory.
func geoloc(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, cmdSpec{args: args})
}

// cleanEnv is the test's environment without anything that would make
// geoloc find databases, colour, or a cache of the developer's machine.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "GEOLOC_"), k == "HOME", strings.HasPrefix(k, "XDG_"),
			k == "NO_COLOR", k == "CLICOLOR_FORCE", k == "GORACE":
			continue
		}
		env = append(env, kv)
	}
	return env
}

var panicRE = regexp.MustCompile(`(?m)^(panic: |goroutine \d+ \[|fatal error: |WARNING: DATA RACE)`)

func panicked(stderr string) bool { return panicRE.MatchString(stderr) }

// summaryRE matches the summary lines the commands print on stderr.
var summaryRE = regexp.MustCompile(`^\d+ (traces? read, \d+ failed|traces? located: |traces? summarised, \d+ failed|hosts?, \d+ requests?, )`)

// errorLines are the stderr lines that are not a summary.
func errorLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		if l != "" && !summaryRE.MatchString(l) {
			out = append(out, l)
		}
	}
	return out
}

// nonEmptyLines splits s into its non-empty lines.
func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// clip keeps failure messages readable when stderr is huge.
func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

// needTool returns the path of an external checker, or skips the test
// with a one-line reason (CI installs all of them through .ci/run).
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (Debian %s)", name, pkg)
	}
	return p
}

// tool runs an external checker and fails the test if it fails.
func tool(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	require.NoError(t, err, "%s %v:\n%s", filepath.Base(name), args, clip(string(out)))
	return string(out)
}
