// Package jsonw holds the pieces of JSON text that geoloc's hand-written
// encoders (traceroute's interchange Encoder, output's results) write
// exactly as encoding/json would, without its reflection.
package jsonw

import (
	"math"
	"strconv"
	"unicode/utf8"
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

const hexDigits = "0123456789abcdef"

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
