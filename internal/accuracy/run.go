package accuracy

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/rdns"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// WithinKm is the radius of a "right" placement.
const WithinKm = 40

// boundSlackKm is the slack of the bound placements are checked against;
// the engine's default.
const boundSlackKm = geoloc.DefaultSlackKm

// Metrics are the figures of one method over all evaluated hops (one per
// public router address per trace).
type Metrics struct {
	Method   string
	Hops     int     // evaluated hops
	Located  float64 // share with a location
	Country  float64 // share with the right country (unlocated = wrong)
	Within   float64 // share within WithinKm (unlocated = wrong)
	HintHops int     // hops whose name carries a location code
	WithinH  float64 // share within WithinKm of those
	NoHint   float64 // share within WithinKm of the other hops
	MedianKm float64 // median error of located hops
	Breaking int     // placements that break a latency bound
	Sure     int     // hops with confidence ≥ 0.9
	SureOK   float64 // share of those within WithinKm
	// Calibration is, per confidence band [0,0.3), [0.3,0.6), [0.6,0.9),
	// [0.9,1], the number of located hops and the share within WithinKm.
	Calibration [4]Band
}

// Band is one confidence band of the calibration.
type Band struct {
	N      int
	Within float64
}

// placement is one method's answer for one hop.
type placement struct {
	ok       bool
	lat, lon float64
	country  string
	conf     float64
}

// hopTruth is one evaluated hop.
type hopTruth struct {
	router  int
	vantage latency.Point
	rttMs   float64
}

// Run builds the world for cfg, runs the engine (single-trace, fused, and
// with the vantage points withheld) and the baselines, and returns their
// metrics in that order: engine, engine --fuse, engine with vantage
// unknown, one row per database alone, names alone. hints reads
// router names (nil = rdns.Hints).
func Run(ctx context.Context, cfg Config, hints func(string) []rdns.Hint) ([]Metrics, error) {
	w, err := Build(cfg)
	if err != nil {
		return nil, err
	}
	names := hints
	if names == nil {
		names = rdns.Hints // for the "names alone" baseline; the engine reads with its own reader
	}
	var dbs []candidates.Source
	for _, d := range w.DBs {
		s, err := candidates.OpenMMDBBytes(d.Image, d.Name+".mmdb")
		if err != nil {
			return nil, fmt.Errorf("accuracy: opening %s: %w", d.Name, err)
		}
		dbs = append(dbs, s)
	}
	asn, err := candidates.OpenMMDBBytes(w.ASN, "asn.mmdb")
	if err != nil {
		return nil, fmt.Errorf("accuracy: opening ASN db: %w", err)
	}
	sources := append(slices.Clone(dbs), asn)

	var truth [][]hopTruth // per trace, per result hop index
	for _, t := range w.Traces {
		truth = append(truth, w.truthOf(t))
	}
	var out []Metrics

	run := func(name string, e *geoloc.Engine) error {
		var res [][]placement
		for r, err := range e.Stream(ctx, seqOf(w.Traces), 0) {
			if err != nil {
				return err
			}
			res = append(res, engineAnswers(r))
		}
		out = append(out, w.score(name, truth, res))
		return nil
	}
	e := geoloc.New(geoloc.Options{Sources: sources, Hints: hints})
	if err := run("engine", e); err != nil {
		return nil, err
	}
	fe := geoloc.New(geoloc.Options{Sources: sources, Hints: hints})
	if _, err := fe.ObserveAll(ctx, seqOf(w.Traces), nil); err != nil {
		return nil, err
	}
	if err := run("engine --fuse", fe); err != nil {
		return nil, err
	}
	// The same traces with the probes' positions withheld: the engine
	// must infer the vantage point (soft constraints only). Its placements
	// are still checked against the true bound.
	var blind []*traceroute.Trace
	for _, t := range w.Traces {
		c := *t
		c.Source.Lat, c.Source.Lon, c.Source.ProbeID = nil, nil, ""
		blind = append(blind, &c)
	}
	be := geoloc.New(geoloc.Options{Sources: sources, Hints: hints})
	var bres [][]placement
	for r, err := range be.Stream(ctx, seqOf(blind), 0) {
		if err != nil {
			return nil, err
		}
		bres = append(bres, engineAnswers(r))
	}
	out = append(out, w.score("engine, vantage unknown", truth, bres))
	for i, db := range dbs {
		res := baseline(w, dbAlone(db))
		out = append(out, w.score("database alone: "+w.DBs[i].Name, truth, res))
	}
	res := baseline(w, func(h traceroute.Probe) placement {
		hs := names(h.Name)
		if h.Name == "" || len(hs) == 0 {
			return placement{}
		}
		return placement{ok: true, lat: hs[0].Lat, lon: hs[0].Lon, country: hs[0].Country}
	})
	out = append(out, w.score("names alone (top hint)", truth, res))
	return out, nil
}

func seqOf(ts []*traceroute.Trace) func(func(*traceroute.Trace, error) bool) {
	return func(yield func(*traceroute.Trace, error) bool) {
		for _, t := range ts {
			if !yield(t, nil) {
				return
			}
		}
	}
}

// truthOf lists, for each (hop, address) of t in the order the engine
// reports them, the router and the constraint that holds for it.
func (w *World) truthOf(t *traceroute.Trace) []hopTruth {
	v := latency.Point{Lat: *t.Source.Lat, Lon: *t.Source.Lon}
	var out []hopTruth
	for i := range t.Hops {
		h := &t.Hops[i]
		for _, a := range h.Addrs() {
			rtt, _ := h.MinRTTMs(a)
			r, ok := w.ByAddr[a]
			if !ok {
				r = -1
			}
			out = append(out, hopTruth{router: r, vantage: v, rttMs: rtt})
		}
	}
	return out
}

func engineAnswers(r *geoloc.TraceResult) []placement {
	out := make([]placement, len(r.Hops))
	for i, h := range r.Hops {
		if h.Location != nil {
			out[i] = placement{ok: true, lat: h.Location.Lat, lon: h.Location.Lon, country: h.Location.Country, conf: h.Confidence}
		}
	}
	return out
}

func baseline(w *World, f func(traceroute.Probe) placement) [][]placement {
	var res [][]placement
	for _, t := range w.Traces {
		var ps []placement
		for i := range t.Hops {
			h := &t.Hops[i]
			for _, a := range h.Addrs() {
				var p traceroute.Probe
				for _, q := range h.Probes {
					if q.Addr == a {
						p = q
						break
					}
				}
				if _, ok := w.ByAddr[a]; !ok {
					ps = append(ps, placement{})
					continue
				}
				ps = append(ps, f(p))
			}
		}
		res = append(res, ps)
	}
	return res
}

func (w *World) score(method string, truth [][]hopTruth, res [][]placement) Metrics {
	m := Metrics{Method: method}
	var errs []float64
	var located, country, within, withinH, noHint, noHintN, sureOK int
	for ti, ts := range truth {
		for hi, th := range ts {
			if th.router < 0 {
				continue // private, CGNAT: not a router of the world
			}
			r := w.Routers[th.router]
			c := w.Cities[r.City]
			m.Hops++
			if r.Hinted {
				m.HintHops++
			} else {
				noHintN++
			}
			var p placement
			if hi < len(res[ti]) {
				p = res[ti][hi]
			}
			if !p.ok {
				continue
			}
			located++
			pt := latency.Point{Lat: p.lat, Lon: p.lon}
			if p.country == c.Country {
				country++
			}
			d := latency.DistanceKm(pt, c.Pt())
			errs = append(errs, d)
			ok := d <= WithinKm
			if ok {
				within++
				if r.Hinted {
					withinH++
				} else {
					noHint++
				}
			}
			if th.rttMs > 0 && latency.DistanceKm(th.vantage, pt) > latency.MaxDistanceKm(th.rttMs, boundSlackKm) {
				m.Breaking++
			}
			b := min(3, int(p.conf/0.3))
			if p.conf >= 0.9 {
				b = 3
			}
			m.Calibration[b].N++
			if ok {
				m.Calibration[b].Within++
			}
			if p.conf >= 0.9 {
				m.Sure++
				if ok {
					sureOK++
				}
			}
		}
	}
	share := func(a, b int) float64 {
		if b == 0 {
			return math.NaN()
		}
		return float64(a) / float64(b)
	}
	m.Located = share(located, m.Hops)
	m.Country = share(country, m.Hops)
	m.Within = share(within, m.Hops)
	m.WithinH = share(withinH, m.HintHops)
	m.NoHint = share(noHint, noHintN)
	m.SureOK = share(sureOK, m.Sure)
	for i := range m.Calibration {
		b := &m.Calibration[i]
		b.Within = share(int(b.Within), b.N)
	}
	if len(errs) > 0 {
		sort.Float64s(errs)
		m.MedianKm = errs[len(errs)/2]
	} else {
		m.MedianKm = math.NaN()
	}
	return m
}

// WriteTable prints metrics as an aligned table.
func WriteTable(out io.Writer, title string, ms []Metrics) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, title)
	fmt.Fprintln(tw, strings.Join([]string{"method", "hops", "with hint", "located", "country", "≤40km", "≤40km hint", "≤40km no hint", "median km", "bound-breaking", "conf≥0.9", "of which ≤40km", "calibration [0,.3) [.3,.6) [.6,.9) [.9,1]: n ≤40km", ""}, "\t"))
	for _, m := range ms {
		var cal []string
		for _, b := range m.Calibration {
			if b.N == 0 {
				cal = append(cal, "-")
				continue
			}
			cal = append(cal, fmt.Sprintf("%d %.0f%%", b.N, 100*b.Within))
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f%%\t%.1f%%\t%.1f%%\t%.1f%%\t%.1f%%\t%.1f%%\t%.1f\t%d\t%d\t%.1f%%\t%s\t\n",
			m.Method, m.Hops, 100*float64(m.HintHops)/float64(max(1, m.Hops)), 100*m.Located, 100*m.Country, 100*m.Within, 100*m.WithinH, 100*m.NoHint, m.MedianKm, m.Breaking, m.Sure, 100*m.SureOK, strings.Join(cal, " | "))
	}
	return tw.Flush()
}

// dbAlone is the baseline "one database alone": its first answer for each
// address.
func dbAlone(db candidates.Source) func(traceroute.Probe) placement {
	return func(h traceroute.Probe) placement {
		ans, err := db.Lookup(candidates.Query{Addr: h.Addr})
		if err != nil || len(ans.Candidates) == 0 {
			return placement{}
		}
		c := ans.Candidates[0]
		return placement{ok: true, lat: c.Lat, lon: c.Lon, country: c.Country}
	}
}
