//go:build unix

package fsutil

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Lock takes an exclusive advisory lock (flock) on the file at path,
// creating it (with FileMode) if need be, and waits until it has it. The
// lock holds until Unlock, or until the process ends however it ends, so a
// killed process never leaves the lock taken. Other processes that Lock
// the same path wait; a process that does not is not stopped. The file
// stays, empty: removing it would let two processes lock two different
// files of the same name.
func Lock(path string) (*Locked, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, FileMode())
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Locked{f: f}, nil
}

// Locked is a lock taken by Lock.
type Locked struct{ f *os.File }

// Unlock releases the lock.
func (l *Locked) Unlock() error {
	// Closing the only descriptor of the open file releases its flock.
	return l.f.Close()
}
