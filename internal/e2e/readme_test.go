package e2e

import (
	"bufio"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// update rewrites the outputs the README shows with what its commands print
// (go test ./internal/e2e -run TestREADMEExamples -update), for when the
// engine's figures change on purpose; review the diff.
var update = flag.Bool("update", false, "rewrite the README's example outputs")

// readmeExample is a `$ geoloc ...` command of a README code block and the
// lines the README shows after it.
type readmeExample struct {
	cmd, output string
	line        int // of the command
	outStart    int // line of the first output line
	outLines    int // lines of output shown
}

// readmeExamples reads the README's shell examples: in every fenced block,
// a line starting with "$ " is a command (a trailing backslash continues
// it), and the lines up to the next command or the end of the block are
// what it prints.
func readmeExamples(t *testing.T) (examples []readmeExample, quickStart string) {
	t.Helper()
	f, err := os.Open(repoPath("README.md"))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	inBlock, cont := false, false
	var cur *readmeExample
	flush := func() {
		if cur != nil {
			examples = append(examples, *cur)
			cur = nil
		}
	}
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if strings.HasPrefix(l, "```") {
			flush()
			inBlock = !inBlock
			continue
		}
		if !inBlock {
			continue
		}
		switch {
		case cont:
			cur.cmd += " " + strings.TrimSpace(strings.TrimSuffix(l, `\`))
			cont = strings.HasSuffix(l, `\`)
		case strings.HasPrefix(l, "$ "):
			flush()
			cur = &readmeExample{cmd: strings.TrimSpace(strings.TrimSuffix(l[2:], `\`)), line: n}
			cont = strings.HasSuffix(l, `\`)
		case cur != nil:
			if cur.outLines == 0 {
				cur.outStart = n
			}
			cur.output += l + "\n"
			cur.outLines++
		case strings.HasPrefix(l, "go run ./cmd/geoloc ") && quickStart == "":
			quickStart = l
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, examples, "no $ geoloc examples in README.md")
	require.NotEmpty(t, quickStart, "no quick-start command in README.md")
	return examples, quickStart
}

// readmeDir is a scratch directory where the README's relative paths
// (testdata/...) resolve, so that its commands can write files without
// touching the repository.
func readmeDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.Symlink(repoPath("testdata"), filepath.Join(dir, "testdata")))
	return dir
}

// shell runs a README command line through sh with the built binary first
// on PATH, in dir.
func shell(t *testing.T, dir, line string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", line)
	cmd.Dir = dir
	home := t.TempDir()
	cmd.Env = append(cleanEnv(), "HOME="+home, "GEOLOC_CACHE_DIR="+filepath.Join(home, "cache"), "GEOLOC_DB=", "NO_COLOR=1",
		"PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "%s: hang", line)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	r := result{stdout.String(), stderr.String(), code}
	require.False(t, panicked(r.stderr), "%s:\n%s", line, clip(r.stderr))
	return r
}

// TestREADMEExamples runs every `$ geoloc` example of the README (in order,
// in one directory, so that `> results.jsonl` then `geoloc report
// results.jsonl` work) and requires each to succeed and to print exactly
// what the README shows (stdout then stderr). Tracing needs root and runs
// only as root, on loopback as the README shows; its RTTs and the version
// line depend on the machine, so those two are checked by running only.
// When the engine's figures change on purpose, the README's examples are
// refreshed with them: this test says which.
func TestREADMEExamples(t *testing.T) {
	examples, _ := readmeExamples(t)
	dir := readmeDir(t)
	machineDependent := regexp.MustCompile(`^geoloc (trace|version)\b`)
	compared := 0
	fresh := map[int]string{} // command line -> new output, with -update
	for _, ex := range examples {
		if !strings.Contains(ex.cmd, "geoloc ") {
			continue
		}
		line := ex.cmd
		if strings.HasPrefix(line, "sudo ") {
			if os.Geteuid() != 0 {
				t.Logf("README.md:%d: %s: needs root, not run", ex.line, line)
				continue
			}
			line = strings.TrimPrefix(line, "sudo ")
		}
		r := shell(t, dir, line)
		if !assert.Equal(t, 0, r.code, "README.md:%d: %s\nstderr:\n%s", ex.line, ex.cmd, clip(r.stderr)) {
			continue
		}
		if ex.output != "" {
			assert.NotEmpty(t, r.stdout+r.stderr, "README.md:%d: %s printed nothing", ex.line, ex.cmd)
		}
		if !machineDependent.MatchString(line) {
			compared++
			if *update && ex.output != "" && ex.output != r.stdout+r.stderr {
				fresh[ex.line] = r.stdout + r.stderr
				continue
			}
			assert.Equal(t, ex.output, r.stdout+r.stderr, "README.md:%d: %s prints something else than the README shows", ex.line, ex.cmd)
		}
	}
	assert.GreaterOrEqual(t, compared, 8, "the README lost examples")
	if len(fresh) > 0 {
		rewriteREADME(t, examples, fresh)
	}
}

// rewriteREADME replaces the outputs shown after the commands in fresh
// (keyed by the command's line).
func rewriteREADME(t *testing.T, examples []readmeExample, fresh map[int]string) {
	t.Helper()
	b, err := os.ReadFile(repoPath("README.md"))
	require.NoError(t, err)
	lines := strings.SplitAfter(string(b), "\n")
	replace := map[int]readmeExample{} // 0-based first output line -> example
	for _, ex := range examples {
		if _, ok := fresh[ex.line]; ok {
			replace[ex.outStart-1] = ex
		}
	}
	var out strings.Builder
	for i := 0; i < len(lines); i++ {
		if ex, ok := replace[i]; ok {
			out.WriteString(fresh[ex.line])
			i += ex.outLines - 1
			continue
		}
		out.WriteString(lines[i])
	}
	require.NoError(t, os.WriteFile(repoPath("README.md"), []byte(out.String()), 0o644))
	t.Logf("rewrote %d README example outputs; review the diff", len(fresh))
}
