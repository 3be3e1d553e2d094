package accuracy

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"sort"
	"text/tabwriter"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/countries"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/remote/active"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// Active geolocation: IP-only addresses (no PTR name, so nothing but the
// databases and the pings to go by) pinged from probes of the simulated
// world, as `geoloc locate --ping N` and `regeo --ping N` do with RIPE Atlas
// or Globalping.
//
// The probes, in one of two coverages (ActiveConfig.Coverage), each with
// its own last mile (0.3–5 ms of extra RTT, the spread of RIPE Atlas
// probes' first hops):
//   - CoverageEveryCity: one to three probes at every real city of the
//     table, 2–10 km from its centre (probes at real cities, as the goal
//     is stated);
//   - CoverageRegional: probes around some cities only, as unevenly as the
//     public probe sets are spread (nine cities in ten in Europe, seven in
//     ten in North America, one in three elsewhere have any), two plus one
//     per million people (at most eight) each, 60% in the suburbs (2–25 km)
//     and 40% in the towns around (25–150 km): many targets are hundreds of
//     km from any probe.
//
// Targets sit at city centres.
// A ping's RTT is 2·fibre/(200 km/ms) + the probe's last mile + queueing
// (exponential, 0.3 ms mean per packet) + 1–20 ms for 5% of packets;
// fibre is 5–60% longer than the great circle, as in the traces; the
// minimum of three packets counts. Truth never breaks the engine's bound.
//
// Rows, side by side on the same addresses:
//   - engine + pings, N nearest the truth: the N probes nearest to where the
//     address really is (how the goal is stated: what pings from the
//     nearest probes can do);
//   - engine + pings, chosen near the estimate: what the CLI does, in two
//     rounds of N/2 — near the engine's place for the address without pings
//     (a database's answer), then near the place the first round gives;
//   - lowest-RTT probe: the address placed at the probe with the smallest
//     RTT, of the N nearest the truth;
//   - engine without pings, and each database alone.

// Probe coverages of the active benchmark.
const (
	CoverageEveryCity = "every-city"
	CoverageRegional  = "regional"
)

// ActiveConfig sizes the active-geolocation benchmark.
type ActiveConfig struct {
	Seed uint64
	// Coverage is where the probes are (CoverageEveryCity when "").
	Coverage string
	// Targets is the number of IP-only addresses; 0 means 300.
	Targets int
	// Probes is N, the probes per address; 0 means 10.
	Probes int
}

// simProbe is a probe of the active benchmark.
type simProbe struct {
	pt       latency.Point
	lastMile float64 // ms of extra RTT
	id       string
}

// RunActive runs the active-geolocation benchmark and returns one Metrics
// row per method, in the order described above. Metrics.Breaking counts
// placements farther from a probe than its RTT allows.
func RunActive(ctx context.Context, cfg ActiveConfig) ([]Metrics, error) {
	if cfg.Targets == 0 {
		cfg.Targets = 300
	}
	if cfg.Probes == 0 {
		cfg.Probes = 10
	}
	w, err := Build(Config{Seed: cfg.Seed, Traces: 400, Access: true})
	if err != nil {
		return nil, err
	}
	dbs, sources, err := w.openDBs()
	if err != nil {
		return nil, err
	}

	rng := rand.New(rand.NewPCG(cfg.Seed, 0xac71e))
	var probes []simProbe
	var cands []active.Candidate
	regional := cfg.Coverage == CoverageRegional
	for ci, c := range w.Cities {
		count := 1 + rng.IntN(3)
		if regional {
			density := 0.35
			switch {
			case regionOf(c) == 1:
				density = 0.9
			case regionOf(c) == 0 && c.Lat > 15:
				density = 0.7
			}
			if rng.Float64() >= density {
				continue
			}
			count = min(8, 2+c.Pop/1_000_000)
		}
		for k := range count {
			km := 2 + 8*rng.Float64()
			if regional {
				km = 2 + 23*rng.Float64()
				if rng.Float64() < 0.4 {
					km = 25 + 125*rng.Float64()
				}
			}
			p := latency.Destination(c.Pt(), 360*rng.Float64(), km)
			id := fmt.Sprintf("%d-%d", ci, k)
			probes = append(probes, simProbe{pt: p, lastMile: 0.3 + 4.7*rng.Float64(), id: id})
			cands = append(cands, active.Candidate{Point: p, Key: id, ID: id, Label: c.Name})
		}
	}
	byID := map[string]simProbe{}
	for _, p := range probes {
		byID[p.id] = p
	}

	// IP-only targets: routers and servers without a PTR name.
	var pool []int
	for i, r := range w.Routers {
		if r.Name == "" {
			pool = append(pool, i)
		}
	}
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	targets := pool[:min(cfg.Targets, len(pool))]

	// ping simulates pinging router ri from the chosen probes: one
	// one-hop trace per probe, the probe's position as its source.
	ping := func(ri int, chosen []active.Candidate) []*traceroute.Trace {
		r := w.Routers[ri]
		truth := w.Cities[r.City].Pt()
		var out []*traceroute.Trace
		for _, c := range chosen {
			p := byID[c.ID]
			fibre := latency.DistanceKm(p.pt, truth) * (1.05 + 0.55*rng.Float64())
			best := math.Inf(1)
			for range 3 {
				rtt := 2*fibre/200 + p.lastMile + rng.ExpFloat64()*0.3
				if rng.Float64() < 0.05 {
					rtt += 1 + 19*rng.Float64()
				}
				best = min(best, rtt)
			}
			lat, lon := p.pt.Lat, p.pt.Lon
			out = append(out, &traceroute.Trace{Format: "simulated-ping",
				Source:      traceroute.Endpoint{ProbeID: p.id, Lat: &lat, Lon: &lon},
				Destination: traceroute.Endpoint{Addr: r.Addr},
				Hops:        []traceroute.Hop{{TTL: 1, Probes: []traceroute.Probe{{Addr: r.Addr, RTTMs: math.Round(best*1000) / 1000}}}}})
		}
		return out
	}
	locate := func(addr netip.Addr, pings []*traceroute.Trace) (placement, error) {
		e := geoloc.New(geoloc.Options{Sources: sources})
		for _, t := range pings {
			e.Observe(t)
		}
		h, err := e.LocateAddr(ctx, addr, "", 0, nil)
		if err != nil {
			return placement{}, err
		}
		active.Enforce(&h, pings, geoloc.DefaultSlackKm)
		if h.Location == nil {
			return placement{}, nil
		}
		return placement{ok: true, lat: h.Location.Lat, lon: h.Location.Lon, country: h.Location.Country, conf: h.Confidence}, nil
	}

	names := []string{
		fmt.Sprintf("engine + pings, %d nearest the truth", cfg.Probes),
		fmt.Sprintf("engine + pings, %d near the estimate (2 rounds)", cfg.Probes),
		fmt.Sprintf("lowest-RTT probe (of the %d nearest)", cfg.Probes),
		"engine, no pings",
	}
	for _, d := range w.DBs {
		names = append(names, "database alone: "+d.Name)
	}
	res := make([][]placement, len(names))
	bounds := make([][][]*traceroute.Trace, len(names)) // the pings each placement must respect
	for _, ri := range targets {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r := w.Routers[ri]
		truth := w.Cities[r.City].Pt()

		// Nearest the truth.
		near, _ := active.Nearest(cands, truth, cfg.Probes)
		pings := ping(ri, near)
		p, err := locate(r.Addr, pings)
		if err != nil {
			return nil, err
		}
		res[0], bounds[0] = append(res[0], p), append(bounds[0], pings)

		// Near the estimate, as the CLI does (active.Batch, two rounds).
		prior, err := locate(r.Addr, nil)
		if err != nil {
			return nil, err
		}
		res[3], bounds[3] = append(res[3], prior), append(bounds[3], nil)
		var start *latency.Point
		if prior.ok {
			start = &latency.Point{Lat: prior.lat, Lon: prior.lon}
		}
		b := &active.Batch{Service: &simService{cands: cands, ping: func(c []active.Candidate) []*traceroute.Trace { return ping(ri, c) }}, N: cfg.Probes, Rounds: 2}
		pings2, err := b.Ping(ctx, r.Addr, start)
		if err != nil {
			return nil, err
		}
		p2, err := locate(r.Addr, pings2)
		if err != nil {
			return nil, err
		}
		res[1], bounds[1] = append(res[1], p2), append(bounds[1], pings2)

		// The lowest-RTT probe of the N nearest.
		lp := lowest(pings)
		cc, _ := countries.At(lp.Lat, lp.Lon)
		res[2], bounds[2] = append(res[2], placement{ok: true, lat: lp.Lat, lon: lp.Lon, country: cc}), append(bounds[2], pings)

		for i, db := range dbs {
			ans, err := db.Lookup(candidates.Query{Addr: r.Addr})
			pl := placement{}
			if err == nil && len(ans.Candidates) > 0 {
				c := ans.Candidates[0]
				pl = placement{ok: true, lat: c.Lat, lon: c.Lon, country: c.Country}
			}
			res[4+i], bounds[4+i] = append(res[4+i], pl), append(bounds[4+i], nil)
		}
	}
	var out []Metrics
	for m, name := range names {
		out = append(out, w.scoreActive(name, targets, res[m], bounds[m]))
	}
	return out, nil
}

// simService is the benchmark's stand-in for Globalping or RIPE Atlas:
// probes chosen by active.Nearest, pings simulated.
type simService struct {
	cands []active.Candidate
	ping  func([]active.Candidate) []*traceroute.Trace
}

func (s *simService) Name() string { return "simulated" }

func (s *simService) Plan(_ context.Context, target netip.Addr, sel active.Selection) (*active.Plan, error) {
	if sel.Near == nil { // nothing known: start from a big hub
		sel.Near = &latency.Point{Lat: 40.7, Lon: -74.0}
	}
	chosen, _ := active.Choose(s.cands, sel)
	return &active.Plan{Service: s.Name(), Target: target, Probes: len(chosen), Near: sel.Near, Request: chosen}, nil
}

func (s *simService) Ping(_ context.Context, p *active.Plan) ([]*traceroute.Trace, error) {
	return s.ping(p.Request.([]active.Candidate)), nil
}

// lowest is the position of the probe with the smallest RTT.
func lowest(pings []*traceroute.Trace) latency.Point {
	best, at := math.Inf(1), latency.Point{}
	for _, t := range pings {
		if r := t.Hops[0].Probes[0].RTTMs; r < best {
			best, at = r, latency.Point{Lat: *t.Source.Lat, Lon: *t.Source.Lon}
		}
	}
	return at
}

// scoreActive scores placements of the targets: share within WithinKm,
// country, median error, and placements that break a ping's bound (the
// engine's default slack).
func (w *World) scoreActive(method string, targets []int, res []placement, pings [][]*traceroute.Trace) Metrics {
	m := Metrics{Method: method, Hops: len(targets)}
	var errs []float64
	var located, country, within int
	for i, ri := range targets {
		p := res[i]
		if !p.ok {
			continue
		}
		located++
		c := w.Cities[w.Routers[ri].City]
		pt := latency.Point{Lat: p.lat, Lon: p.lon}
		if p.country == c.Country {
			country++
		}
		d := latency.DistanceKm(pt, c.Pt())
		errs = append(errs, d)
		if d <= WithinKm {
			within++
		}
		for _, t := range pings[i] {
			src := latency.Point{Lat: *t.Source.Lat, Lon: *t.Source.Lon}
			if latency.DistanceKm(src, pt) > latency.MaxDistanceKm(t.Hops[0].Probes[0].RTTMs, boundSlackKm) {
				m.Breaking++
				break
			}
		}
	}
	n := float64(max(1, len(targets)))
	m.Located, m.Country, m.Within = float64(located)/n, float64(country)/n, float64(within)/n
	m.WithinH, m.NoHint, m.SureOK = math.NaN(), m.Within, math.NaN()
	m.MedianKm = math.NaN()
	if len(errs) > 0 {
		sort.Float64s(errs)
		m.MedianKm = errs[len(errs)/2]
	}
	return m
}

// WriteActiveTable prints the active-geolocation rows: addresses, share
// located, country right, within WithinKm, median error and placements
// breaking a ping's bound.
func WriteActiveTable(out io.Writer, title string, ms []Metrics) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, title)
	fmt.Fprintln(tw, "method\taddresses\tlocated\tcountry\t≤40km\tmedian km\tbound-breaking\t")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%.1f%%\t%.1f%%\t%.1f\t%d\t\n", m.Method, m.Hops, 100*m.Located, 100*m.Country, 100*m.Within, m.MedianKm, m.Breaking)
	}
	return tw.Flush()
}
