package traceroute

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/geoloc-dev/geoloc/internal/jsonw"
)

// jscan is a small pull scanner over one JSON value held in memory. The RIPE
// Atlas reader decodes with it straight into a Trace: no intermediate maps,
// no reflection, strings copied only where the Trace keeps them. Errors carry
// the byte offset in the value; after the first error every method is a
// no-op, so callers check err once at the end.
type jscan struct {
	b   []byte
	i   int
	err error
	tmp []byte // unescaped string scratch
}

func (s *jscan) reset(b []byte) { s.b, s.i, s.err = b, 0, nil }

func (s *jscan) fail(format string, args ...any) {
	if s.err == nil {
		s.err = &jsonPosError{Off: s.i, Msg: fmt.Sprintf(format, args...)}
	}
	s.i = len(s.b)
}

// jsonPosError is a problem at a byte offset of one JSON value. Its message
// leaves the position out: the record loop turns the offset into the line
// and column of the input and prefixes the column (see resolve).
type jsonPosError struct {
	Off  int
	Msg  string
	Line int // set by resolve
	Col  int
}

func (e *jsonPosError) Error() string { return e.Msg }

// resolve places the error in the input, given the value and the line it
// starts on, and returns that line.
func (e *jsonPosError) resolve(val []byte, startLine int) int {
	off := min(max(e.Off, 0), len(val))
	e.Line = startLine + bytes.Count(val[:off], []byte("\n"))
	e.Col = off - bytes.LastIndexByte(val[:off], '\n')
	return e.Line
}

// failAt records an error at an earlier offset (the start of the value
// that turned out bad).
func (s *jscan) failAt(off int, format string, args ...any) {
	s.i = off
	s.fail(format, args...)
}

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *jscan) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *jscan) enter(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	if s.i >= len(s.b) {
		s.fail("unexpected end of value, want %q", rune(c))
	} else {
		s.fail("want %q, found %s", rune(c), quoteByte(s.b[s.i]))
	}
	return false
}

// more reports whether another element or member follows in the container
// closed by close; it consumes the separating comma or the closing bracket.
func (s *jscan) more(close byte, first *bool) bool {
	c := s.peek()
	switch {
	case s.i >= len(s.b):
		s.fail("unexpected end of value inside %s", containerName(close))
		return false
	case c == close:
		s.i++
		return false
	case *first:
		*first = false
		return true
	case c == ',':
		s.i++
		return true
	}
	s.fail("want ',' or %q, found %s", rune(close), quoteByte(c))
	return false
}

func containerName(close byte) string {
	if close == '}' {
		return "object"
	}
	return "array"
}

// key reads an object key and its colon.
func (s *jscan) key() []byte {
	k := s.str()
	if s.err == nil {
		s.enter(':')
	}
	return k
}

// str reads a string; the result aliases the input or scratch space and is
// valid until the next call.
func (s *jscan) str() []byte {
	if !s.enter('"') {
		return nil
	}
	start := s.i
	b, i := s.b, s.i
	ascii := true
	for {
		// Plain ASCII eight bytes at a time, then byte by byte.
		for i+8 <= len(b) && jsonw.PlainWord(binary.LittleEndian.Uint64(b[i:]), false) {
			i += 8
		}
		for i < len(b) && plainStrByte[b[i]] {
			i++
		}
		if i >= len(b) {
			s.i = i
			s.fail("unterminated string")
			return nil
		}
		switch c := b[i]; {
		case c == '"':
			v := b[start:i]
			s.i = i + 1
			if !ascii && !utf8.Valid(v) {
				return s.validUTF8(v)
			}
			return v
		case c == '\\':
			s.i = i
			return s.strEscaped(start)
		case c < 0x20:
			s.i = i
			s.fail("control character in string")
			return nil
		default: // a byte of a multi-byte sequence, checked at the end
			ascii = false
			i++
		}
	}
}

// plainStrByte marks the bytes str passes over one by one: ASCII but
// control characters, '"' and '\\'.
var plainStrByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (s *jscan) strEscaped(start int) []byte {
	s.tmp = append(s.tmp[:0], s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !utf8.Valid(s.tmp) {
				return s.validUTF8(append([]byte(nil), s.tmp...))
			}
			return s.tmp
		case c < 0x20:
			s.fail("control character in string")
			return nil
		case c != '\\':
			s.tmp = append(s.tmp, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			break
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			s.tmp = append(s.tmp, e)
		case 'b':
			s.tmp = append(s.tmp, '\b')
		case 'f':
			s.tmp = append(s.tmp, '\f')
		case 'n':
			s.tmp = append(s.tmp, '\n')
		case 'r':
			s.tmp = append(s.tmp, '\r')
		case 't':
			s.tmp = append(s.tmp, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil
			}
			if utf16.IsSurrogate(r) {
				// A valid pair takes the next escape with it; otherwise the
				// lone half is U+FFFD and the next escape stands alone (as
				// encoding/json reads it).
				dec := utf8.RuneError
				if s.i+6 <= len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					save := s.i
					s.i += 2
					r2, ok := s.hex4()
					if !ok {
						return nil
					}
					if dec = utf16.DecodeRune(r, r2); dec == utf8.RuneError {
						s.i = save
					}
				}
				r = dec
			}
			s.tmp = utf8.AppendRune(s.tmp, r)
		default:
			s.fail("invalid escape \\%c", e)
			return nil
		}
	}
	s.fail("unterminated string")
	return nil
}

// validUTF8 replaces each invalid byte with U+FFFD, as encoding/json does.
func (s *jscan) validUTF8(v []byte) []byte {
	out := s.tmp[:0]
	for len(v) > 0 {
		r, n := utf8.DecodeRune(v)
		out = utf8.AppendRune(out, r)
		v = v[n:]
	}
	s.tmp = out
	return out
}

func (s *jscan) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		s.fail("short \\u escape")
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			s.fail("bad \\u escape")
			return 0, false
		}
	}
	s.i += 4
	return r, true
}

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// num reads a number. Plain decimals with at most 15 significant digits take
// the exact fast path (an exactly represented mantissa divided by an exact
// power of ten rounds correctly, as strconv would); anything else goes to
// strconv.ParseFloat.
func (s *jscan) num() float64 {
	s.ws()
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '-', '+', '.', 'e', 'E', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			s.i++
			continue
		}
		break
	}
	t := s.b[start:s.i]
	if len(t) == 0 {
		if s.i < len(s.b) {
			s.fail("want a number, found %s", quoteByte(s.b[s.i]))
		} else {
			s.fail("want a number, found end of value")
		}
		return 0
	}
	if f, ok := fastFloat(t); ok {
		return f
	}
	f, err := strconv.ParseFloat(string(t), 64)
	if err != nil || math.IsInf(f, 0) {
		s.i = start
		s.fail("bad number %q", t)
		return 0
	}
	return f
}

func fastFloat(t []byte) (float64, bool) {
	neg := false
	if t[0] == '-' {
		neg = true
		t = t[1:]
	}
	if len(t) == 0 || len(t) > 16 {
		return 0, false
	}
	var m uint64
	digits, frac, dot := 0, 0, false
	for _, c := range t {
		switch {
		case c >= '0' && c <= '9':
			m = m*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 || (dot && frac == 0) || t[0] == '.' {
		return 0, false
	}
	f := float64(m) / pow10[frac]
	if neg {
		f = -f
	}
	return f, true
}

// int reads an integral number: digits exactly over the whole int64 range,
// other spellings (1.0, 1e2) through float64 when they are integral.
func (s *jscan) int() int64 {
	s.ws()
	j, neg := s.i, false
	if j < len(s.b) && s.b[j] == '-' {
		neg = true
		j++
	}
	var v uint64
	k := j
	for k < len(s.b) && s.b[k] >= '0' && s.b[k] <= '9' && k-j < 19 {
		v = v*10 + uint64(s.b[k]-'0')
		k++
	}
	if k > j && (k == len(s.b) || !isNumByte(s.b[k])) && v <= math.MaxInt64 {
		s.i = k
		if neg {
			return -int64(v)
		}
		return int64(v)
	}
	f := s.num()
	if s.err != nil {
		return 0
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		s.fail("want an integer, found %v", f)
		return 0
	}
	return int64(f)
}

func isNumByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

// boolish reads true/false or a number (non-zero is true), as the MPLS
// bottom-of-stack bit appears in both shapes.
func (s *jscan) boolish() bool {
	if c := s.peek(); c == 't' || c == 'f' {
		return s.bool()
	}
	return s.num() != 0
}

// bool reads true or false.
func (s *jscan) bool() bool {
	switch s.peek() {
	case 't':
		return s.literal("true")
	case 'f':
		s.literal("false")
		return false
	}
	if s.i < len(s.b) {
		s.fail("want true or false, found %s", quoteByte(s.b[s.i]))
	} else {
		s.fail("want true or false, found end of value")
	}
	return false
}

func (s *jscan) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	s.fail("invalid literal")
	return false
}

// isNull consumes a null literal if one comes next.
func (s *jscan) isNull() bool {
	if s.peek() == 'n' {
		return s.literal("null")
	}
	return false
}

// skip steps over any value, iteratively (no recursion on nesting).
func (s *jscan) skip() {
	switch c := s.peek(); c {
	case '"':
		s.str()
		return
	case 't':
		s.literal("true")
		return
	case 'f':
		s.literal("false")
		return
	case 'n':
		s.literal("null")
		return
	case '{', '[':
	case 0:
		s.fail("unexpected end of value")
		return
	default:
		s.num()
		return
	}
	depth := 0
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			s.str()
			if s.err != nil {
				return
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				s.i++
				return
			}
		}
		s.i++
	}
	s.fail("unexpected end of value")
}

// end checks that only whitespace follows the value.
func (s *jscan) end() {
	if s.peek() != 0 && s.err == nil {
		s.fail("trailing data after value")
	}
}

// addrCache parses addresses, remembering the last one: consecutive probes of
// a hop usually come from the same router.
type addrCache struct {
	last []byte
	addr netip.Addr
	err  error
}

func (c *addrCache) parse(b []byte) (netip.Addr, error) {
	if c.last != nil && string(b) == string(c.last) {
		return c.addr, c.err
	}
	a, err := parseAddrBytes(b)
	c.last = append(c.last[:0], b...)
	c.addr, c.err = a, err
	return a, err
}

// parseAddrBytes parses a dotted IPv4 address without allocating and falls
// back to netip.ParseAddr for everything else. Zones are dropped (a scoped
// link-local address is still the same router), and IPv4-mapped IPv6
// addresses are unmapped.
func parseAddrBytes(b []byte) (netip.Addr, error) {
	var v4 [4]byte
	n, val, digits := 0, 0, 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '.' {
			if digits == 0 || n == 4 {
				goto slow
			}
			v4[n] = byte(val)
			n++
			val, digits = 0, 0
			continue
		}
		c := b[i]
		if c < '0' || c > '9' || (digits > 0 && val == 0) {
			goto slow
		}
		val = val*10 + int(c-'0')
		digits++
		if val > 255 {
			goto slow
		}
	}
	if n == 4 {
		return netip.AddrFrom4(v4), nil
	}
slow:
	a, err := netip.ParseAddr(string(b))
	if err != nil {
		return netip.Addr{}, err
	}
	return a.WithZone("").Unmap(), nil
}
