package traceroute

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/geoloc-dev/geoloc/internal/decompress"
)

// DecompressionLimitError is what a compressed input that hits a cap
// yields (wrapped in a *ParseError): which format, which cap, how far.
type DecompressionLimitError = decompress.LimitError

// ReadOptions control Read. The zero value detects the compression and
// the format and names the input "-" in errors.
type ReadOptions struct {
	// Format forces a format by name (see Formats); "" detects it from the
	// first bytes of the input.
	Format string
	// Input names the input in errors, usually a file name.
	Input string
	// MaxDecompressedBytes caps the decompressed size of a compressed
	// input; 0 means DefaultMaxDecompressedBytes, negative no size cap.
	// Whatever the size cap, an input that decompresses more than 250
	// times its compressed size (past the first 64 MiB) is refused as a
	// decompression bomb: real outputs compress 10 to 20 times.
	MaxDecompressedBytes int64
}

// DefaultMaxDecompressedBytes is the size cap on a compressed input's
// content: far more than a day of RIPE Atlas results, finite all the same.
// Read streams, so the cap bounds time, not memory.
const DefaultMaxDecompressedBytes = 64 << 30

// Limits every reader enforces, so that no input, however hostile, makes a
// reader hold more than a few tens of megabytes or spin without end. Real
// traces stay far below them. A record over a limit is reported with the
// limit it broke: a JSON or XML record is rejected whole; a text trace is
// cut there and yielded, and the lines after it start a new trace.
const (
	// MaxHops is the most hops one trace may hold.
	MaxHops = 1024
	// MaxProbes is the most probes plus per-address statistics one trace
	// may hold (a scamper tracelb of a large load-balanced path holds a
	// few thousand).
	MaxProbes = 1 << 15
	// MaxRTTMs is the longest round-trip time a reader accepts, one
	// minute: traceroute tools wait seconds for a reply, and an RTT past
	// this (1e308 in a hostile file) is no measurement. A JSON or XML
	// record holding one is refused; a text line giving one is reported
	// and its absurd figures dropped.
	MaxRTTMs = 60_000
)

// absurdRTT returns the first RTT of h (of a probe that answered, or any
// figure of a per-address aggregate) past MaxRTTMs.
func absurdRTT(h *Hop) (float64, bool) {
	for _, p := range h.Probes {
		if !p.Lost && !(p.RTTMs <= MaxRTTMs) {
			return p.RTTMs, true
		}
	}
	for _, s := range h.Stats {
		for _, v := range [...]float64{s.LastMs, s.MinMs, s.AvgMs, s.MaxMs, s.StdevMs} {
			if !(v <= MaxRTTMs) {
				return v, true
			}
		}
	}
	return 0, false
}

// errAbsurdRTT says why an RTT was refused.
func errAbsurdRTT(ttl int, v float64) error {
	return fmt.Errorf("hop %d: rtt %g ms beyond the physical maximum of %d ms", ttl, v, MaxRTTMs)
}

// checkRTTs refuses a trace holding an RTT past MaxRTTMs.
func checkRTTs(t *Trace) error {
	for i := range t.Hops {
		if v, bad := absurdRTT(&t.Hops[i]); bad {
			return errAbsurdRTT(t.Hops[i].TTL, v)
		}
	}
	return nil
}

// dropAbsurdRTTs removes from h the probes and aggregates with an RTT past
// MaxRTTMs.
func dropAbsurdRTTs(h *Hop) {
	h.Probes = slices.DeleteFunc(h.Probes, func(p Probe) bool { return !p.Lost && !(p.RTTMs <= MaxRTTMs) })
	h.Stats = slices.DeleteFunc(h.Stats, func(s Stats) bool {
		_, bad := absurdRTT(&Hop{Stats: []Stats{s}})
		return bad
	})
}

// ParseError is a problem with one record of an input. Its message has the
// shape "INPUT:LINE: FORMAT: what is wrong"; LINE is 0 when unknown.
type ParseError struct {
	Input  string
	Line   int
	Format string
	Err    error
}

func (e *ParseError) Error() string {
	in := e.Input
	if in == "" {
		in = "-"
	}
	f := e.Format
	if f == "" {
		f = "input"
	}
	return fmt.Sprintf("%s:%d: %s: %v", in, e.Line, f, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ErrUnknownFormat is wrapped by the error Read yields when no format matches.
var ErrUnknownFormat = errors.New("unrecognised traceroute output")

// format is one supported input format.
type format struct {
	name string
	// detect reports whether head (the first bytes of the input, BOM and
	// leading blank space removed, at most detectSize long) looks like this
	// format. Formats are tried in table order: specific before generic.
	detect func(head []byte) bool
	// parse reads every trace from r and yields them in input order. It
	// yields (nil, *ParseError) for a bad record and goes on with the next
	// one where the format allows resynchronising; it stops when yield
	// returns false. It must hold memory bounded by one trace, never the
	// whole input.
	parse func(r *bufio.Reader, input string, yield func(*Trace, error) bool)
}

const detectSize = 64 << 10

// formatTable lists every format, JSON ones first (their detection is exact),
// then text formats from most to least specific.
func formatTable() []format { return slices.Concat(jsonFormats, textFormats) }

// Formats returns the names of the supported input formats.
func Formats() []string {
	var names []string
	for _, f := range formatTable() {
		names = append(names, f.name)
	}
	return names
}

// Read parses every trace in r, in any supported format, as a stream: memory
// stays bounded by one trace however large the input. Bad records yield a
// *ParseError and reading goes on; an unreadable or unrecognised input yields
// one error and stops.
//
// Input compressed with gzip, bzip2 or zstd is decompressed on the fly,
// recognised by its first bytes; see ReadOptions.MaxDecompressedBytes for
// the caps. A cap that is hit stops reading with a *ParseError wrapping a
// *DecompressionLimitError that names it.
//
// Text outputs may hold several traces one after another (outputs appended
// to one file): a header line, or a TTL going back to 1, starts a new trace.
// A bad line of a text output yields a *ParseError naming its line and is
// skipped: it adds nothing to its trace, which is still yielded. Lines over
// 64 KiB are reported and skipped; an input giving 32 bad lines in a row
// stops with an error. UTF-8 and UTF-16 byte order marks are honoured.
//
// In JSON Lines, a record cut off in the middle of its line is reported at
// that line and the records after it still read. Whatever the input, a
// reader holds at most one record and gives up, saying why, on what cannot
// be its format: a line without end (16 MiB without a newline, /dev/zero),
// 32 bad records or lines in a row, an XML token over 1 MiB. A JSON record
// over 8 MiB or 65,536 objects, or a trace over MaxHops hops or MaxProbes
// probes, is refused (JSON, XML) or cut (text) with an error naming the
// limit.
func Read(r io.Reader, opts ReadOptions) iter.Seq2[*Trace, error] {
	return func(yield func(*Trace, error) bool) {
		input := opts.Input
		if input == "" {
			input = "-"
		}
		maxBytes := opts.MaxDecompressedBytes
		switch {
		case maxBytes == 0:
			maxBytes = DefaultMaxDecompressedBytes
		case maxBytes < 0:
			maxBytes = 0
		}
		dr, err := decompress.NewReader(r, decompress.Options{MaxBytes: maxBytes})
		if err != nil {
			yield(nil, &ParseError{Input: input, Line: 1, Format: opts.Format, Err: err})
			return
		}
		defer dr.Close()
		br := bufio.NewReaderSize(dr, detectSize)
		head, err := br.Peek(detectSize)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			yield(nil, &ParseError{Input: input, Format: opts.Format, Err: err})
			return
		}
		switch {
		case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
			_, _ = br.Discard(3)
			head = head[3:]
		case bytes.HasPrefix(head, []byte("\xff\xfe")), bytes.HasPrefix(head, []byte("\xfe\xff")):
			// UTF-16 with a byte order mark: what Windows PowerShell's
			// "tracert host > file" writes. Decode it to UTF-8 on the fly.
			be := head[0] == 0xfe
			_, _ = br.Discard(2)
			br = bufio.NewReaderSize(&utf16Reader{r: br, be: be}, detectSize)
			head, err = br.Peek(detectSize)
			if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
				yield(nil, &ParseError{Input: input, Format: opts.Format, Err: err})
				return
			}
		}
		trimmed := bytes.TrimLeft(head, " \t\r\n")
		var f *format
		table := formatTable()
		if opts.Format != "" {
			for i := range table {
				if table[i].name == opts.Format {
					f = &table[i]
				}
			}
			if f == nil {
				yield(nil, &ParseError{Input: input, Format: opts.Format, Err: fmt.Errorf("unknown format %q (known: %v)", opts.Format, Formats())})
				return
			}
		} else {
			switch {
			case len(trimmed) == 0:
				yield(nil, &ParseError{Input: input, Line: 1, Err: errors.New("empty input")})
				return
			case looksBinary(trimmed):
				yield(nil, &ParseError{Input: input, Line: 1, Err: errors.New("binary data, not traceroute output")})
				return
			}
			for i := range table {
				if table[i].detect(trimmed) {
					f = &table[i]
					break
				}
			}
			if f == nil {
				yield(nil, &ParseError{Input: input, Line: 1, Err: fmt.Errorf("%w (known formats: %v; ReadOptions.Format forces one)", ErrUnknownFormat, Formats())})
				return
			}
		}
		f.parse(br, input, yield)
	}
}

// looksBinary reports whether b is unlikely to be text: NUL bytes or mostly
// invalid UTF-8 in the first KiB.
func looksBinary(b []byte) bool {
	if len(b) > 1024 {
		b = b[:1024]
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	bad := 0
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			bad++
		}
		b = b[n:]
	}
	return bad > 8
}

// utf16Reader decodes UTF-16 (without its byte order mark) to UTF-8. Unpaired
// surrogates become U+FFFD; an odd trailing byte is dropped.
type utf16Reader struct {
	r   io.Reader
	be  bool
	in  [4096]byte
	n   int // undecoded bytes at the start of in
	out []byte
	err error
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.err != nil {
			return 0, u.err
		}
		m, err := u.r.Read(u.in[u.n:])
		u.n += m
		if err != nil {
			u.err = err
		}
		u.out = u.out[:0]
		i := 0
		for ; i+1 < u.n; i += 2 {
			c := rune(u.in[i]) | rune(u.in[i+1])<<8
			if u.be {
				c = rune(u.in[i])<<8 | rune(u.in[i+1])
			}
			if utf16.IsSurrogate(c) {
				if i+3 >= u.n {
					if u.err == nil {
						break // wait for the low surrogate
					}
					c = utf8.RuneError
				} else {
					c2 := rune(u.in[i+2]) | rune(u.in[i+3])<<8
					if u.be {
						c2 = rune(u.in[i+2])<<8 | rune(u.in[i+3])
					}
					if d := utf16.DecodeRune(c, c2); d != utf8.RuneError {
						c = d
						i += 2
					} else {
						c = utf8.RuneError
					}
				}
			}
			u.out = utf8.AppendRune(u.out, c)
		}
		u.n = copy(u.in[:], u.in[i:u.n])
		if u.err != nil && len(u.out) == 0 {
			return 0, u.err
		}
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}
