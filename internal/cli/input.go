package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"

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

// interruptible returns r made to stop when the command's context ends:
// every Read then returns the context's error, so that a reader between
// records or deep in a long bad line stops at once. A read that can block
// for good (a pipe whose writer is idle, a terminal) runs on its own
// goroutine and is left behind when the context ends first: the command is
// about to exit. A regular file only needs the check before each read.
func (a *app) interruptible(r io.Reader) io.Reader {
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			return ctxCheckReader{a.ctx, r}
		}
	}
	return &ctxReader{ctx: a.ctx, r: r}
}

type ctxCheckReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxCheckReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// ctxReader reads r on a goroutine so that Read can return when ctx ends.
type ctxReader struct {
	ctx     context.Context
	r       io.Reader
	buf     []byte
	pending chan readResult // the read in flight, or nil
}

type readResult struct {
	n   int
	err error
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if c.pending == nil {
		if cap(c.buf) < len(p) {
			c.buf = make([]byte, len(p))
		}
		buf, ch := c.buf[:len(p)], make(chan readResult, 1)
		go func() {
			n, err := c.r.Read(buf)
			ch <- readResult{n, err}
		}()
		c.pending = ch
	}
	select {
	case <-c.ctx.Done():
		return 0, c.ctx.Err()
	case res := <-c.pending:
		c.pending = nil
		return copy(p, c.buf[:res.n]), res.err
	}
}
