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

// cacheDir is geoloc's own database directory (candidates.DefaultDirEnv:
// GEOLOC_CACHE_DIR, else XDG_CACHE_HOME/geoloc, else ~/.cache/geoloc).
func (a *app) cacheDir() string {
	d, _ := candidates.DefaultDirEnv(a.env)
	return d
}

// dbLocations are the places searched without --db
// (candidates.DefaultLocationsEnv): the cache directory, the system GeoIP
// directories and the GEOLOC_DB list (files or directories, separated as
// in PATH).
func (a *app) dbLocations() []string {
	return candidates.DefaultLocationsEnv(a.env)
}

// sources opens the databases the common flags ask for: none with --no-db;
// every --db file (any failure is an error naming the file) and, unless
// --db-only, every database discovered in the usual places besides them
// (files that are no database are skipped with a debug line, broken ones
// with a warning).
func (a *app) sources(c *common, log *slog.Logger) ([]candidates.Source, func(), error) {
	if c.noDB {
		if len(c.dbs) > 0 || c.dbOnly {
			return nil, func() {}, usagef("--no-db and --db contradict each other")
		}
		return nil, func() {}, nil
	}
	if c.dbOnly && len(c.dbs) == 0 {
		return nil, func() {}, usagef("--db-only without --db: name the databases to use with --db FILE (or use --no-db for none)")
	}
	var given []candidates.Source
	if len(c.dbs) > 0 {
		for _, p := range c.dbs {
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				return nil, func() {}, fmt.Errorf("--db %s: cannot open: is a directory, not a file (give a database file; without --db, geoloc looks in the usual directories)", p)
			}
		}
		// OpenAll joins the files of one database (ip-location-db ships
		// IPv4 and IPv6 apart) into one source.
		srcs, err := candidates.OpenAll(c.dbs, candidates.OpenOptions{Logger: log})
		if err != nil {
			for _, s := range srcs {
				_ = candidates.CloseSource(s)
			}
			first := splitJoined(err)[0]
			for _, p := range c.dbs {
				if strings.Contains(first.Error(), p) {
					return nil, func() {}, dbOpenError(p, first)
				}
			}
			return nil, func() {}, first
		}
		if c.dbOnly {
			a.warnSkippedLines(c, srcs)
			return srcs, func() { closeSources(srcs) }, nil
		}
		given = srcs
	}
	found, err := candidates.Discover(a.dbLocations()...)
	if err != nil {
		log.Warn("looking for databases", "err", err)
	}
	// A --db file that is also found in the usual places is opened once.
	var paths []string
	for _, p := range found {
		if !slices.ContainsFunc(c.dbs, func(d string) bool { return samePath(d, p) }) {
			paths = append(paths, p)
		}
	}
	srcs, err := candidates.OpenAll(paths, candidates.OpenOptions{Logger: log})
	srcs = append(given, srcs...)
	for _, e := range splitJoined(err) {
		if e == nil {
			continue
		}
		if errors.Is(e, candidates.ErrUnknownFormat) {
			log.Debug("not a database, skipped", "err", e)
		} else {
			log.Warn("database skipped", "err", e)
		}
	}
	for _, s := range srcs {
		log.Debug("database", "name", s.Name())
	}
	a.warnSkippedLines(c, srcs)
	return srcs, func() { closeSources(srcs) }, nil
}

// warnSkippedLines prints one line per geofeed whose bad lines were
// skipped (RFC 8805 §3): "geofeed.csv: skipped 3 bad lines (first:
// geofeed.csv:7: bad prefix "x")". -q leaves stderr to errors.
func (a *app) warnSkippedLines(c *common, srcs []candidates.Source) {
	if c.quiet {
		return
	}
	var walk func(s candidates.Source)
	walk = func(s candidates.Source) {
		switch s := s.(type) {
		case *candidates.Geofeed:
			if msg := s.SkipSummary(); msg != "" {
				fmt.Fprintln(a.stderr, msg)
			}
		case *candidates.Joined:
			for _, p := range s.Parts() {
				walk(p)
			}
		}
	}
	for _, s := range srcs {
		walk(s)
	}
}

// samePath reports whether two names lead to one file.
func samePath(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

func closeSources(srcs []candidates.Source) {
	for _, s := range srcs {
		_ = candidates.CloseSource(s)
	}
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
