package pipeline

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	// Local files always work; main adds gs:// and s3://.
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/fsutil"
	"github.com/geoloc-dev/geoloc/rdns"
	"github.com/geoloc-dev/geoloc/vantage"
)

// Config is what every worker needs to build the engine, as regeo's flags
// give it. It travels inside the serialised DoFns: paths, not open files.
// Every path may be a local file or a URL of a Beam filesystem (gs://,
// s3://): each worker reads it itself, databases copied to a local
// temporary file first (memory-mapped databases want a local file).
type Config struct {
	// DBs are GeoIP, ASN databases and geofeeds (candidates.OpenAll: any
	// supported kind, recognised from its content). Unlike regeo, no
	// database is discovered on the workers: only these are used.
	DBs []string `json:"dbs,omitempty"`
	// From is the vantage point of traces that carry none (regeo --from:
	// LAT,LON or a place code).
	From string `json:"from,omitempty"`
	// VantagePoints is a table of vantage points (regeo --vantage-points:
	// CSV of probe ids or source addresses to LAT,LON, or a RIPE Atlas
	// probe list).
	VantagePoints string `json:"vantage_points,omitempty"`
	// Conventions are naming conventions files (regeo --conventions), used
	// beside the built-in ones and, in the locate stage, the learned ones.
	Conventions []string `json:"conventions,omitempty"`
	// InputFormat forces a traceroute format (regeo --input-format); ""
	// detects it per file.
	InputFormat string `json:"input_format,omitempty"`
	// SlackKm is geoloc.Options.SlackKm.
	SlackKm float64 `json:"slack_km,omitempty"`
	// NoLearn turns the learn stage off (the locate stage then reads names
	// with the base conventions only).
	NoLearn bool `json:"no_learn,omitempty"`
}

func (c Config) key() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// worker is what one worker process builds once per Config: the opened
// databases, the vantage table, the base conventions, and engines.
type worker struct {
	opts  geoloc.Options // the base options: Sources, From, VantageOf, Conventions
	first *geoloc.Engine // base conventions only: regeo's first pass
	// locate engines by the hash of the learned conventions they read
	// names with (one in a run; a later run in the same process brings
	// another).
	mu     sync.Mutex
	locate map[string]*geoloc.Engine
	reader *rdns.Reader // base conventions, for learning
	// skipped counts the bad lines of the geofeeds among the databases
	// (skipped, RFC 8805 §3); skips is one line per such geofeed, as regeo
	// warns (candidates.Geofeed.SkipSummary).
	skipped int
	skips   []string
}

// workers holds the workers of this process by Config. Beam runs many
// DoFn instances (bundles, threads) in one worker process and gives them
// no shared state of their own: a process-wide cache is how the databases
// are opened once per worker rather than once per bundle. It only grows
// by distinct Configs, of which a process sees one or two.
var workers = struct {
	mu sync.Mutex
	m  map[string]*workerOnce
}{m: map[string]*workerOnce{}}

type workerOnce struct {
	once sync.Once
	w    *worker
	err  error
}

// workerFor returns this process's worker for c, built at the first call.
func workerFor(ctx context.Context, c Config) (*worker, error) {
	workers.mu.Lock()
	wo := workers.m[c.key()]
	if wo == nil {
		wo = &workerOnce{}
		workers.m[c.key()] = wo
	}
	workers.mu.Unlock()
	wo.once.Do(func() { wo.w, wo.err = newWorker(ctx, c) })
	return wo.w, wo.err
}

// workersBuilt counts the workers built in this process (for the test
// that the databases are opened once per worker).
var workersBuilt atomic.Int64

func newWorker(ctx context.Context, c Config) (*worker, error) {
	workersBuilt.Add(1)
	opts, err := c.Options(ctx)
	if err != nil {
		return nil, err
	}
	n, skips := geofeedSkips(opts.Sources)
	return &worker{
		skipped: n,
		skips:   skips,
		opts:    opts,
		first:   geoloc.New(opts),
		locate:  map[string]*geoloc.Engine{},
		reader:  rdns.NewReader(opts.Conventions...),
	}, nil
}

// Options builds the engine options c describes, as regeo builds them from
// its flags: databases opened (candidates.OpenAll), the vantage table read
// (vantage.ReadTable), --from parsed (vantage.Parse), conventions read
// (rdns.ReadConventions). Errors name the file. The databases stay open
// for the life of the process.
func (c Config) Options(ctx context.Context) (geoloc.Options, error) {
	opts := geoloc.Options{SlackKm: c.SlackKm}
	for _, name := range c.Conventions {
		b, err := readAll(ctx, name)
		if err != nil {
			return opts, err
		}
		set, err := rdns.ReadConventions(bytes.NewReader(b), name)
		if err != nil {
			return opts, err
		}
		opts.Conventions = append(opts.Conventions, set)
	}
	if c.From != "" {
		v, err := vantage.Parse(c.From, rdns.Hints)
		if err != nil {
			return opts, fmt.Errorf("--from %q: %w", c.From, err)
		}
		opts.From = &v
	}
	if c.VantagePoints != "" {
		b, err := readAll(ctx, c.VantagePoints)
		if err != nil {
			return opts, err
		}
		t, err := vantage.ReadTable(bytes.NewReader(b), c.VantagePoints)
		if err != nil {
			return opts, err
		}
		if t.Len() == 0 {
			return opts, fmt.Errorf("%s:1: vantage points: empty input, or no probe with a position", c.VantagePoints)
		}
		opts.VantageOf = t.Lookup
	}
	if len(c.DBs) > 0 {
		paths := make([]string, 0, len(c.DBs))
		for _, p := range c.DBs {
			local, err := localCopy(ctx, p)
			if err != nil {
				return opts, err
			}
			paths = append(paths, local)
		}
		srcs, err := candidates.OpenAll(paths, candidates.OpenOptions{})
		if err != nil {
			for _, s := range srcs {
				_ = candidates.CloseSource(s)
			}
			return opts, fmt.Errorf("--db: %w", err)
		}
		opts.Sources = srcs
	}
	return opts, nil
}

// geofeedSkips counts the lines the geofeeds among srcs skipped and gives
// one line per geofeed that skipped any, as regeo warns them
// (internal/cli's warnSkippedLines).
func geofeedSkips(srcs []candidates.Source) (n int, lines []string) {
	var walk func(s candidates.Source)
	walk = func(s candidates.Source) {
		switch s := s.(type) {
		case *candidates.Geofeed:
			k, _ := s.Skipped()
			if k > 0 {
				n += k
				lines = append(lines, s.SkipSummary())
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
	return n, lines
}

// isURL tells a Beam filesystem URL (gs://b/o, s3://b/k) from a local path.
func isURL(p string) bool { return strings.Contains(p, "://") }

// readAll reads a small file (conventions, a vantage table) from any Beam
// filesystem.
func readAll(ctx context.Context, name string) ([]byte, error) {
	rc, err := openRead(ctx, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return b, nil
}

// openRead opens name through Beam's filesystems.
func openRead(ctx context.Context, name string) (io.ReadCloser, error) {
	fs, err := filesystem.New(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot open: %w", name, err)
	}
	rc, err := fs.OpenRead(ctx, name)
	if err != nil {
		fs.Close()
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: cannot open: %w (check the path)", name, err)
	}
	return closeBoth{rc, fs}, nil
}

type closeBoth struct {
	io.ReadCloser
	fs io.Closer
}

func (c closeBoth) Close() error { return errors.Join(c.ReadCloser.Close(), c.fs.Close()) }

// localCopy returns a local path holding p's content: p itself when local,
// else a copy in the temporary directory named by a hash of the URL (one
// copy per worker process and URL; the file name is kept, since
// candidates.OpenAll joins the IPv4 and IPv6 files of one database by it).
func localCopy(ctx context.Context, p string) (string, error) {
	if !isURL(p) {
		return p, nil
	}
	sum := sha256.Sum256([]byte(p))
	dir := filepath.Join(os.TempDir(), "geoloc-beam-db-"+hex.EncodeToString(sum[:8]))
	dst := filepath.Join(dir, filepath.Base(p))
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	rc, err := openRead(ctx, p)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	f, err := fsutil.CreateTempIn(dir, fsutil.TempPrefix(filepath.Base(dst)))
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("%s: copying to the worker: %w", p, err)
	}
	// The mode os.Create would give it, as the main module's writers do
	// (the temporary file is made 0600).
	if err := errors.Join(f.Chmod(fsutil.FileMode()), f.Close()); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("%s: copying to the worker: %w", p, err)
	}
	return dst, os.Rename(f.Name(), dst)
}

// locateEngine returns the engine of the locate stage: the base options,
// names read with the base conventions and learned (regeo --fuse's second
// pass).
func (w *worker) locateEngine(learned *rdns.Conventions, learnedKey string) *geoloc.Engine {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := w.locate[learnedKey]; e != nil {
		return e
	}
	opts := w.opts
	if learned != nil {
		opts.Conventions = append(append([]*rdns.Conventions(nil), w.opts.Conventions...), learned)
	}
	if len(w.locate) >= 2 {
		clear(w.locate) // another run's: its cache goes with it
	}
	e := geoloc.New(opts)
	w.locate[learnedKey] = e
	return e
}

// cachedLocate returns the locate engine built for the learned set named
// key, nil if none was.
func (w *worker) cachedLocate(key string) *geoloc.Engine {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.locate[key]
}
