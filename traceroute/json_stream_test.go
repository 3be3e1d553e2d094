package traceroute

import (
	"bufio"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type jsValue struct {
	val  string
	line int
	err  string
}

func jsSplit(t *testing.T, in string, bufSize int) []jsValue {
	t.Helper()
	js := newJSONStream(bufio.NewReaderSize(strings.NewReader(in), bufSize))
	var out []jsValue
	for range 1000 {
		val, line, err := js.next()
		if errors.Is(err, io.EOF) {
			return out
		}
		v := jsValue{val: string(val), line: line}
		if err != nil {
			v.err = err.Error()
		}
		out = append(out, v)
	}
	t.Fatal("stream does not end")
	return nil
}

func TestJSONStreamSplit(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []jsValue
	}{
		{"jsonl", "{\"a\":1}\n{\"b\":2}\n", []jsValue{{`{"a":1}`, 1, ""}, {`{"b":2}`, 2, ""}}},
		{"crlf and blank lines", "{\"a\":1}\r\n\r\n\r\n{\"b\":2}\r\n", []jsValue{{`{"a":1}`, 1, ""}, {`{"b":2}`, 4, ""}}},
		{"concatenated on one line", `{"a":1}{"b":2} {"c":3}`, []jsValue{{`{"a":1}`, 1, ""}, {`{"b":2}`, 1, ""}, {`{"c":3}`, 1, ""}}},
		{"pretty printed", "{\n  \"a\": [1,\n 2],\n  \"s\": \"}{][\"\n}\n{\"b\":2}", []jsValue{{"{\n  \"a\": [1,\n 2],\n  \"s\": \"}{][\"\n}", 1, ""}, {`{"b":2}`, 6, ""}}},
		{"array", "[\n{\"a\":1},\n{\"b\":[2]}\n]\n", []jsValue{{`{"a":1}`, 2, ""}, {`{"b":[2]}`, 3, ""}}},
		{"arrays appended", `[{"a":1}][{"b":2}]`, []jsValue{{`{"a":1}`, 1, ""}, {`{"b":2}`, 1, ""}}},
		{"escaped quotes", `{"s":"a\"}\\"}` + "\n" + `{"t":1}`, []jsValue{{`{"s":"a\"}\\"}`, 1, ""}, {`{"t":1}`, 2, ""}}},
		{"garbage line resyncs", "{\"a\":1}\nnot json {\"x\":1}\n{\"b\":2}\n", []jsValue{{`{"a":1}`, 1, ""}, {"", 2, "unexpected 'n' where a JSON object should start"}, {`{"b":2}`, 3, ""}}},
		{"raw newline in string", "{\"a\":\"x\ny\"}\n{\"b\":2}\n", []jsValue{{"", 1, "unterminated string (raw newline inside a JSON string)"}, {`{"b":2}`, 3, ""}}},
		{"garbage after a good value", "{\"a\":1}\n}\n", []jsValue{{`{"a":1}`, 1, ""}, {"", 2, "unexpected '}' where a JSON object should start"}}},
		{"truncated", "{\"a\":1}\n{\"b\":[2,", []jsValue{{`{"a":1}`, 1, ""}, {"", 2, "unexpected end of input inside a JSON value"}}},
		{"unterminated array", "[{\"a\":1},", []jsValue{{`{"a":1}`, 1, ""}, {"", 1, "unexpected end of input: unterminated array"}}},
		{"stray bracket", "]\n{\"a\":1}", []jsValue{{"", 1, "unexpected ']' outside an array"}, {`{"a":1}`, 2, ""}}},
	}
	for _, tc := range tests {
		for _, size := range []int{16, 4096} { // 16: values span many reads
			t.Run(tc.name+"/buf="+strconv.Itoa(size), func(t *testing.T) {
				assert.Equal(t, tc.want, jsSplit(t, tc.in, size))
			})
		}
	}
}

func TestJSONFastFloatMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	cases := []string{"0", "-0", "1", "0.1", "2.783", "123456789012345", "0.000000000000001", "99999.99999", "3011.8739999999998", "-12.5"}
	for range 100000 {
		digits := 1 + r.IntN(15)
		var b []byte
		if r.IntN(4) == 0 {
			b = append(b, '-')
		}
		dot := r.IntN(digits + 1)
		for i := range digits {
			if i == dot && i > 0 {
				b = append(b, '.')
			}
			b = append(b, byte('0'+r.IntN(10)))
		}
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		want, err := strconv.ParseFloat(c, 64)
		require.NoError(t, err, c)
		s := jscan{b: []byte(c)}
		got := s.num()
		require.NoError(t, s.err, c)
		require.Equal(t, want, got, c) // bit-exact, as strconv
	}
}

func TestJSONScanErrors(t *testing.T) {
	for _, in := range []string{`{"a":}`, `{"a" 1}`, `{"a":1,}x`, `{"a":"\q"}`, `{"a":"\ud800`, `{"a":1e999}`, `{"a":tru}`, "{\"a\":\"\x01\"}"} {
		s := jscan{b: []byte(in)}
		if s.enter('{') {
			first := true
			for s.more('}', &first) {
				s.key()
				s.skip()
			}
			s.end()
		}
		assert.Error(t, s.err, in)
	}
	s := jscan{b: []byte(`"a\"b\\c\/\u00e9\ud83d\ude00\n"`)}
	assert.Equal(t, "a\"b\\c/é😀\n", string(s.str()))
	assert.NoError(t, s.err)
}

func TestJSONParseAddrBytes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"}, {"0.0.0.0", "0.0.0.0"}, {"255.255.255.255", "255.255.255.255"},
		{"::ffff:192.0.2.1", "192.0.2.1"}, {"fe80::1%eth0", "fe80::1"}, {"2001:db8::1", "2001:db8::1"},
	} {
		a, err := parseAddrBytes([]byte(tc.in))
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, a.String())
	}
	for _, in := range []string{"", "256.0.0.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1..2.3", "x", "1.2.3.4 "} {
		_, err := parseAddrBytes([]byte(in))
		assert.Error(t, err, in)
	}
}

// TestJSONReadMemoryBounded streams 48 MB of generated RIPE Atlas results
// and checks that the heap stays far below the input size (the benchmark
// BenchmarkReadRIPEAtlasStreamMemory measures 100 MB to 1 GB).
func TestJSONReadMemoryBounded(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("streams 48 MB: skipped with -short and under the race detector")
	}
	for _, array := range []bool{false, true} {
		peak, n := streamPeakHeap(t, newAtlasGen(48<<20, array))
		t.Logf("array=%v: %d traces, peak heap in use %.1f MB", array, n, float64(peak)/(1<<20))
		assert.Greater(t, n, 10000)
		assert.Less(t, peak, uint64(24<<20), "heap grows with the input")
	}
}
