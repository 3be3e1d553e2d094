package cli

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
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

// Every -o output is tried: one that cannot be written is reported on
// stderr and makes the exit 1, and the ones after it are still written.
func TestEveryOutputTried(t *testing.T) {
	chdirRoot(t)
	tests := []struct {
		name string
		outs []string // relative to a temporary directory
		bad  []string
		code int
	}{
		{"all-good", []string{"a.kml", "b.geojson", "c.csv"}, nil, ExitOK},
		{"middle-bad", []string{"a.kml", "no/b.geojson", "c.csv"}, []string{"no/b.geojson"}, ExitPartial},
		{"first-bad", []string{"no/a.kml", "b.geojson"}, []string{"no/a.kml"}, ExitPartial},
		{"two-bad", []string{"no/a.kml", "b.geojson", "no/c.csv"}, []string{"no/a.kml", "no/c.csv"}, ExitPartial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"regeo", sample, "--no-db"}
			for _, o := range tt.outs {
				args = append(args, "-o", filepath.Join(dir, o))
			}
			r := run(t, "", nil, args...)
			assert.Equal(t, tt.code, r.code, r.stderr)
			for _, o := range tt.outs {
				p := filepath.Join(dir, o)
				if slices.Contains(tt.bad, o) {
					assert.NoFileExists(t, p)
					assert.Contains(t, r.stderr, "geoloc regeo: write "+p)
				} else {
					assert.FileExists(t, p)
				}
			}
			if len(tt.bad) > 0 {
				assert.Contains(t, r.stderr, "; "+plural(len(tt.bad), "output")+" not written")
			}
		})
	}
}

// --rtt must be a finite, non-negative number: NaN and infinities are
// usage errors, not a JSON failure at the end.
func TestLocateRTTValidated(t *testing.T) {
	chdirRoot(t)
	tests := []struct {
		rtt  string
		code int
	}{
		{"NaN", ExitUsage},
		{"nan", ExitUsage},
		{"Inf", ExitUsage},
		{"+Inf", ExitUsage},
		{"-Inf", ExitUsage},
		{"-1", ExitUsage},
		{"1e400", ExitUsage}, // overflows to +Inf: flag refuses it
		{"3", ExitOK},
		{"0", ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.rtt, func(t *testing.T) {
			r := run(t, "", nil, "locate", "192.0.2.1", "--no-db", "--rtt", tt.rtt, "--from", "fra")
			assert.Equal(t, tt.code, r.code, r.stderr)
			if tt.code == ExitUsage {
				assert.Contains(t, r.stderr, "rtt")
				assert.NotContains(t, r.stderr, "json:")
				assert.Empty(t, r.stdout)
			}
		})
	}
}

// A bad --color is a usage error before any output, whether or not a
// table would have been drawn.
func TestColorValidatedUpFront(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	results := filepath.Join(dir, "r.jsonl")
	ok := run(t, "", nil, "regeo", sample, "--no-db", "-q", "-o", results)
	require.Equal(t, ExitOK, ok.code, ok.stderr)
	tests := []struct {
		name string
		args []string
	}{
		{"report-table", []string{"report", results}},
		{"report-json", []string{"report", "--format", "json", results}},
		{"regeo-jsonl", []string{"regeo", sample, "--no-db"}},
		{"regeo-o", []string{"regeo", sample, "--no-db", "-o", filepath.Join(dir, "x.kml")}},
		{"regeo-geojson", []string{"regeo", sample, "--no-db", "--format", "geojson"}},
		{"locate", []string{"locate", "192.0.2.1", "--no-db"}},
		{"hints", []string{"hints", "ae1.fra.example.net"}},
		{"har-list", []string{"har", "--list", "testdata/har/www.etat.lu-chrome-har-2018.har"}},
	}
	for _, tt := range tests {
		for _, v := range []string{"nope", "ALWAYS", "yes"} {
			t.Run(tt.name+"-"+v, func(t *testing.T) {
				_ = os.Remove(filepath.Join(dir, "x.kml")) // left by a -never run
				r := run(t, "", nil, append(tt.args, "--color", v)...)
				assert.Equal(t, ExitUsage, r.code, r.stderr)
				assert.Empty(t, r.stdout, "nothing written before the usage error")
				assert.Contains(t, r.stderr, `--color "`+v+`": want auto, always or never`)
				assert.NoFileExists(t, filepath.Join(dir, "x.kml"))
			})
		}
		t.Run(tt.name+"-never", func(t *testing.T) {
			r := run(t, "", nil, append(tt.args, "--color", "never")...)
			assert.NotEqual(t, ExitUsage, r.code, r.stderr)
		})
	}
}

func TestEachLine(t *testing.T) {
	type got struct {
		n       int
		line    string
		tooLong bool
	}
	tests := []struct {
		name string
		in   string
		want []got
	}{
		{"empty", "", nil},
		{"one-no-newline", "abc", []got{{1, "abc", false}}},
		{"crlf", "ab\r\ncd\r\n", []got{{1, "ab", false}, {2, "cd", false}}},
		{"blank-lines", "\n\nx\n", []got{{1, "", false}, {2, "", false}, {3, "x", false}}},
		{"exactly-max", "12345678\n", []got{{1, "12345678", false}}},
		{"exactly-max-at-eof", "12345678", []got{{1, "12345678", false}}},
		{"one-over", "123456789\nok\n", []got{{1, "", true}, {2, "ok", false}}},
		{"one-over-at-eof", "ok\n123456789", []got{{1, "ok", false}, {2, "", true}}},
		{"huge-between", "a\n" + strings.Repeat("x", 200<<10) + "\nb\n", []got{{1, "a", false}, {2, "", true}, {3, "b", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lines []got
			n, err := eachLine(strings.NewReader(tt.in), 8, func(n int, b []byte, tooLong bool) error {
				lines = append(lines, got{n, string(b), tooLong})
				return nil
			})
			require.NoError(t, err)
			assert.Equal(t, tt.want, lines)
			assert.Equal(t, len(tt.want), n)
		})
	}
}

// hints - reports an over-long line with its number, skips it, and still
// writes every other name; exit 1.
func TestHintsLongLine(t *testing.T) {
	long := strings.Repeat("a", 1<<20+1)
	tests := []struct {
		name    string
		stdin   string
		names   []string
		errLine string
		code    int
	}{
		{"long-in-middle", "ae1.fra.example.net\n" + long + "\nxe-0.lhr.example.net\n", []string{"ae1.fra.example.net", "xe-0.lhr.example.net"}, "-:2: line too long", ExitPartial},
		{"long-last", "ae1.fra.example.net\n" + long, []string{"ae1.fra.example.net"}, "-:2: line too long", ExitPartial},
		{"just-fits", "ae1.fra.example.net\n" + long[1:] + "\n", []string{"ae1.fra.example.net", long[1:]}, "", ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.stdin, nil, "hints", "-")
			assert.Equal(t, tt.code, r.code, r.stderr)
			var names []string
			for l := range strings.Lines(r.stdout) {
				var hl hintsLine
				require.NoError(t, json.Unmarshal([]byte(l), &hl))
				names = append(names, hl.Name)
			}
			assert.Equal(t, tt.names, names)
			if tt.errLine != "" {
				assert.Contains(t, r.stderr, tt.errLine)
				assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
			} else {
				assert.Empty(t, r.stderr)
			}
		})
	}
}

// report: the table is the default even when piped (as its help says),
// json is one indented document and jsonl the same document on one line.
func TestReportFormats(t *testing.T) {
	chdirRoot(t)
	res := run(t, "", nil, "regeo", sample, "--no-db", "-q")
	require.Equal(t, ExitOK, res.code, res.stderr)
	tests := []struct {
		format string
		lines  int // stdout lines; 0: a table
	}{
		{"", 0},
		{"table", 0},
		{"json", -1}, // many
		{"jsonl", 1},
	}
	var docs []map[string]any
	for _, tt := range tests {
		t.Run("format="+tt.format, func(t *testing.T) {
			args := []string{"report", "-q", "-"}
			if tt.format != "" {
				args = append(args, "--format", tt.format)
			}
			r := run(t, res.stdout, nil, args...)
			require.Equal(t, ExitOK, r.code, r.stderr)
			n := strings.Count(r.stdout, "\n")
			switch tt.lines {
			case 0:
				assert.True(t, strings.HasPrefix(r.stdout, "TRACE "), r.stdout)
			case 1:
				assert.Equal(t, 1, n)
			default:
				assert.Greater(t, n, 1)
			}
			if tt.lines != 0 {
				var doc map[string]any
				require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
				docs = append(docs, doc)
			}
		})
	}
	require.Len(t, docs, 2)
	assert.Equal(t, docs[0], docs[1], "json and jsonl hold the same document")
	h := run(t, "", nil, "report", "--help")
	assert.Contains(t, h.stdout, "table (the default, also when piped)")
}

// An input that holds nothing is an error (one line, exit 1) for report
// and --vantage-points, as it is for parse and regeo.
func TestEmptyInputsAreErrors(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	empty := write("empty.txt", "")
	blank := write("blank.jsonl", "\n  \n\n")
	emptyCSV := write("empty.csv", "")
	headerCSV := write("header.csv", "# probes\naddress,lat,lon\n")
	goodCSV := write("good.csv", "address,lat,lon\n192.0.2.1,50.1,8.6\n")
	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  string
	}{
		{"report-empty", []string{"report", empty}, "", ExitPartial, empty + ":1: results: empty input"},
		{"report-blank", []string{"report", blank}, "", ExitPartial, blank + ":1: results: empty input"},
		{"report-empty-stdin", []string{"report", "-"}, "", ExitPartial, "-:1: results: empty input"},
		{"vantage-empty", []string{"regeo", "--no-db", sample, "--vantage-points", emptyCSV}, "", ExitPartial, emptyCSV + ":1: vantage points: empty input"},
		{"vantage-header-only", []string{"regeo", "--no-db", sample, "--vantage-points", headerCSV}, "", ExitPartial, headerCSV + ":1: vantage points: empty input"},
		{"vantage-good", []string{"regeo", "--no-db", sample, "--vantage-points", goodCSV}, "", ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.stdin, nil, append(tt.args, "-q")...)
			assert.Equal(t, tt.code, r.code, r.stderr)
			if tt.want == "" {
				assert.Empty(t, r.stderr)
				return
			}
			assert.Contains(t, r.stderr, tt.want)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %s", r.stderr)
		})
	}
}

// A directory given as an input says so, the same way in every command,
// with no meaningless line position.
func TestDirectoryInput(t *testing.T) {
	chdirRoot(t)
	d := filepath.Join(t.TempDir(), "adir")
	require.NoError(t, os.Mkdir(d, 0o755))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"parse", []string{"parse", d}, d + ": cannot open: is a directory"},
		{"regeo", []string{"regeo", "--no-db", d}, d + ": cannot open: is a directory"},
		{"regeo-fuse", []string{"regeo", "--no-db", "--fuse", d}, d + ": cannot open: is a directory"},
		{"report", []string{"report", d}, d + ": cannot open: is a directory"},
		{"har", []string{"har", "--list", d}, d + ": cannot open: is a directory"},
		{"vantage-points", []string{"regeo", "--no-db", sample, "--vantage-points", d}, d + ": cannot open: is a directory"},
		{"regeo-db", []string{"regeo", sample, "--db", d}, "--db " + d + ": cannot open: is a directory"},
		{"locate-db", []string{"locate", "--ptr=false", "192.0.2.1", "--db", d}, "--db " + d + ": cannot open: is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", nil, append(tt.args, "-q")...)
			assert.Equal(t, ExitPartial, r.code, r.stderr)
			assert.Contains(t, r.stderr, tt.want)
			assert.NotRegexp(t, regexp.MustCompile(regexp.QuoteMeta(d)+`:\d+:`), r.stderr, "no line position")
			assert.NotContains(t, r.stderr, "unknown database format")
		})
	}
}

func TestLooksBinary(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"empty", "", false},
		{"json", `{"hops":[]}` + "\n", false},
		{"utf8", `{"name":"Zürich–Genève 東京"}`, false},
		{"rune-cut-at-end", "{\"x\":\"\xe6\x9d", false}, // 東 cut after 2 of 3 bytes
		{"nul", "{\x00}", true},
		{"latin1", "{\"x\":\"Z\xfcrich\"}", true},
		{"random", string(garbageBytes(4096)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, looksBinary([]byte(tt.in)))
		})
	}
}

// garbageBytes is deterministic pseudo-random bytes.
func garbageBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// report on binary data says so in one line, not once per "line".
func TestReportBinary(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "random.bin")
	require.NoError(t, os.WriteFile(bin, garbageBytes(256<<10), 0o644))
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"file", []string{"report", bin, "-q"}, "", bin + ":1: results: binary data, not geoloc results"},
		{"stdin", []string{"report", "-", "-q"}, "\x00\x01\x02\x03binary", "-:1: results: binary data, not geoloc results"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.stdin, nil, tt.args...)
			assert.Equal(t, ExitPartial, r.code)
			assert.Equal(t, tt.want, strings.SplitN(r.stderr, " (", 2)[0])
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
		})
	}
}

// report caps a results line: an over-long one is one error naming its
// line, and the lines around it still count.
func TestReportLongLine(t *testing.T) {
	chdirRoot(t)
	res := run(t, "", nil, "regeo", sample, "--no-db", "-q")
	require.Equal(t, ExitOK, res.code, res.stderr)
	good := strings.TrimSpace(res.stdout)
	tests := []struct {
		name    string
		in      string
		max     int
		results int
		errs    []string
	}{
		{"fits", good + "\n" + good + "\n", len(good), 2, nil},
		{"long-between", good + "\n" + strings.Repeat("x", 2*len(good)) + "\n" + good + "\n", len(good), 2, []string{"in:2: results: line too long"}},
		{"long-json-last", good + "\n" + good + good, len(good), 1, []string{"in:2: results: line too long"}},
		{"only-long", strings.Repeat(" ", len(good)+1), len(good), 0, []string{"in:1: results: line too long"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errb strings.Builder
			rs, bad := readResults(strings.NewReader(tt.in), "in", &errb, tt.max)
			assert.Len(t, rs, tt.results)
			assert.Equal(t, len(tt.errs), bad)
			for _, e := range tt.errs {
				assert.Contains(t, errb.String(), e)
			}
			assert.Equal(t, len(tt.errs), strings.Count(errb.String(), "\n"), errb.String())
		})
	}
	// The real cap, through the command.
	r := run(t, good+"\n"+strings.Repeat("a", maxResultLineBytes+1)+"\n"+good+"\n", nil, "report", "-", "--format", "jsonl")
	assert.Equal(t, ExitPartial, r.code)
	assert.Contains(t, r.stderr, "-:2: results: line too long (over 32 MB), skipped\n")
	assert.Contains(t, r.stderr, "2 traces summarised, 1 failed")
}

// report rejects results no geoloc run writes, naming file, line and hop,
// instead of counting them as located.
func TestReportRejectsImpossibleResults(t *testing.T) {
	chdirRoot(t)
	res := run(t, "", nil, "regeo", sample, "--no-db", "-q")
	require.Equal(t, ExitOK, res.code, res.stderr)
	var tr map[string]any
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &tr))
	hops := tr["hops"].([]any)
	loc := -1
	for i, h := range hops {
		if h.(map[string]any)["location"] != nil {
			loc = i
			break
		}
	}
	require.GreaterOrEqual(t, loc, 0, "the sample places a hop")
	// with returns the result with one field of hop loc changed.
	with := func(field string, v any) string {
		var c map[string]any
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &c))
		h := c["hops"].([]any)[loc].(map[string]any)
		if field == "confidence" {
			h[field] = v
		} else {
			h["location"].(map[string]any)[field] = v
		}
		b, err := json.Marshal(c)
		require.NoError(t, err)
		return string(b)
	}
	tests := []struct {
		name, line, want string
	}{
		{"lat", with("lat", 91), fmt.Sprintf("in:2: results: hops[%d]: lat 91 outside [-90, 90]", loc)},
		{"lat-neg", with("lat", -90.5), "lat -90.5 outside"},
		{"lon", with("lon", 500), "lon 500 outside [-180, 180]"},
		{"radius", with("radius_km", -1), "radius_km -1 is not a finite distance"},
		{"confidence", with("confidence", 2), "confidence 2 outside [0, 1]"},
		{"confidence-neg", with("confidence", -0.1), "confidence -0.1 outside"},
		{"edges-ok", with("lat", 90), ""},
		{"lon-edge-ok", with("lon", -180), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errb strings.Builder
			rs, bad := readResults(strings.NewReader(res.stdout+tt.line+"\n"), "in", &errb, maxResultLineBytes)
			if tt.want == "" {
				assert.Len(t, rs, 2)
				assert.Zero(t, bad)
				assert.Empty(t, errb.String())
				return
			}
			assert.Len(t, rs, 1, "the bad line is not counted")
			assert.Equal(t, 1, bad)
			assert.Contains(t, errb.String(), tt.want)
			assert.True(t, strings.HasPrefix(errb.String(), "in:2: results: hops["), errb.String())
		})
	}
}

// har --list skips an entry with an invalid host name, one line naming
// it, lists the other hosts, and exits 1.
func TestHARInvalidHost(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, host, want string
		code             int
	}{
		{"valid", "b.example", "", ExitOK},
		{"too-long", strings.Repeat("a", 1<<20), ":2: har: entries[1].request.url: host name of over 1048568 bytes: longer than 253", ExitPartial},
		{"bad-char", "a!b.example", `:2: har: entries[1].request.url: host "a!b.example": '!' is no host-name character`, ExitPartial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".har")
			in := `{"log":{"entries":[{"request":{"url":"http://a.example/"},"serverIPAddress":"192.0.2.1"},` + "\n" +
				`{"request":{"url":"https://` + tt.host + `/"}}]}}`
			require.NoError(t, os.WriteFile(p, []byte(in), 0o644))
			r := run(t, "", nil, "har", "--list", "-q", p)
			assert.Equal(t, tt.code, r.code, r.stderr)
			assert.Contains(t, r.stdout, `"host":"a.example"`)
			if tt.want == "" {
				assert.Empty(t, r.stderr)
				return
			}
			assert.Equal(t, p+tt.want+" (entry skipped)\n", r.stderr)
			assert.Equal(t, 1, strings.Count(r.stdout, "\n"), "only the valid host is listed")
		})
	}
}

// -o - writes the results to standard output (JSON Lines unless --format
// names another writer) and creates no file named "-".
func TestOutputDashIsStdout(t *testing.T) {
	chdirRoot(t)
	plain := run(t, "", nil, "regeo", sample, "--no-db", "-q")
	require.Equal(t, ExitOK, plain.code, plain.stderr)
	geo := run(t, "", nil, "regeo", sample, "--no-db", "-q", "--format", "geojson")
	require.Equal(t, ExitOK, geo.code, geo.stderr)
	abs, err := filepath.Abs(sample)
	require.NoError(t, err)
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // "" = not compared
		errHas string
	}{
		{"jsonl-default", []string{"-o", "-"}, ExitOK, plain.stdout, "wrote stdout"},
		{"jsonl-format", []string{"-o", "-", "--format", "jsonl"}, ExitOK, plain.stdout, ""},
		{"geojson", []string{"-o", "-", "--format", "geojson"}, ExitOK, geo.stdout, ""},
		{"with-file", []string{"-o", "-", "-o", "x.kml"}, ExitOK, plain.stdout, "wrote stdout, x.kml"},
		{"twice", []string{"-o", "-", "-o", "-"}, ExitUsage, "", "-o - given 2 times"},
		{"table", []string{"-o", "-", "--format", "table"}, ExitUsage, "", "-o - with --format table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			args := append([]string{"regeo", abs, "--no-db"}, tt.args...)
			r := run(t, "", nil, args...)
			assert.Equal(t, tt.code, r.code, r.stderr)
			assert.NoFileExists(t, filepath.Join(dir, "-"))
			if tt.code == ExitOK && tt.stdout != "" {
				assert.Equal(t, tt.stdout, r.stdout)
			}
			if tt.code != ExitOK {
				assert.Empty(t, r.stdout)
			}
			assert.Contains(t, r.stderr, tt.errHas)
		})
	}
}
