package cli

import (
	"encoding/csv"
	"fmt"
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

// TestResultsKeepTraceIdentity is issue 16 item 11 at the command line: a
// RIPE Atlas result's start time survives into the JSON Lines results and
// through a second regeo of them, and the CSV rows name their trace's
// index, source, probe and start.
func TestResultsKeepTraceIdentity(t *testing.T) {
	dir := t.TempDir()
	rec := func(dst string, prb, ts int) string {
		return fmt.Sprintf(`{"fw":5080,"dst_name":"%[1]s","dst_addr":"%[1]s","src_addr":"192.0.2.10","from":"198.51.100.10","proto":"ICMP","af":4,"result":[{"hop":1,"result":[{"from":"192.0.2.1","ttl":254,"size":28,"rtt":1.5}]},{"hop":2,"result":[{"from":"%[1]s","ttl":253,"size":28,"rtt":9.5}]}],"msm_id":5001,"prb_id":%[2]d,"timestamp":%[3]d,"type":"traceroute"}`, dst, prb, ts)
	}
	in := filepath.Join(dir, "atlas.jsonl")
	// The same destination twice, from two probes.
	require.NoError(t, os.WriteFile(in, []byte(rec("203.0.113.9", 6001, 1700000000)+"\n"+rec("203.0.113.9", 6002, 1700000600)+"\n"), 0o644))
	jl, csvOut := filepath.Join(dir, "r.jsonl"), filepath.Join(dir, "r.csv")
	r := run(t, "", nil, "regeo", "--no-db", "-q", "--ptr=false", in, "-o", jl, "-o", csvOut)
	require.Equal(t, ExitOK, r.code, r.stderr)

	b, err := os.ReadFile(jl)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], `"started":"2023-11-14T22:13:20Z"`)
	assert.Contains(t, lines[1], `"started":"2023-11-14T22:23:20Z"`)

	f, err := os.Open(csvOut)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	var got []string
	for _, row := range recs[1:] {
		got = append(got, strings.Join([]string{row[col["trace_index"]], row[col["source"]], row[col["probe_id"]], row[col["started"]], row[col["ttl"]]}, " "))
	}
	assert.Equal(t, []string{
		"1 198.51.100.10 6001 2023-11-14T22:13:20Z 1",
		"1 198.51.100.10 6001 2023-11-14T22:13:20Z 2",
		"2 198.51.100.10 6002 2023-11-14T22:23:20Z 1",
		"2 198.51.100.10 6002 2023-11-14T22:23:20Z 2",
	}, got)

	// regeo of its own results keeps the start.
	again := filepath.Join(dir, "again.jsonl")
	r = run(t, "", nil, "regeo", "--no-db", "-q", "--ptr=false", jl, "-o", again)
	require.Equal(t, ExitOK, r.code, r.stderr)
	b, err = os.ReadFile(again)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"started":"2023-11-14T22:23:20Z"`)
}

// TestOutputCommas: -o splits a value on commas only when every part names
// a writer (as older versions did for -o a.kml,b.csv); any other value is
// one path, commas and all.
func TestOutputCommas(t *testing.T) {
	tests := []struct {
		name string
		vals []string // one -o each
		want []string
	}{
		{"two outputs", []string{"a.kml,b.csv"}, []string{"a.kml", "b.csv"}},
		{"two outputs, spaced", []string{"a.kml, b.csv"}, []string{"a.kml", "b.csv"}},
		{"two outputs and stdout", []string{"d/a.kml,-,../b.geojson"}, []string{"d/a.kml", "-", "../b.geojson"}},
		{"a trailing comma", []string{"a.kml,"}, []string{"a.kml"}},
		{"a comma in the name", []string{"my,map.kml"}, []string{"my,map.kml"}},
		{"a comma in the directory", []string{"runs/2024-05-01,02/route.kml"}, []string{"runs/2024-05-01,02/route.kml"}},
		{"a part without extension", []string{"a.kml,notes"}, []string{"a.kml,notes"}},
		{"one path", []string{"x.kml"}, []string{"x.kml"}},
		{"repeated", []string{"my,map.kml", "a.kml,b.csv", "x.kml"}, []string{"my,map.kml", "a.kml", "b.csv", "x.kml"}},
		{"format names", []string{"kml,csv"}, []string{"kml", "csv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l outputList
			for _, v := range tt.vals {
				require.NoError(t, l.Set(v))
			}
			assert.Equal(t, tt.want, []string(l))
		})
	}

	// At the command line: the files are where the values say.
	chdirRoot(t)
	sample, err := filepath.Abs(sample)
	require.NoError(t, err)
	dir := t.TempDir()
	t.Chdir(dir)
	cmdTests := []struct {
		o     string
		files []string
	}{
		{"a.kml,b.csv", []string{"a.kml", "b.csv"}},
		{"my,map.kml", []string{"my,map.kml"}},
		{"x.kml", []string{"x.kml"}},
	}
	for _, tt := range cmdTests {
		t.Run("-o "+tt.o, func(t *testing.T) {
			r := run(t, "", nil, "regeo", "--no-db", "-q", sample, "-o", tt.o)
			require.Equal(t, ExitOK, r.code, r.stderr)
			for _, f := range tt.files {
				assert.FileExists(t, filepath.Join(dir, f))
			}
		})
	}
	b, err := os.ReadFile(filepath.Join(dir, "my,map.kml"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "<kml", "the name's extension picks the writer")
	_, err = os.Stat(filepath.Join(dir, "my"))
	assert.True(t, os.IsNotExist(err), "no file named by half the value")
}
