// Package active geolocates addresses by pinging them from remote probes
// (RIPE Atlas or Globalping) chosen near where the address may be: each
// RTT from a probe at a known place bounds the distance to the address
// (light in fibre, about 100 km per millisecond of RTT), and a handful of
// nearby probes pin it down where databases disagree or are wrong.
//
// A Service plans a measurement (choosing at most n probes near a point;
// it may read the service's public probe list, and sends nothing about the
// target) and runs it, returning one trace per answering probe: a one-hop
// observation of the target whose Source is the probe's position. Feed
// those to geoloc.Engine.Observe, then locate the address again: the
// engine takes each as a hard bound (its tightest few per address).
//
//	b := &active.Batch{Service: &active.Globalping{Client: c}, N: 10}
//	traces, err := b.Ping(ctx, addr, near)
//	for _, t := range traces { eng.Observe(t) }
//	h, err := eng.LocateAddr(ctx, addr, "", 0, nil)
//	h.Evidence = append(h.Evidence, active.Evidence(traces, addr, geoloc.DefaultSlackKm)...)
//
// Pinging publishes the target to the service: Globalping measurements
// can be read by anyone with their id, RIPE Atlas results are public.
// Batch never measures an address twice and never uses more than N
// probes for one; with DryRun set it prints each plan and sends nothing.
package active

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"sync"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// Service pings addresses from remote probes.
type Service interface {
	// Name is the service's name ("globalping", "atlas").
	Name() string
	// Plan chooses the probes of sel to ping target from, and says what
	// Ping would send. It sends nothing about the target.
	Plan(ctx context.Context, target netip.Addr, sel Selection) (*Plan, error)
	// Ping runs a plan: one trace per probe that answered, each a one-hop
	// observation of the target with the probe's position as its source.
	Ping(ctx context.Context, p *Plan) ([]*traceroute.Trace, error)
}

// Selection says which probes to choose.
type Selection struct {
	// Near is the point to choose probes near; nil means anywhere.
	Near *latency.Point
	// N is the most probes to choose.
	N int
	// Spread chooses the probe nearest to Near, then probes spread over
	// the world (each the farthest from those chosen) instead of the N
	// nearest: their RTTs tell which part of the world the address is in
	// even when Near is far from the truth (a database's head office on
	// another continent), which the N nearest, all on one spot, cannot.
	Spread bool
}

// Choose picks the candidates of sel (Near must be set), with their
// distances from Near in km: the N nearest, nearest first, or spread as
// Selection.Spread says.
func Choose(cands []Candidate, sel Selection) ([]Candidate, []float64) {
	near := *sel.Near
	if !sel.Spread || sel.N < 3 {
		return Nearest(cands, near, sel.N)
	}
	all, km := Nearest(cands, near, len(cands))
	if len(all) == 0 {
		return nil, nil
	}
	// The nearest, then each next the candidate farthest from all chosen
	// (farthest-point sampling): probes spread over the world, whose RTTs
	// say which part of it the address is in.
	out, outKm := []Candidate{all[0]}, []float64{km[0]}
	gap := make([]float64, len(all))
	for i := range all {
		gap[i] = latency.DistanceKm(all[i].Point, all[0].Point)
	}
	for len(out) < min(sel.N, len(all)) {
		best := -1
		for i := range all {
			if gap[i] > 0 && (best < 0 || gap[i] > gap[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		out, outKm = append(out, all[best]), append(outKm, km[best])
		for i := range all {
			gap[i] = math.Min(gap[i], latency.DistanceKm(all[i].Point, all[best].Point))
		}
	}
	return out, outKm
}

// Plan is a measurement a Service would run.
type Plan struct {
	Service string
	Target  netip.Addr
	// Probes is the most probes the plan uses.
	Probes int
	// Near is the point the probes were chosen near (nil: anywhere).
	Near *latency.Point
	// Chosen describes the chosen probes, nearest first ("Frankfurt, DE:
	// 2 probes, 12 km away").
	Chosen []string
	// Request is the body the service's API would be sent.
	Request any
}

// WriteTo prints the plan for a dry run: one line, then the request as
// indented JSON.
func (p *Plan) WriteTo(w io.Writer) (int64, error) {
	near := "anywhere"
	if p.Near != nil {
		near = "near " + p.Near.String()
	}
	body, err := json.MarshalIndent(p.Request, "  ", "  ")
	if err != nil {
		return 0, err
	}
	n, err := fmt.Fprintf(w, "would ping %s from at most %d %s probes %s:\n", p.Target, p.Probes, p.Service, near)
	total := int64(n)
	for _, c := range p.Chosen {
		if err != nil {
			break
		}
		n, err = fmt.Fprintf(w, "  %s\n", c)
		total += int64(n)
	}
	if err == nil {
		n, err = fmt.Fprintf(w, "  request: %s\n", body)
		total += int64(n)
	}
	return total, err
}

// Batch pings addresses through a Service within a budget: each address at
// most once, from at most N probes. It is safe for concurrent use.
type Batch struct {
	Service Service
	// N is the most probes per address; 0 means 10.
	N int
	// DryRun, when set, receives each plan (Plan.WriteTo) and nothing is
	// sent: Ping returns no traces.
	DryRun io.Writer
	// Rounds splits the budget: with 2 (and N of 4 or more), N/2 probes
	// first, the nearest to the given point and the others spread over the
	// world (Selection.Spread), then the rest nearest to where those RTTs
	// allow the address to be (the centre of their discs' intersection,
	// else the probe with the smallest RTT).
	// A wrong starting point (a database's head office) is corrected by the
	// second round. 0 and 1 mean one round of the N nearest. A dry run
	// prints the first round's plan only.
	Rounds int
	// SlackKm is the slack of the discs that place the second round; 0
	// means geoloc.DefaultSlackKm.
	SlackKm float64

	mu   sync.Mutex
	done map[netip.Addr]*result
}

type result struct {
	once   sync.Once
	traces []*traceroute.Trace
	err    error
}

// Ping pings addr from probes near a point (nil: anywhere), or returns the
// traces of the batch's earlier measurement of addr.
func (b *Batch) Ping(ctx context.Context, addr netip.Addr, near *latency.Point) ([]*traceroute.Trace, error) {
	addr = addr.Unmap()
	b.mu.Lock()
	if b.done == nil {
		b.done = map[netip.Addr]*result{}
	}
	r := b.done[addr]
	if r == nil {
		r = &result{}
		b.done[addr] = r
	}
	b.mu.Unlock()
	r.once.Do(func() { r.traces, r.err = b.run(ctx, addr, near) })
	return r.traces, r.err
}

func (b *Batch) run(ctx context.Context, addr netip.Addr, near *latency.Point) ([]*traceroute.Trace, error) {
	n := b.N
	if n <= 0 {
		n = 10
	}
	first := n
	if b.Rounds >= 2 && n >= 4 && near != nil {
		first = n / 2
	}
	traces, err := b.round(ctx, addr, Selection{Near: near, N: first, Spread: first < n}, n)
	if err != nil || first == n || b.DryRun != nil {
		return traces, err
	}
	next := b.refine(traces, addr)
	if next == nil {
		return traces, nil // no answer to refine from: keep the budget
	}
	more, err := b.round(ctx, addr, Selection{Near: next, N: n - first}, n-first)
	if err != nil {
		return traces, err
	}
	return append(traces, more...), nil
}

// round plans and runs one measurement (budget is what is left of the
// address's).
func (b *Batch) round(ctx context.Context, addr netip.Addr, sel Selection, budget int) ([]*traceroute.Trace, error) {
	p, err := b.Service.Plan(ctx, addr, sel)
	if err != nil {
		return nil, err
	}
	if p.Probes > budget {
		return nil, fmt.Errorf("%s: plan for %s uses %d probes, over the budget of %d", b.Service.Name(), addr, p.Probes, budget)
	}
	if b.DryRun != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
		_, err := p.WriteTo(b.DryRun)
		return nil, err
	}
	return b.Service.Ping(ctx, p)
}

// refine is where the second round looks: the centre of the region every
// first-round RTT allows, else the probe that answered fastest; nil when
// none answered.
func (b *Batch) refine(traces []*traceroute.Trace, addr netip.Addr) *latency.Point {
	slack := b.SlackKm
	if slack == 0 {
		slack = geoloc.DefaultSlackKm
	}
	var discs []latency.Disc
	var fastest *latency.Point
	best := math.Inf(1)
	for _, t := range traces {
		if !t.Source.HasLocation() {
			continue
		}
		src := latency.Point{Lat: *t.Source.Lat, Lon: *t.Source.Lon}
		for i := range t.Hops {
			rtt, ok := t.Hops[i].MinRTTMs(addr)
			if !ok {
				continue
			}
			discs = append(discs, latency.DiscFromRTT(src, rtt, slack))
			if rtt < best {
				best, fastest = rtt, &src
			}
		}
	}
	if r, ok := latency.Intersect(discs...); ok {
		return &r.Center
	}
	return fastest
}

// Measured is the number of distinct addresses the batch was asked about.
func (b *Batch) Measured() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.done)
}

// Candidate is a probe a service could ping from.
type Candidate struct {
	Point latency.Point
	// Key groups probes a service selects together (a city); Label
	// describes the group.
	Key, Label string
	// ID is the probe's id where the service has ids ("" otherwise).
	ID string
}

// Nearest returns the n candidates nearest to near, nearest first, with
// their distances in km. Ties keep the input order.
func Nearest(cands []Candidate, near latency.Point, n int) ([]Candidate, []float64) {
	idx := make([]int, len(cands))
	dist := make([]float64, len(cands))
	for i, c := range cands {
		idx[i] = i
		dist[i] = latency.DistanceKm(near, c.Point)
	}
	sort.SliceStable(idx, func(a, b int) bool { return dist[idx[a]] < dist[idx[b]] })
	n = min(n, len(cands))
	out, km := make([]Candidate, n), make([]float64, n)
	for i := range n {
		out[i], km[i] = cands[idx[i]], dist[idx[i]]
	}
	return out, km
}

// group is chosen probes of one Key, in order of their nearest.
type group struct {
	key, label string
	n          int
	km         float64
	ids        []string
}

func groups(cands []Candidate, km []float64) []group {
	var out []group
	at := map[string]int{}
	for i, c := range cands {
		j, ok := at[c.Key]
		if !ok {
			j = len(out)
			at[c.Key] = j
			out = append(out, group{key: c.Key, label: c.Label, km: km[i]})
		}
		out[j].n++
		if c.ID != "" {
			out[j].ids = append(out[j].ids, c.ID)
		}
	}
	return out
}

func describe(gs []group) []string {
	var out []string
	for _, g := range gs {
		probes := "1 probe"
		if g.n > 1 {
			probes = strconv.Itoa(g.n) + " probes"
		}
		out = append(out, fmt.Sprintf("%s: %s, %.0f km away", g.label, probes, g.km))
	}
	return out
}

// Evidence describes ping observations of addr as evidence rows, one per
// probe that answered: Kind "ping", the probe's position, Status
// "measured", and Why the RTT and the distance it allows.
func Evidence(traces []*traceroute.Trace, addr netip.Addr, slackKm float64) []geoloc.Evidence {
	type row struct {
		rtt float64
		ev  geoloc.Evidence
	}
	var rows []row
	for _, t := range traces {
		if !t.Source.HasLocation() {
			continue
		}
		best := math.Inf(1)
		for i := range t.Hops {
			if r, ok := t.Hops[i].MinRTTMs(addr.Unmap()); ok && r < best {
				best = r
			}
		}
		if math.IsInf(best, 1) {
			continue
		}
		name := t.Source.Name
		if t.Source.ProbeID != "" {
			name = "probe " + t.Source.ProbeID
		}
		src := t.Format
		if src == "" {
			src = "ping"
		}
		rows = append(rows, row{best, geoloc.Evidence{Source: src + ":" + name, Kind: "ping", Lat: *t.Source.Lat, Lon: *t.Source.Lon,
			Status: "measured", Why: fmt.Sprintf("%.1f ms: within %.0f km", best, latency.MaxDistanceKm(best, slackKm))}})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].rtt < rows[j].rtt })
	out := make([]geoloc.Evidence, len(rows))
	for i, r := range rows {
		out[i] = r.ev
	}
	return out
}

// maxRegionKm is the largest region every ping allows that Enforce still
// calls a location (the engine's own limit for a place from latency alone).
const maxRegionKm = 500

// Enforce checks a placement against every ping of traces: the engine
// keeps only the tightest few constraints per address
// (geoloc.Options.MaxConstraintsPerAddr), so with more pings than that a
// place may break a looser one from another direction. When it does (or
// there is no place), h gets the region all the pings allow, when that is
// at most 500 km across (method "latency:multilateration"), or no location
// with the reason. It reports whether h changed.
func Enforce(h *geoloc.HopResult, traces []*traceroute.Trace, slackKm float64) bool {
	var cs []latency.Constraint
	for _, t := range traces {
		if !t.Source.HasLocation() {
			continue
		}
		src := latency.Point{Lat: *t.Source.Lat, Lon: *t.Source.Lon}
		for i := range t.Hops {
			if rtt, ok := t.Hops[i].MinRTTMs(h.Addr.Unmap()); ok {
				name := t.Source.Name
				if t.Source.ProbeID != "" {
					name = "probe " + t.Source.ProbeID
				}
				cs = append(cs, latency.Constraint{From: src, FromName: name, RTTMs: rtt, SlackKm: slackKm})
			}
		}
	}
	if len(cs) == 0 {
		return false
	}
	broken := ""
	if l := h.Location; l != nil {
		p := latency.Point{Lat: l.Lat, Lon: l.Lon}
		for _, c := range cs {
			if chk := c.Check(p); !chk.Feasible {
				broken = chk.String()
				break
			}
		}
		if broken == "" {
			return false
		}
	}
	discs := make([]latency.Disc, len(cs))
	for i, c := range cs {
		discs[i] = c.Disc()
	}
	r, ok := latency.Intersect(discs...)
	why := "the pings allow a region over 500 km across"
	switch {
	case !ok:
		why = "no place is within every ping's bound (anycast, or a probe's position is wrong)"
	case r.RadiusKm <= maxRegionKm:
		loc := &geoloc.Location{Lat: r.Center.Lat, Lon: r.Center.Lon, RadiusKm: math.Round(r.RadiusKm)}
		loc.Country = geoloc.LocationCountry(loc)
		h.Location, h.Method, h.Inferred = loc, "latency:multilateration", false
		h.Confidence = math.Round(math.Min(0.6, 40/math.Max(r.RadiusKm, 1))*1000) / 1000
		h.Why = ""
		if broken != "" {
			h.Why = "placed where every ping allows: the first place broke a bound (" + broken + ")"
		}
		return true
	}
	if broken != "" {
		why += "; the first place broke a bound (" + broken + ")"
	}
	h.Location, h.Method, h.Confidence, h.Inferred, h.Why = nil, "", 0, false, why
	return true
}
