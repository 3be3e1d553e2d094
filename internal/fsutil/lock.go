package fsutil

import (
	"fmt"
	"os"
)

// Lock takes an exclusive lock on the file at path, creating it (with
// FileMode) if need be, and waits until it has it: flock on Unix,
// LockFileEx on Windows, none elsewhere (Plan 9, WebAssembly: concurrent
// runs there may still lose each other's work). The lock holds until
// Unlock, or until the process ends however it ends, so a killed process
// never leaves the lock taken. Other processes that Lock the same path
// wait; a process that does not is not stopped. The file stays, empty:
// removing it would let two processes lock two different files of the
// same name.
func Lock(path string) (*Locked, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|lockOpenFlags, FileMode())
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Locked{f: f}, nil
}

// Locked is a lock taken by Lock.
type Locked struct{ f *os.File }

// Unlock releases the lock: closing the only descriptor (handle) of the
// open file releases its lock.
func (l *Locked) Unlock() error { return l.f.Close() }
