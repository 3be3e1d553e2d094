//go:build unix

package fsutil

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"syscall"
)

// Umask returns the process's umask. On Linux it reads the "Umask:" line
// of /proc/self/status, which leaves the umask alone; elsewhere (or
// without /proc) it sets the umask and puts it back, which a file created
// by another goroutine in between would see, so that is the last resort.
func Umask() fs.FileMode {
	if m, ok := procUmask(); ok {
		return m
	}
	umaskMu.Lock()
	defer umaskMu.Unlock()
	m := syscall.Umask(0o022)
	syscall.Umask(m)
	return fs.FileMode(m) & fs.ModePerm
}

var umaskMu sync.Mutex

func procUmask() (fs.FileMode, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		v, ok := bytes.CutPrefix(sc.Bytes(), []byte("Umask:"))
		if !ok {
			continue
		}
		m, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 8, 32)
		if err != nil {
			return 0, false
		}
		return fs.FileMode(m) & fs.ModePerm, true
	}
	return 0, false
}
