//go:build unix

package fsutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUmask(t *testing.T) {
	for _, mask := range []int{0o022, 0o077, 0o002, 0o027} {
		old := syscall.Umask(mask)
		got, gotFile, gotDir := Umask(), FileMode(), DirMode()
		syscall.Umask(old)
		assert.Equal(t, fs.FileMode(mask), got, "%#o", mask)
		assert.Equal(t, 0o666&^fs.FileMode(mask), gotFile, "%#o", mask)
		assert.Equal(t, 0o777&^fs.FileMode(mask), gotDir, "%#o", mask)
	}
	if _, err := os.Stat("/proc/self/status"); err == nil {
		_, ok := procUmask()
		assert.True(t, ok, "read from /proc/self/status")
	}
}

// TestLockExcludes: while one holder has the lock, another Lock of the same
// path waits; each critical section runs alone.
func TestLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".lock")
	var mu sync.Mutex
	inside, most := 0, 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			l, err := Lock(path)
			if !assert.NoError(t, err) {
				return
			}
			mu.Lock()
			inside++
			most = max(most, inside)
			mu.Unlock()
			time.Sleep(5 * time.Millisecond) // widen the window a second holder would need
			mu.Lock()
			inside--
			mu.Unlock()
			assert.NoError(t, l.Unlock())
		})
	}
	wg.Wait()
	assert.Equal(t, 1, most, "holders at once")
}

func TestLockRefusesLink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	require.NoError(t, os.WriteFile(victim, []byte("keep"), 0o644))
	link := filepath.Join(dir, ".lock")
	require.NoError(t, os.Symlink(victim, link))
	_, err := Lock(link)
	require.Error(t, err)
	assert.Contains(t, err.Error(), link)
}
