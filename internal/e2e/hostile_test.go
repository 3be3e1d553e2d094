package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileInput is a file no command should accept, and what makes it so.
type hostileInput struct {
	name string
	make func(t *testing.T, dir string) string // returns the path
	file bool                                  // a regular file (can also be piped to stdin)
}

func writeInput(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

// garbage is deterministic pseudo-random bytes, as /dev/urandom would give.
func garbage(n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{'g', 'e', 'o', 'l', 'o', 'c'}))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func hostileInputs() []hostileInput {
	return []hostileInput{
		{"empty", func(t *testing.T, dir string) string { return writeInput(t, dir, "empty.txt", nil) }, true},
		{"urandom", func(t *testing.T, dir string) string { return writeInput(t, dir, "random.bin", garbage(256<<10)) }, true},
		{"nul-bytes", func(t *testing.T, dir string) string {
			return writeInput(t, dir, "nul.txt", []byte("traceroute to x\x00 (192.0.2.9)\n 1\x00 192.0.2.1  1.0 ms\n\x00\x00\x00"))
		}, true},
		{"50MB-line", func(t *testing.T, dir string) string {
			return writeInput(t, dir, "long.txt", bytes.Repeat([]byte("a"), 50<<20))
		}, true},
		{"deep-array", func(t *testing.T, dir string) string {
			return writeInput(t, dir, "deep.json", bytes.Repeat([]byte("["), 1<<20))
		}, true},
		{"deep-object", func(t *testing.T, dir string) string {
			var b bytes.Buffer
			b.WriteString(`{"fw":4790,"result":`)
			b.WriteString(strings.Repeat(`{"a":`, 100000))
			b.WriteString("1" + strings.Repeat("}", 100001) + "\n")
			return writeInput(t, dir, "deep-object.json", b.Bytes())
		}, true},
		{"directory", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "a-directory")
			require.NoError(t, os.Mkdir(p, 0o755))
			return p
		}, false},
		{"missing", func(t *testing.T, dir string) string { return filepath.Join(dir, "no-such-file.txt") }, false},
	}
}

// hostileCommand reads a file in one of the ways the CLI does.
type hostileCommand struct {
	name  string
	args  func(p string) []string
	stdin bool // the input is piped to standard input instead of named
	// positioned: every error line must read "INPUT:LINE: ..." (content
	// errors) or "INPUT: cannot open ..."; otherwise it must name INPUT.
	positioned bool
}

func hostileCommands(sample, atlas string) []hostileCommand {
	return []hostileCommand{
		{"parse", func(p string) []string { return []string{"parse", p} }, false, true},
		{"parse-stdin", func(string) []string { return []string{"parse", "-"} }, true, true},
		{"regeo", func(p string) []string { return []string{"regeo", "--no-db", p} }, false, true},
		{"regeo-stdin", func(string) []string { return []string{"regeo", "--no-db", "-"} }, true, true},
		{"regeo-fuse", func(p string) []string { return []string{"regeo", "--no-db", "--fuse", p} }, false, true},
		{"report", func(p string) []string { return []string{"report", p} }, false, true},
		{"har", func(p string) []string { return []string{"har", "--list", p} }, false, true},
		{"regeo-db", func(p string) []string { return []string{"regeo", sample, "--db", p} }, false, false},
		{"locate-db", func(p string) []string { return []string{"locate", "--ptr=false", "81.2.69.142", "--db", p} }, false, false},
		{"locate-candidates-db", func(p string) []string { return []string{"locate", "--candidates", "81.2.69.142", "--db", p} }, false, false},
		{"regeo-vantage-points", func(p string) []string {
			return []string{"regeo", "--no-db", atlas, "--vantage-points", p}
		}, false, false},
	}
}

// TestHostileInputs drives every command that reads a file with inputs no
// one should feed it. Each run must end within the timeout, without a
// panic, with exit status 1, with its errors on stderr one line each naming
// the input (and its line for content errors), and with nothing on stdout
// for the commands that write records.
func TestHostileInputs(t *testing.T) {
	dir := t.TempDir()
	sample := repoPath("testdata/sample/ntt-tokyo-ipv6-traceroute.txt")
	atlas := atlasResults(t, dir)
	for _, in := range hostileInputs() {
		path := in.make(t, dir)
		for _, c := range hostileCommands(sample, atlas) {
			if c.stdin && !in.file {
				continue
			}
			t.Run(c.name+"/"+in.name, func(t *testing.T) {
				spec := cmdSpec{args: c.args(path)}
				name := path
				if c.stdin {
					f, err := os.Open(path)
					require.NoError(t, err)
					defer f.Close()
					spec.stdin, name = f, "-"
				}
				r := run(t, spec)
				require.Equal(t, 1, r.code, "stderr:\n%s", clip(r.stderr))
				lines := errorLines(r.stderr)
				require.NotEmpty(t, lines, "exit 1 without saying why")
				posRE := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `(:\d+: \S|: cannot open)`)
				for _, l := range lines {
					assert.LessOrEqual(t, len(l), 4096, "an error line of %d bytes", len(l))
					if c.positioned {
						assert.Regexp(t, posRE, l)
					} else if !strings.HasPrefix(l, "Run 'geoloc") {
						assert.Contains(t, l, name)
					}
				}
				if strings.HasPrefix(c.name, "parse") || strings.HasPrefix(c.name, "regeo") {
					assert.Empty(t, r.stdout, "records out of an input that has none")
				}
			})
		}
	}
}

// TestForcedWrongFormat: --input-format names a format the input is not.
// Every such run fails with FILE:LINE: FORMAT: ... and writes nothing.
func TestForcedWrongFormat(t *testing.T) {
	dir := t.TempDir()
	atlas := atlasResults(t, dir)
	linux := repoPath("traceroute/testdata/text/jc/generic/traceroute1.out")
	r := geoloc(t, "parse", "--formats")
	require.Equal(t, 0, r.code)
	structured := map[string]bool{"ripe-atlas": true, "scamper-json": true, "mtr-json": true, "nxos-json": true,
		"geoloc": true, "junos-xml": true, "iosxr-xml": true, "ripe-atlas-ping": true, "globalping": true}
	var formats []string
	for _, l := range nonEmptyLines(r.stdout) {
		formats = append(formats, strings.Fields(l)[0])
	}
	require.Subset(t, formats, []string{"ripe-atlas", "linux-traceroute", "windows-tracert", "mtr-json"})
	for _, f := range formats {
		input := atlas // JSON where a text format is forced
		if structured[f] {
			input = linux // text where JSON or XML is forced
		}
		t.Run(f, func(t *testing.T) {
			r := geoloc(t, "parse", "--input-format", f, input)
			require.Equal(t, 1, r.code, "stderr:\n%s\nstdout:\n%s", clip(r.stderr), clip(r.stdout))
			lines := errorLines(r.stderr)
			require.NotEmpty(t, lines)
			assert.Regexp(t, `^`+regexp.QuoteMeta(input)+`:\d+: `+regexp.QuoteMeta(f)+`: \S`, lines[0])
		})
	}
	// And JSON forced on JSON of another tool.
	for _, f := range []string{"scamper-json", "mtr-json", "nxos-json", "geoloc", "globalping"} {
		t.Run(f+"/on-atlas", func(t *testing.T) {
			r := geoloc(t, "parse", "--input-format", f, atlas)
			require.Equal(t, 1, r.code, "stderr:\n%s", clip(r.stderr))
			assert.Empty(t, r.stdout)
			assert.Regexp(t, `^`+regexp.QuoteMeta(atlas)+`:1: `+regexp.QuoteMeta(f)+`: \S`, errorLines(r.stderr)[0])
		})
	}
}

// TestTruncatedCorpus cuts every corpus file (and every HAR) at several
// points and reads them all in one batch: no panic or hang, exit 0 or 1,
// every error names its file and line, and every trace that is read is
// written (the summary's count is the number of lines on stdout).
func TestTruncatedCorpus(t *testing.T) {
	src := t.TempDir()
	files := corpusFiles(t, src)
	hars := harFiles(t)
	for _, frac := range []float64{0.07, 0.5, 0.93} {
		t.Run(fmt.Sprintf("cut-%.0f%%", frac*100), func(t *testing.T) {
			dir := t.TempDir()
			cut := func(p string, i int) string {
				b, err := os.ReadFile(p)
				require.NoError(t, err)
				n := max(1, int(float64(len(b))*frac))
				return writeInput(t, dir, fmt.Sprintf("%03d-%s", i, filepath.Base(p)), b[:n])
			}
			var cuts, harCuts []string
			for i, p := range files {
				cuts = append(cuts, cut(p, i))
			}
			for i, p := range hars {
				harCuts = append(harCuts, cut(p, i))
			}
			checkBatch := func(t *testing.T, r result, inputs []string) {
				t.Helper()
				require.Contains(t, []int{0, 1}, r.code, clip(r.stderr))
				if r.code == 1 {
					require.NotEmpty(t, errorLines(r.stderr))
				}
				for _, l := range errorLines(r.stderr) {
					name, _, ok := strings.Cut(l, ":")
					require.True(t, ok, "no position: %q", l)
					assert.Contains(t, inputs, name, "error line does not start with an input: %q", l)
					assert.Regexp(t, `^[^:]+:\d+: [a-z0-9-]+: \S`, l)
				}
			}
			r := geoloc(t, append([]string{"parse"}, cuts...)...)
			checkBatch(t, r, cuts)
			assert.Equal(t, summaryCount(t, r.stderr), len(nonEmptyLines(r.stdout)))

			r = geoloc(t, append([]string{"regeo", "--no-db"}, cuts...)...)
			checkBatch(t, r, cuts)
			assert.Equal(t, summaryCount(t, r.stderr), len(nonEmptyLines(r.stdout)))

			r = geoloc(t, append([]string{"har", "--list"}, harCuts...)...)
			checkBatch(t, r, harCuts)
			for _, l := range nonEmptyLines(r.stdout) {
				assert.True(t, json.Valid([]byte(l)), "%q", l)
			}
		})
	}
}

// TestGoodRecordsKept: a bad record between good ones costs only itself —
// the traces before and after it are written, and the error names the
// file and the line of the bad record.
func TestGoodRecordsKept(t *testing.T) {
	dir := t.TempDir()
	sample, err := os.ReadFile(repoPath("testdata/sample/ntt-tokyo-ipv6-traceroute.txt"))
	require.NoError(t, err)
	sampleLines := bytes.Count(sample, []byte("\n"))
	var b bytes.Buffer
	b.Write(sample)
	b.Write(bytes.Repeat([]byte("x"), 1<<20)) // a 1 MB line where a hop should be
	b.WriteString("\n")
	b.Write(sample)
	p := writeInput(t, dir, "mixed.txt", b.Bytes())

	for _, cmd := range [][]string{{"parse", p}, {"regeo", "--no-db", p}} {
		t.Run(cmd[0], func(t *testing.T) {
			r := geoloc(t, cmd...)
			require.Equal(t, 1, r.code, clip(r.stderr))
			assert.Len(t, nonEmptyLines(r.stdout), 2, "both good traces written")
			lines := errorLines(r.stderr)
			require.Len(t, lines, 1, clip(r.stderr))
			assert.True(t, strings.HasPrefix(lines[0], fmt.Sprintf("%s:%d: ", p, sampleLines+1)), "%q", lines[0])
		})
	}

	// A batch with a missing file, garbage and a good file: the good trace
	// is written, each bad input named once.
	bad := writeInput(t, dir, "bad.bin", garbage(4096))
	missing := filepath.Join(dir, "missing.txt")
	r := geoloc(t, "parse", missing, bad, repoPath("testdata/sample/ntt-tokyo-ipv6-traceroute.txt"))
	require.Equal(t, 1, r.code)
	assert.Len(t, nonEmptyLines(r.stdout), 1)
	lines := errorLines(r.stderr)
	require.Len(t, lines, 2, clip(r.stderr))
	assert.True(t, strings.HasPrefix(lines[0], missing+": "), lines[0])
	assert.True(t, strings.HasPrefix(lines[1], bad+":1: "), lines[1])
	assert.Contains(t, r.stderr, "1 trace read, 2 failed")
}

// TestHostileNames: hints reads anything on standard input (binary,
// control characters, huge labels, markup) and answers one JSON line per
// name; the terminal table never passes a control character through.
func TestHostileNames(t *testing.T) {
	var in bytes.Buffer
	in.WriteString("be3.agr21.fra03.atlas.cogentco.com\n")
	in.Write(garbage(8 << 10))
	in.WriteString("\n" + strings.Repeat("a.", 200000) + "\n")           // 400 kB name
	in.WriteString(strings.Repeat("fra1-", 100000) + "\n")               // 500 kB of codes
	in.WriteString("evil\x1b[31mred\x1b]0;title\x07\x00.fra1.example\n") // terminal escapes
	in.WriteString("<script>alert(1)</script>.ams1.he.net\n")
	in.WriteString("xe-0-0-0.cr1.lhr1.uk.level3.net\n")

	r := run(t, cmdSpec{args: []string{"hints", "-"}, stdin: bytes.NewReader(in.Bytes())})
	require.Equal(t, 0, r.code, clip(r.stderr))
	lines := nonEmptyLines(r.stdout)
	require.NotEmpty(t, lines)
	for _, l := range lines {
		var h struct {
			Name  *string           `json:"name"`
			Hints []json.RawMessage `json:"hints"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &h), "%q", clip(l))
		require.NotNil(t, h.Name)
	}
	assert.Contains(t, lines[0], `"code":"fra"`)
	assert.Contains(t, lines[len(lines)-1], `"code":"lhr"`)

	r = run(t, cmdSpec{args: []string{"hints", "-", "--format", "table"}, stdin: bytes.NewReader(in.Bytes())})
	require.Equal(t, 0, r.code, clip(r.stderr))
	for _, c := range r.stdout {
		if c < 0x20 && c != '\n' || c == 0x7f {
			t.Fatalf("control character %#x in the table", c)
		}
	}
}
