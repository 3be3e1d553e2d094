package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	goldenfile "github.com/geoloc-dev/geoloc/internal/golden"
)

type result struct {
	stdout, stderr string
	code           int
}

// run runs the command line in-process, as the binary would.
func run(t *testing.T, stdin string, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(stdin), &out, &errb, func(k string) string { return env[k] })
	return result{out.String(), errb.String(), code}
}

// repoRoot is the module root, where the shared testdata/ lives; goldens
// name files relative to it so that they read like the README's commands.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	return filepath.Join(wd, "..", "..")
}

// chdirRoot runs the test from the module root.
func chdirRoot(t *testing.T) {
	t.Chdir(repoRoot(t))
}

// golden compares the whole transcript of a run with
// testdata/golden/NAME.txt (rewritten with -update).
func golden(t *testing.T, name string, args []string, r result) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "$ geoloc %s\n", scrub(strings.Join(args, " ")))
	fmt.Fprintf(&b, "--- exit %d\n--- stdout\n%s", r.code, r.stdout)
	if r.stdout != "" && !strings.HasSuffix(r.stdout, "\n") {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "--- stderr\n%s", scrub(r.stderr))
	got := b.String()
	path := filepath.Join("internal", "cli", "testdata", "golden", name+".txt")
	if _, err := os.Stat("go.mod"); err != nil {
		path = filepath.Join("testdata", "golden", name+".txt")
	}
	goldenfile.Check(t, path, []byte(got))
}

var tmpPath = regexp.MustCompile(`/tmp/[^\s:;,]+`)

// scrub replaces what changes between runs (temporary paths).
func scrub(s string) string { return tmpPath.ReplaceAllString(s, "TMP") }

func TestGoldenHelp(t *testing.T) {
	chdirRoot(t)
	cases := [][]string{{"help"}, {"--help"}, {"help", "report"}}
	for _, c := range commands() {
		cases = append(cases, []string{c.name, "--help"})
	}
	for _, args := range cases {
		name := "help-" + strings.ReplaceAll(strings.Join(args, "_"), "-", "")
		if args[0] == "--help" {
			name = "help-flag"
		}
		t.Run(name, func(t *testing.T) {
			r := run(t, "", nil, args...)
			assert.Equal(t, ExitOK, r.code)
			golden(t, name, args, r)
			assert.LessOrEqual(t, strings.Count(r.stdout, "Usage:"), 1, "help printed once")
			if len(args) == 2 && args[1] == "--help" {
				assert.Contains(t, r.stdout, "Examples:", "every --help has examples")
				assert.Contains(t, r.stdout, "Exit status:", "every --help documents exit codes")
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	chdirRoot(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no-command", nil, "Usage: geoloc COMMAND"},
		{"unknown-command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown-flag", []string{"parse", "--frob", "x"}, "flag provided but not defined: -frob"},
		{"parse-no-input", []string{"parse"}, "no input"},
		{"parse-bad-format", []string{"parse", "--input-format", "nope", "x"}, `--input-format "nope": unknown`},
		{"har-no-input", []string{"har", "--list"}, "no HAR file"},
		{"har-bad-parallel", []string{"har", "x.har", "--parallel", "0"}, "--parallel 0"},
		{"har-list-with-o", []string{"har", "testdata/har/www.etat.lu-chrome-har-2018.har", "--list", "-o", "x.kml"}, "--list writes JSON Lines to stdout only"},
		{"har-bad-format", []string{"har", "--list", "--format", "xml", "testdata/har/www.etat.lu-chrome-har-2018.har"}, `--format "xml"`},
		{"bad-log-level", []string{"har", "--list", "--log-level", "loud", "x.har"}, `--log-level "loud"`},
		{"locate-not-an-ip", []string{"locate", "example.org"}, `"example.org" is not an IP address`},
		{"locate-rtt-without-from", []string{"locate", "192.0.2.1", "--rtt", "3"}, "--rtt needs --from"},
		{"db-unknown", []string{"db", "frob"}, `unknown db command "frob"`},
		{"version-args", []string{"version", "x"}, "version takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", nil, tt.args...)
			assert.Equal(t, ExitUsage, r.code, r.stderr)
			assert.Contains(t, r.stderr, tt.want)
			assert.Empty(t, r.stdout)
		})
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := run(t, "", nil, args...)
		assert.Equal(t, ExitOK, r.code)
		assert.Regexp(t, `^geoloc \S+ .*go1\.\d+.* \w+/\w+\n$`, r.stdout)
	}
}

func TestParseFlagsInterspersed(t *testing.T) {
	tests := []struct {
		args []string
		pos  []string
		outs []string
		q    bool
	}{
		{[]string{"a.txt", "-o", "x.kml"}, []string{"a.txt"}, []string{"x.kml"}, false},
		{[]string{"-o", "x.kml", "a.txt", "-q", "b.txt", "-o=y.html"}, []string{"a.txt", "b.txt"}, []string{"x.kml", "y.html"}, true},
		{[]string{"-", "--o", "x.kml"}, []string{"-"}, []string{"x.kml"}, false},
		{[]string{"a", "--", "-q", "-o"}, []string{"a", "-q", "-o"}, nil, false},
		{[]string{"--o", "a.kml,b.geojson"}, nil, []string{"a.kml", "b.geojson"}, false},
	}
	for _, tt := range tests {
		var c common
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		c.addOutput(fs)
		c.addQuietLog(fs)
		pos, err := parseFlags(fs, tt.args)
		require.NoError(t, err, tt.args)
		assert.Equal(t, tt.pos, pos, tt.args)
		assert.Equal(t, tt.outs, []string(c.outputs), tt.args)
		assert.Equal(t, tt.q, c.quiet, tt.args)
	}
}
