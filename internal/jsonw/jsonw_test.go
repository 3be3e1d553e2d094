package jsonw

import (
	"bytes"
	"encoding/json"
	"math"
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
