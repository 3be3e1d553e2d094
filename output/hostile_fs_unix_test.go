//go:build unix

package output

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/geoloc-dev/geoloc/internal/fsutil"
)

// nobody is the uid that plays the other user of a shared directory.
const nobody = 65534

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test gives files to another user (uid 65534) with lchown")
	}
}

// writeMap writes data to path by WriteFileAtomic.
func writeMap(path, data string) error {
	return WriteFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, data)
		return err
	})
}

// TestHostileLinksInStickyDir is issue 16 item 2: in a sticky
// world-writable directory (as /tmp), another user's link or file must
// not steer `sudo geoloc … -o route.kml` onto a file of root's, whatever
// the kernel's protected_symlinks says (the links are followed here, and
// the file renamed onto, so the kernel never applies it).
func TestHostileLinksInStickyDir(t *testing.T) {
	requireRoot(t)
	const data = "new map\n"
	tests := []struct {
		name string
		// setup prepares tmp (sticky, world-writable, root's unless the
		// case gives it away) and safe (root's, 0755) and returns the
		// path root writes and a check run afterwards.
		setup   func(t *testing.T, tmp, safe string) (path string, check func(t *testing.T))
		wantErr error // nil means success
	}{
		{
			name: "another user's link to root's file",
			setup: func(t *testing.T, tmp, safe string) (string, func(*testing.T)) {
				victim := plant(t, filepath.Join(safe, "shadow"), "secret", 0, 0o600)
				link := symlinkAs(t, victim, filepath.Join(tmp, "route.kml"), nobody)
				return link, func(t *testing.T) {
					assertFile(t, victim, "secret", 0o600)
					assertOnly(t, tmp, "route.kml")
				}
			},
			wantErr: ErrNotOwner,
		},
		{
			name: "another user's link to nothing yet",
			setup: func(t *testing.T, tmp, safe string) (string, func(*testing.T)) {
				link := symlinkAs(t, filepath.Join(safe, "cron.d-job"), filepath.Join(tmp, "route.kml"), nobody)
				return link, func(t *testing.T) {
					assertOnly(t, safe)
					assertOnly(t, tmp, "route.kml")
				}
			},
			wantErr: ErrNotOwner,
		},
		{
			name: "root's own link leading to another user's",
			setup: func(t *testing.T, tmp, safe string) (string, func(*testing.T)) {
				victim := plant(t, filepath.Join(safe, "shadow"), "secret", 0, 0o600)
				symlinkAs(t, victim, filepath.Join(tmp, "evil"), nobody)
				link := symlinkAs(t, "evil", filepath.Join(tmp, "route.kml"), 0)
				return link, func(t *testing.T) { assertFile(t, victim, "secret", 0o600) }
			},
			wantErr: ErrNotOwner,
		},
		{
			name: "another user's link to a directory, as a directory of the path",
			setup: func(t *testing.T, tmp, safe string) (string, func(*testing.T)) {
				victim := plant(t, filepath.Join(safe, "passwd"), "root:x:0:0", 0, 0o644)
				symlinkAs(t, safe, filepath.Join(tmp, "out"), nobody)
				return filepath.Join(tmp, "out", "passwd"), func(t *testing.T) {
					assertFile(t, victim, "root:x:0:0", 0o644)
					assertOnly(t, safe, "passwd")
				}
			},
			wantErr: ErrNotOwner,
		},
		{
			name: "another user's file is not replaced",
			setup: func(t *testing.T, tmp, _ string) (string, func(*testing.T)) {
				// World-writable: were it replaced keeping its mode,
				// its owner could rewrite root's map.
				f := plant(t, filepath.Join(tmp, "route.kml"), "theirs", nobody, 0o666)
				return f, func(t *testing.T) {
					assertFile(t, f, "theirs", 0o666)
					assertOnly(t, tmp, "route.kml")
				}
			},
			wantErr: ErrNotOwner,
		},
		{
			name: "another user's FIFO is not written",
			setup: func(t *testing.T, tmp, _ string) (string, func(*testing.T)) {
				// The other user reads it: a reader is open (so a
				// wrong write does not block) and must get nothing.
				fifo := filepath.Join(tmp, "route.kml")
				require.NoError(t, unix.Mkfifo(fifo, 0o666))
				require.NoError(t, os.Lchown(fifo, nobody, nobody))
				r, err := unix.Open(fifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
				require.NoError(t, err)
				t.Cleanup(func() { unix.Close(r) })
				return fifo, func(t *testing.T) {
					n, err := unix.Read(r, make([]byte, 64))
					assert.Equal(t, 0, max(n, 0), "bytes of root's map read from another user's FIFO")
					assert.Contains(t, []error{unix.EAGAIN, nil}, err)
					assertOnly(t, tmp, "route.kml")
				}
			},
			wantErr: ErrNotOwner,
		},
		{
			name: "root's own dangling link",
			setup: func(t *testing.T, tmp, safe string) (string, func(*testing.T)) {
				link := symlinkAs(t, filepath.Join(safe, "new.kml"), filepath.Join(tmp, "route.kml"), 0)
				return link, func(t *testing.T) { assertOnly(t, safe) }
			},
			wantErr: ErrDanglingLink,
		},
		{
			name: "root's own link is followed",
			setup: func(t *testing.T, tmp, safe string) (string, func(*testing.T)) {
				target := plant(t, filepath.Join(safe, "route.kml"), "old", 0, 0o640)
				link := symlinkAs(t, target, filepath.Join(tmp, "route.kml"), 0)
				return link, func(t *testing.T) {
					assertFile(t, target, data, 0o640)
					assertOnly(t, tmp, "route.kml")
				}
			},
		},
		{
			name: "the directory owner's link is followed",
			setup: func(t *testing.T, tmp, safe string) (string, func(*testing.T)) {
				require.NoError(t, os.Lchown(tmp, nobody, nobody))
				target := plant(t, filepath.Join(safe, "route.kml"), "old", 0, 0o644)
				link := symlinkAs(t, target, filepath.Join(tmp, "route.kml"), nobody)
				return link, func(t *testing.T) { assertFile(t, target, data, 0o644) }
			},
		},
		{
			name: "root's own file is replaced",
			setup: func(t *testing.T, tmp, _ string) (string, func(*testing.T)) {
				f := plant(t, filepath.Join(tmp, "route.kml"), "old", 0, 0o644)
				return f, func(t *testing.T) { assertFile(t, f, data, 0o644) }
			},
		},
		{
			name: "another user's link outside a sticky directory is followed",
			setup: func(t *testing.T, tmp, safe string) (string, func(*testing.T)) {
				// The kernel's rule is for sticky world-writable
				// directories only; elsewhere the directory's owner
				// chose who may plant links.
				require.NoError(t, os.Chmod(tmp, 0o777))
				target := plant(t, filepath.Join(safe, "route.kml"), "old", 0, 0o644)
				link := symlinkAs(t, target, filepath.Join(tmp, "route.kml"), nobody)
				return link, func(t *testing.T) { assertFile(t, target, data, 0o644) }
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			tmp, safe := filepath.Join(base, "tmp"), filepath.Join(base, "safe")
			require.NoError(t, os.Mkdir(tmp, 0o755))
			require.NoError(t, os.Chmod(tmp, 0o777|fs.ModeSticky)) // no umask
			require.NoError(t, os.Mkdir(safe, 0o755))
			path, check := tt.setup(t, tmp, safe)
			err := writeMap(path, data)
			if tt.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.wantErr)
				assert.True(t, strings.HasPrefix(err.Error(), "write "+path+": "), "the error names the path: %v", err)
				assert.NotContains(t, err.Error(), "\n", "one line")
			}
			check(t)
		})
	}
}

// plant makes a regular file owned by uid with mode.
func plant(t *testing.T, path, data string, uid int, mode fs.FileMode) string {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(data), mode))
	require.NoError(t, os.Chmod(path, mode))
	require.NoError(t, os.Lchown(path, uid, uid))
	return path
}

// symlinkAs makes link → target, owned by uid.
func symlinkAs(t *testing.T, target, link string, uid int) string {
	t.Helper()
	require.NoError(t, os.Symlink(target, link))
	require.NoError(t, os.Lchown(link, uid, uid))
	return link
}

// deadPID is a process id no process has: above any pid_max.
const deadPID = math.MaxInt32

// TestHostileStaleTemps is issue 16 item 13: the temporary files a killed
// geoloc left beside NAME are removed by the next write to NAME, and
// nothing else is: not a live process's, not another user's, not another
// name's, not what merely looks like one.
func TestHostileStaleTemps(t *testing.T) {
	const rnd = "0123456789abcdef"
	dead := fmt.Sprintf(".route.kml.geoloc-tmp-%d-%s", deadPID, rnd)
	tests := []struct {
		name     string
		entry    string
		make     func(t *testing.T, path string)
		removed  bool
		needRoot bool
	}{
		{name: "left by a dead process", entry: dead, removed: true},
		{name: "of a dead process, empty pid digits", entry: ".route.kml.geoloc-tmp--" + rnd},
		{name: "of a live process (this one)", entry: fmt.Sprintf(".route.kml.geoloc-tmp-%d-%s", os.Getpid(), rnd)},
		{name: "of a live process (init)", entry: ".route.kml.geoloc-tmp-1-" + rnd},
		{name: "pid 0, which kill(2) reads as the process group", entry: ".route.kml.geoloc-tmp-0-" + rnd},
		{name: "pid past 32 bits", entry: ".route.kml.geoloc-tmp-4294967297-" + rnd},
		{name: "signed pid", entry: ".route.kml.geoloc-tmp--1-" + rnd},
		{name: "plus-signed pid", entry: fmt.Sprintf(".route.kml.geoloc-tmp-+%d-%s", deadPID, rnd)},
		{name: "short random part", entry: fmt.Sprintf(".route.kml.geoloc-tmp-%d-0123", deadPID)},
		{name: "upper-case random part", entry: fmt.Sprintf(".route.kml.geoloc-tmp-%d-0123456789ABCDEF", deadPID)},
		{name: "trailing text", entry: dead + ".bak"},
		{name: "another name's", entry: fmt.Sprintf(".other.kml.geoloc-tmp-%d-%s", deadPID, rnd)},
		{name: "a longer name sharing the prefix", entry: fmt.Sprintf(".route.kml.geoloc-tmp-1.geoloc-tmp-%d-%s", deadPID, rnd)},
		{name: "the old .tmp- pattern (maybe someone else's tool)", entry: ".route.kml.tmp-123456"},
		{
			name: "a link that looks like one", entry: dead,
			make: func(t *testing.T, p string) { require.NoError(t, os.Symlink("route.kml", p)) },
		},
		{
			name: "a directory that looks like one", entry: dead,
			make: func(t *testing.T, p string) { require.NoError(t, os.Mkdir(p, 0o755)) },
		},
		{
			name: "another user's, of a dead process", entry: dead, needRoot: true,
			make: func(t *testing.T, p string) {
				require.NoError(t, os.WriteFile(p, []byte("theirs"), 0o600))
				require.NoError(t, os.Lchown(p, nobody, nobody))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needRoot {
				requireRoot(t)
			}
			dir := t.TempDir()
			p := filepath.Join(dir, tt.entry)
			if tt.make != nil {
				tt.make(t, p)
			} else {
				require.NoError(t, os.WriteFile(p, []byte("half a map"), 0o600))
			}
			require.NoError(t, writeMap(filepath.Join(dir, "route.kml"), "map\n"))
			if tt.removed {
				assertOnly(t, dir, "route.kml")
			} else {
				assertOnly(t, dir, "route.kml", tt.entry)
			}
		})
	}
}

// TestHostileLongName: a name as long as a file name may be still gets a
// temporary file (its name shortened, at a character boundary), and that
// file's stale copies are still found.
func TestHostileLongName(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{
		strings.Repeat("a", 251) + ".kml",
		strings.Repeat("é", 125) + ".kml", // 254 bytes, two a character
	} {
		path := filepath.Join(dir, name)
		stale := fmt.Sprintf("%s%d-0123456789abcdef", fsutil.TempPrefix(name), deadPID)
		assert.LessOrEqual(t, len(stale), 255)
		require.NoError(t, os.WriteFile(filepath.Join(dir, stale), nil, 0o600))
		require.NoError(t, writeMap(path, "map\n"))
		assertOnly(t, dir, name)
		require.NoError(t, os.Remove(path))
	}
}

// TestStaleTempOfKilledProcess: a process killed (SIGKILL) while writing
// -o leaves its temporary file; the next write of the same name removes
// it.
func TestStaleTempOfKilledProcess(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "route.kml")
	cmd := exec.Command(os.Args[0], "-test.run=^TestStaleTempChild$")
	cmd.Env = append(os.Environ(), "GEOLOC_STALE_TEMP_CHILD="+path)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// The child says when its temporary file is half written.
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "writing\n", line)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	err = cmd.Wait()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "killed: %v", err)
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, ents, 1, "the killed process left its temporary file")
	assert.True(t, strings.HasPrefix(ents[0].Name(), ".route.kml.geoloc-tmp-"), ents[0].Name())

	require.NoError(t, writeMap(path, "map\n"))
	assertOnly(t, dir, "route.kml")
}

// TestStaleTempChild is TestStaleTempOfKilledProcess's child: it starts
// writing the file named in GEOLOC_STALE_TEMP_CHILD and waits to be killed.
func TestStaleTempChild(t *testing.T) {
	path := os.Getenv("GEOLOC_STALE_TEMP_CHILD")
	if path == "" {
		t.Skip("the child process of TestStaleTempOfKilledProcess")
	}
	f, err := CreateAtomic(path)
	require.NoError(t, err)
	_, err = io.WriteString(f, "<kml>half a map")
	require.NoError(t, err)
	fmt.Println("writing")
	time.Sleep(time.Minute) // killed long before
}

// TestNewFileModeFollowsUmask is issue 16 item 8 for -o: a new file gets
// 0666 less the umask, as os.Create would give it (a temporary file is
// made 0600); a replaced file keeps its mode.
func TestNewFileModeFollowsUmask(t *testing.T) {
	tests := []struct {
		umask    int
		existing fs.FileMode // 0: no file yet
		want     fs.FileMode
	}{
		{umask: 0o022, want: 0o644},
		{umask: 0o002, want: 0o664},
		{umask: 0o027, want: 0o640},
		{umask: 0o077, want: 0o600},
		{umask: 0o002, existing: 0o600, want: 0o600},
		{umask: 0o077, existing: 0o644, want: 0o644},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("umask %#o, existing %#o", tt.umask, tt.existing), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "route.geojson")
			if tt.existing != 0 {
				plant(t, path, "old", os.Geteuid(), tt.existing)
			}
			old := syscall.Umask(tt.umask)
			err := writeMap(path, "{}\n")
			syscall.Umask(old)
			require.NoError(t, err)
			assertFile(t, path, "{}\n", tt.want)
		})
	}
}

// TestWriteOnlyDirectory: a directory the writer may write but not read
// (mode 0333, a drop box) still takes -o, as it did before temporary files
// were made through a directory held open; only the stale ones are not
// cleaned there, since none can be listed. As root the write runs in a
// child process as uid 65534, since root reads every directory.
func TestWriteOnlyDirectory(t *testing.T) {
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} { // t.TempDir makes them 0700
		require.NoError(t, os.Chmod(d, 0o755))
	}
	drop := filepath.Join(base, "drop")
	require.NoError(t, os.Mkdir(drop, 0o755))
	path := filepath.Join(drop, "route.kml")
	if os.Geteuid() != 0 {
		require.NoError(t, os.Chmod(drop, 0o333))
		t.Cleanup(func() { os.Chmod(drop, 0o755) })
		require.NoError(t, writeMap(path, "map\n"))
		require.NoError(t, os.Chmod(drop, 0o755))
		assertOnly(t, drop, "route.kml")
		return
	}
	require.NoError(t, os.Lchown(drop, nobody, nobody))
	require.NoError(t, os.Chmod(drop, 0o333))
	// The test binary, where uid 65534 may run it.
	bin := filepath.Join(base, "output.test")
	b, err := os.ReadFile(os.Args[0])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, b, 0o755))
	cmd := exec.Command(bin, "-test.run=^TestWriteOnlyDirectoryChild$")
	cmd.Env = append(os.Environ(), "GEOLOC_WRITE_ONLY_CHILD="+path)
	cmd.Dir = base
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assertOnly(t, drop, "route.kml")
	b, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "map\n", string(b))
}

// TestWriteOnlyDirectoryChild is TestWriteOnlyDirectory's child.
func TestWriteOnlyDirectoryChild(t *testing.T) {
	path := os.Getenv("GEOLOC_WRITE_ONLY_CHILD")
	if path == "" {
		t.Skip("the child process of TestWriteOnlyDirectory")
	}
	require.NoError(t, writeMap(path, "map\n"))
}
