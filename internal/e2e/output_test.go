package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// leftovers lists what a run left in dir besides the names in keep:
// temporary files of an atomic write must never stay behind.
func leftovers(t *testing.T, dir string, keep ...string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range ents {
		if !contains(keep, e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestOutputFailures: an -o that cannot be written fails the run with a
// line naming it, leaves no file and no temporary file behind, and does not
// stop the other -o files from being written whole.
func TestOutputFailures(t *testing.T) {
	sample := repoPath("testdata/sample/ntt-tokyo-ipv6-traceroute.txt")
	cases := []struct {
		name   string
		setup  func(t *testing.T, dir string) // makes what the path runs into
		output string                         // relative to the run's directory
		code   int
		keep   []string // what the directory holds afterwards
	}{
		{"missing-directory", nil, "no/such/dir/out.kml", 1, nil},
		{"parent-is-a-file", func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "file"), []byte("x"), 0o644))
		}, "file/out.kml", 1, []string{"file"}},
		{"target-is-a-directory", func(t *testing.T, dir string) {
			require.NoError(t, os.Mkdir(filepath.Join(dir, "out.kml"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "out.kml", "keep"), []byte("x"), 0o644))
		}, "out.kml", 1, []string{"out.kml"}},
		{"unknown-extension", nil, "out.xyz", 2, nil},
		{"no-extension", nil, "out", 2, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.setup != nil {
				c.setup(t, dir)
			}
			r := run(t, cmdSpec{args: []string{"regeo", "--no-db", sample, "-o", c.output}, dir: dir})
			require.Equal(t, c.code, r.code, clip(r.stderr))
			lines := errorLines(r.stderr)
			require.NotEmpty(t, lines)
			assert.Contains(t, lines[0], c.output)
			assert.Empty(t, r.stdout)
			assert.ElementsMatch(t, c.keep, leftovers(t, dir), "files left behind")
			if c.name == "target-is-a-directory" {
				b, err := os.ReadFile(filepath.Join(dir, "out.kml", "keep"))
				require.NoError(t, err)
				assert.Equal(t, "x", string(b))
			}
		})
	}

	t.Run("one-of-several-fails", func(t *testing.T) {
		dir := t.TempDir()
		r := run(t, cmdSpec{args: []string{"regeo", "--no-db", sample, "-o", "good.kml", "-o", "no/such/dir/bad.geojson", "-o", "good.csv"}, dir: dir})
		require.Equal(t, 1, r.code, clip(r.stderr))
		assert.Contains(t, r.stderr, "no/such/dir/bad.geojson")
		assert.ElementsMatch(t, []string{"good.kml"}, leftovers(t, dir, "good.csv"), "the writes before the failure stand; no temporary file")
		if xmllint, err := exec.LookPath("xmllint"); err == nil {
			tool(t, xmllint, "--noout", "--nonet", filepath.Join(dir, "good.kml"))
		}
	})
}

// TestOutputReplace: writing over an existing map replaces it whole and
// keeps its permissions; nothing else appears in the directory.
func TestOutputReplace(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "route.geojson")
	require.NoError(t, os.WriteFile(out, []byte("old"), 0o600))
	r := run(t, cmdSpec{args: []string{"regeo", "--no-db", repoPath("testdata/sample/ntt-tokyo-ipv6-traceroute.txt"), "-o", "route.geojson"}, dir: dir})
	require.Equal(t, 0, r.code, clip(r.stderr))
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.True(t, json.Valid(b))
	st, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	assert.Equal(t, []string{"route.geojson"}, leftovers(t, dir))
}

// TestInterrupt: SIGINT or SIGTERM in the middle of a batch stops it with
// exit 130 or 143 and leaves no map at all, neither a partial one nor a
// temporary file (if the batch happened to finish first, the maps are
// whole).
func TestInterrupt(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "many.jsonl")
	writeManyTraces(t, in, 6000)
	for _, sig := range []os.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			work := t.TempDir()
			r := run(t, cmdSpec{
				args: []string{"regeo", "--no-db", in, "-o", "out.kml", "-o", "out.geojson"},
				dir:  work, signal: sig, signalAfter: time.Second,
			})
			if r.code == 0 {
				t.Logf("the batch finished within %v; checking the maps are whole", time.Second)
				assert.ElementsMatch(t, []string{"out.kml", "out.geojson"}, leftovers(t, work))
				b, err := os.ReadFile(filepath.Join(work, "out.geojson"))
				require.NoError(t, err)
				assert.True(t, json.Valid(b))
				return
			}
			require.Equal(t, 128+int(sig.(syscall.Signal)), r.code, clip(r.stderr))
			assert.Contains(t, r.stderr, "interrupted")
			assert.Empty(t, leftovers(t, work), "an interrupted run leaves nothing")
		})
	}
}

// writeManyTraces writes n interchange traces of 14 hops with router names
// that carry location codes, deterministic.
func writeManyTraces(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	w := bufio.NewWriter(f)
	codes := []string{"fra", "lhr", "ams", "cdg", "osl", "arn", "nrt", "iad", "sjc", "sin"}
	for i := range n {
		fmt.Fprintf(w, `{"format":"geoloc","destination":{"addr":"203.0.113.%d"},"hops":[`, i%250+1)
		for h := 1; h <= 14; h++ {
			if h > 1 {
				w.WriteString(",")
			}
			a := (i*14 + h) % 60000
			fmt.Fprintf(w, `{"ttl":%d,"probes":[{"addr":"%d.%d.%d.1","name":"ae%d.cr1.%s%d.example.net","rtt_ms":%.3f}]}`,
				h, 11+a/65536%200, a/256%256, a%256, h, codes[(i+h)%len(codes)], h%4+1, float64(h)*2.5+float64(i%7)/10)
		}
		w.WriteString("]}\n")
	}
	require.NoError(t, w.Flush())
}

// TestInterruptIdlePipe is issue 16 item 3 as users meet it: `parse -`,
// `regeo -`, `hints -`, `report -` reading a pipe whose writer has gone
// quiet used to ignore SIGINT and SIGTERM. They stop, exit 130 or 143,
// and print one line saying so.
func TestInterruptIdlePipe(t *testing.T) {
	for _, tc := range []struct {
		args []string
		sig  syscall.Signal
	}{
		{[]string{"parse", "-"}, syscall.SIGINT},
		{[]string{"regeo", "--no-db", "-", "-o", "route.kml"}, syscall.SIGTERM},
		{[]string{"hints", "-"}, syscall.SIGINT},
		{[]string{"report", "-"}, syscall.SIGTERM},
	} {
		t.Run(tc.args[0]+"/"+tc.sig.String(), func(t *testing.T) {
			r, w, err := os.Pipe()
			require.NoError(t, err)
			defer r.Close()
			defer w.Close() // open for the whole run: the pipe is idle, not at its end
			_, err = w.WriteString("traceroute to example.org (203.0.113.9), 30 hops max\n 1  192.0.2.1  0.5 ms\n")
			require.NoError(t, err)
			work := t.TempDir()
			start := time.Now()
			// The signal must find the command waiting on the pipe, not
			// still starting: under -race on a loaded machine start-up
			// alone passed 500 ms, and a signal before the handler is
			// installed kills with the default action (exit -1).
			const after = 2 * time.Second
			res := run(t, cmdSpec{args: tc.args, stdin: r, dir: work, signal: tc.sig, signalAfter: after})
			t.Logf("%v: exit %d %v after start (signal at %v)", tc.args, res.code, time.Since(start).Round(time.Millisecond), after)
			assert.Equal(t, 128+int(tc.sig), res.code, clip(res.stderr))
			assert.Contains(t, res.stderr, "geoloc "+tc.args[0]+": interrupted")
			assert.Empty(t, leftovers(t, work), "no -o file, no temporary file")
		})
	}
}
