package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGoldenLocateCandidates(t *testing.T) {
	chdirRoot(t)
	city, asn := "testdata/mmdb/GeoLite2-City-Test.mmdb", "testdata/mmdb/GeoLite2-ASN-Test.mmdb"
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"locate-candidates", []string{"locate", "--candidates", "--db", city, "--db", asn, "81.2.69.142", "1.128.0.1", "2001:db8::1"}, ExitOK},
		{"locate-candidates-table", []string{"locate", "81.2.69.142", "1.128.0.1", "--candidates", "--format", "table", "--db", city + "," + asn}, ExitOK},
		{"locate-candidates-bad-db", []string{"locate", "--candidates", "--db", "testdata/har/www.etat.lu-chrome-har-2018.har", "81.2.69.142"}, ExitPartial},
		{"locate-candidates-missing-db", []string{"locate", "--candidates", "--db", "testdata/mmdb/missing.mmdb", "81.2.69.142"}, ExitPartial},
		{"locate-candidates-no-db", []string{"locate", "--candidates", "--no-db", "81.2.69.142"}, ExitOK},
		{"locate-explain-ruled-out", []string{"locate", "81.2.69.142", "--name", "ae-5.r21.frnkge13.de.bb.gin.ntt.net", "--rtt", "1.5", "--from", "51.51,-0.13", "--format", "table", "--db", city}, ExitOK},
		{"locate-explain-json", []string{"locate", "62.115.116.17", "--name", "ffm-b4-link.ip.twelve99.net", "--no-db"}, ExitOK},
		{"locate-private", []string{"locate", "10.1.2.3", "192.0.2.1", "--ptr=false", "--no-db", "--format", "table"}, ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", nil, tt.args...)
			assert.Equal(t, tt.code, r.code, r.stderr)
			golden(t, tt.name, tt.args, r)
		})
	}
}

// Without --db, the databases in the cache directory and GEOLOC_DB are used.
func TestLocateDiscoversDatabases(t *testing.T) {
	root := repoRoot(t)
	cache := t.TempDir()
	b, err := os.ReadFile(filepath.Join(root, "testdata", "mmdb", "GeoLite2-City-Test.mmdb"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(cache, "city.mmdb"), b, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(cache, "notes.csv"), []byte("not,a,database\n"), 0o644))
	env := map[string]string{
		"GEOLOC_CACHE_DIR": cache,
		"GEOLOC_DB":        filepath.Join(root, "testdata", "mmdb", "GeoLite2-ASN-Test.mmdb"),
	}
	r := run(t, "", env, "locate", "--candidates", "81.2.69.142", "1.128.0.1")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"city":"London"`)
	assert.Contains(t, r.stdout, `"asn":1221`)
}

// The cache directory, the system directories and GEOLOC_DB (files and
// directories) are searched; files that are no database are skipped.
func TestDBLocations(t *testing.T) {
	a := &app{env: func(k string) string {
		return map[string]string{"GEOLOC_CACHE_DIR": "/c", "GEOLOC_DB": "/x/extra.mmdb:/y"}[k]
	}}
	assert.Equal(t, []string{"/c", "/usr/share/GeoIP", "/var/lib/GeoIP", "/x/extra.mmdb", "/y"}, a.dbLocations())
}

// A geofeed with bad lines is used for its good entries, with one warning
// naming the file, the count and the first bad line (issue 16 item 10);
// -q keeps stderr for errors.
func TestGeofeedBadLinesWarnOnce(t *testing.T) {
	dir := t.TempDir()
	feed := filepath.Join(dir, "geofeed.csv")
	require.NoError(t, os.WriteFile(feed, []byte("192.0.2.0/24,DE,,,\n198.51.100.0/24,NL,,,\n# note\nx,DE,,,\n203.0.113.0/24,DEU,,,\nnope,FR,,,\n"), 0o644))
	r := run(t, "", nil, "locate", "--candidates", "--db-only", "--db", feed, "192.0.2.1", "198.51.100.1")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Equal(t, feed+": skipped 3 bad lines (first: "+feed+`:4: bad prefix "x")`+"\n", r.stderr)
	assert.Contains(t, r.stdout, `"country":"DE"`)
	assert.Contains(t, r.stdout, `"country":"NL"`)

	r = run(t, "", nil, "locate", "--candidates", "-q", "--db-only", "--db", feed, "192.0.2.1")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Empty(t, r.stderr)

	// Found in the usual places (not --db), the warning is the same.
	r = run(t, "", map[string]string{"GEOLOC_CACHE_DIR": dir}, "locate", "--candidates", "192.0.2.1")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, feed+": skipped 3 bad lines (first: "+feed+`:4: bad prefix "x")`+"\n")
}
