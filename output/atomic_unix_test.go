//go:build unix

package output

import (
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestWriteFileAtomicKinds checks what WriteFileAtomic does with each kind
// of thing a path can name: it must never replace a link, a device or a
// pipe by a regular file, nor leave a temporary file behind on failure.
func TestWriteFileAtomicKinds(t *testing.T) {
	const data = "new map\n"
	tests := []struct {
		name string
		// setup prepares dir and returns the path to write and a check
		// run after the write.
		setup   func(t *testing.T, dir string) (path string, check func(t *testing.T))
		wantErr string // "" means success; else a substring of the error
	}{
		{
			name: "symlink to regular file",
			setup: func(t *testing.T, dir string) (string, func(*testing.T)) {
				require.NoError(t, os.Mkdir(filepath.Join(dir, "real"), 0o755))
				target := filepath.Join(dir, "real", "map.geojson")
				require.NoError(t, os.WriteFile(target, []byte("old"), 0o600))
				link := filepath.Join(dir, "map.geojson")
				require.NoError(t, os.Symlink(filepath.Join("real", "map.geojson"), link))
				return link, func(t *testing.T) {
					fi, err := os.Lstat(link)
					require.NoError(t, err)
					assert.Equal(t, fs.ModeSymlink, fi.Mode().Type(), "the link stays a link")
					assertFile(t, target, data, 0o600)
					assertOnly(t, dir, "map.geojson", "real")
					assertOnly(t, filepath.Join(dir, "real"), "map.geojson")
				}
			},
		},
		{
			name: "chain of links through a linked directory",
			setup: func(t *testing.T, dir string) (string, func(*testing.T)) {
				require.NoError(t, os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755))
				target := filepath.Join(dir, "a", "map.kml")
				require.NoError(t, os.WriteFile(target, []byte("old"), 0o640))
				// linkdir → a/b; linkdir/l2 is a/b/l2 → ../map.kml, which
				// the kernel reads relative to a/b, not to dir.
				require.NoError(t, os.Symlink(filepath.Join("a", "b"), filepath.Join(dir, "linkdir")))
				require.NoError(t, os.Symlink(filepath.Join("..", "map.kml"), filepath.Join(dir, "a", "b", "l2")))
				l1 := filepath.Join(dir, "l1")
				require.NoError(t, os.Symlink(filepath.Join("linkdir", "l2"), l1))
				return l1, func(t *testing.T) {
					assertFile(t, target, data, 0o640)
					for _, l := range []string{l1, filepath.Join(dir, "a", "b", "l2")} {
						fi, err := os.Lstat(l)
						require.NoError(t, err)
						assert.Equal(t, fs.ModeSymlink, fi.Mode().Type(), l)
					}
					assertOnly(t, filepath.Join(dir, "a"), "b", "map.kml")
				}
			},
		},
		{
			// Issue 16 item 2: a dangling link used to create its target,
			// wherever it pointed.
			name: "dangling symlink is refused, its target not created",
			setup: func(t *testing.T, dir string) (string, func(*testing.T)) {
				link := filepath.Join(dir, "out.kml")
				require.NoError(t, os.Symlink("target.kml", link))
				return link, func(t *testing.T) {
					fi, err := os.Lstat(link)
					require.NoError(t, err)
					assert.Equal(t, fs.ModeSymlink, fi.Mode().Type())
					assertOnly(t, dir, "out.kml")
				}
			},
			wantErr: "dangling symbolic link",
		},
		{
			name: "link to a missing directory is dangling too",
			setup: func(t *testing.T, dir string) (string, func(*testing.T)) {
				link := filepath.Join(dir, "out.kml")
				require.NoError(t, os.Symlink(filepath.Join("gone", "target.kml"), link))
				return link, func(t *testing.T) { assertOnly(t, dir, "out.kml") }
			},
			wantErr: "dangling symbolic link",
		},
		{
			name: "symlink loop",
			setup: func(t *testing.T, dir string) (string, func(*testing.T)) {
				a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
				require.NoError(t, os.Symlink("b", a))
				require.NoError(t, os.Symlink("a", b))
				return a, func(t *testing.T) { assertOnly(t, dir, "a", "b") }
			},
			wantErr: "symbolic links",
		},
		{
			name: "fifo",
			setup: func(t *testing.T, dir string) (string, func(*testing.T)) {
				fifo := filepath.Join(dir, "pipe")
				require.NoError(t, unix.Mkfifo(fifo, 0o600))
				got := make(chan string, 1)
				go func() {
					// Opening for reading blocks until the writer opens.
					f, err := os.Open(fifo)
					if err != nil {
						got <- err.Error()
						return
					}
					defer f.Close()
					b, err := io.ReadAll(f)
					if err != nil {
						got <- err.Error()
						return
					}
					got <- string(b)
				}()
				return fifo, func(t *testing.T) {
					select {
					case s := <-got:
						assert.Equal(t, data, s)
					case <-time.After(time.Minute): // a hang guard, not a timing assertion
						t.Fatal("nothing reached the FIFO's reader")
					}
					fi, err := os.Lstat(fifo)
					require.NoError(t, err)
					assert.Equal(t, fs.ModeNamedPipe, fi.Mode().Type(), "still a FIFO")
					assertOnly(t, dir, "pipe")
				}
			},
		},
		{
			name: "character device",
			setup: func(t *testing.T, dir string) (string, func(*testing.T)) {
				dev := nullDevice(t, dir)
				return dev, func(t *testing.T) {
					fi, err := os.Lstat(dev)
					require.NoError(t, err)
					assert.Equal(t, fs.ModeDevice|fs.ModeCharDevice, fi.Mode().Type(), "still a character device")
				}
			},
		},
		{
			name: "symlink to a pipe's fd, as /dev/stdout is",
			setup: func(t *testing.T, dir string) (string, func(*testing.T)) {
				r, w := pipeFD(t)
				got := make(chan string, 1)
				go func() {
					b, _ := io.ReadAll(r)
					got <- string(b)
				}()
				link := filepath.Join(dir, "stdout")
				require.NoError(t, os.Symlink(fmt.Sprintf("/proc/self/fd/%d", w.Fd()), link))
				return link, func(t *testing.T) {
					require.NoError(t, w.Close()) // our own end; the reader sees EOF
					assert.Equal(t, data, <-got)
					fi, err := os.Lstat(link)
					require.NoError(t, err)
					assert.Equal(t, fs.ModeSymlink, fi.Mode().Type())
					assertOnly(t, dir, "stdout")
				}
			},
		},
		{
			name: "fd of a regular file is appended to, not replaced",
			setup: func(t *testing.T, dir string) (string, func(*testing.T)) {
				if _, err := os.Stat("/proc/self/fd"); err != nil {
					t.Skip("no /proc/self/fd")
				}
				path := filepath.Join(dir, "redirected.txt")
				f, err := os.Create(path)
				require.NoError(t, err)
				t.Cleanup(func() { f.Close() })
				_, err = io.WriteString(f, "header\n")
				require.NoError(t, err)
				before, err := f.Stat()
				require.NoError(t, err)
				return fmt.Sprintf("/dev/fd/%d", f.Fd()), func(t *testing.T) {
					after, err := os.Stat(path)
					require.NoError(t, err)
					assert.True(t, os.SameFile(before, after), "the open file was not replaced")
					b, err := os.ReadFile(path)
					require.NoError(t, err)
					assert.Equal(t, "header\n"+data, string(b))
					assertOnly(t, dir, "redirected.txt")
				}
			},
		},
		{
			name: "socket",
			setup: func(t *testing.T, dir string) (string, func(*testing.T)) {
				sock := filepath.Join(dir, "sock")
				l, err := net.Listen("unix", sock)
				if err != nil {
					t.Skipf("listen %s: %v", sock, err)
				}
				t.Cleanup(func() { l.Close() })
				return sock, func(t *testing.T) {
					fi, err := os.Lstat(sock)
					require.NoError(t, err)
					assert.Equal(t, fs.ModeSocket, fi.Mode().Type(), "still a socket")
					assertOnly(t, dir, "sock")
				}
			},
			wantErr: "sock",
		},
		{
			name: "directory",
			setup: func(t *testing.T, dir string) (string, func(*testing.T)) {
				out := filepath.Join(dir, "out")
				require.NoError(t, os.Mkdir(out, 0o755))
				return out, func(t *testing.T) {
					assertOnly(t, dir, "out")
					assertOnly(t, out)
				}
			},
			wantErr: "out: is a directory",
		},
		{
			name: "symlink to a directory",
			setup: func(t *testing.T, dir string) (string, func(*testing.T)) {
				require.NoError(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
				link := filepath.Join(dir, "map.kml")
				require.NoError(t, os.Symlink("d", link))
				return link, func(t *testing.T) {
					assertOnly(t, dir, "d", "map.kml")
					assertOnly(t, filepath.Join(dir, "d"))
				}
			},
			wantErr: "map.kml: is a directory",
		},
		{
			name: "missing parent directory",
			setup: func(t *testing.T, dir string) (string, func(*testing.T)) {
				return filepath.Join(dir, "nope", "x.kml"), func(t *testing.T) { assertOnly(t, dir) }
			},
			wantErr: "nope",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path, check := tt.setup(t, dir)
			err := WriteFileAtomic(path, func(w io.Writer) error {
				_, err := io.WriteString(w, data)
				return err
			})
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Contains(t, err.Error(), path, "the error names the path")
			}
			check(t)
		})
	}
}

// nullDevice returns a writable null character device. As root it makes
// its own in dir (so that a broken WriteFileAtomic replaces that node, not
// the machine's /dev/null); others get /dev/null, which they cannot
// replace. It skips where neither is writable (a nodev mount).
func nullDevice(t *testing.T, dir string) string {
	t.Helper()
	dev := os.DevNull
	if os.Geteuid() == 0 {
		dev = filepath.Join(dir, "null")
		if err := unix.Mknod(dev, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
			t.Skipf("mknod %s: %v", dev, err)
		}
	}
	f, err := os.OpenFile(dev, os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("%s not writable: %v", dev, err)
	}
	f.Close()
	return dev
}

// pipeFD returns a pipe whose write end is reachable as /proc/self/fd/N,
// skipping where there is no /proc.
func pipeFD(t *testing.T) (r, w *os.File) {
	t.Helper()
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd")
	}
	r, w, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

func assertFile(t *testing.T, path, want string, perm fs.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	require.NoError(t, err)
	assert.True(t, fi.Mode().IsRegular(), "%s is a regular file", path)
	assert.Equal(t, perm, fi.Mode().Perm(), path)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, want, string(b), path)
}

// assertOnly checks that dir holds exactly names: no temporary file left.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	assert.ElementsMatch(t, names, got, "entries of %s", dir)
}
