//go:build unix

package fsutil

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockOpenFlags: the lock file is never a link, nor inherited.
const lockOpenFlags = unix.O_NOFOLLOW | unix.O_CLOEXEC

// lockFile waits for an exclusive flock on f.
func lockFile(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			return err
		}
	}
}
