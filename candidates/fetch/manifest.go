package fetch

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/internal/fsutil"
)

// ManifestName is the manifest's file name in the database directory.
const ManifestName = "manifest.json"

// LockName is the file in the database directory that Fetch locks (flock)
// while it installs files and updates the manifest. It stays, empty.
const LockName = ".manifest.lock"

// Installed is one database in the manifest.
type Installed struct {
	Name    string   `json:"name"`
	Channel Channel  `json:"channel,omitempty"`
	Package string   `json:"package,omitempty"`
	Version string   `json:"version,omitempty"`
	Files   []string `json:"files"` // names in the directory
	URL     string   `json:"url,omitempty"`
	// Fetched is when it was downloaded; Built the newest build time in
	// the files' metadata (zero for CSV).
	Fetched     time.Time `json:"fetched,omitzero"`
	Built       time.Time `json:"built,omitzero"`
	License     string    `json:"license,omitempty"`
	Attribution string    `json:"attribution,omitempty"`
	// Integrity is the published digest the download was checked against
	// ("sha512-…", "sha256-…"); "" when the channel publishes none.
	Integrity string `json:"integrity,omitempty"`
	// SHA256 is the digest of what was downloaded, for the record.
	SHA256 string `json:"sha256,omitempty"`
	Size   int64  `json:"size,omitempty"`

	// Dir is the database directory (not stored).
	Dir string `json:"-"`
}

// Paths returns the absolute paths of the installed files.
func (i Installed) Paths() []string {
	out := make([]string, len(i.Files))
	for k, f := range i.Files {
		out[k] = filepath.Join(i.Dir, f)
	}
	return out
}

// Age is how old the data is at now: since Built when known, else since
// Fetched; 0 when neither is known.
func (i Installed) Age(now time.Time) time.Duration {
	switch {
	case !i.Built.IsZero():
		return now.Sub(i.Built)
	case !i.Fetched.IsZero():
		return now.Sub(i.Fetched)
	}
	return 0
}

// Manifest is manifest.json.
type Manifest struct {
	Databases []Installed `json:"databases"`
}

func (m *Manifest) get(name string) (Installed, bool) {
	for _, d := range m.Databases {
		if strings.EqualFold(d.Name, name) {
			return d, true
		}
	}
	return Installed{}, false
}

func (m *Manifest) put(i Installed) {
	for k, d := range m.Databases {
		if strings.EqualFold(d.Name, i.Name) {
			m.Databases[k] = i
			return
		}
	}
	m.Databases = append(m.Databases, i)
}

func readManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return &Manifest{}, nil
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestName), err)
	}
	for k := range m.Databases {
		m.Databases[k].Dir = dir
	}
	return &m, nil
}

// writeManifest replaces manifest.json atomically; the caller holds the
// lock.
func writeManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	f, err := fsutil.CreateTempIn(dir, fsutil.TempPrefix("manifest"))
	if err != nil {
		return err
	}
	// It is made 0600; the manifest is for every reader of the
	// databases.
	err = f.Chmod(fsutil.FileMode())
	if err == nil {
		_, err = f.Write(append(b, '\n'))
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), filepath.Join(dir, ManifestName))
}

// List describes what is installed in dir (for `geoloc db list`): the
// manifest's databases whose files are present, then every other database
// file in dir (installed by hand) with only its name, path, build time and
// licence as far as the file tells. A missing dir lists nothing.
func List(dir string) ([]Installed, error) {
	m, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	var out []Installed
	known := map[string]bool{}
	for _, d := range m.Databases {
		d.Dir = dir
		if !filesPresent(dir, d.Files) {
			continue
		}
		for _, f := range d.Files {
			known[f] = true
		}
		out = append(out, d)
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	for _, e := range ents {
		if e.IsDir() || known[e.Name()] || !candidates.IsDatabaseName(e.Name()) || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		inst := Installed{Name: e.Name(), Files: []string{e.Name()}, Dir: dir}
		if fi, err := e.Info(); err == nil {
			inst.Size = fi.Size()
			inst.Fetched = fi.ModTime().UTC()
		}
		if strings.HasSuffix(e.Name(), ".mmdb") {
			if db, err := candidates.OpenMMDB(filepath.Join(dir, e.Name())); err == nil {
				info := db.Info()
				inst.Name, inst.Built, inst.License = info.Name, info.Built, info.License
				db.Close()
			}
		}
		out = append(out, inst)
	}
	slices.SortStableFunc(out, func(a, b Installed) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// DefaultGeoIPConfPaths are where geoipupdate's configuration usually is.
func DefaultGeoIPConfPaths() []string {
	return []string{"/etc/GeoIP.conf", "/usr/local/etc/GeoIP.conf"}
}

// GeoIPConf is what geoloc reads from geoipupdate's GeoIP.conf.
type GeoIPConf struct {
	AccountID  string
	LicenseKey string
	EditionIDs []string
}

// ReadGeoIPConf parses a GeoIP.conf ("AccountID 123", "LicenseKey ...",
// "EditionIDs GeoLite2-City GeoLite2-ASN"; '#' comments; the older
// "UserId"/"ProductIds" spellings too).
func ReadGeoIPConf(path string) (GeoIPConf, error) {
	f, err := os.Open(path)
	if err != nil {
		return GeoIPConf{}, err
	}
	defer f.Close()
	var c GeoIPConf
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		switch strings.ToLower(fields[0]) {
		case "accountid", "userid":
			if len(fields) != 2 {
				return c, fmt.Errorf("%s:%d: %s wants one value", path, n, fields[0])
			}
			c.AccountID = fields[1]
		case "licensekey":
			if len(fields) != 2 {
				return c, fmt.Errorf("%s:%d: LicenseKey wants one value", path, n)
			}
			c.LicenseKey = fields[1]
		case "editionids", "productids":
			c.EditionIDs = append(c.EditionIDs, fields[1:]...)
		}
	}
	if err := sc.Err(); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func findGeoIPConf(path string) (GeoIPConf, error) {
	paths := DefaultGeoIPConfPaths()
	if path != "" {
		paths = []string{path}
	}
	for _, p := range paths {
		c, err := ReadGeoIPConf(p)
		if errors.Is(err, fs.ErrNotExist) && path == "" {
			continue
		}
		if err != nil {
			return GeoIPConf{}, err
		}
		if c.AccountID == "" || c.LicenseKey == "" {
			return GeoIPConf{}, fmt.Errorf("%s: no AccountID/LicenseKey", p)
		}
		return c, nil
	}
	return GeoIPConf{}, fmt.Errorf("MaxMind GeoLite2 needs an account ID and licence key (free at https://www.maxmind.com/en/geolite2/signup): none given and no GeoIP.conf in %s", strings.Join(paths, ", "))
}
