// Package fetch downloads GeoIP and ASN databases into geoloc's cache
// directory and keeps a manifest of what is installed: version, build date,
// licence and attribution. Channels: the ip-location-db packages on the npm
// registry (no account needed; the default), DB-IP's monthly Lite files,
// MaxMind GeoLite2 (account ID + licence key, read from geoipupdate's
// GeoIP.conf) and IPinfo Lite (token).
//
// Every download is written to a temporary file in the target directory,
// checked against the integrity hash the channel publishes (npm's
// dist.integrity sha512 and shasum, MaxMind's .sha256, IPinfo's checksums),
// opened as a database, and only then renamed over the installed file, so an
// interrupted or corrupt download never replaces a working database. All
// base URLs are options, so tests serve everything from a local server.
//
// Installed files and the manifest get 0666 less the umask, a directory
// made for them 0777 less the umask, as os.Create and os.Mkdir would: with
// the usual umask of 022, `sudo geoloc db fetch --dir /var/lib/geoloc`
// leaves databases every user can read. Runs that share a directory take
// turns (an flock on its .manifest.lock) to install their files and
// update the manifest, which each re-reads under the lock, so concurrent
// runs never lose each other's entries. Temporary files are named
// .download.geoloc-tmp-PID-RANDOM (and .extract…, .manifest…); those a
// killed run left are removed by the next run, if they are the caller's
// and their process has ended.
package fetch

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/internal/fsutil"
)

// Default base URLs.
const (
	DefaultNPMRegistry = "https://registry.npmjs.org"
	DefaultDBIPBaseURL = "https://download.db-ip.com/free"
	DefaultMaxMindURL  = "https://download.maxmind.com"
	DefaultIPinfoURL   = "https://ipinfo.io/data"
)

// DefaultMaxBytes bounds one download.
const DefaultMaxBytes = 4 << 30

// Credentials are a MaxMind account's.
type Credentials struct {
	AccountID  string
	LicenseKey string
}

// Options configure Fetch. The zero value fetches the default databases
// into the cache directory over http.DefaultClient.
type Options struct {
	// Dir is where databases go; "" = candidates.DefaultDir().
	Dir string
	// Names selects databases from the Catalog (case-insensitive); empty
	// means DefaultNames.
	Names []string
	// HTTPClient does the downloads; nil = http.DefaultClient.
	HTTPClient *http.Client
	// Base URLs of the channels; "" = the Default... constants.
	NPMRegistry, DBIPBaseURL, MaxMindBaseURL, IPinfoBaseURL string
	// MaxMind credentials; when empty and a GeoLite2 edition is asked
	// for, they are read from GeoIPConf or the first of
	// DefaultGeoIPConfPaths() that exists.
	MaxMind   Credentials
	GeoIPConf string
	// IPinfoToken is the IPinfo access token (the CLI reads $IPINFO_TOKEN).
	IPinfoToken string
	// Force downloads even when the installed version is current.
	Force bool
	// Now is the clock (DB-IP file names carry the month); nil = time.Now.
	Now func() time.Time
	// OnDatabase is called when work on a database starts.
	OnDatabase func(d Database)
	// Progress is called as a download proceeds; total is -1 when the
	// server did not say.
	Progress func(done, total int64)
	// MaxBytes bounds each download; 0 = DefaultMaxBytes.
	MaxBytes int64
	// Logger gets a line per step; nil is silent.
	Logger *slog.Logger
}

func (o *Options) defaults() error {
	if o.Dir == "" {
		d, err := candidates.DefaultDir()
		if err != nil {
			return err
		}
		o.Dir = d
	}
	if len(o.Names) == 0 {
		o.Names = DefaultNames()
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	o.NPMRegistry = strings.TrimRight(or(o.NPMRegistry, DefaultNPMRegistry), "/")
	o.DBIPBaseURL = strings.TrimRight(or(o.DBIPBaseURL, DefaultDBIPBaseURL), "/")
	o.MaxMindBaseURL = strings.TrimRight(or(o.MaxMindBaseURL, DefaultMaxMindURL), "/")
	o.IPinfoBaseURL = strings.TrimRight(or(o.IPinfoBaseURL, DefaultIPinfoURL), "/")
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Fetch downloads the databases named in opts into opts.Dir and records
// them in its manifest.json. It goes on past a database that fails and
// returns what it installed (or found current) with the failures joined.
func Fetch(ctx context.Context, opts Options) ([]Installed, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o777); err != nil { // less the umask
		return nil, err
	}
	var dbs []Database
	for _, n := range opts.Names {
		d, ok := Lookup(n)
		if !ok {
			return nil, fmt.Errorf("unknown database %q (known: %s)", n, strings.Join(allNames(), ", "))
		}
		dbs = append(dbs, d)
	}
	man, err := readManifest(opts.Dir)
	if err != nil {
		return nil, err
	}
	var out []Installed
	var errs []error
	for _, d := range dbs {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if opts.OnDatabase != nil {
			opts.OnDatabase(d)
		}
		inst, files, err := fetchOne(ctx, &opts, d, man)
		if err == nil {
			err = install(opts.Dir, inst, files)
		}
		for _, f := range files {
			os.Remove(f.tmp) // what was not installed
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.Name, err))
			continue
		}
		if len(files) > 0 {
			opts.Logger.Info("installed", "name", d.Name, "version", inst.Version, "files", inst.Files)
		}
		out = append(out, inst)
	}
	return out, errors.Join(errs...)
}

func allNames() []string {
	var n []string
	for _, d := range catalog {
		n = append(n, d.Name)
	}
	return n
}

// plan is what resolving a database gives: where to download it, what
// its integrity must be, what version it is.
type plan struct {
	url      string
	user     string // basic auth
	pass     string
	version  string
	sha512   []byte // expected digests; nil = none published
	sha1     []byte
	sha256   []byte
	checked  string // integrity string recorded when verified
	fallback string // second URL (DB-IP's previous month)
	fbVer    string
	// dataTime is when the data was built as the channel tells it
	// (ip-location-db versions end in YYYYMMDDHH); zero if unknown.
	dataTime time.Time
}

// install puts the verified files in place and records inst in the
// manifest, holding the directory's lock: the manifest is read again under
// it, so what another run recorded meanwhile is kept.
func install(dir string, inst Installed, files []extracted) error {
	l, err := fsutil.Lock(filepath.Join(dir, LockName))
	if err != nil {
		return err
	}
	defer l.Unlock()
	mode := fsutil.FileMode()
	for _, f := range files {
		// The temporary files are 0600.
		if err := os.Chmod(f.tmp, mode); err != nil {
			return err
		}
		if err := os.Rename(f.tmp, filepath.Join(dir, f.name)); err != nil {
			return err
		}
	}
	man, err := readManifest(dir)
	if err != nil {
		return err
	}
	man.put(inst)
	return writeManifest(dir, man)
}

// fetchOne downloads, checks and opens d, and returns what to record and
// the temporary files to install (none when the installed version is
// current); the caller removes what it did not install.
func fetchOne(ctx context.Context, o *Options, d Database, man *Manifest) (_ Installed, files []extracted, _ error) {
	p, err := resolve(ctx, o, d)
	if err != nil {
		return Installed{}, nil, err
	}
	if cur, ok := man.get(d.Name); ok && !o.Force && p.version != "" && cur.Version == p.version && filesPresent(o.Dir, cur.Files) {
		o.Logger.Info("database is current", "name", d.Name, "version", cur.Version)
		cur.Dir = o.Dir
		return cur, nil, nil
	}
	o.Logger.Info("downloading", "name", d.Name, "url", redact(p.url))
	tmp, sums, err := download(ctx, o, p.url, p.user, p.pass)
	if err != nil && p.fallback != "" && errors.Is(err, errNotFound) {
		o.Logger.Info("not published yet, trying the previous month", "name", d.Name, "url", redact(p.fallback))
		p.url, p.version = p.fallback, p.fbVer
		tmp, sums, err = download(ctx, o, p.url, p.user, p.pass)
	}
	if err != nil {
		return Installed{}, nil, err
	}
	defer os.Remove(tmp)
	if err := p.verify(sums); err != nil {
		return Installed{}, nil, err
	}
	files, version, err := extract(o.Dir, d, tmp)
	if err != nil {
		return Installed{}, files, err
	}
	if version != "" && p.version == "" {
		p.version = version
	}
	inst := Installed{
		Name: d.Name, Channel: d.Channel, Package: d.Package, Version: p.version,
		URL: redact(p.url), Fetched: o.Now().UTC(), License: d.License, Attribution: d.Attribution,
		Integrity: p.checked, SHA256: hex.EncodeToString(sums.sha256), Dir: o.Dir,
	}
	// Open every file as a database before anything is replaced.
	for _, f := range files {
		built, err := validate(f.tmp, f.name)
		if err != nil {
			return Installed{}, files, err
		}
		if built.After(inst.Built) {
			inst.Built = built
		}
		st, err := os.Stat(f.tmp)
		if err != nil {
			return Installed{}, files, err
		}
		inst.Size += st.Size()
		inst.Files = append(inst.Files, f.name)
	}
	if inst.Built.IsZero() {
		inst.Built = p.dataTime
	}
	if inst.Version == "" && !inst.Built.IsZero() {
		inst.Version = inst.Built.Format("2006-01-02")
	}
	if !inst.Built.IsZero() {
		for _, f := range files {
			// CSV files carry no build date: their modification time
			// does (candidates names ASN tables by it).
			_ = os.Chtimes(f.tmp, inst.Built, inst.Built)
		}
	}
	return inst, files, nil
}

func filesPresent(dir string, files []string) bool {
	if len(files) == 0 {
		return false
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

// validate opens a downloaded file as geoloc would and returns its build
// time (zero for CSV). name decides the source name and must keep the
// installed file name.
func validate(tmp, name string) (time.Time, error) {
	if strings.HasSuffix(name, ".mmdb") {
		m, err := candidates.OpenMMDB(tmp)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: downloaded file is not a usable database: %w", name, err)
		}
		defer m.Close()
		return m.Info().Built, nil
	}
	t, err := candidates.OpenASNTable(tmp)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: downloaded file is not a usable ASN table: %w", name, err)
	}
	_ = t
	return time.Time{}, nil
}

func resolve(ctx context.Context, o *Options, d Database) (plan, error) {
	switch d.Channel {
	case ChannelNPM:
		return resolveNPM(ctx, o, d)
	case ChannelDBIP:
		now := o.Now().UTC()
		month := now.Format("2006-01")
		prev := time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
		return plan{
			url:      fmt.Sprintf("%s/%s-%s.mmdb.gz", o.DBIPBaseURL, d.Package, month),
			version:  month,
			fallback: fmt.Sprintf("%s/%s-%s.mmdb.gz", o.DBIPBaseURL, d.Package, prev),
			fbVer:    prev,
		}, nil
	case ChannelMaxMind:
		cred := o.MaxMind
		if cred.AccountID == "" || cred.LicenseKey == "" {
			conf, err := findGeoIPConf(o.GeoIPConf)
			if err != nil {
				return plan{}, err
			}
			cred = Credentials{AccountID: conf.AccountID, LicenseKey: conf.LicenseKey}
		}
		u := fmt.Sprintf("%s/geoip/databases/%s/download?suffix=tar.gz", o.MaxMindBaseURL, url.PathEscape(d.Package))
		p := plan{url: u, user: cred.AccountID, pass: cred.LicenseKey}
		body, err := get(ctx, o, u+".sha256", p.user, p.pass, 1<<12)
		if err != nil {
			return plan{}, fmt.Errorf("checksum: %w", err)
		}
		f := strings.Fields(string(body))
		if len(f) == 0 {
			return plan{}, errors.New("empty checksum file")
		}
		if p.sha256, err = hex.DecodeString(f[0]); err != nil || len(p.sha256) != sha256.Size {
			return plan{}, fmt.Errorf("bad checksum file %q", strings.TrimSpace(string(body)))
		}
		p.checked = "sha256-" + f[0]
		if len(f) > 1 {
			// "GeoLite2-City_20260605.tar.gz" carries the release date.
			if _, v, ok := strings.Cut(strings.TrimSuffix(f[1], ".tar.gz"), "_"); ok {
				p.version = v
			}
		}
		return p, nil
	case ChannelIPinfo:
		if o.IPinfoToken == "" {
			return plan{}, errors.New("IPinfo needs an access token (set IPINFO_TOKEN; free at https://ipinfo.io/signup)")
		}
		q := "?token=" + url.QueryEscape(o.IPinfoToken)
		p := plan{url: o.IPinfoBaseURL + "/" + d.Package + q}
		body, err := get(ctx, o, o.IPinfoBaseURL+"/"+d.Package+"/checksums"+q, "", "", 1<<14)
		if err != nil {
			o.Logger.Warn("no IPinfo checksums; integrity not checked", "err", err)
			return p, nil
		}
		var cs struct {
			Checksums struct {
				SHA256 string `json:"sha256"`
			} `json:"checksums"`
		}
		var sum []byte
		if err := json.Unmarshal(body, &cs); err == nil {
			sum, _ = hex.DecodeString(cs.Checksums.SHA256)
		}
		if len(sum) != sha256.Size {
			o.Logger.Warn("unreadable IPinfo checksums; integrity not checked")
			return p, nil
		}
		p.sha256 = sum
		p.checked = "sha256-" + cs.Checksums.SHA256
		return p, nil
	}
	return plan{}, fmt.Errorf("unknown channel %q", d.Channel)
}

func resolveNPM(ctx context.Context, o *Options, d Database) (plan, error) {
	u := o.NPMRegistry + "/" + strings.Replace(d.Package, "/", "%2F", 1)
	body, err := get(ctx, o, u, "", "", 64<<20)
	if err != nil {
		return plan{}, err
	}
	var doc struct {
		DistTags map[string]string `json:"dist-tags"`
		Time     map[string]string `json:"time"`
		Versions map[string]struct {
			Dist struct {
				Tarball   string `json:"tarball"`
				Integrity string `json:"integrity"`
				Shasum    string `json:"shasum"`
			} `json:"dist"`
		} `json:"versions"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return plan{}, fmt.Errorf("%s: registry answer: %w", d.Package, err)
	}
	latest := doc.DistTags["latest"]
	v, ok := doc.Versions[latest]
	if latest == "" || !ok || v.Dist.Tarball == "" {
		return plan{}, fmt.Errorf("%s: registry has no latest version", d.Package)
	}
	p := plan{url: v.Dist.Tarball, version: latest, dataTime: versionTime(latest)}
	if p.dataTime.IsZero() {
		if t, err := time.Parse(time.RFC3339, doc.Time[latest]); err == nil {
			p.dataTime = t.UTC()
		}
	}
	if algo, b64, ok := strings.Cut(v.Dist.Integrity, "-"); ok && algo == "sha512" {
		if p.sha512, err = base64.StdEncoding.DecodeString(b64); err != nil || len(p.sha512) != sha512.Size {
			return plan{}, fmt.Errorf("%s: bad dist.integrity %q", d.Package, v.Dist.Integrity)
		}
		p.checked = v.Dist.Integrity
	}
	if v.Dist.Shasum != "" {
		if p.sha1, err = hex.DecodeString(v.Dist.Shasum); err != nil || len(p.sha1) != sha1.Size {
			return plan{}, fmt.Errorf("%s: bad dist.shasum %q", d.Package, v.Dist.Shasum)
		}
		if p.checked == "" {
			p.checked = "sha1-" + v.Dist.Shasum
		}
	}
	if p.sha512 == nil && p.sha1 == nil {
		return plan{}, fmt.Errorf("%s: registry publishes no integrity hash", d.Package)
	}
	return p, nil
}

// versionTime reads the data date ip-location-db puts in its versions
// ("2.3.2026061719" = 2026-06-17 19:00 UTC).
func versionTime(v string) time.Time {
	i := strings.LastIndexByte(v, '.')
	if i < 0 || len(v)-i-1 != 10 {
		return time.Time{}
	}
	t, err := time.Parse("2006010215", v[i+1:])
	if err != nil {
		return time.Time{}
	}
	return t
}

// IntegrityError is returned when a download's digest differs from the
// published one.
type IntegrityError struct {
	URL, Algo, Want, Got string
}

func (e *IntegrityError) Error() string {
	return fmt.Sprintf("%s: %s mismatch: published %s, downloaded %s", e.URL, e.Algo, e.Want, e.Got)
}

type sums struct{ sha512, sha1, sha256 []byte }

func (p plan) verify(s sums) error {
	check := func(algo string, want, got []byte) error {
		if want != nil && !equal(want, got) {
			return &IntegrityError{URL: redact(p.url), Algo: algo, Want: hex.EncodeToString(want), Got: hex.EncodeToString(got)}
		}
		return nil
	}
	return errors.Join(check("sha512", p.sha512, s.sha512), check("sha1", p.sha1, s.sha1), check("sha256", p.sha256, s.sha256))
}

func equal(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := range a {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

var errNotFound = errors.New("not found")

// redact drops query strings (IPinfo's token) from URLs shown to users.
func redact(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		pu, err := url.Parse(u)
		if err == nil && pu.Query().Has("token") {
			return u[:i]
		}
	}
	return u
}

func newRequest(ctx context.Context, u, user, pass string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "geoloc-dbfetch/1")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	return req, nil
}

func get(ctx context.Context, o *Options, u, user, pass string, limit int64) ([]byte, error) {
	req, err := newRequest(ctx, u, user, pass)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*")
	resp, err := do(o, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := statusErr(resp, u); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", redact(u), err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: answer larger than %d bytes", redact(u), limit)
	}
	return b, nil
}

// do sends req; its errors never show a token from the query string.
func do(o *Options, req *http.Request) (*http.Response, error) {
	resp, err := o.HTTPClient.Do(req)
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = redact(ue.URL)
	}
	return resp, err
}

func statusErr(resp *http.Response, u string) error {
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s: %w (HTTP 404)", redact(u), errNotFound)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%s: HTTP %d: credentials refused", redact(u), resp.StatusCode)
	}
	return fmt.Errorf("%s: HTTP %s", redact(u), resp.Status)
}

// download streams u into a temporary file in o.Dir, hashing as it goes.
func download(ctx context.Context, o *Options, u, user, pass string) (string, sums, error) {
	req, err := newRequest(ctx, u, user, pass)
	if err != nil {
		return "", sums{}, err
	}
	resp, err := do(o, req)
	if err != nil {
		return "", sums{}, err
	}
	defer resp.Body.Close()
	if err := statusErr(resp, u); err != nil {
		return "", sums{}, err
	}
	f, err := fsutil.CreateTempIn(o.Dir, fsutil.TempPrefix("download"))
	if err != nil {
		return "", sums{}, err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h512, h1, h256 := sha512.New(), sha1.New(), sha256.New()
	w := io.MultiWriter(f, h512, h1, h256)
	pr := &progressReader{r: io.LimitReader(resp.Body, o.MaxBytes+1), total: resp.ContentLength, fn: o.Progress}
	n, err := io.Copy(w, pr)
	pr.report()
	if err != nil {
		return "", sums{}, fmt.Errorf("%s: %w", redact(u), err)
	}
	if n > o.MaxBytes {
		return "", sums{}, fmt.Errorf("%s: larger than %d bytes", redact(u), o.MaxBytes)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return "", sums{}, fmt.Errorf("%s: got %d of %d bytes", redact(u), n, resp.ContentLength)
	}
	if err := f.Close(); err != nil {
		return "", sums{}, err
	}
	ok = true
	return f.Name(), sums{sha512: h512.Sum(nil), sha1: h1.Sum(nil), sha256: h256.Sum(nil)}, nil
}

type progressReader struct {
	r           io.Reader
	done, total int64
	last        int64
	fn          func(done, total int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if p.fn != nil && p.done-p.last >= 256<<10 {
		p.report()
	}
	return n, err
}

func (p *progressReader) report() {
	if p.fn != nil {
		p.last = p.done
		p.fn(p.done, p.total)
	}
}

type extracted struct{ name, tmp string }

// extract turns the download into the installed files (still temporary).
// It returns a version found inside (MaxMind's directory date) if any.
func extract(dir string, d Database, tmp string) ([]extracted, string, error) {
	switch d.Channel {
	case ChannelNPM, ChannelMaxMind:
		return extractTarGz(dir, d, tmp)
	case ChannelDBIP:
		f, err := os.Open(tmp)
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		zr, err := gzip.NewReader(bufio.NewReader(f))
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", d.Name, err)
		}
		out, err := writeTemp(dir, zr)
		if err != nil {
			return nil, "", err
		}
		return []extracted{{name: d.Files[0], tmp: out}}, "", nil
	default:
		// IPinfo: the download is the file.
		out, err := fsutil.CreateTempIn(dir, fsutil.TempPrefix("extract"))
		if err != nil {
			return nil, "", err
		}
		out.Close()
		if err := os.Rename(tmp, out.Name()); err != nil {
			return nil, "", err
		}
		return []extracted{{name: d.Files[0], tmp: out.Name()}}, "", nil
	}
}

func writeTemp(dir string, r io.Reader) (string, error) {
	f, err := fsutil.CreateTempIn(dir, fsutil.TempPrefix("extract"))
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, io.LimitReader(r, DefaultMaxBytes)); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func extractTarGz(dir string, d Database, tmp string) (out []extracted, version string, err error) {
	f, err := os.Open(tmp)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", d.Name, err)
	}
	tr := tar.NewReader(zr)
	want := map[string]bool{}
	for _, n := range d.Files {
		want[n] = true
	}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, "", fmt.Errorf("%s: tarball: %w", d.Name, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		base := path.Base(h.Name)
		if !want[base] {
			continue
		}
		if d.Channel == ChannelMaxMind {
			// "GeoLite2-City_20260605/GeoLite2-City.mmdb"
			if _, v, ok := strings.Cut(path.Dir(h.Name), "_"); ok {
				version = v
			}
		}
		t, err := writeTemp(dir, tr)
		if err != nil {
			return out, "", err
		}
		delete(want, base)
		out = append(out, extracted{name: base, tmp: t})
	}
	if len(want) > 0 {
		var missing []string
		for _, n := range d.Files {
			if want[n] {
				missing = append(missing, n)
			}
		}
		return out, "", fmt.Errorf("%s: tarball lacks %s", d.Name, strings.Join(missing, ", "))
	}
	// Keep the catalogue's order, whatever the tarball's.
	slices.SortFunc(out, func(a, b extracted) int {
		return slices.Index(d.Files, a.name) - slices.Index(d.Files, b.name)
	})
	return out, version, nil
}
