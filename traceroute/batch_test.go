package traceroute

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/internal/atlasgen"
)

// badAtlasRecords are the bad records of every kind a batch may hold, each
// one line: each must give exactly one error naming its line, and cost no
// good record around it.
var badAtlasRecords = []struct {
	kind string
	line func(good []byte) []byte
}{
	{"truncated", func(good []byte) []byte { return good[:len(good)/2] }},
	{"binary", func([]byte) []byte {
		return []byte("\x00\x01\x02\xff\xfe\x80PK\x03\x04\x1f\x8b\x08\x00garbage\x7f\x00")
	}},
	{"over-long", func([]byte) []byte {
		// Past the 8 MiB record cap, well short of the 16 MiB at which a
		// reader gives up looking for the line end.
		return []byte(`{"fw":5080,"type":"traceroute","result":[],"x":"` + strings.Repeat("y", 9<<20) + `"}`)
	}},
	{"rtt-1e308", func(good []byte) []byte {
		return bytes.Replace(good, []byte(`"rtt":`), []byte(`"rtt":1e308,"was":`), 1)
	}},
	{"rtt-1e999", func(good []byte) []byte {
		return bytes.Replace(good, []byte(`"rtt":`), []byte(`"rtt":1e999,"was":`), 1)
	}},
	{"rtt-NaN", func(good []byte) []byte { return bytes.Replace(good, []byte(`"rtt":`), []byte(`"rtt":NaN,"was":`), 1) }},
	{"rtt-Infinity", func(good []byte) []byte {
		return bytes.Replace(good, []byte(`"rtt":`), []byte(`"rtt":-Infinity,"was":`), 1)
	}},
	{"not-json", func([]byte) []byte { return []byte("this is not a record") }},
	{"wrong-shape", func([]byte) []byte { return []byte(`{"fw":5080,"type":"traceroute","result":"nope"}`) }},
}

// atlasBatch makes n records of RIPE Atlas JSON Lines on the fly: good
// ones from atlasgen (their timestamps rise one record to the next) with a
// bad one of each kind in turn every `every` lines, the over-long kind
// only a few times. It records the lines of the bad ones and the
// timestamps of the good ones.
type atlasBatch struct {
	gen            *atlasgen.Reader
	n, every, line int
	overlong       int
	buf            []byte
	off            int
	badLines       []int
	badKinds       []string
	goodTimes      []int64
}

func (b *atlasBatch) Read(p []byte) (int, error) {
	if b.off == len(b.buf) {
		if b.line == b.n {
			return 0, io.EOF
		}
		b.line++
		b.buf, b.off = b.gen.Record(b.buf[:0]), 0
		if b.line%b.every == 0 {
			k := badAtlasRecords[(b.line/b.every)%len(badAtlasRecords)]
			if k.kind == "over-long" && b.overlong >= 3 {
				k = badAtlasRecords[0]
			}
			if k.kind == "over-long" {
				b.overlong++
			}
			b.buf = append(k.line(b.buf), '\n')
			b.badLines = append(b.badLines, b.line)
			b.badKinds = append(b.badKinds, k.kind)
		} else {
			b.goodTimes = append(b.goodTimes, atlasTimestamp(b.buf))
			b.buf = append(b.buf, '\n')
		}
	}
	n := copy(p, b.buf[b.off:])
	b.off += n
	return n, nil
}

func atlasTimestamp(rec []byte) int64 {
	i := bytes.Index(rec, []byte(`"timestamp":`))
	var ts int64
	if i >= 0 {
		_, _ = fmt.Sscanf(string(rec[i+len(`"timestamp":`):]), "%d", &ts)
	}
	return ts
}

// TestHostileBatchIntegrity is issue 16's batch test: 50,000 RIPE Atlas
// records with bad records of every kind sprinkled in give exactly one
// trace per good record, in order, and one INPUT:LINE error per bad one.
// Under -race (ten times slower) or -short it reads 10,000; CI runs it in
// full without -race (.ci/run: go test -run '^TestHostile').
func TestHostileBatchIntegrity(t *testing.T) {
	n := 50000
	if raceEnabled || testing.Short() {
		n = 10000
	}
	b := &atlasBatch{gen: atlasgen.New(0, false), n: n, every: 97}
	var traces, errs int
	var errLines []int
	var msgs []string
	for tr, err := range Read(b, ReadOptions{Input: "batch.jsonl"}) {
		if err != nil {
			var pe *ParseError
			require.True(t, errors.As(err, &pe), "%v", err)
			require.NotErrorIs(t, err, ErrUnknownFormat)
			errLines = append(errLines, pe.Line)
			msgs = append(msgs, err.Error())
			errs++
			continue
		}
		require.Less(t, traces, len(b.goodTimes), "more traces than good records")
		require.Equal(t, b.goodTimes[traces], tr.Started.Unix(), "trace %d out of order or not the good record's", traces)
		traces++
	}
	assert.Equal(t, len(b.goodTimes), traces, "one trace per good record")
	assert.Equal(t, b.badLines, errLines, "one error per bad record, on its line")
	kinds := map[string]bool{}
	for i, m := range msgs {
		assert.True(t, strings.HasPrefix(m, fmt.Sprintf("batch.jsonl:%d: ", b.badLines[i])), "%s (a %s record)", m, b.badKinds[i])
		assert.Less(t, len(m), 400, "one short line: %.200s", m)
		assert.NotContains(t, m, "\n")
		kinds[b.badKinds[i]] = true
	}
	assert.Len(t, kinds, len(badAtlasRecords), "every kind of bad record played")
	t.Logf("%d lines: %d traces, %d errors", n, traces, errs)
	for i := range min(len(msgs), len(badAtlasRecords)) {
		t.Logf("%s: %.160s", b.badKinds[i], msgs[i])
	}
}
