package cli

import (
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/geoloc-dev/geoloc/internal/decompress"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// decompressed returns a reader over rc's content, decompressed when it
// starts with the gzip, bzip2 or zstd magic (internal/decompress, the
// sniffer and caps traceroute.Read and candidates use too). Closing the
// result closes rc.
func decompressed(rc io.ReadCloser) (io.ReadCloser, error) {
	dr, err := decompress.NewReader(rc, decompress.Options{MaxBytes: traceroute.DefaultMaxDecompressedBytes})
	if err != nil {
		return nil, err
	}
	return readCloser{dr, closers{dr, rc}}, nil
}

type closers []io.Closer

func (cs closers) Close() error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

type readCloser struct {
	io.Reader
	c io.Closer
}

func (r readCloser) Close() error { return r.c.Close() }

// readTraces is traceroute.Read with the CLI's words: an input whose
// format is not recognised points at --input-format.
func readTraces(r io.Reader, opts traceroute.ReadOptions) iter.Seq2[*traceroute.Trace, error] {
	return func(yield func(*traceroute.Trace, error) bool) {
		for t, err := range traceroute.Read(r, opts) {
			var pe *traceroute.ParseError
			if errors.Is(err, traceroute.ErrUnknownFormat) && errors.As(err, &pe) {
				e := *pe
				e.Err = fmt.Errorf("%w (use --input-format; known: %v)", traceroute.ErrUnknownFormat, traceroute.Formats())
				err = &e
			}
			if !yield(t, err) {
				return
			}
		}
	}
}
