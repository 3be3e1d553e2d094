package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/internal/atlasgen"
)

// atlasBatch streams n lines of RIPE Atlas JSON Lines: atlasgen's records
// (their timestamps rise one record to the next) with a bad line of each
// kind in turn every `every` lines. It keeps the bad lines' numbers and the
// good records' timestamps.
type atlasBatch struct {
	gen            *atlasgen.Reader
	n, every, line int
	overlong       int
	buf            []byte
	off            int
	badLines       []int
	goodTimes      []int64
}

var badLines = []func(good []byte) []byte{
	func(good []byte) []byte { return good[:len(good)/2] }, // truncated
	func([]byte) []byte { return []byte("\x00\x01\xff\xfePK\x03\x04\x1f\x8b\x08garbage\x7f") },
	func([]byte) []byte { // over the 8 MiB record cap
		return []byte(`{"fw":5080,"type":"traceroute","result":[],"x":"` + strings.Repeat("y", 9<<20) + `"}`)
	},
	func(good []byte) []byte {
		return bytes.Replace(good, []byte(`"rtt":`), []byte(`"rtt":1e308,"was":`), 1)
	},
	func(good []byte) []byte {
		return bytes.Replace(good, []byte(`"rtt":`), []byte(`"rtt":1e999,"was":`), 1)
	},
	func(good []byte) []byte { return bytes.Replace(good, []byte(`"rtt":`), []byte(`"rtt":NaN,"was":`), 1) },
	func(good []byte) []byte {
		return bytes.Replace(good, []byte(`"rtt":`), []byte(`"rtt":-Infinity,"was":`), 1)
	},
}

func (b *atlasBatch) Read(p []byte) (int, error) {
	if b.off == len(b.buf) {
		if b.line == b.n {
			return 0, io.EOF
		}
		b.line++
		b.buf, b.off = b.gen.Record(b.buf[:0]), 0
		if b.line%b.every == 0 {
			k := (b.line / b.every) % len(badLines)
			if k == 2 {
				if b.overlong++; b.overlong > 3 {
					k = 0
				}
			}
			b.buf = append(badLines[k](b.buf), '\n')
			b.badLines = append(b.badLines, b.line)
		} else {
			i := bytes.Index(b.buf, []byte(`"timestamp":`))
			var ts int64
			_, _ = fmt.Sscanf(string(b.buf[i+len(`"timestamp":`):]), "%d", &ts)
			b.goodTimes = append(b.goodTimes, ts)
			b.buf = append(b.buf, '\n')
		}
	}
	n := copy(p, b.buf[b.off:])
	b.off += n
	return n, nil
}

// TestBatchIntegrity is issue 16's batch test at the command line: `geoloc
// parse` of 50,000 RIPE Atlas records on stdin, bad records of every kind
// sprinkled in, writes exactly one trace per good record, in order, prints
// one -:LINE error per bad one and exits 1.
func TestBatchIntegrity(t *testing.T) {
	n := 50000
	if testing.Short() {
		n = 5000
	}
	b := &atlasBatch{gen: atlasgen.New(0, false), n: n, every: 101}
	dir := t.TempDir()
	out := filepath.Join(dir, "traces.jsonl")
	r := run(t, cmdSpec{args: []string{"parse", "-o", out, "-"}, stdin: b, dir: dir})
	assert.Equal(t, 1, r.code, "some records failed: exit 1\n%s", clip(r.stderr))

	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	i := 0
	for sc.Scan() {
		require.Less(t, i, len(b.goodTimes), "more traces than good records")
		line := sc.Bytes()
		j := bytes.Index(line, []byte(`"started":"`))
		require.GreaterOrEqual(t, j, 0, "trace %d has its start", i+1)
		rest := line[j+len(`"started":"`):]
		ts, err := time.Parse(time.RFC3339, string(rest[:bytes.IndexByte(rest, '"')]))
		require.NoError(t, err)
		require.Equal(t, b.goodTimes[i], ts.Unix(), "trace %d out of order or not the good record's", i+1)
		i++
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, len(b.goodTimes), i, "one trace per good record")

	var errLines []int
	for l := range strings.Lines(r.stderr) {
		var line int
		if _, err := fmt.Sscanf(l, "-:%d: ", &line); err == nil {
			errLines = append(errLines, line)
		}
	}
	assert.Equal(t, b.badLines, errLines, "one error per bad record, on its line")
	assert.Contains(t, r.stderr, fmt.Sprintf("%d traces read, %d failed\n", len(b.goodTimes), len(b.badLines)))
}
