package e2e

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStdinAndCompressed: every corpus file reads the same through a file
// name, through standard input (`-`), gzipped and bzip2ed (detected from
// the content, as the parse help promises), as a file or on stdin.
func TestStdinAndCompressed(t *testing.T) {
	dir := t.TempDir()
	files := corpusFiles(t, dir)
	bzip2, bzErr := exec.LookPath("bzip2")
	for i, p := range files {
		raw, err := os.ReadFile(p)
		require.NoError(t, err)
		name := filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			want := geoloc(t, "parse", "-q", p)
			require.Equal(t, 0, want.code, clip(want.stderr))
			require.NotEmpty(t, want.stdout)

			got := run(t, cmdSpec{args: []string{"parse", "-q", "-"}, stdin: bytes.NewReader(raw)})
			require.Equal(t, 0, got.code, clip(got.stderr))
			assert.Equal(t, want.stdout, got.stdout, "stdin")

			// Compressed copies: a sample of the files keeps the test short.
			if i%4 != 0 {
				return
			}
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			_, err := zw.Write(raw)
			require.NoError(t, err)
			require.NoError(t, zw.Close())
			gzPath := writeInput(t, t.TempDir(), name+".gz", gz.Bytes())
			got = geoloc(t, "parse", "-q", gzPath)
			require.Equal(t, 0, got.code, clip(got.stderr))
			assert.Equal(t, want.stdout, got.stdout, "gzip file")
			got = run(t, cmdSpec{args: []string{"parse", "-q", "-"}, stdin: bytes.NewReader(gz.Bytes())})
			require.Equal(t, 0, got.code, clip(got.stderr))
			assert.Equal(t, want.stdout, got.stdout, "gzip on stdin")

			if bzErr != nil {
				return
			}
			cmd := exec.Command(bzip2, "-c")
			cmd.Stdin = bytes.NewReader(raw)
			bz, err := cmd.Output()
			require.NoError(t, err)
			bzPath := writeInput(t, t.TempDir(), name+".bz2", bz)
			got = geoloc(t, "parse", "-q", bzPath)
			require.Equal(t, 0, got.code, clip(got.stderr))
			assert.Equal(t, want.stdout, got.stdout, "bzip2 file")
		})
	}
}

// TestStdinInBatch: `-` among file names is read in its place, for parse,
// regeo and report; har --list reads a HAR from stdin.
func TestStdinInBatch(t *testing.T) {
	sample := repoPath("testdata/sample/ntt-tokyo-ipv6-traceroute.txt")
	atlas := atlasResults(t, t.TempDir())
	raw, err := os.ReadFile(sample)
	require.NoError(t, err)

	r := run(t, cmdSpec{args: []string{"parse", atlas, "-", atlas}, stdin: bytes.NewReader(raw)})
	require.Equal(t, 0, r.code, clip(r.stderr))
	lines := nonEmptyLines(r.stdout)
	require.Len(t, lines, 19+1+19)
	assert.Contains(t, lines[19], `"format":"linux-traceroute"`, "stdin's trace comes where - stands")

	res := run(t, cmdSpec{args: []string{"regeo", "--no-db", "-", atlas}, stdin: bytes.NewReader(raw)})
	require.Equal(t, 0, res.code, clip(res.stderr))
	require.Len(t, nonEmptyLines(res.stdout), 20)
	rep := run(t, cmdSpec{args: []string{"report", "--format", "json", "-"}, stdin: strings.NewReader(res.stdout)})
	require.Equal(t, 0, rep.code, clip(rep.stderr))
	assert.Contains(t, rep.stderr, "20 traces summarised, 0 failed")

	har, err := os.ReadFile(repoPath("testdata/har/www.etat.lu-chrome-har-2018.har"))
	require.NoError(t, err)
	h := run(t, cmdSpec{args: []string{"har", "--list", "-"}, stdin: bytes.NewReader(har)})
	require.Equal(t, 0, h.code, clip(h.stderr))
	assert.Len(t, nonEmptyLines(h.stdout), 3)
}
