package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/geoloc-dev/geoloc/internal/fsutil"
	"github.com/geoloc-dev/geoloc/remote/atlas"
	"github.com/geoloc-dev/geoloc/remote/globalping"
	"github.com/geoloc-dev/geoloc/traceroute"
	"github.com/geoloc-dev/geoloc/vantage"
)

// privacyHelp is said in the help of every command with remote flags.
const privacyHelp = `What leaves the machine: nothing goes to RIPE Atlas or Globalping unless a
remote flag (--atlas, --atlas-probes, --globalping, --ping) is given. Then
the measurement ids, probe ids or the target and the chosen locations are
sent to that service, and a new measurement publishes its target to a third
party: RIPE Atlas results are public by default, and anyone with a
Globalping measurement's id can read it. --dry-run prints what would be
asked for and sends nothing about the target.

Environment: ATLAS_API_KEY (needed to create RIPE Atlas measurements),
GLOBALPING_TOKEN (optional, higher limits), GEOLOC_ATLAS_API and
GEOLOC_GLOBALPING_API (the API base URLs; default
https://atlas.ripe.net/api/v2 and https://api.globalping.io/v1).`

// idList is a repeatable list of measurement ids (--atlas 5001 --atlas
// 5002, or --atlas 5001,5002).
type idList []int64

func (l *idList) String() string {
	s := make([]string, len(*l))
	for i, v := range *l {
		s[i] = strconv.FormatInt(v, 10)
	}
	return strings.Join(s, ",")
}

func (l *idList) Set(v string) error {
	for p := range strings.SplitSeq(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("%q is not a measurement id", p)
		}
		*l = append(*l, id)
	}
	return nil
}

// timeFlag is a time given as RFC 3339, a date (UTC midnight) or Unix
// seconds.
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(v string) error {
	v = strings.TrimSpace(v)
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s > 0 && s < 1e11 {
		f.t = time.Unix(s, 0).UTC()
		return nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			f.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("%q: want RFC 3339 (2024-05-01T12:00:00Z), a date (2024-05-01) or Unix seconds", v)
}

// remoteFlags are the flags that ask a remote measurement service.
type remoteFlags struct {
	atlasIDs    idList
	atlasStart  timeFlag
	atlasStop   timeFlag
	atlasCache  bool
	atlasProbes stringList
	globalping  stringList
	probes      int
	mtr         bool
	ping        int
	pingAbove   float64
	pingVia     string
	pingMax     int
	dryRun      bool
}

func (f *remoteFlags) addAtlasResults(fs *flag.FlagSet) {
	fs.Var(&f.atlasIDs, "atlas", "read the results of RIPE Atlas measurement `ID` (traceroute or ping) from the API, streamed; repeatable")
	fs.Var(&f.atlasStart, "atlas-start", "with --atlas: only results from `TIME` on (RFC 3339, a date, or Unix seconds)")
	fs.Var(&f.atlasStop, "atlas-stop", "with --atlas: only results up to `TIME`")
	fs.BoolVar(&f.atlasCache, "atlas-cache", true, "with --atlas: keep the results of stopped measurements and their probe positions in the cache directory, and reuse them (--atlas-cache=false: never)")
}

func (f *remoteFlags) addPing(fs *flag.FlagSet, regeo bool) {
	fs.IntVar(&f.ping, "ping", 0, "active geolocation: ping each address from at most `N` remote probes near where it may be, and use the RTTs as bounds (publishes the address to the service)")
	fs.StringVar(&f.pingVia, "ping-via", "globalping", "service for --ping: `SERVICE` globalping (no account needed) or atlas (needs ATLAS_API_KEY)")
	if regeo {
		fs.Float64Var(&f.pingAbove, "ping-above", 100, "with --ping: ping only addresses placed with a radius over `KM` (or not placed)")
		fs.IntVar(&f.pingMax, "ping-max", 100, "with --ping: ping at most `ADDRS` distinct addresses in one run")
	}
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the measurements that would be created, and send nothing about the targets (the public probe list may be read to choose probes)")
}

func (f *remoteFlags) addRemoteTrace(fs *flag.FlagSet) {
	fs.Var(&f.atlasProbes, "atlas-probes", "trace from RIPE Atlas probes chosen by `SPEC` (country:DE, asn:3320, area:WW, prefix:193.0.0.0/16, probes:1,2,3, msm:ID; needs ATLAS_API_KEY); repeatable")
	fs.Var(&f.globalping, "globalping", "trace from Globalping probes at `LOCATION` (a country, city, region, ASN such as AS3320, network or cloud region; + combines: Berlin+Germany); repeatable")
	fs.IntVar(&f.probes, "probes", 3, "with --atlas-probes or --globalping: `N` probes per selection or location")
	fs.BoolVar(&f.mtr, "mtr", false, "with --globalping: run mtr instead of traceroute (per-hop loss and RTT statistics)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "with --atlas-probes or --globalping: print the measurements that would be created and send nothing")
}

func (f *remoteFlags) remoteTrace() bool { return len(f.atlasProbes) > 0 || len(f.globalping) > 0 }

// check validates the remote flags.
func (f *remoteFlags) check() error {
	if f.ping < 0 || f.ping > 500 {
		return usagef("--ping %d: want 1..500 probes", f.ping)
	}
	if f.pingVia != "" && f.pingVia != "globalping" && f.pingVia != "atlas" {
		return usagef("--ping-via %q: want globalping or atlas", f.pingVia)
	}
	if f.remoteTrace() && (f.probes < 1 || f.probes > 200) {
		return usagef("--probes %d: want 1..200", f.probes)
	}
	if !f.atlasStart.t.IsZero() && !f.atlasStop.t.IsZero() && f.atlasStop.t.Before(f.atlasStart.t) {
		return usagef("--atlas-stop is before --atlas-start")
	}
	if (!f.atlasStart.t.IsZero() || !f.atlasStop.t.IsZero()) && len(f.atlasIDs) == 0 {
		return usagef("--atlas-start and --atlas-stop go with --atlas")
	}
	if f.pingAbove < 0 {
		return usagef("--ping-above %v: want a distance in km", f.pingAbove)
	}
	if f.mtr && len(f.globalping) == 0 {
		return usagef("--mtr goes with --globalping")
	}
	return nil
}

func (a *app) atlasClient(c *common) *atlas.Client {
	log, _ := a.logger(c)
	return atlas.NewFromEnv(a.env, atlas.Options{Logger: log, UserAgent: userAgent()})
}

func (a *app) globalpingClient(c *common) *globalping.Client {
	log, _ := a.logger(c)
	return globalping.NewFromEnv(a.env, globalping.Options{Logger: log, UserAgent: userAgent()})
}

// userAgent names geoloc to the APIs (Globalping's client guidelines ask
// for a User-Agent that says who calls).
func userAgent() string { return "geoloc (https://github.com/geoloc-dev/geoloc)" }

// errReader remembers whether the reader under it failed (a cut or stalled
// stream), so that a partial download is never cached as complete.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// atlasSource is one measurement's results: from the cache when a complete
// copy is there, else from the API, streamed (and kept in the cache when
// the measurement is over and the stream came whole).
type atlasSource struct {
	a      *app
	client *atlas.Client
	id     int64
	q      atlas.ResultsQuery
	cache  string // file of the complete results, "" = no caching
	final  bool
	// spool, when set, is a file the first read downloads into and later
	// reads read (--fuse and --ping read twice).
	spool string
	done  bool
}

func (s *atlasSource) name() string { return "RIPE Atlas measurement " + strconv.FormatInt(s.id, 10) }

// open returns the results stream and a function to call when it has been
// read (it keeps or drops the downloaded copy).
func (s *atlasSource) open(ctx context.Context) (io.Reader, func(), error) {
	for _, p := range []string{s.cache, s.spool} {
		if p == "" || (p == s.spool && !s.done) {
			continue
		}
		if f, err := os.Open(p); err == nil {
			return f, func() { f.Close() }, nil
		}
	}
	rc, err := s.client.Results(ctx, s.id, s.q)
	if err != nil {
		return nil, nil, err
	}
	keep := s.spool
	if s.cache != "" && s.final {
		keep = s.cache
	}
	if keep == "" {
		return rc, func() { rc.Close() }, nil
	}
	if err := os.MkdirAll(filepath.Dir(keep), 0o755); err != nil {
		return rc, func() { rc.Close() }, nil // no cache: still stream
	}
	tmp, err := createKeepTemp(keep)
	if err != nil {
		return rc, func() { rc.Close() }, nil
	}
	er := &errReader{r: rc}
	return io.TeeReader(er, tmp), func() {
		// Whatever the reader left unread still belongs in the copy
		// (unless reading stopped early: then the copy is dropped).
		var cerr error
		if ctx.Err() == nil {
			_, cerr = io.Copy(tmp, er)
		}
		rc.Close()
		werr := tmp.Close()
		if er.err != nil || cerr != nil || werr != nil || ctx.Err() != nil || os.Rename(tmp.Name(), keep) != nil {
			os.Remove(tmp.Name())
			return
		}
		if keep == s.spool {
			s.done = true
		}
	}, nil
}

// atlasSources describes the measurements of --atlas: their type and
// status decide whether their results may be cached.
func (a *app) atlasSources(f *remoteFlags, c *common, spoolDir string) ([]*atlasSource, error) {
	client := a.atlasClient(c)
	var out []*atlasSource
	q := atlas.ResultsQuery{Start: f.atlasStart.t, Stop: f.atlasStop.t}
	for _, id := range f.atlasIDs {
		s := &atlasSource{a: a, client: client, id: id, q: q}
		if f.atlasCache {
			if dir := a.cacheDir(); dir != "" {
				name := fmt.Sprintf("msm-%d", id)
				if !q.Start.IsZero() || !q.Stop.IsZero() {
					name += fmt.Sprintf("-%d-%d", unixOr0(q.Start), unixOr0(q.Stop))
				}
				s.cache = filepath.Join(dir, "atlas", name+".jsonl")
			}
		}
		if s.cache != "" {
			if _, err := os.Stat(s.cache); err == nil {
				// A complete copy of a measurement that was over: nothing
				// to ask the API.
				s.final = true
				out = append(out, s)
				continue
			}
		}
		m, err := client.Measurement(a.ctx, id)
		if err != nil {
			return nil, err
		}
		switch m.Type {
		case "traceroute", "ping":
		default:
			return nil, fmt.Errorf("RIPE Atlas measurement %d is a %s measurement: geoloc reads traceroute and ping results", id, m.Type)
		}
		s.final = m.Status.Final()
		if spoolDir != "" {
			s.spool = filepath.Join(spoolDir, fmt.Sprintf("msm-%d.jsonl", id))
		}
		out = append(out, s)
	}
	return out, nil
}

// createKeepTemp creates the temporary file that is renamed onto path
// once it is whole. It is named as geoloc's other temporary files
// (fsutil.TempPrefix of path's name), so a run killed while writing it
// leaves a file the next run that writes path removes; and it is made
// 0666 less the umask, like geoloc's other files (fsutil's temporary
// files are 0600).
func createKeepTemp(path string) (*os.File, error) {
	f, err := fsutil.CreateTempIn(filepath.Dir(path), fsutil.TempPrefix(filepath.Base(path)))
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(fsutil.FileMode()); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

func unixOr0(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// atlasSeq streams the traces of every --atlas measurement, each trace's
// source placed at its probe's position (fetched in batches, see
// probePositions) unless the --vantage-points table knows the probe.
func (a *app) atlasSeq(sources []*atlasSource, pos *probePositions, format string) iter.Seq2[*traceroute.Trace, error] {
	return func(yield func(*traceroute.Trace, error) bool) {
		for _, s := range sources {
			r, done, err := s.open(a.ctx)
			if err != nil {
				if !yield(nil, err) {
					return
				}
				continue
			}
			seq := traceroute.Read(r, traceroute.ReadOptions{Format: format, Input: s.name()})
			stopped := false
			for t, err := range pos.place(a.ctx, seq) {
				if !yield(t, err) {
					stopped = true
					break
				}
			}
			done()
			if stopped {
				return
			}
		}
		pos.save()
	}
}

// probePositions finds where RIPE Atlas probes are, for traces that do not
// say: the --vantage-points table first, then the API (/probes/?id__in=,
// in batches), remembering every answer (and, with a cache file, keeping
// them for the next run).
type probePositions struct {
	client *atlas.Client
	table  *vantage.Table // --vantage-points, may be nil
	known  map[int64]*atlas.Probe
	cache  string
	dirty  bool
}

func newProbePositions(client *atlas.Client, table *vantage.Table, cache string) *probePositions {
	p := &probePositions{client: client, table: table, known: map[int64]*atlas.Probe{}, cache: cache}
	if cache != "" {
		if f, err := os.Open(cache); err == nil {
			for pr, err := range atlas.ReadProbes(f) {
				if err == nil {
					p.known[pr.ID] = &pr
				}
			}
			f.Close()
		}
	}
	return p
}

// placeBatch is how many traces wait, at most, for their probes' positions.
const placeBatch = 1000

// place sets the source position of each trace whose probe the table does
// not know. Traces wait in order, at most placeBatch of them, while the
// positions of their probes are fetched (MaxIDsPerRequest at a time), so
// memory stays bounded however long the stream.
func (p *probePositions) place(ctx context.Context, seq iter.Seq2[*traceroute.Trace, error]) iter.Seq2[*traceroute.Trace, error] {
	return func(yield func(*traceroute.Trace, error) bool) {
		type item struct {
			t   *traceroute.Trace
			err error
		}
		var held []item
		pending := map[int64]bool{}
		flush := func() bool {
			if len(pending) > 0 {
				if err := p.fetch(ctx, pending); err != nil {
					held = append(held, item{nil, err})
				}
				clear(pending)
			}
			for _, it := range held {
				if it.t != nil {
					p.apply(it.t)
				}
				if !yield(it.t, it.err) {
					return false
				}
			}
			held = held[:0]
			return true
		}
		for t, err := range seq {
			if t != nil && !t.Source.HasLocation() {
				if id, ok := p.needs(t); ok {
					pending[id] = true
				}
			}
			if len(held) == 0 && len(pending) == 0 {
				if t != nil {
					p.apply(t)
				}
				if !yield(t, err) {
					return
				}
				continue
			}
			held = append(held, item{t, err})
			if len(held) >= placeBatch || len(pending) >= atlas.MaxIDsPerRequest {
				if !flush() {
					return
				}
			}
		}
		flush()
	}
}

// needs reports the probe id of t when its position is still to be
// fetched.
func (p *probePositions) needs(t *traceroute.Trace) (int64, bool) {
	if t.Source.ProbeID == "" {
		return 0, false
	}
	if _, ok := p.table.Probe(t.Source.ProbeID); ok {
		return 0, false
	}
	id, err := strconv.ParseInt(t.Source.ProbeID, 10, 64)
	if err != nil {
		return 0, false
	}
	_, ok := p.known[id]
	return id, !ok
}

func (p *probePositions) fetch(ctx context.Context, ids map[int64]bool) error {
	var ask []int64
	for id := range ids {
		ask = append(ask, id)
	}
	for pr, err := range p.client.Probes(ctx, ask) {
		if err != nil {
			return fmt.Errorf("positions of %d RIPE Atlas probes: %w", len(ask), err)
		}
		p.known[pr.ID] = &pr
		p.dirty = true
	}
	for _, id := range ask {
		if _, ok := p.known[id]; !ok {
			p.known[id] = &atlas.Probe{ID: id} // unknown to the API: no position
		}
	}
	return nil
}

func (p *probePositions) apply(t *traceroute.Trace) {
	if t.Source.HasLocation() || t.Source.ProbeID == "" {
		return
	}
	if _, ok := p.table.Probe(t.Source.ProbeID); ok {
		return // the engine asks the table
	}
	id, err := strconv.ParseInt(t.Source.ProbeID, 10, 64)
	if err != nil {
		return
	}
	if pr := p.known[id]; pr != nil && pr.Located {
		lat, lon := pr.Lat, pr.Lon
		t.Source.Lat, t.Source.Lon = &lat, &lon
	}
}

// save writes the positions learnt to the cache file, as JSON Lines of
// probes (what atlas.ReadProbes and --vantage-points read).
func (p *probePositions) save() {
	if p.cache == "" || !p.dirty {
		return
	}
	if err := os.MkdirAll(filepath.Dir(p.cache), 0o755); err != nil {
		return
	}
	tmp, err := createKeepTemp(p.cache)
	if err != nil {
		return
	}
	enc := json.NewEncoder(tmp)
	for _, pr := range p.known {
		if !pr.Located {
			continue
		}
		_ = enc.Encode(map[string]any{"id": pr.ID, "latitude": pr.Lat, "longitude": pr.Lon, "country_code": pr.CountryCode, "status_name": pr.Status})
	}
	if tmp.Close() != nil || os.Rename(tmp.Name(), p.cache) != nil {
		os.Remove(tmp.Name())
		return
	}
	p.dirty = false
}
