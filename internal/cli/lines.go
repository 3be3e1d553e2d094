package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// maxLineSkip is how far eachLine skips an over-long line looking for its
// end before it gives up on the input.
const maxLineSkip = 16 << 20

// errNoLineEnd is wrapped by eachLine's error for a line without end.
var errNoLineEnd = errors.New("no line end")

// eachLine calls fn with every line of r (numbered from 1, without the
// line ending). A line longer than maxBytes is not kept in memory: fn gets
// it with tooLong set and no content, and reading goes on at the next
// line. A read error other than EOF is returned with the number of the line
// it happened on. fn's error stops the loop and is returned. A line still
// without end maxLineSkip bytes past maxBytes (/dev/zero, a binary file)
// ends the loop with an error wrapping errNoLineEnd.
func eachLine(r io.Reader, maxBytes int, fn func(n int, line []byte, tooLong bool) error) (int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	n := 0
	for {
		buf = buf[:0]
		tooLong := false
		var err error
		size := 0
		for {
			var chunk []byte
			chunk, err = br.ReadSlice('\n')
			if size += len(chunk); size > maxBytes+maxLineSkip {
				return n + 1, fmt.Errorf("%w in %d MiB: giving up", errNoLineEnd, size>>20)
			}
			if !tooLong {
				size := len(buf) + len(chunk)
				if err == nil { // chunk ends with the '\n'
					size--
				}
				if size > maxBytes {
					tooLong, buf = true, buf[:0]
				} else {
					buf = append(buf, chunk...)
				}
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				break
			}
		}
		if len(buf) == 0 && !tooLong && err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n + 1, err
		}
		n++
		if l := len(buf); l > 0 && buf[l-1] == '\n' {
			buf = buf[:l-1]
		}
		if l := len(buf); l > 0 && buf[l-1] == '\r' {
			buf = buf[:l-1]
		}
		if ferr := fn(n, buf, tooLong); ferr != nil {
			return n, ferr
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
	}
}
