package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"slices"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// looksLikeResults reports whether head, the start of an input, holds
// geoloc's own results, as regeo writes them (JSON Lines) or -o x.json does
// (an indented array), rather than a traceroute: the first hop of a result
// has "addr" right after "ttl", where a trace in the interchange format
// has "probes".
func looksLikeResults(head []byte) bool {
	s := bytes.TrimLeft(head, " \t\r\n")
	if len(s) == 0 || (s[0] != '{' && s[0] != '[') {
		return false
	}
	i := bytes.Index(s, []byte(`"hops"`))
	if i < 0 {
		return false
	}
	rest := s[i+len(`"hops"`):]
	for _, want := range []string{":", "[", "{", `"ttl"`, ":"} {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if !bytes.HasPrefix(rest, []byte(want)) {
			return false
		}
		rest = rest[len(want):]
	}
	rest = bytes.TrimLeft(bytes.TrimLeft(rest, " \t\r\n"), "0123456789")
	rest = bytes.TrimLeft(rest, " \t\r\n")
	if !bytes.HasPrefix(rest, []byte(",")) {
		return false
	}
	return bytes.HasPrefix(bytes.TrimLeft(rest[1:], " \t\r\n"), []byte(`"addr"`))
}

// resultSeq yields the results in r one at a time: JSON Lines, as regeo
// writes them, or one JSON array, as -o x.json does. A bad record is one
// error, "FILE:LINE: results: ...", and the records after it still come
// (in an array, unless the array itself is broken there). A record (line,
// array element) over maxRecord bytes is reported without being held in
// memory, so memory stays that of a record or two, however long the input.
// A read error that is the context's ends the sequence with that error as
// it is, for the caller to report.
func resultSeq(r io.Reader, name string, maxRecord int) iter.Seq2[*geoloc.TraceResult, error] {
	return func(yield func(*geoloc.TraceResult, error) bool) {
		br := bufio.NewReaderSize(r, 64<<10)
		head, _ := br.Peek(4096)
		if looksBinary(head) {
			// One line, not one per random "line".
			yield(nil, fmt.Errorf("%s:1: results: binary data, not geoloc results (want one JSON result per line, as 'geoloc regeo' writes)", name))
			return
		}
		if s := bytes.TrimLeft(head, " \t\r\n"); len(s) > 0 && s[0] == '[' {
			resultJSONArray(br, name, maxRecord, yield)
			return
		}
		resultJSONLines(br, name, maxRecord, yield)
	}
}

// errStop ends eachLine when the consumer of resultSeq stops.
var errStop = errors.New("stop")

// resultJSONLines is resultSeq for JSON Lines.
func resultJSONLines(r io.Reader, name string, maxLine int, yield func(*geoloc.TraceResult, error) bool) {
	records := 0
	line, err := eachLine(r, maxLine, func(line int, b []byte, tooLong bool) error {
		var tr *geoloc.TraceResult
		var err error
		if tooLong {
			records++
			err = fmt.Errorf("%s:%d: results: line too long (over %d MB), skipped", name, line, maxLine>>20)
		} else if b = bytes.TrimSpace(b); len(b) == 0 {
			return nil
		} else {
			records++
			tr, err = decodeResult(b)
			switch {
			case errors.Is(err, errNotResult):
				err = fmt.Errorf("%s:%d: results: %v (traces go through 'geoloc regeo' first)", name, line, err)
			case errors.As(err, new(badResultError)):
				err = fmt.Errorf("%s:%d: results: %v (not as geoloc writes it; the line is skipped)", name, line, err)
			case err != nil:
				err = fmt.Errorf("%s:%d: results: %v (want one geoloc result per line, as 'geoloc regeo' writes)", name, line, err)
			}
		}
		if !yield(tr, err) {
			return errStop
		}
		return nil
	})
	switch {
	case errors.Is(err, errStop):
	case errors.Is(err, context.Canceled):
		yield(nil, err)
	case err != nil:
		yield(nil, fmt.Errorf("%s:%d: results: %v", name, line, err))
	case records == 0:
		// As parse and regeo: an input that holds nothing is an error,
		// most often a wrong file or a failed earlier step.
		yield(nil, fmt.Errorf("%s:1: results: empty input (want one geoloc result per line, as 'geoloc regeo' writes)", name))
	}
}

// errNotResult is decodeResult's error for JSON that is no result.
var errNotResult = errors.New(`no "hops": not a geoloc result`)

// badResultError is decodeResult's error for a result no geoloc run
// writes (checkResult's).
type badResultError struct{ error }

// decodeResult reads one result. Its error is errNotResult for JSON that
// is no result, a badResultError for one no geoloc run writes, any other
// encoding/json's.
func decodeResult(b []byte) (*geoloc.TraceResult, error) {
	var tr geoloc.TraceResult
	if err := json.Unmarshal(b, &tr); err != nil {
		return nil, err
	}
	if tr.Hops == nil {
		return nil, errNotResult
	}
	if err := checkResult(&tr); err != nil {
		return nil, badResultError{err}
	}
	return &tr, nil
}

// resultJSONArray is resultSeq for a JSON array, read an element at a time
// with a json.Decoder: a bad element is skipped; a break in the array
// itself (a syntax error, the input cut short, an element over maxElem
// bytes) ends it with one error naming the line and the element, as does
// anything but white space after the closing ']'.
func resultJSONArray(r io.Reader, name string, maxElem int, yield func(*geoloc.TraceResult, error) bool) {
	lc := &lineTracker{r: r, limit: int64(maxElem), line: 1}
	dec := json.NewDecoder(lc)
	// broken is the error for the array's end at offset off (or, for a
	// syntax error, where that says), with err, what the decoder said.
	broken := func(off int64, err error, what string, args ...any) error {
		if se := (*json.SyntaxError)(nil); errors.As(err, &se) {
			off = se.Offset
		}
		return fmt.Errorf("%s:%d: results: "+what, append([]any{name, lc.lineAt(off)}, args...)...)
	}
	if _, err := dec.Token(); err != nil { // the '[' resultSeq saw
		yield(nil, broken(0, err, "%v", err))
		return
	}
	var raw json.RawMessage
	for i := 1; dec.More(); i++ {
		raw = raw[:0]
		if err := dec.Decode(&raw); err != nil {
			switch off := dec.InputOffset(); {
			case errors.Is(err, context.Canceled):
				yield(nil, err)
			case errors.Is(err, errRecordTooLong):
				yield(nil, broken(lc.valueAt(off), err, "element %d of the array is over %d MB; the rest of the array is unreadable (write JSON Lines, -o x.jsonl, for results this size)", i, maxElem>>20))
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				yield(nil, broken(math.MaxInt64, err, "the array is cut short in element %d", i))
			default:
				yield(nil, broken(off, err, "element %d of the array: %v; the rest of the array is unreadable", i, err))
			}
			return
		}
		end := dec.InputOffset()
		line := lc.lineAt(end - int64(len(raw)))
		lc.lineAt(end) // what the element took is no longer kept
		tr, err := decodeResult(raw)
		switch {
		case errors.As(err, new(badResultError)):
			err = fmt.Errorf("%s:%d: results: %v (element %d of the array, not as geoloc writes it; skipped)", name, line, err, i)
		case err != nil:
			err = fmt.Errorf("%s:%d: results: %v (element %d of the array; skipped)", name, line, err, i)
		}
		if !yield(tr, err) {
			return
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		switch {
		case errors.Is(err, context.Canceled):
			yield(nil, err)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			yield(nil, broken(math.MaxInt64, err, "the array is cut short: no closing ']'"))
		default:
			yield(nil, broken(dec.InputOffset(), err, "%v", err))
		}
		return
	}
	// Only white space may follow, read a buffer at a time: not through
	// the decoder, which would take a long string after the array whole.
	line := lc.lineAt(dec.InputOffset())
	rest := bufio.NewReader(io.MultiReader(dec.Buffered(), lc.r))
	for {
		c, err := rest.ReadByte()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				yield(nil, fmt.Errorf("%s:%d: results: %w", name, line, err))
			}
			return
		}
		switch c {
		case '\n':
			line++
		case ' ', '\t', '\r':
		default:
			yield(nil, fmt.Errorf("%s:%d: results: data after the array's closing ']'", name, line))
			return
		}
	}
}

// errRecordTooLong is lineTracker's read error past its limit.
var errRecordTooLong = errors.New("record too long")

// lineTracker passes reads of r through and tells the line an offset
// already read is on, for offsets asked in increasing order. It keeps only
// the bytes from the last offset asked on (what a json.Decoder has read
// ahead), and reads no more than limit bytes past that offset: past them a
// read fails with errRecordTooLong.
type lineTracker struct {
	r     io.Reader
	limit int64
	pend  []byte // what was read from base on
	base  int64  // the last offset asked
	line  int    // base's line, from 1
}

func (c *lineTracker) Read(p []byte) (int, error) {
	room := c.limit - int64(len(c.pend))
	if room <= 0 {
		return 0, errRecordTooLong
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	c.pend = append(c.pend, p[:n]...)
	return n, err
}

// valueAt returns the offset of what follows off past white space and a
// comma, as far as was read: where the next array element starts.
func (c *lineTracker) valueAt(off int64) int64 {
	comma := false
	for i := max(off-c.base, 0); i < int64(len(c.pend)); i++ {
		switch b := c.pend[i]; {
		case b == ' ', b == '\t', b == '\r', b == '\n':
		case b == ',' && !comma:
			comma = true
		default:
			return c.base + i
		}
	}
	return c.base + int64(len(c.pend))
}

// lineAt returns the line of offset off; offsets before the last one asked
// count as that one, offsets past what was read as its end.
func (c *lineTracker) lineAt(off int64) int {
	k := int(min(max(off-c.base, 0), int64(len(c.pend))))
	c.line += bytes.Count(c.pend[:k], []byte{'\n'})
	c.pend = c.pend[:copy(c.pend, c.pend[k:])]
	c.base += int64(k)
	return c.line
}

// resultTrace turns a located result back into the trace it came from,
// for regeo to locate again (new databases, a vantage point): one probe per
// responding address carrying its best RTT, a lost probe for a TTL no one
// answered. An address whose RTT the result does not know gets no probe
// RTT (a zero RTT would place it at the vantage point): it is kept as an
// aggregate without a minimum.
func resultTrace(r *geoloc.TraceResult) *traceroute.Trace {
	t := &traceroute.Trace{Format: r.Format, Source: r.Source, Destination: r.Destination, Protocol: r.Protocol, Started: r.Started}
	hops := slices.Clone(r.Hops)
	slices.SortStableFunc(hops, func(a, b geoloc.HopResult) int { return a.TTL - b.TTL })
	for _, h := range hops {
		if h.TTL < 1 {
			continue
		}
		for len(t.Hops) == 0 || t.Hops[len(t.Hops)-1].TTL < h.TTL {
			next := 1
			if n := len(t.Hops); n > 0 {
				next = t.Hops[n-1].TTL + 1
			}
			hop := traceroute.Hop{TTL: next}
			if next < h.TTL {
				hop.Probes = []traceroute.Probe{{Lost: true}}
			}
			t.Hops = append(t.Hops, hop)
		}
		th := &t.Hops[len(t.Hops)-1]
		if !h.Addr.IsValid() {
			continue
		}
		if h.RTTMs > 0 {
			th.Probes = append(th.Probes, traceroute.Probe{Addr: h.Addr, Name: h.Name, RTTMs: h.RTTMs, ASN: h.ASN})
		} else {
			th.Stats = append(th.Stats, traceroute.Stats{Addr: h.Addr, Name: h.Name, ASN: h.ASN})
		}
	}
	for i := range t.Hops {
		if len(t.Hops[i].Probes) == 0 && len(t.Hops[i].Stats) == 0 {
			t.Hops[i].Probes = []traceroute.Probe{{Lost: true}}
		}
	}
	return t
}
