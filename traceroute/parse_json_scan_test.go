package traceroute

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// strRef is jscan.str as the plain byte loop it was: the reference the
// word-at-a-time scan is held to.
func (s *jscan) strRef() []byte {
	if !s.enter('"') {
		return nil
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			if !utf8.Valid(v) {
				return s.validUTF8(v)
			}
			return v
		case c == '\\':
			return s.strEscaped(start)
		case c < 0x20:
			s.fail("control character in string")
			return nil
		}
		s.i++
	}
	s.fail("unterminated string")
	return nil
}

// checkStr requires str and strRef to agree on b: value, position after,
// and error (message and offset).
func checkStr(t *testing.T, b []byte) {
	t.Helper()
	var got, want jscan
	got.reset(b)
	want.reset(b)
	g := string(got.str())
	w := string(want.strRef())
	require.Equal(t, w, g, "%q", b)
	require.Equal(t, want.i, got.i, "%q: position after", b)
	require.Equal(t, want.err, got.err, "%q: error", b)
}

// TestStrWords puts every byte value at every place of strings longer than
// two words, closed and unclosed, and random strings of plain, escaped,
// multi-byte and invalid bytes.
func TestStrWords(t *testing.T) {
	const text = "abcdefghijklmnopqrstu"
	for c := range 256 {
		for i := range len(text) {
			s := text[:i] + string([]byte{byte(c)}) + text[i+1:]
			checkStr(t, []byte(`"`+s+`"`))
			checkStr(t, []byte(`"`+s+`", "x"`))
			checkStr(t, []byte(`"`+s))
		}
	}
	rng := rand.New(rand.NewPCG(9, 9))
	pieces := []string{"a", "hop", " ", "é", "日本", "\xff", "\xc3", `\"`, `\\`, `\n`, `\u00e9`, `\ud83d\ude00`, `\ud83d`, "\x01", `\x`, "12345678"}
	for range 20000 {
		s := `"`
		for range rng.IntN(12) {
			s += pieces[rng.IntN(len(pieces))]
		}
		if rng.IntN(5) > 0 {
			s += `"`
		}
		checkStr(t, []byte(s))
	}
}

func FuzzStr(f *testing.F) {
	f.Add([]byte(`"hop.example.net"`))
	f.Add([]byte("\"caf\xc3\xa9 \\u00e9\""))
	f.Add([]byte(`"unterminated`))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkStr(t, b)
	})
}

// TestQuoteOrEscape checks the eight-byte test against the bytes one by
// one: every byte value in every lane, among plain and other bytes.
func TestQuoteOrEscape(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	for c := range 256 {
		for lane := range 8 {
			for range 20 {
				var b [8]byte
				for i := range b {
					b[i] = byte(rng.Uint32())
					if b[i] == '"' || b[i] == '\\' {
						b[i] = 'a'
					}
				}
				b[lane] = byte(c)
				w := uint64(0)
				for i := 7; i >= 0; i-- {
					w = w<<8 | uint64(b[i])
				}
				require.Equal(t, c == '"' || c == '\\', quoteOrEscape(w), "%q", b)
			}
		}
	}
}
