//go:build unix

package cli

import (
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAtlasCacheFiles: the files --atlas keeps in the cache (a stopped
// measurement's results, the probe positions) get 0666 less the umask,
// as geoloc's other files do, and the temporary files a killed run left
// beside them are removed by the next run that writes them; a live
// process's, and files not named as geoloc's temporaries, are kept.
func TestAtlasCacheFiles(t *testing.T) {
	const deadPID = math.MaxInt32 // above any pid_max
	const rnd = "0123456789abcdef"
	cached := []string{"msm-5001.jsonl", "probes.jsonl"}
	tests := []struct {
		umask int
		want  fs.FileMode
	}{
		{0o022, 0o644},
		{0o002, 0o664},
		{0o027, 0o640},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("umask %04o", tt.umask), func(t *testing.T) {
			_, env := atlasStandIn(t)
			dir := filepath.Join(env["GEOLOC_CACHE_DIR"], "atlas")
			require.NoError(t, os.MkdirAll(dir, 0o755))
			var stale, kept []string
			for _, name := range cached {
				stale = append(stale, fmt.Sprintf(".%s.geoloc-tmp-%d-%s", name, deadPID, rnd))
				kept = append(kept,
					fmt.Sprintf(".%s.geoloc-tmp-%d-%s", name, os.Getpid(), rnd),  // a live process
					fmt.Sprintf(".%s.geoloc-tmp-%d-%s", name+".x", deadPID, rnd), // another file's
				)
			}
			kept = append(kept, ".partial-123456") // not geoloc's pattern
			for _, n := range append(append([]string{}, stale...), kept...) {
				require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("half a result"), 0o600))
			}

			old := syscall.Umask(tt.umask)
			r := run(t, "", env, "regeo", "--no-db", "-q", "--atlas", "5001")
			syscall.Umask(old)
			require.Equal(t, 0, r.code, r.stderr)

			for _, name := range cached {
				fi, err := os.Stat(filepath.Join(dir, name))
				require.NoError(t, err)
				assert.Equal(t, tt.want, fi.Mode().Perm(), name)
			}
			ents, err := os.ReadDir(dir)
			require.NoError(t, err)
			var got []string
			for _, e := range ents {
				got = append(got, e.Name())
			}
			assert.ElementsMatch(t, append(append([]string{}, cached...), kept...), got)
		})
	}
}
