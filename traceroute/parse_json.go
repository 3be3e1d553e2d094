package traceroute

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/geoloc-dev/geoloc/internal/jsonw"
)

// Format names of the structured (JSON and XML) inputs.
const (
	FormatRIPEAtlas   = "ripe-atlas"
	FormatScamperJSON = "scamper-json"
	FormatMtrJSON     = "mtr-json"
	FormatNXOSJSON    = "nxos-json"
	FormatJunosXML    = "junos-xml"
	FormatIOSXRXML    = "iosxr-xml"
)

// jsonFormats are the structured formats. Their detection looks at the keys
// of the first JSON object (or the root element of XML), so it is exact; the
// interchange format comes last because it is recognised by what the others
// lack.
var jsonFormats = []format{
	{name: FormatGlobalping, detect: detectGlobalping, parse: parseGlobalping}, // its "type" is ping or traceroute too
	{name: FormatRIPEAtlas, detect: detectAtlas, parse: parseAtlas},
	{name: FormatRIPEAtlasPing, detect: detectAtlasPing, parse: parseAtlasPing},
	{name: FormatScamperJSON, detect: detectScamper, parse: parseScamper},
	{name: FormatMtrJSON, detect: detectMtrJSON, parse: parseMtrJSON},
	{name: FormatNXOSJSON, detect: detectNXOS, parse: parseNXOS},
	{name: FormatJunosXML, detect: detectJunosXML, parse: parseJunosXML},
	{name: FormatIOSXRXML, detect: detectIOSXRXML, parse: parseIOSXRXML},
	{name: FormatGeoloc, detect: detectGeoloc, parse: parseGeoloc},
}

// maxJSONValue bounds the size of one top-level JSON value (one trace), so a
// corrupt input without a closing brace cannot make a reader hold the whole
// stream. The largest real records (scamper tracelb with thousands of
// probes, about a megabyte) stay far below it; a reader holds at most a few
// times this much, which keeps it well under 100 MB however hostile the
// input.
const maxJSONValue = 8 << 20

// maxLineSkip is how far a reader skips a bad line looking for its end
// before it gives up on the input (/dev/zero, a binary file).
const maxLineSkip = 16 << 20

// maxWrapped bounds how far a record that starts with content on its first
// line may continue past that line before it is taken for a JSON Lines
// record cut off (see jsonStream). Records wrapped by hand are a few
// kilobytes; pretty printers put the opening brace alone on its line and
// are not concerned.
const maxWrapped = 256 << 10

// maxUnixSec is the last second of year 9999, the last time RFC 3339 (and
// so the interchange) can write.
const maxUnixSec = 253402300799

// errInputRead marks an I/O error of the underlying reader: reading stops.
var errInputRead = errors.New("read error")

// errGiveUp marks an input that cannot be the format it is read as (a line
// without end, a run of lines that are no JSON at all): reading stops.
var errGiveUp = errors.New("giving up")

// jsonStream splits a byte stream into top-level JSON values: JSON Lines,
// concatenated or pretty-printed objects, and the elements of top-level
// arrays (a RIPE Atlas download is one array of results). It never holds more
// than one value, and it knows the line on which each value starts.
//
// A JSON Lines record cut off in the middle of its line (a truncated write,
// a disk full) would otherwise swallow every record after it: its brackets
// never close, and the following lines read as its continuation. So a
// value whose first line holds more than its opening brace and which goes
// on past that line is "wrapped": if it then fails in any way (it does not
// close within maxWrapped, the input ends, a raw newline falls in a string,
// or the decoder rejects it) it is reported as cut off at its first line,
// and the lines after that line are read again as records of their own.
// A wrapped value that closes and decodes is kept whole, so JSON wrapped by
// hand still reads. After the first record cut off the input is taken for
// damaged JSON Lines: a line ends its record, without reading ahead.
type jsonStream struct {
	br      *bufio.Reader
	buf     []byte // the current value when it spans chunks
	pending []byte // unscanned rest of the current chunk (aliases br's buffer or replay)
	eof     bool
	line    int // line of the next byte in pending
	arrays  int // open top-level arrays
	skip    bool
	skipped int // bytes of the bad line being skipped
	// resync is set after a broken value: the lines that follow are its
	// remains, skipped without more errors until the next value starts.
	resync bool
	// replay holds input taken back after a cut-off record (the lines that
	// followed its first line); it is read again before br.
	replay []byte
	// wrapped is the offset in buf just past the first line of the current
	// value when that value is wrapped (see above); 0 when it is not.
	wrapped int
	// strict is set once a record was cut off: the input is JSON Lines
	// with damage, and from then on a record's line ends it (no more
	// reading ahead, which a run of cut records would make quadratic).
	strict bool
	// badRun counts the errors since the last good value.
	badRun int
}

// maxTopArrays bounds the nesting of arrays outside records: a RIPE Atlas
// download is one array; "[[[[..." without end is no input of ours.
const maxTopArrays = 8

func newJSONStream(br *bufio.Reader) *jsonStream { return &jsonStream{br: br, line: 1} }

// quoteOrEscape reports whether one of the eight bytes of w is '"' or '\\'.
func quoteOrEscape(w uint64) bool { return jsonw.HasByte(w, '"') || jsonw.HasByte(w, '\\') }

// structural marks the bytes that matter outside strings.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// fill makes pending non-empty, reading the next chunk (one line, or a full
// buffer of a long line). It returns false at the end of the input.
func (s *jsonStream) fill() (bool, error) {
	for len(s.pending) == 0 {
		if len(s.replay) > 0 {
			n := bytes.IndexByte(s.replay, '\n') + 1
			if n == 0 {
				n = len(s.replay)
			}
			s.pending, s.replay = s.replay[:n], s.replay[n:]
			continue
		}
		if s.eof {
			return false, nil
		}
		chunk, err := s.br.ReadSlice('\n')
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			s.eof = true
		default:
			return false, fmt.Errorf("%w: %w", errInputRead, err)
		}
		s.pending = chunk
	}
	return true, nil
}

// advance consumes n bytes of pending, counting a consumed newline.
func (s *jsonStream) advance(n int) {
	if n > 0 && s.pending[n-1] == '\n' {
		s.line++
	}
	s.pending = s.pending[n:]
}

// next returns the next value and the line it starts on. The slice is valid
// until the following call. A malformed stretch yields an error naming its
// line; the stream then resynchronises at the next line. io.EOF ends it; an
// error wrapping errGiveUp or errInputRead ends it too.
func (s *jsonStream) next() ([]byte, int, error) {
	val, line, err := s.scan()
	switch {
	case err == nil:
		s.badRun = 0
	case errors.Is(err, io.EOF), errors.Is(err, errInputRead), errors.Is(err, errGiveUp):
	default:
		// Lines that are no JSON at all, one after another: past a
		// point this is not a JSON input, whatever it was read as.
		if s.badRun++; s.badRun >= maxBadLines {
			err = fmt.Errorf("%w: %d bad records in a row: %w", errGiveUp, s.badRun, err)
		}
	}
	return val, line, err
}

func (s *jsonStream) scan() ([]byte, int, error) {
	s.wrapped = 0
	// Between values: whitespace, commas and array brackets.
	for {
		ok, err := s.fill()
		if err != nil {
			return nil, s.line, err
		}
		if !ok {
			if s.arrays > 0 {
				s.arrays = 0
				return nil, s.line, errors.New("unexpected end of input: unterminated array")
			}
			return nil, s.line, io.EOF
		}
		if s.skip { // discarding the rest of a bad line
			if i := bytes.IndexByte(s.pending, '\n'); i >= 0 {
				s.advance(i + 1)
				s.skip, s.skipped = false, 0
				continue
			}
			s.skipped += len(s.pending)
			s.advance(len(s.pending))
			if s.skipped > maxLineSkip {
				// /dev/zero, a binary file: a line without end.
				return nil, s.line, fmt.Errorf("%w: no line end in %d MiB", errGiveUp, maxLineSkip>>20)
			}
			continue
		}
		c := s.pending[0]
		switch c {
		case ' ', '\t', '\r', '\n', ',':
			s.advance(1)
			continue
		case '[':
			if s.arrays >= maxTopArrays {
				s.skip = true
				return nil, s.line, fmt.Errorf("arrays nested deeper than %d outside a record", maxTopArrays)
			}
			s.arrays++
			s.advance(1)
			continue
		case ']':
			if s.arrays == 0 {
				s.skip = true
				return nil, s.line, errors.New("unexpected ']' outside an array")
			}
			s.arrays--
			s.advance(1)
			continue
		case '{':
		default:
			s.skip = true
			if s.resync {
				continue
			}
			return nil, s.line, fmt.Errorf("unexpected %s where a JSON object should start", quoteByte(c))
		}
		break
	}
	s.resync = false
	return s.value()
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// value scans one object starting at pending[0] == '{'.
func (s *jsonStream) value() ([]byte, int, error) {
	start := s.line
	if cap(s.buf) > 1<<20 {
		s.buf = nil // do not keep a hostile record's room for good
	}
	s.buf = s.buf[:0]
	s.wrapped = 0
	depth, inStr, esc := 0, false, false
	for {
		c := s.pending
		i := 0
		for i < len(c) {
			if inStr {
				if esc {
					esc = false
					i++
					continue
				}
				for i+8 <= len(c) && !quoteOrEscape(binary.LittleEndian.Uint64(c[i:])) {
					i += 8
				}
				for i < len(c) && c[i] != '"' && c[i] != '\\' {
					i++
				}
				if i == len(c) {
					break
				}
				if c[i] == '\\' {
					esc = true
				} else {
					inStr = false
				}
				i++
				continue
			}
			for i < len(c) && !structural[c[i]] {
				i++
			}
			if i == len(c) {
				break
			}
			switch c[i] {
			case '"':
				inStr = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			i++
			if depth == 0 {
				if len(s.buf) == 0 { // whole value in one chunk: no copy
					v := c[:i]
					s.advance(i)
					return v, start, nil
				}
				s.appendBuf(c[:i])
				s.advance(i)
				return s.buf, start, nil
			}
		}
		endsLine := len(c) > 0 && c[len(c)-1] == '\n'
		if inStr && endsLine {
			// JSON strings cannot hold a raw newline: the value is broken.
			if s.wrapped > 0 {
				return nil, start, s.cutOff(start, "a raw newline falls inside a string")
			}
			// Drop it and start again on the next line.
			s.advance(len(c))
			s.resync = true
			return nil, start, errors.New("unterminated string (raw newline inside a JSON string)")
		}
		if s.wrapped > 0 && len(s.buf)+len(c)-s.wrapped > maxWrapped {
			return nil, start, s.cutOff(start, fmt.Sprintf("it does not close within %d KiB", maxWrapped>>10))
		}
		if len(s.buf)+len(c) > maxJSONValue {
			s.advance(len(c))
			s.skip = true
			return nil, start, fmt.Errorf("JSON value larger than %d MiB", maxJSONValue>>20)
		}
		firstLineEnds := endsLine && s.line == start
		s.appendBuf(c)
		s.advance(len(c))
		if firstLineEnds && !bareBrace(s.buf) {
			if s.strict {
				return nil, start, errors.New("record cut off: the line ends inside the JSON value")
			}
			s.wrapped = len(s.buf)
		}
		ok, err := s.fill()
		if err != nil {
			return nil, start, err
		}
		if !ok {
			if s.wrapped > 0 {
				return nil, start, s.cutOff(start, "the input ends inside it")
			}
			return nil, start, errors.New("unexpected end of input inside a JSON value")
		}
	}
}

// appendBuf appends c to buf, doubling its room when it must grow: a
// big record leaves less garbage behind than append's gentler growth.
func (s *jsonStream) appendBuf(c []byte) {
	if len(s.buf)+len(c) > cap(s.buf) {
		b := make([]byte, len(s.buf), max(2*cap(s.buf), len(s.buf)+len(c), 4096))
		copy(b, s.buf)
		s.buf = b
	}
	s.buf = append(s.buf, c...)
}

// bareBrace reports whether b, the first line of a value, is its opening
// brace alone (between blanks), as pretty printers write it.
func bareBrace(b []byte) bool {
	return len(bytes.TrimSpace(b)) == 1
}

// cutOff gives up the wrapped value being read (or just read): its first
// line is reported as a record cut off, and the input after that line is
// read again. It returns the error to report at line start.
func (s *jsonStream) cutOff(start int, why string) error {
	rest := s.buf[s.wrapped:]
	replay := make([]byte, 0, len(rest)+len(s.pending)+len(s.replay))
	replay = append(append(append(replay, rest...), s.pending...), s.replay...)
	s.replay, s.pending = replay, nil
	s.line = start + 1
	s.wrapped = 0
	s.strict = true
	s.skip, s.skipped, s.resync = false, 0, false
	return fmt.Errorf("record cut off: the line ends inside a JSON value that the lines after it do not complete (%s); they are read as records of their own", why)
}

// rejected tells the stream that the value it returned last did not
// decode. A wrapped value is then taken for a record cut off (see
// jsonStream); rejected returns the error to report in place of err.
func (s *jsonStream) rejected(line int, err error) error {
	if s.wrapped == 0 {
		return err
	}
	return s.cutOff(line, err.Error())
}

// jsonRecordLoop drives a JSON format: it splits the input into values and
// hands each to decode, turning problems into *ParseError. decode returns
// (nil, nil) for values that carry no trace (metadata lines).
func jsonRecordLoop(br *bufio.Reader, input, name string, decode func(val []byte, line int) (*Trace, error), yield func(*Trace, error) bool) {
	jsonRecordsLoop(br, input, name, func(val []byte, line int, emit func(*Trace) bool) error {
		t, err := decode(val, line)
		if err == nil && t != nil {
			emit(t)
		}
		return err
	}, yield)
}

// jsonRecordsLoop is jsonRecordLoop for formats whose values may hold
// several traces (a Globalping measurement holds one per probe): decode
// hands each trace to emit, which reports whether to go on, and returns the
// value's error, if any, after the traces it could read.
func jsonRecordsLoop(br *bufio.Reader, input, name string, decode func(val []byte, line int, emit func(*Trace) bool) error, yield func(*Trace, error) bool) {
	js := newJSONStream(br)
	stopped := false
	var recordLine int // the line of the value being decoded
	emit := func(t *Trace) bool {
		if stopped {
			return false
		}
		if err := checkRTTs(t); err != nil {
			// An absurd RTT (1e308) is no measurement: the trace goes,
			// named by its record's line.
			stopped = !yield(nil, &ParseError{Input: input, Line: recordLine, Format: name, Err: err})
			return !stopped
		}
		if !yield(t, nil) {
			stopped = true
		}
		return !stopped
	}
	for {
		val, line, err := js.next()
		recordLine = line
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			if !yield(nil, &ParseError{Input: input, Line: line, Format: name, Err: err}) || stops(err) {
				return
			}
			continue
		}
		if err = tooManyObjects(val); err == nil {
			err = decode(val, line, emit)
		}
		if stopped {
			return
		}
		if err != nil {
			if cut := js.rejected(line, err); cut != err {
				if !yield(nil, &ParseError{Input: input, Line: line, Format: name, Err: cut}) {
					return
				}
				continue
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				var pos *jsonPosError
				var se *json.SyntaxError
				var te *json.UnmarshalTypeError
				switch {
				case errors.As(err, &pos):
					line = pos.resolve(val, line)
					err = fmt.Errorf("column %d: %w", pos.Col, err)
				case errors.As(err, &se):
					p := &jsonPosError{Off: int(se.Offset)}
					line = p.resolve(val, line)
					err = fmt.Errorf("column %d: %w", p.Col, err)
				case errors.As(err, &te):
					p := &jsonPosError{Off: int(te.Offset)}
					line = p.resolve(val, line)
					err = fmt.Errorf("column %d: %w", p.Col, err)
				}
				err = &ParseError{Input: input, Line: line, Format: name, Err: err}
			}
			if !yield(nil, err) {
				return
			}
		}
	}
}

// maxJSONObjects bounds the objects of one record. The decoders built on
// encoding/json (scamper, mtr, NX-API) hold a struct per object before
// any of them is looked at; each hop, probe, statistic and MPLS entry is
// one object, so a real record stays far below.
const maxJSONObjects = 2 * MaxProbes

// tooManyObjects refuses a record with more than maxJSONObjects objects (an
// upper bound: braces inside strings count too), to be checked before
// decoding it.
func tooManyObjects(val []byte) error {
	if bytes.Count(val, []byte("{")) > maxJSONObjects {
		return fmt.Errorf("record holds more than %d JSON objects", maxJSONObjects)
	}
	return nil
}

// stops reports whether err from a jsonStream ends the input.
func stops(err error) bool { return errors.Is(err, errInputRead) || errors.Is(err, errGiveUp) }

// firstObject describes the first JSON object of an input head, for
// detection: its top-level keys and the value of its "type" key. A head cut
// in the middle of the object still yields the keys seen so far.
type firstObject struct {
	keys    []string
	typ     string
	inArray bool
}

func (f firstObject) has(keys ...string) bool {
	for _, k := range keys {
		for _, have := range f.keys {
			if have == k {
				return true
			}
		}
	}
	return false
}

func peekFirstObject(head []byte) (firstObject, bool) {
	var f firstObject
	s := jscan{b: head}
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '[' {
		f.inArray = true
		s.i++
		s.ws()
	}
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return f, false
	}
	s.i++
	first := true
	for len(f.keys) < 256 && s.more('}', &first) {
		k := s.key()
		if s.err != nil {
			break
		}
		f.keys = append(f.keys, string(k))
		if string(k) == "type" {
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == '"' {
				f.typ = string(s.str())
				continue
			}
		}
		s.skip()
	}
	return f, len(f.keys) > 0
}
