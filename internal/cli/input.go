package cli

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"fmt"
	"io"
)

// decompress returns rc unchanged, or a reader that decompresses it when it
// starts with the gzip or bzip2 magic. Closing the result closes rc.
func decompress(rc io.ReadCloser) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(rc, 64<<10)
	head, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return readCloser{zr, rc}, nil
	case bytes.HasPrefix(head, []byte("BZh")):
		return readCloser{bzip2.NewReader(br), rc}, nil
	}
	return readCloser{br, rc}, nil
}

type readCloser struct {
	io.Reader
	c io.Closer
}

func (r readCloser) Close() error { return r.c.Close() }
