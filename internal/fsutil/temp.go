package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// TempMarker names geoloc's temporary files: PREFIX.geoloc-tmp-PID-RANDOM,
// PID the process that made it, RANDOM 16 hex digits.
const TempMarker = ".geoloc-tmp-"

// TempPrefix is the start of the names of the temporary files for base:
// "."+base+TempMarker, base shortened (at a character boundary) to keep
// the names within the 255 bytes a file name may have.
func TempPrefix(base string) string {
	const most = 255 - len(".") - len(TempMarker) - 10 - len("-") - 16 // pid, random
	if len(base) > most {
		n := most
		for n > 0 && !utf8.RuneStart(base[n]) {
			n--
		}
		base = base[:n]
	}
	return "." + base + TempMarker
}

// CreateTemp creates a new file, mode 0600, named prefix+PID-RANDOM in
// root and returns it with its name there. It first removes the files of
// that prefix a process that is no longer running left behind (a SIGKILL,
// a crash): on Unix those that belong to the caller and whose PID is no
// live process; never another user's. Elsewhere none is removed.
func CreateTemp(root *os.Root, prefix string) (*os.File, string, error) {
	removeStale(root, prefix)
	return createTemp(root.OpenFile, prefix)
}

// CreateTempIn is CreateTemp in the directory dir; the file's Name is its
// path. In a directory the caller may write but not read (mode -wx), which
// OpenRoot cannot open, it creates the file by path and removes no stale
// one, since it cannot list them.
func CreateTempIn(dir, prefix string) (*os.File, error) {
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrPermission) {
		return CreateTempPath(dir, prefix)
	}
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, _, err := CreateTemp(root, prefix)
	return f, err
}

// CreateTempPath creates the file as CreateTemp does, by its path in dir,
// and removes no stale file: for a directory OpenRoot cannot open.
func CreateTempPath(dir, prefix string) (*os.File, error) {
	f, _, err := createTemp(func(name string, flag int, perm fs.FileMode) (*os.File, error) {
		return os.OpenFile(filepath.Join(dir, name), flag, perm)
	}, prefix)
	return f, err
}

func createTemp(open func(string, int, fs.FileMode) (*os.File, error), prefix string) (*os.File, string, error) {
	var err error
	for range 100 {
		name := fmt.Sprintf("%s%d-%016x", prefix, os.Getpid(), rand.Uint64())
		var f *os.File
		f, err = open(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			return f, name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	return nil, "", err
}

// removeStale removes from root the temporary files named prefix+PID-RANDOM
// that staleTemp says were left by a process no longer running. It reads
// the directory a batch at a time, so a huge one costs time, not memory.
func removeStale(root *os.Root, prefix string) {
	d, err := root.Open(".")
	if err != nil {
		return
	}
	defer d.Close()
	for {
		ents, err := d.ReadDir(256)
		for _, e := range ents {
			name := e.Name()
			pid, ok := tempPID(name, prefix)
			if !ok {
				continue
			}
			fi, err := root.Lstat(name)
			if err != nil || !fi.Mode().IsRegular() || !staleTemp(fi, pid) {
				continue
			}
			root.Remove(name)
		}
		if err != nil {
			return
		}
	}
}

// tempPID parses name as one of CreateTemp's files for prefix, and returns
// the process id in it.
func tempPID(name, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0, false
	}
	digits, random, ok := strings.Cut(rest, "-")
	if !ok || len(random) != 16 || strings.Trim(random, "0123456789abcdef") != "" ||
		digits == "" || digits[0] == '0' || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	pid, err := strconv.ParseInt(digits, 10, 32)
	if err != nil || pid <= 0 {
		return 0, false
	}
	return int(pid), true
}
