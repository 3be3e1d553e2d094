//go:build !unix && !windows

package fsutil

import (
	"fmt"
	"os"
)

// Lock opens (creating it if need be) the file at path. Outside Unix and
// Windows (Plan 9, WebAssembly) it takes no lock: concurrent runs there may
// still lose each other's work.
func Lock(path string) (*Locked, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, FileMode())
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Locked{f: f}, nil
}

// Locked is a lock taken by Lock.
type Locked struct{ f *os.File }

// Unlock releases the lock.
func (l *Locked) Unlock() error { return l.f.Close() }
