//go:build unix

package fsutil

import (
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// staleTemp reports whether the temporary file fi, made by process pid,
// was left behind: it is the caller's, and no process pid exists. A file
// of another user's is never stale, whatever its process.
func staleTemp(fi fs.FileInfo, pid int) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid != uint32(os.Geteuid()) {
		return false
	}
	return unix.Kill(pid, 0) == unix.ESRCH
}
