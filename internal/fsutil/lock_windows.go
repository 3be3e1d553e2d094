//go:build windows

package fsutil

import (
	"os"

	"golang.org/x/sys/windows"
)

const lockOpenFlags = 0

// lockFile waits for an exclusive LockFileEx lock on f's first byte.
func lockFile(f *os.File) error {
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, new(windows.Overlapped))
}
