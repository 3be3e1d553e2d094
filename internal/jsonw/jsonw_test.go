package jsonw

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func stdString(t testing.TB, s string, html bool) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	require.NoError(t, enc.Encode(s))
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func TestString(t *testing.T) {
	for _, s := range []string{"", "plain", "a\"b\\c", "\b\f\n\r\t\x00\x01\x1f\x7f", "<a href='x'>&amp;</a>", "\u2028\u2029", "\xff\xfe\xc3", "é 日本 🙂", "ab\xed\xa0\x80cd"} {
		for _, html := range []bool{false, true} {
			assert.Equal(t, stdString(t, s, html), string(String(nil, s, html)), "%q html=%v", s, html)
		}
	}
}

// TestStringEveryBytePlace puts every byte value at every place of a string
// longer than two words of plain text, so that each lands in each lane of
// the eight-byte test and in the byte-by-byte tail.
func TestStringEveryBytePlace(t *testing.T) {
	const text = "abcdefghijklmnopqrstu" // 21 bytes
	for c := range 256 {
		for i := range len(text) {
			s := text[:i] + string([]byte{byte(c)}) + text[i+1:]
			for _, html := range []bool{false, true} {
				require.Equal(t, stdString(t, s, html), string(String(nil, s, html)), "%q html=%v", s, html)
			}
		}
	}
}

func TestFloat(t *testing.T) {
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1.5, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, -1e21, 123456789.123, math.MaxFloat64, math.SmallestNonzeroFloat64, 5e-324, 1e-10} {
		want, err := json.Marshal(f)
		require.NoError(t, err)
		got, ok := Float([]byte("x"), f)
		require.True(t, ok)
		assert.Equal(t, "x"+string(want), string(got), "%v", f)
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		got, ok := Float([]byte("x"), f)
		assert.False(t, ok)
		assert.Equal(t, "x", string(got))
	}
}

// TestFloatShortDecimals holds the short-decimal path to encoding/json:
// decimals of every place count up to and past its six, around powers of
// ten, leading zeros after the point, and values of more digits, which
// take strconv's path.
func TestFloatShortDecimals(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	vals := []float64{0.05, 0.001, 0.000001, 0.0000015, 1.0001, 10.5, 99.99, 100, 1e8, 999999999, 1e9, 123456.123456, 0.1 + 0.2, 1.0 / 3, 52.5200, -0.1276, 25, 147, 0.303}
	for d := range 9 {
		for range 3000 {
			k := rng.Int64N(1e10)
			v := float64(k) / math.Pow(10, float64(d))
			vals = append(vals, v, -v, math.Nextafter(v, 0), math.Nextafter(v, 1e300))
		}
	}
	for range 20000 {
		vals = append(vals, rng.Float64()*1000, math.Round(rng.Float64()*1e7)/1e4)
	}
	for _, f := range vals {
		want, err := json.Marshal(f)
		require.NoError(t, err)
		got, ok := Float(nil, f)
		require.True(t, ok)
		require.Equal(t, string(want), string(got), "%v (%b)", f, math.Float64bits(f))
	}
}

func TestKey(t *testing.T) {
	b := Key([]byte("{"), "a")
	b = append(b, '1')
	b = Key(b, "b")
	b = append(b, "{}"...)
	assert.Equal(t, `{"a":1,"b":{}`, string(b))
}

func FuzzString(f *testing.F) {
	f.Add("<\u2028\xff\"\\\x01")
	f.Fuzz(func(t *testing.T, s string) {
		for _, html := range []bool{false, true} {
			require.Equal(t, stdString(t, s, html), string(String(nil, s, html)))
		}
	})
}

func FuzzFloat(f *testing.F) {
	f.Add(1.5)
	f.Add(1e-7)
	f.Add(52.52)
	f.Add(0.000105)
	f.Fuzz(func(t *testing.T, v float64) {
		want, err := json.Marshal(v)
		got, ok := Float(nil, v)
		if err != nil {
			require.False(t, ok)
			return
		}
		require.True(t, ok)
		require.Equal(t, string(want), string(got))
	})
}

// TestHasByte checks the eight-byte test against the bytes one by one:
// every byte value sought, in every lane, among every other value.
func TestHasByte(t *testing.T) {
	for c := range 256 {
		for lane := range 8 {
			for other := range 256 {
				if other == c {
					continue
				}
				var w uint64
				for i := range 8 {
					b := uint64(other)
					if i == lane {
						b = uint64(c)
					}
					w |= b << (8 * i)
				}
				require.True(t, HasByte(w, byte(c)), "%#x in %#x", c, w)
				if absent := other ^ 1; absent != c {
					require.False(t, HasByte(w, byte(absent)), "%#x not in %#x", absent, w)
				}
			}
		}
	}
}
