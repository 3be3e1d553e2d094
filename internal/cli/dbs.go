package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/geoloc-dev/geoloc/candidates"
)

// systemDBDirs are where distributions and geoipupdate put GeoIP databases.
var systemDBDirs = []string{"/usr/share/GeoIP", "/var/lib/GeoIP"}

// cacheDir is geoloc's own database directory: GEOLOC_CACHE_DIR, else
// the user's cache directory + "/geoloc".
func (a *app) cacheDir() string {
	if d := a.env("GEOLOC_CACHE_DIR"); d != "" {
		return d
	}
	if d := a.env("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "geoloc")
	}
	if h := a.env("HOME"); h != "" {
		return filepath.Join(h, ".cache", "geoloc")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "geoloc")
	}
	return ""
}

// dbExts are the file names discovery tries; content decides the kind.
var dbExts = []string{".mmdb", ".mmdb.gz", ".csv", ".csv.gz", ".tsv", ".tsv.gz"}

func looksLikeDB(name string) bool {
	n := strings.ToLower(name)
	for _, e := range dbExts {
		if strings.HasSuffix(n, e) {
			return true
		}
	}
	return false
}

// discoverDBs lists candidate database files under dirs (two levels deep, so
// a cache laid out as DIR/NAME/file.mmdb is found) and the GEOLOC_DB list
// (files or directories, ':'-separated). Missing directories are skipped.
func discoverDBs(dirs []string, extra string) []string {
	var out []string
	add := func(p string) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	walk := func(root string) {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			depth := strings.Count(strings.TrimPrefix(p, root), string(filepath.Separator))
			if d.IsDir() {
				if depth > 1 {
					return filepath.SkipDir
				}
				return nil
			}
			if looksLikeDB(d.Name()) {
				add(p)
			}
			return nil
		})
	}
	for _, d := range dirs {
		if d != "" {
			walk(d)
		}
	}
	for p := range strings.SplitSeq(extra, string(os.PathListSeparator)) {
		if p == "" {
			continue
		}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			walk(p)
		} else {
			add(p)
		}
	}
	return out
}

// sources opens the databases the common flags ask for: none with --no-db,
// exactly --db when given (any failure is an error naming the file), else
// every database discovered (files that are no database are skipped with a
// debug line, broken ones with a warning).
func (a *app) sources(c *common, log *slog.Logger) ([]candidates.Source, func(), error) {
	var srcs []candidates.Source
	closeAll := func() {
		for _, s := range srcs {
			_ = candidates.CloseSource(s)
		}
	}
	if c.noDB {
		if len(c.dbs) > 0 {
			return nil, closeAll, usagef("--no-db and --db contradict each other")
		}
		return nil, closeAll, nil
	}
	if len(c.dbs) > 0 {
		for _, p := range c.dbs {
			s, err := candidates.Open(p)
			if err != nil {
				closeAll()
				return nil, func() {}, dbOpenError(p, err)
			}
			srcs = append(srcs, s)
		}
		return srcs, closeAll, nil
	}
	dirs := append([]string{a.cacheDir()}, systemDBDirs...)
	for _, p := range discoverDBs(dirs, a.env("GEOLOC_DB")) {
		s, err := candidates.Open(p)
		switch {
		case errors.Is(err, candidates.ErrUnknownFormat):
			log.Debug("not a database, skipped", "path", p)
		case err != nil:
			log.Warn("database skipped", "path", p, "err", err)
		default:
			log.Debug("database", "path", p, "name", s.Name())
			srcs = append(srcs, s)
		}
	}
	return srcs, closeAll, nil
}

// unwrapPath drops a *PathError's repetition of the path.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// dbOpenError is the one-line error for a --db file that does not open: the
// file, what is wrong, and what to do.
func dbOpenError(path string, err error) error {
	msg := strings.TrimPrefix(unwrapPath(err).Error(), path+": ")
	fix := "check the path"
	if errors.Is(err, candidates.ErrUnknownFormat) {
		fix = "give a GeoIP or ASN database, or fetch one with 'geoloc db fetch'"
	} else if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) {
		fix = "the file may be damaged; fetch it again ('geoloc db fetch')"
	}
	return fmt.Errorf("--db %s: %s (%s)", path, msg, fix)
}
