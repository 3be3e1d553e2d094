// Package jsonw holds the pieces of JSON text that geoloc's hand-written
// encoders (traceroute's interchange Encoder, output's results) write
// exactly as encoding/json would, without its reflection.
package jsonw

import (
	"encoding/binary"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// Key appends the name of the next member of the object being written,
// after a comma unless it is the first: the byte before is the object's '{'
// exactly then, as every member value ends otherwise.
func Key(b []byte, name string) []byte {
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// Float appends f as encoding/json does: shortest representation, exponent
// form only below 1e-6 or from 1e21, "e-09" trimmed to "e-9". ok is false
// (and b unchanged) for NaN and infinities, which JSON cannot carry.
func Float(b []byte, f float64) (_ []byte, ok bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	if b2, ok := shortDecimal(b, f); ok {
		return b2, true
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// shortDecimal appends f when it is a decimal of at most six places and
// fifteen digits (coordinates, response times, radii, confidences: most of
// what geoloc writes), found without the shortest-digits search: f is the
// double nearest to k/10^d for the smallest such d, so k/10^d is the
// shortest decimal that reads back as f (two decimals of fifteen digits or
// fewer never read as one double), which is what strconv writes. ok is false,
// and b unchanged, for every other value.
func shortDecimal(b []byte, f float64) (_ []byte, ok bool) {
	abs := math.Abs(f)
	if !(abs >= 1e-6 && abs < 1e9) {
		return b, false
	}
	for d := range len(pow10) {
		k := math.Round(abs * pow10[d])
		if k >= 1e15 {
			return b, false
		}
		if k/pow10[d] != abs {
			continue
		}
		if f < 0 {
			b = append(b, '-')
		}
		ki, p := uint64(k), pow10i[d]
		b = strconv.AppendUint(b, ki/p, 10)
		if d > 0 {
			// the fraction, with its leading zeros (it has no
			// trailing ones: d is the smallest)
			b = append(b, '.')
			frac := ki % p
			for q := p / 10; q > frac; q /= 10 {
				b = append(b, '0')
			}
			b = strconv.AppendUint(b, frac, 10)
		}
		return b, true
	}
	return b, false
}

var (
	pow10  = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6}
	pow10i = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6}
)

const hexDigits = "0123456789abcdef"

// PlainWord reports whether the eight bytes of w are all ones String copies
// as they are: ASCII, no control byte, no '"' or '\\' (nor '<', '>', '&'
// with html).
func PlainWord(w uint64, html bool) bool {
	bad := w&highs | below(w, 0x20) | hasZero(w^'"'*ones) | hasZero(w^'\\'*ones)
	if html {
		bad |= hasZero(w^'<'*ones) | hasZero(w^'>'*ones) | hasZero(w^'&'*ones)
	}
	return bad == 0
}

// HasByte reports whether one of the eight bytes of w is c.
func HasByte(w uint64, c byte) bool { return hasZero(w^uint64(c)*ones) != 0 }

// The classic tests on eight bytes at once, "has a zero byte" and "has a
// byte below n" (n ≤ 128): each is nonzero exactly when such a byte is
// there, whatever its borrows do to the lanes above it.
const ones, highs = 0x0101010101010101, 0x8080808080808080

func hasZero(v uint64) uint64 { return (v - ones) &^ v & highs }

func below(v uint64, n byte) uint64 { return (v - uint64(n)*ones) &^ v & highs }

// plain[c] is true for the ASCII bytes String copies as they are; plainHTML
// leaves out <, > and & as well.
var plain, plainHTML = func() (p, h [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		p[c] = c != '"' && c != '\\'
		h[c] = p[c] && c != '<' && c != '>' && c != '&'
	}
	return p, h
}()

// String quotes s as encoding/json does: quote, backslash and control
// characters escaped (\b \f \n \r \t by name, others as \u00XX), <, > and &
// as \u003c, \u003e and \u0026 when escapeHTML (json.Encoder's default),
// invalid UTF-8 as \ufffd, U+2028 and U+2029 always escaped.
func String(b []byte, s string, escapeHTML bool) []byte {
	b = append(b, '"')
	safe := &plain
	if escapeHTML {
		safe = &plainHTML
	}
	start := 0
	for i := 0; i < len(s); {
		// Eight plain bytes at a time, then byte by byte.
		for i+8 <= len(s) && PlainWord(binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8)), escapeHTML) {
			i += 8
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
