//go:build unix

package candidates

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps path read-only into memory: the database is read where it
// lies, off the Go heap (the collector neither scans nor counts it), and
// its pages are shared with every other process that maps it. unmap
// releases it.
func mapFile(path string) (b []byte, unmap func() error, err error) {
	f, err := os.Open(path) // #nosec G304 -- the caller names the database.
	if err != nil {
		return nil, nil, err
	}
	defer f.Close() //nolint:errcheck // the mapping outlives the descriptor
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := st.Size()
	switch {
	case size == 0:
		return nil, nil, errors.New("file is empty")
	case int64(int(size)) != size:
		return nil, nil, errors.New("file too large")
	}
	b, err = unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("mmap: %w", err)
	}
	return b, func() error { return unix.Munmap(b) }, nil
}
