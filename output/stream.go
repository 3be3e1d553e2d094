package output

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"

	"github.com/geoloc-dev/geoloc/geoloc"
)

// Stream writes results one at a time into the document a Writer began, so
// that a batch of any size is written without holding its results.
type Stream interface {
	// Add writes one result. A nil result takes a position (trace titles
	// and colours are numbered by position) and is otherwise skipped.
	// Add reads r and never modifies it; it keeps it only when a spooling
	// format cannot write it to the spool (non-finite numbers).
	Add(r *geoloc.TraceResult) error
	// Close finishes the document. It does not close the io.Writer.
	Close() error
}

// Results is a sequence of (position, result) pairs that may be ranged
// over more than once: a slice (slices.All), or results spooled to a file.
type Results = iter.Seq2[int, *geoloc.TraceResult]

// writeAll writes a slice through a format's stream.
func writeAll(begin func(io.Writer, Options) (Stream, error), w io.Writer, rs []*geoloc.TraceResult, o Options) error {
	s, err := begin(w, o)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if err := s.Add(r); err != nil {
			return err
		}
	}
	return s.Close()
}

// spooled is the Stream of formats drawn as a whole (KML's legend and the
// maps' extent come before the traces; the report's columns are aligned
// over every row): Add appends each result as a JSON line to a temporary
// file, Close hands the writer a Results that reads them back, one at a
// time, as often as it needs. Memory stays bounded by one result plus what
// the writer itself aggregates.
type spooled struct {
	w     io.Writer
	opts  Options
	write func(io.Writer, Results, Options) error
	f     *os.File
	bw    *bufio.Writer
	buf   []byte // the last line written, reused
	n     int
	err   error // first error while reading the spool back
	// held are the results JSON cannot carry (non-finite numbers, which
	// only a caller's own results hold: the engine never makes them),
	// kept in memory by position; the spool has "null" in their place.
	held map[int]*geoloc.TraceResult
}

func beginSpooled(write func(io.Writer, Results, Options) error) func(io.Writer, Options) (Stream, error) {
	return func(w io.Writer, o Options) (Stream, error) {
		f, err := os.CreateTemp(o.SpoolDir, "geoloc-spool-*.jsonl")
		if err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
		// Unlinked at once where the system allows it: nothing is left
		// behind if the program dies.
		_ = os.Remove(f.Name())
		bw := bufio.NewWriterSize(f, 64<<10)
		return &spooled{w: w, opts: o, write: write, f: f, bw: bw}, nil
	}
}

func (s *spooled) Add(r *geoloc.TraceResult) error {
	s.n++
	b, err := AppendJSON(s.buf[:0], r, true) // nil encodes as "null"
	var ue *json.UnsupportedValueError
	if errors.As(err, &ue) {
		if s.held == nil {
			s.held = map[int]*geoloc.TraceResult{}
		}
		s.held[s.n-1] = r
		b, err = append(b[:0], "null\n"...), nil
	}
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.buf = b
	if _, err := s.bw.Write(b); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// all reads the spool back from the start.
func (s *spooled) all(yield func(int, *geoloc.TraceResult) bool) {
	if s.err != nil {
		return
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		s.err = err
		return
	}
	dec := json.NewDecoder(bufio.NewReaderSize(s.f, 64<<10))
	for i := 0; i < s.n; i++ {
		var r *geoloc.TraceResult
		if err := dec.Decode(&r); err != nil {
			s.err = fmt.Errorf("spool: reading back result %d: %w", i+1, err)
			return
		}
		if h, ok := s.held[i]; ok {
			r = h
		}
		if !yield(i, r) {
			return
		}
	}
}

func (s *spooled) Close() error {
	defer func() {
		s.f.Close()
		_ = os.Remove(s.f.Name()) // where the early removal did not work
	}()
	if err := s.bw.Flush(); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	err := s.write(s.w, s.all, s.opts)
	return errors.Join(err, s.err)
}

// fromSlice adapts a writer of Results to a slice.
func fromSlice(write func(io.Writer, Results, Options) error) func(io.Writer, []*geoloc.TraceResult, Options) error {
	return func(w io.Writer, rs []*geoloc.TraceResult, o Options) error {
		return write(w, slices.All(rs), o)
	}
}

// jsonlStream writes one result a line.
type jsonlStream struct {
	bw  *bufio.Writer
	buf []byte
}

func beginJSONL(w io.Writer, _ Options) (Stream, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &jsonlStream{bw: bw}, nil
}

func (s *jsonlStream) Add(r *geoloc.TraceResult) error {
	if r == nil {
		return nil
	}
	b, err := AppendJSON(s.buf[:0], finiteResult(r), true)
	if err != nil {
		return err
	}
	s.buf = b
	_, err = s.bw.Write(b)
	return err
}

func (s *jsonlStream) Close() error { return s.bw.Flush() }

// jsonArrayStream writes an indented JSON array, one element at a time,
// exactly as json.Encoder with SetIndent("", "  ") writes the slice.
type jsonArrayStream struct {
	bw *bufio.Writer
	n  int
}

func beginJSON(w io.Writer, _ Options) (Stream, error) {
	return &jsonArrayStream{bw: bufio.NewWriterSize(w, 64<<10)}, nil
}

func (s *jsonArrayStream) Add(r *geoloc.TraceResult) error {
	if r == nil {
		return nil
	}
	b, err := json.MarshalIndent(finiteResult(r), "  ", "  ")
	if err != nil {
		return err
	}
	if s.n == 0 {
		s.bw.WriteString("[\n  ")
	} else {
		s.bw.WriteString(",\n  ")
	}
	s.n++
	_, err = s.bw.Write(b)
	return err
}

func (s *jsonArrayStream) Close() error {
	if s.n == 0 {
		s.bw.WriteString("[]\n")
	} else {
		s.bw.WriteString("\n]\n")
	}
	return s.bw.Flush()
}
