//go:build unix

package output

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// resolveLinks follows every symbolic link in path, in its directories as
// in its last name, as the kernel's path walk would, to the file they end
// at, which need not exist when path itself names it. A link in a sticky
// world-writable directory is followed only by checkOwner's rule; a link
// whose target does not exist is an ErrDanglingLink. viaFD reports that
// the walk ended at a file-descriptor link (/proc/PID/fd/N, /dev/fd/N),
// whose text is not always a path; the caller must then open path.
func resolveLinks(path string) (target string, viaFD bool, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false, err
	}
	resolved, rest := "/", abs // resolved never holds a link
	links := 0
	lastLink := "" // the link the last name came from, if one did
	for {
		rest = strings.TrimLeft(rest, "/")
		if rest == "" {
			return resolved, false, nil
		}
		var name string
		name, rest, _ = strings.Cut(rest, "/")
		switch name {
		case ".":
			continue
		case "..":
			resolved = filepath.Dir(resolved)
			continue
		}
		next := filepath.Join(resolved, name)
		last := strings.TrimLeft(rest, "/") == ""
		fi, err := os.Lstat(next)
		switch {
		case errors.Is(err, fs.ErrNotExist) && lastLink != "":
			return "", false, fmt.Errorf("%w: %s points to %s, which does not exist; nothing is created there", ErrDanglingLink, lastLink, next)
		case last && errors.Is(err, fs.ErrNotExist):
			return next, false, nil
		case err != nil:
			return "", false, err
		case fi.Mode()&fs.ModeSymlink == 0:
			resolved = next
			continue
		}
		if err := checkOwner(next, fi, "follow symbolic link"); err != nil {
			return "", false, err
		}
		if last && isFDLink(next) {
			return next, true, nil
		}
		if links++; links > maxLinks {
			return "", false, fmt.Errorf("more than %d symbolic links", maxLinks)
		}
		dest, err := os.Readlink(next)
		if err != nil {
			return "", false, err
		}
		if last {
			lastLink = next
		}
		if filepath.IsAbs(dest) {
			resolved = "/"
		}
		rest = dest + "/" + rest
	}
}

// isFDLink reports whether p is an entry of a process's file-descriptor
// directory (/proc/self/fd/1, /proc/123/task/123/fd/1, /dev/fd/1).
func isFDLink(p string) bool {
	dir := filepath.Dir(filepath.Clean(p))
	return dir == "/dev/fd" || strings.HasPrefix(dir, "/proc/") && filepath.Base(dir) == "fd"
}

// checkOwner applies the rule of the kernel's protected_symlinks,
// protected_regular and protected_fifos to name, which fi describes
// (without following it): in a sticky world-writable directory, only a
// link, file or FIFO owned by the caller or by the directory's owner may
// be followed or written. doing says what was refused, for the error.
func checkOwner(name string, fi fs.FileInfo, doing string) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	dir := filepath.Dir(name)
	di, err := os.Stat(dir)
	if err != nil {
		return err
	}
	ds, ok := di.Sys().(*syscall.Stat_t)
	if !ok || di.Mode()&fs.ModeSticky == 0 || di.Mode().Perm()&0o002 == 0 {
		return nil
	}
	me := uint32(os.Geteuid())
	if st.Uid == me || st.Uid == ds.Uid {
		return nil
	}
	return fmt.Errorf("will not %s %s: %w (uid %d; you are uid %d, %s is uid %d's)",
		doing, name, ErrNotOwner, st.Uid, me, dir, ds.Uid)
}
