// Package decompress is geoloc's one compression sniffer. It recognises
// gzip, bzip2 and zstd streams by their magic bytes (never by file name) and
// decompresses them as a stream, with two caps that make a decompression
// bomb fail fast and say why: the decompressed size, and the ratio of
// decompressed to compressed bytes once the output has passed a floor.
//
// Traceroute inputs (package traceroute), GeoIP and ASN databases (package
// candidates) and the CLI's other inputs all come through here.
package decompress

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// Format is a compression format.
type Format string

// The formats NewReader recognises; None is plain data.
const (
	None  Format = ""
	Gzip  Format = "gzip"
	Bzip2 Format = "bzip2"
	Zstd  Format = "zstd"
)

// Sniff reports the compression format whose magic head starts with.
func Sniff(head []byte) Format {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return Gzip
	case len(head) >= 4 && bytes.HasPrefix(head, []byte("BZh")) && head[3] >= '1' && head[3] <= '9':
		return Bzip2
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return Zstd
	}
	return None
}

// Defaults for [Options].
const (
	// DefaultMaxRatio is far above what real traceroute outputs, JSON
	// results and GeoIP tables reach (10:1 to 20:1 with gzip, bzip2 or
	// zstd at their highest levels) and far below a bomb's (1000:1 for
	// gzip of zeros).
	DefaultMaxRatio = 250
	// DefaultRatioFloorBytes is how much output may come before the ratio
	// is checked: small inputs may compress very well (a file of blank
	// traces), and a bomb is caught after this much work.
	DefaultRatioFloorBytes = 64 << 20
	// zstdMaxWindowBytes bounds the memory a zstd frame may ask for; zstd
	// -19 uses 8 MiB, --long 128 MiB.
	zstdMaxWindowBytes = 128 << 20
)

// Options set the caps. The zero value applies no size cap and the
// default ratio cap.
type Options struct {
	// MaxBytes caps the decompressed size; 0 means no cap.
	MaxBytes int64
	// MaxRatio caps decompressed/compressed bytes once more than
	// RatioFloorBytes have come out; 0 means DefaultMaxRatio, negative no
	// ratio cap.
	MaxRatio float64
	// RatioFloorBytes is the output before the ratio is checked; 0 means
	// DefaultRatioFloorBytes.
	RatioFloorBytes int64
}

// LimitError is returned by a Reader's Read when a cap is hit.
type LimitError struct {
	Format Format
	// LimitBytes is the size cap that was hit, or 0 for the ratio cap.
	LimitBytes int64
	// Ratio is the cap on decompressed/compressed bytes that was hit, or
	// 0 for the size cap.
	Ratio float64
	// Out and In are the decompressed and compressed bytes so far.
	Out, In int64
}

func (e *LimitError) Error() string {
	if e.Ratio > 0 {
		return fmt.Sprintf("%s: %s decompressed from %s, over the %.0f:1 ratio cap (a decompression bomb?)",
			e.Format, approx(e.Out), approx(e.In), e.Ratio)
	}
	return fmt.Sprintf("%s: decompressed data exceeds the %s cap", e.Format, Size(e.LimitBytes))
}

// Size formats a byte count for messages: exact in the largest unit that
// divides it ("1 GiB", "64 MiB", "9999 B"), else to a tenth above 1 MiB
// ("1.5 GiB", "64.0 MiB").
func Size(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d B", n)
}

// approx formats a byte count to a tenth of its unit.
func approx(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// Reader reads the decompressed content of a stream, or the stream itself
// when it is not compressed.
type Reader struct {
	r      io.Reader
	format Format
	zr     *zstd.Decoder
	in     *countingReader
	out    int64
	opts   Options
	err    error
}

// NewReader sniffs r and returns a Reader over its decompressed content
// (or over r itself, buffered, when no magic matches). It fails only when
// a compressed stream's header is invalid; the error names the format.
// Close the Reader to release a zstd decoder; closing does not close r.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	in := &countingReader{r: r}
	br := bufio.NewReaderSize(in, 64<<10)
	head, _ := br.Peek(4)
	d := &Reader{format: Sniff(head), in: in, opts: opts}
	switch d.format {
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		d.r = zr
	case Bzip2:
		d.r = bzip2.NewReader(br)
	case Zstd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindowBytes), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		d.r, d.zr = zr, zr
	default:
		d.r = br
	}
	return d, nil
}

// Format is the compression format found (None for plain data).
func (d *Reader) Format() Format { return d.format }

// Read implements io.Reader. Past a cap it returns a *LimitError, and
// keeps returning it.
func (d *Reader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.format == None {
		return d.r.Read(p)
	}
	if d.opts.MaxBytes > 0 {
		if left := d.opts.MaxBytes - d.out; int64(len(p)) > left+1 {
			// Read one byte past the cap to tell "exactly at" from "over".
			p = p[:left+1]
		}
	}
	n, err := d.r.Read(p)
	d.out += int64(n)
	if d.opts.MaxBytes > 0 && d.out > d.opts.MaxBytes {
		d.err = &LimitError{Format: d.format, LimitBytes: d.opts.MaxBytes, Out: d.out, In: d.in.n}
		return n - int(d.out-d.opts.MaxBytes), d.err
	}
	ratio := d.opts.MaxRatio
	if ratio == 0 {
		ratio = DefaultMaxRatio
	}
	floor := d.opts.RatioFloorBytes
	if floor <= 0 {
		floor = DefaultRatioFloorBytes
	}
	if ratio > 0 && d.out > floor && float64(d.out) > ratio*float64(max(d.in.n, 1)) {
		d.err = &LimitError{Format: d.format, Ratio: ratio, Out: d.out, In: d.in.n}
		return n, d.err
	}
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("%s: %w", d.format, err)
	}
	return n, err
}

// Close releases the decoder. It does not close the underlying reader.
func (d *Reader) Close() error {
	if d.zr != nil {
		d.zr.Close()
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
