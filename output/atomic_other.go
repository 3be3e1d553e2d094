//go:build !unix

package output

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// resolveLinks follows path's symbolic links to the file they end at,
// which need not exist when path itself names it; a link to nothing is an
// ErrDanglingLink.
func resolveLinks(path string) (target string, viaFD bool, err error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, false, nil
	}
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return path, false, err
	}
	t, err := filepath.EvalSymlinks(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("%w: %s points to a file that does not exist; nothing is created there", ErrDanglingLink, path)
	}
	return t, false, err
}

// checkOwner: there are no sticky directories to guard here.
func checkOwner(string, fs.FileInfo, string) error { return nil }
