package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// npmServer serves the @ip-location-db/asn package the way the npm
// registry does, on loopback. corrupt serves a tarball that does not match
// the published integrity.
func npmServer(t *testing.T, corrupt bool) *httptest.Server {
	t.Helper()
	var tgz bytes.Buffer
	zw := gzip.NewWriter(&tgz)
	tw := tar.NewWriter(zw)
	for name, body := range map[string]string{
		"package/asn-ipv4.csv": "192.0.2.0,192.0.2.255,64500,Example Transit\n198.51.100.0,198.51.100.255,64501,Example Access\n",
		"package/asn-ipv6.csv": "2001:db8::,2001:db8::ffff,64502,Example Six\n",
		"package/package.json": `{"name":"@ip-location-db/asn","version":"2.3.2026060512"}`,
	} {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	sum := sha512.Sum512(tgz.Bytes())
	integrity := "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
	body := tgz.Bytes()
	if corrupt {
		body = append([]byte{}, body...)
		body[len(body)/2] ^= 0xff
	}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/asn.tgz"):
			_, _ = w.Write(body)
		case strings.HasSuffix(r.URL.Path, "ip-location-db/asn"):
			_ = json.NewEncoder(w).Encode(map[string]any{
				"dist-tags": map[string]string{"latest": "2.3.2026060512"},
				"versions": map[string]any{"2.3.2026060512": map[string]any{
					"dist": map[string]string{"tarball": srv.URL + "/asn.tgz", "integrity": integrity},
				}},
			})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDBFetchAndUse(t *testing.T) {
	srv := npmServer(t, false)
	dir := t.TempDir()
	r := run(t, "", nil, "db", "fetch", "asn", "--dir", dir, "--npm-registry", srv.URL)
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "1 database installed in "+dir)
	for _, f := range []string{"asn-ipv4.csv", "asn-ipv6.csv", "manifest.json"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	var inst struct {
		Name, Version, License string
		Files                  []string
	}
	require.NoError(t, json.Unmarshal([]byte(strings.SplitN(r.stdout, "\n", 2)[0]), &inst))
	assert.Equal(t, "asn", inst.Name)
	assert.Equal(t, "2.3.2026060512", inst.Version)
	assert.NotEmpty(t, inst.License)

	// list shows it; the cache directory is where locate finds it.
	r = run(t, "", map[string]string{"GEOLOC_CACHE_DIR": dir}, "db", "list")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"name":"asn"`)
	r = run(t, "", map[string]string{"GEOLOC_CACHE_DIR": dir}, "locate", "--candidates", "198.51.100.7", "2001:db8::1")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"asn":64501,"as_org":"Example Access"`)
	assert.Contains(t, r.stdout, `"asn":64502`)
}

func TestDBFetchIntegrityFailure(t *testing.T) {
	srv := npmServer(t, true)
	dir := t.TempDir()
	r := run(t, "", nil, "db", "fetch", "asn", "--dir", dir, "--npm-registry", srv.URL)
	assert.Equal(t, ExitPartial, r.code)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	require.Len(t, lines, 1, r.stderr)
	assert.Contains(t, lines[0], "geoloc db fetch: ")
	assert.NoFileExists(t, filepath.Join(dir, "asn-ipv4.csv"), "a corrupt download never replaces anything")
}

func TestGoldenDB(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"db-catalog", []string{"db", "list", "--catalog", "--format", "table"}, ExitOK},
		{"db-list-empty", []string{"db", "list", "--dir", empty}, ExitOK},
		{"db-fetch-unknown", []string{"db", "fetch", "nosuchdb", "--dir", empty}, ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", nil, tt.args...)
			assert.Equal(t, tt.code, r.code, r.stderr)
			golden(t, tt.name, tt.args, r)
		})
	}
	ents, err := os.ReadDir(empty)
	require.NoError(t, err)
	assert.Empty(t, ents)
}
