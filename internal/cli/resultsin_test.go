package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goodResult is one result as regeo writes it, on one line, without its
// newline. It runs from the module root.
func goodResult(tb testing.TB) string {
	tb.Helper()
	wd, err := os.Getwd()
	require.NoError(tb, err)
	if _, err := os.Stat(sample); err != nil {
		tb.Chdir(filepath.Join(wd, "..", ".."))
	}
	var out, errb bytes.Buffer
	code := Run(context.Background(), []string{"regeo", sample, "--no-db", "-q"}, strings.NewReader(""), &out, &errb, func(string) string { return "" })
	require.Equal(tb, ExitOK, code, errb.String())
	return strings.TrimSpace(out.String())
}

// TestResultArray: a JSON array of results is read an element at a time; a
// bad element is one error naming its line and index and the good ones
// still count; a broken array (cut short, a syntax error, an element over
// the cap, data after it) is one error naming the line where it broke.
func TestResultArray(t *testing.T) {
	good := goodResult(t)
	// arr lays elements out as -o x.json does: one a line, from line 2.
	arr := func(elems ...string) string { return "[\n  " + strings.Join(elems, ",\n  ") + "\n]\n" }
	tests := []struct {
		name    string
		in      string
		max     int // 0: maxResultLineBytes
		results int
		errs    []string // one line each, in order
	}{
		{name: "good", in: arr(good, good, good), results: 3},
		{name: "compact", in: "[" + good + "," + good + "]", results: 2},
		{name: "empty", in: "[]", results: 0},
		{name: "empty-spaced", in: " \n[\n]\n\n", results: 0},
		{name: "wrong element types", in: arr("1", `"x"`, good, "[]", "null", `{"hops": 3}`, good), results: 2, errs: []string{
			"in:2: results: json: cannot unmarshal number into Go value of type geoloc.TraceResult (element 1 of the array; skipped)",
			"in:3: results: json: cannot unmarshal string into Go value of type geoloc.TraceResult (element 2 of the array; skipped)",
			"in:5: results: json: cannot unmarshal array into Go value of type geoloc.TraceResult (element 4 of the array; skipped)",
			`in:6: results: no "hops": not a geoloc result (element 5 of the array; skipped)`,
			"in:7: results: json: cannot unmarshal number into Go struct field TraceResult.hops of type []geoloc.HopResult (element 6 of the array; skipped)",
		}},
		{name: "impossible result", in: arr(good, `{"hops": [{"ttl": 1, "confidence": 7}]}`, good), results: 2, errs: []string{
			"in:3: results: hops[0]: confidence 7 outside [0, 1] (element 2 of the array, not as geoloc writes it; skipped)",
		}},
		{name: "cut in an element", in: arr(good, good)[:len(arr(good, good))/2+len(good)/2], results: 1, errs: []string{
			"in:3: results: the array is cut short in element 2",
		}},
		{name: "cut after a comma", in: "[\n  " + good + ",\n  ", results: 1, errs: []string{
			"in:3: results: the array is cut short in element 2",
		}},
		{name: "no closing bracket", in: "[\n  " + good + "\n", results: 1, errs: []string{
			"in:3: results: the array is cut short: no closing ']'",
		}},
		{name: "only the bracket", in: "[", results: 0, errs: []string{
			"in:1: results: the array is cut short: no closing ']'",
		}},
		{name: "trailing garbage", in: arr(good, good) + "\n garbage", results: 2, errs: []string{
			"in:6: results: data after the array's closing ']'",
		}},
		{name: "a second array", in: "[" + good + "][" + good + "]", results: 1, errs: []string{
			"in:1: results: data after the array's closing ']'",
		}},
		{name: "trailing string, long", in: arr(good) + `"` + strings.Repeat("x", 1<<20), results: 1, errs: []string{
			"in:4: results: data after the array's closing ']'",
		}},
		{name: "missing comma", in: "[\n  " + good + "\n  " + good + "\n]", results: 1, errs: []string{
			"in:3: results: element 2 of the array: expected comma after array element; the rest of the array is unreadable",
		}},
		{name: "syntax error in an element", in: arr(good, `{"hops": [}`, good), results: 1, errs: []string{
			"in:3: results: element 2 of the array: invalid character '}' looking for beginning of value; the rest of the array is unreadable",
		}},
		{name: "closed by a brace", in: "[\n" + good + "\n}", results: 1, errs: []string{
			"in:3: results: invalid character '}' after array element",
		}},
		{name: "element over the cap", in: arr(good, `{"hops": [], "x": "`+strings.Repeat("x", 2*len(good))+`"}`, good), max: len(good) + 16, results: 1, errs: []string{
			"in:3: results: element 2 of the array is over 0 MB; the rest of the array is unreadable (write JSON Lines, -o x.jsonl, for results this size)",
		}},
		{name: "elements at the cap", in: arr(good, good, good), max: len(good) + 16, results: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			max := tt.max
			if max == 0 {
				max = maxResultLineBytes
			}
			var errb strings.Builder
			rs, bad := readResults(strings.NewReader(tt.in), "in", &errb, max)
			assert.Len(t, rs, tt.results)
			assert.Equal(t, len(tt.errs), bad)
			var lines []string
			if s := strings.TrimSuffix(errb.String(), "\n"); s != "" {
				lines = strings.Split(s, "\n")
			}
			assert.Equal(t, tt.errs, lines)
		})
	}
}

// arrayReader is a JSON array of n copies of elem, made as it is read:
// the test's input takes no memory of its own.
type arrayReader struct {
	elem []byte
	n    int // elements still to give
	buf  []byte
	done bool
}

func newArrayReader(elem string, n int) *arrayReader {
	return &arrayReader{elem: []byte(",\n  " + elem), n: n, buf: []byte("[\n  " + elem)}
}

func (r *arrayReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		switch {
		case r.n > 1:
			r.n--
			r.buf = r.elem
		case !r.done:
			r.done = true
			r.buf = []byte("\n]\n")
		default:
			return 0, io.EOF
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// TestResultArrayMemory: memory while reading an array is that of an
// element, not of the array: the live heap, sampled as 16 MB of results
// go by, stays within a few MB of where it started.
func TestResultArrayMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 16 MB")
	}
	good := goodResult(t)
	n := (16 << 20) / len(good)
	live := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := live()
	most, got := uint64(0), 0
	for tr, err := range resultSeq(newArrayReader(good, n), "big.json", maxResultLineBytes) {
		require.NoError(t, err)
		require.NotNil(t, tr)
		if got++; got%(n/16) == 0 {
			most = max(most, live())
		}
	}
	assert.Equal(t, n, got)
	grew := int64(most) - int64(base)
	t.Logf("%d elements, %d MB; live heap grew at most %d KB", n, (n*len(good))>>20, grew>>10)
	assert.Less(t, grew, int64(4<<20), "the live heap holds an element or two, not the array")
}

// BenchmarkResultArray reads an array of results element by element;
// B/op is per array of 1,000 results.
func BenchmarkResultArray(b *testing.B) {
	good := goodResult(b)
	const n = 1000
	b.SetBytes(int64(n * (len(good) + 4)))
	b.ReportAllocs()
	for b.Loop() {
		got := 0
		for _, err := range resultSeq(newArrayReader(good, n), "big.json", maxResultLineBytes) {
			if err != nil {
				b.Fatal(err)
			}
			got++
		}
		if got != n {
			b.Fatal(fmt.Sprint(got, " results"))
		}
	}
}

// FuzzResultSeq: whatever the input, results come without a panic or a
// hang, and each error is one line naming the input and a line it has.
func FuzzResultSeq(f *testing.F) {
	f.Add([]byte(`[{"hops":[{"ttl":1}]}, 1, {"hops":[}]`), 64)
	f.Add([]byte("[\n{\"hops\":[]}\n] x"), 8)
	f.Add([]byte("{\"hops\":[]}\n{\"hops\""), 1024)
	f.Add([]byte("[\"\\u00"), 3)
	line := regexp.MustCompile(`^in:(\d+): results: [^\n]+$`)
	f.Fuzz(func(t *testing.T, in []byte, maxRecord int) {
		maxRecord = 1 + abs(maxRecord)%4096
		for tr, err := range resultSeq(bytes.NewReader(in), "in", maxRecord) {
			if err == nil {
				require.NotNil(t, tr)
				continue
			}
			m := line.FindStringSubmatch(err.Error())
			require.NotNil(t, m, "%q", err.Error())
			n, _ := strconv.Atoi(m[1])
			require.True(t, n >= 1 && n <= 1+bytes.Count(in, []byte("\n")), "line %d of %q", n, in)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
