package geoloc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/internal/countries"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/rdns"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// Engine locates the routers of traces. It is safe for concurrent use; the
// candidates of each distinct address are gathered once and cached.
type Engine struct {
	opts  Options
	log   *slog.Logger
	slack float64
	cache *factCache
	fuse  *fusion
	// names reads router names (nil with Options.Hints): the embedded
	// conventions and Options.Conventions, and the learned ones once
	// learning is done.
	names atomic.Pointer[rdns.Reader]
	learn *learning
	// sourceNames holds the strings each source's candidates carry (see
	// namesOf), made once so that a candidate or a placement costs no
	// allocation for them.
	sourceNames map[string]sourceNames
}

// New returns an Engine configured by opts (see Options for the zero values).
func New(opts Options) *Engine {
	e := &Engine{opts: opts, log: opts.Logger, slack: opts.slackKm()}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if opts.Hints == nil {
		if len(opts.Conventions) == 0 {
			e.names.Store(defaultReader())
		} else {
			e.names.Store(rdns.NewReader(opts.Conventions...))
		}
	}
	if opts.Learn {
		e.learn = &learning{l: rdns.NewLearner(rdns.LearnOptions{Reader: e.names.Load()})}
	}
	e.cache = newFactCache(opts.CacheSize, opts.CacheBytes)
	e.sourceNames = make(map[string]sourceNames, len(opts.Sources))
	for _, s := range opts.Sources {
		e.sourceNames[s.Name()] = namesOf(s.Name())
	}
	k := opts.MaxConstraintsPerAddr
	if k <= 0 {
		k = 4
	}
	e.fuse = newFusion(k)
	return e
}

// hop is the engine's working state for one responding address of one hop.
type hop struct {
	res     HopResult
	special string // why the address is not looked up; "" for public
	hasRTT  bool
	f       *facts
	// hard are the bounds no placement may break: the RTT from a known
	// vantage point (first, when vFirst), fused observations, the inferred
	// vantage hypothesis, and bounds from other hops of the trace.
	hard   []latency.Constraint
	vFirst bool
	fast   []fastBound // hard, for quick tests
	// chosen placement, nil when none; chosen is its candidate (-1 none)
	loc    *latency.Point
	radKm  float64
	conf   float64
	chosen int
	// weak: the path solver found none of its candidates likely (it stands
	// "elsewhere"); its placement is a low-confidence guess.
	weak bool
	// anycastWhy names two constraints that cannot both hold
	anycastWhy string
}

// hardSpare is the room for hard bounds added after buildHops (the
// inferred vantage point's disc) kept beside each hop's own.
const hardSpare = 2

// addHard adds a hard bound to h.
func (h *hop) addHard(k latency.Constraint) {
	h.hard = append(h.hard, k)
	h.fast = append(h.fast, fastBoundOf(k))
}

// Locate places every responding address of t. It fails only when ctx is
// done; a trace with nothing to say about gives hops with null locations.
func (e *Engine) Locate(ctx context.Context, t *traceroute.Trace) (*TraceResult, error) {
	return e.locate(ctx, t, e.fuse)
}

// locate is Locate with the first pass of fused locating read from fv.
func (e *Engine) locate(ctx context.Context, t *traceroute.Trace, fv fusedView) (*TraceResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t == nil {
		return nil, errors.New("geoloc: Locate of a nil trace")
	}
	out := &TraceResult{Format: t.Format, Source: t.Source, Destination: t.Destination, Protocol: t.Protocol, Started: t.Started, Error: t.Error}
	v, haveV := e.vantageOf(t)
	if haveV {
		vv := v
		out.Vantage = &vv
	}
	if e.opts.Resolver != nil {
		e.prefetch(ctx, t)
	}
	hops, err := e.buildHops(ctx, t, v, haveV, fv)
	if err != nil {
		return nil, err
	}
	s := e.newSolver(hops)
	inferred := false
	var hyp vhyp
	var hypKm float64
	if !haveV && !e.opts.NoInferVantage {
		var src *facts
		if a := t.Source.Addr; a.IsValid() && SpecialReason(a) == "" {
			src = e.factsFor(ctx, a, t.Source.Name)
		}
		var shared []vhyp
		if key := SourceKey(t); key != "" {
			if vs, ok := fv.votes(key); ok {
				shared = vs.consensus()
			}
		}
		hyp, hypKm, inferred = e.inferVantage(s, src, shared)
	}
	if inferred {
		// The hypothesis's discs are hard from now on: every placement and
		// every fallback must respect them, and confidences weigh only what
		// they leave possible.
		for _, h := range hops {
			if h.hasRTT {
				h.addHard(e.hypConstraint(hyp, hypKm, h))
			}
		}
		s.narrow()
	}
	s.run()
	// Codes no dictionary knows are read within the region each hop may
	// be in, now that the placements around it bound it.
	if e.expandCodes(s, hops) {
		s = e.newSolver(hops)
		s.run()
	}
	// Hops put "elsewhere" are offered their close neighbours' places, and
	// the path solved again (twice at most: a run of such hops).
	for range 2 {
		if !s.offerNeighbours() {
			break
		}
		s.run()
	}
	e.decideAll(s)
	if inferred {
		out.Vantage = &Vantage{Lat: round4(hyp.at.Lat), Lon: round4(hyp.at.Lon), RadiusKm: math.Ceil(hypKm), Name: "inferred vantage near " + hyp.city, Inferred: true}
	}
	e.placeUnlocated(hops, out.Vantage)
	e.guardPairs(hops)
	for _, h := range hops {
		guardBounds(h)
	}
	e.explain(s, hops)
	if haveV && !v.Inferred {
		if w := e.contradiction(hops, v); w != "" {
			out.Warnings = append(out.Warnings, w)
		}
	}
	out.Hops = make([]HopResult, len(hops))
	for i, h := range hops {
		out.Hops[i] = h.res
	}
	out.setCrossing()
	return out, nil
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// buildHops makes the working state of every responding address of t:
// facts, and the hard bounds of a known vantage point and of fused
// observations.
func (e *Engine) buildHops(ctx context.Context, t *traceroute.Trace, v Vantage, haveV bool, fv fusedView) ([]*hop, error) {
	// Every hop's addresses in one slice: hop i's are all[ends[i-1]:ends[i]].
	var allBuf [64]netip.Addr
	var endsBuf [32]int
	all, ends := allBuf[:0], endsBuf[:0]
	for i := range t.Hops {
		all = t.Hops[i].AppendAddrs(all)
		ends = append(ends, len(all))
	}
	n := len(all)
	store := make([]hop, 0, n) // one allocation for the trace's hops
	hops := make([]*hop, 0, n)
	for i := range t.Hops {
		th := &t.Hops[i]
		from := 0
		if i > 0 {
			from = ends[i-1]
		}
		for _, a := range all[from:ends[i]] {
			store = append(store, hop{res: HopResult{TTL: th.TTL, Addr: a, Name: nameOf(th, a)}, chosen: -1})
			h := &store[len(store)-1]
			h.res.RTTMs, h.hasRTT = minRTT(th, a)
			h.res.ASN = asnOf(th, a)
			h.special = SpecialReason(a)
			if h.special == "" {
				h.f = e.factsFor(ctx, a, h.res.Name)
				if h.res.Name == "" {
					h.res.Name = h.f.name
				}
				if h.f.as != nil {
					h.res.ASN, h.res.ASOrg = h.f.as.Number, h.f.as.Org
				}
				e.constrain(h, v, haveV, fv)
			} else if haveV && h.hasRTT && !v.Inferred {
				// Never looked up, but a placement with a neighbour
				// must still respect its own RTT.
				h.hard = append(h.hard, latency.Constraint{From: latency.Point{Lat: v.Lat, Lon: v.Lon}, FromName: v.Name, RTTMs: h.res.RTTMs, SlackKm: e.slack})
				h.vFirst = true
			}
			hops = append(hops, h)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	// The hard bounds, and their fast forms, in one slice each for the
	// trace, with room for hardSpare more per hop (addHard).
	nh := 0
	for _, h := range hops {
		nh += len(h.hard) + hardSpare
	}
	hard, fast := make([]latency.Constraint, 0, nh), make([]fastBound, 0, nh)
	for _, h := range hops {
		from := len(hard)
		hard = append(hard, h.hard...)
		for _, k := range h.hard {
			fast = append(fast, fastBoundOf(k))
		}
		to := len(hard)
		hard, fast = hard[:to+hardSpare], fast[:to+hardSpare]
		h.hard, h.fast = hard[from:to:to+hardSpare], fast[from:to:to+hardSpare]
	}
	return hops, nil
}

// maxLookups bounds the PTR lookups one Locate runs at once.
const maxLookups = 16

// prefetch gathers, concurrently, the facts of t's public addresses that the
// trace gives no name for and the cache does not hold: with a Resolver each
// needs a PTR lookup, and a trace's worth of them one after another would
// take a trace's worth of round trips.
func (e *Engine) prefetch(ctx context.Context, t *traceroute.Trace) {
	var todo []netip.Addr
	for i := range t.Hops {
		th := &t.Hops[i]
		for _, a := range th.Addrs() {
			if nameOf(th, a) != "" || SpecialReason(a) != "" || slices.Contains(todo, a) {
				continue
			}
			if _, ok := e.cache.get(factKey{a, ""}); ok {
				continue
			}
			todo = append(todo, a)
		}
	}
	if len(todo) < 2 {
		return
	}
	sem := make(chan struct{}, maxLookups)
	var wg sync.WaitGroup
	for _, a := range todo {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			e.factsFor(ctx, a, "")
		}()
	}
	wg.Wait()
}

// LocateAddr explains one address: name is its PTR name ("" = look it up if
// a Resolver is set), rttMs a round-trip time measured from `from` (0 or a
// nil from = no latency constraint). With Observe'd constraints for addr,
// those count too.
func (e *Engine) LocateAddr(ctx context.Context, addr netip.Addr, name string, rttMs float64, from *Vantage) (HopResult, error) {
	if err := ctx.Err(); err != nil {
		return HopResult{}, err
	}
	h := &hop{res: HopResult{Addr: addr, Name: name, RTTMs: math.Max(rttMs, 0)}, hasRTT: rttMs > 0}
	h.special = SpecialReason(addr)
	if h.special != "" {
		h.res.Why = notLookedUp(h.special)
		return h.res, nil
	}
	h.f = e.factsFor(ctx, addr, name)
	if h.res.Name == "" {
		h.res.Name = h.f.name
	}
	if h.f.as != nil {
		h.res.ASN, h.res.ASOrg = h.f.as.Number, h.f.as.Org
	}
	var v Vantage
	if from != nil {
		v = *from
	}
	e.constrain(h, v, from != nil, e.fuse)
	h.chosen = -1
	for _, k := range h.hard {
		h.fast = append(h.fast, fastBoundOf(k))
	}
	s := e.newSolver([]*hop{h})
	s.run()
	e.decideAll(s)
	guardBounds(h)
	e.explain(s, []*hop{h})
	return h.res, nil
}

// constrain sets the hard constraints of h: its RTT from the trace's vantage
// point and the fused constraints Observe gathered for its address. When
// these cannot all hold, the address is anycast and only the trace's own
// constraint is kept.
func (e *Engine) constrain(h *hop, v Vantage, haveV bool, fv fusedView) {
	if haveV && h.hasRTT && !v.Inferred {
		h.hard = append(h.hard, latency.Constraint{From: latency.Point{Lat: v.Lat, Lon: v.Lon}, FromName: v.Name, RTTMs: h.res.RTTMs, SlackKm: e.slack})
		h.vFirst = true
	}
	if fv == nil {
		return
	}
	var skip *Vantage
	if haveV && !v.Inferred {
		skip = &v
	}
	fused := constraintsOf(fv.fused(h.res.Addr), skip, e.slack)
	if len(fused) == 0 {
		return
	}
	all := append(append([]latency.Constraint(nil), h.hard...), fused...)
	discs := make([]latency.Disc, len(all))
	for i, c := range all {
		discs[i] = c.Disc()
	}
	// Pairwise overlap is the cheap test; three or more discs that overlap
	// in pairs but share no point are rare enough to leave to the
	// candidates' own checks.
	if !latency.PairwiseIntersect(discs...) {
		h.res.Anycast = true
		h.anycastWhy = anycastWhy(all)
		return
	}
	h.hard = all
	e.measuredPlaces(h)
}

// Measured places: with three or more vantage points around an address
// (fused traces, pings from probes), the RTTs themselves suggest where it
// is, and those places become candidates of the address for this trace:
//   - the shortest ping: the vantage point that hears the address soonest
//     is the likeliest to stand near it (the classic baseline of active
//     geolocation, strong where probes are dense), weighted by how short
//     that RTT is;
//   - multilateration: the centre of the region every RTT allows, when that
//     region is small, weighted by how small.
//
// A database answer elsewhere in the region no longer wins alone.
const (
	minMeasuredVantages  = 3
	shortestPingWeight   = 0.5
	shortestPingScaleMs  = 4
	multilaterationMaxKm = 150
	multilaterationScale = 60 // km
	multilaterationW     = 0.7
)

func (e *Engine) measuredPlaces(h *hop) {
	if len(h.hard) < minMeasuredVantages || h.f == nil {
		return
	}
	best := 0
	for i, c := range h.hard {
		if c.RTTMs < h.hard[best].RTTMs {
			best = i
		}
	}
	c := h.hard[best]
	name := c.FromName
	if name == "" {
		name = c.From.String()
	}
	add := []cand{{
		Candidate: candidates.Candidate{Lat: c.From.Lat, Lon: c.From.Lon, RadiusKm: math.Round(latency.MaxDistanceKm(c.RTTMs, 0)),
			Source: "shortest-ping:" + name, Kind: candidates.KindLatency},
		pt: c.From, weight: shortestPingWeight * math.Exp(-c.RTTMs/shortestPingScaleMs), group: "latency",
	}}
	// The region is worth computing only when the tightest bound is.
	if c.MaxKm() <= 2*multilaterationMaxKm {
		discs := make([]latency.Disc, len(h.hard))
		for i, k := range h.hard {
			discs[i] = k.Disc()
		}
		if r, ok := latency.Intersect(discs...); ok && r.RadiusKm <= multilaterationMaxKm {
			add = append(add, cand{
				Candidate: candidates.Candidate{Lat: r.Center.Lat, Lon: r.Center.Lon, RadiusKm: math.Round(r.RadiusKm),
					Source: "multilateration", Kind: candidates.KindLatency},
				pt: r.Center, weight: multilaterationW * math.Exp(-r.RadiusKm/multilaterationScale), group: "latency",
			})
		}
	}
	h.f = h.f.withCands(add)
}

// minRTT is the smallest RTT addr showed at th. Some outputs print 0 for an
// RTT they did not measure: a zero is no constraint, not a router at the
// vantage point. An aggregate without a minimum still bounds the distance
// with its last or average RTT, since the minimum is no larger.
func minRTT(th *traceroute.Hop, a netip.Addr) (float64, bool) {
	if r, ok := th.MinRTTMs(a); ok && r > 0 {
		return r, true
	}
	var rs []float64
	for _, p := range th.Probes {
		if p.Addr == a && !p.Lost {
			rs = append(rs, p.RTTMs)
		}
	}
	for _, s := range th.Stats {
		if s.Addr == a {
			rs = append(rs, s.MinMs, s.LastMs, s.AvgMs)
		}
	}
	return latency.MinOfRTTs(rs...)
}

// guardBounds is the last line of defence of the engine's promise: a
// location that breaks a hard bound is never output. Every path that places
// a hop already checks; this catches any that does not.
func guardBounds(h *hop) {
	l := h.res.Location
	if l == nil {
		return
	}
	p := latency.Point{Lat: l.Lat, Lon: l.Lon}
	for _, c := range h.hard {
		if chk := c.Check(p); !chk.Feasible {
			h.res.Location, h.res.Confidence, h.res.Method, h.res.Inferred = nil, 0, "", false
			h.res.Why = "no placement satisfies every latency bound: " + chk.String()
			h.loc = nil
			return
		}
	}
}

// anycastWhy explains an anycast flag with the pair of constraints farthest
// from holding together: "seen at 2.0 ms from Oslo and 2.0 ms from Tokyo,
// 8418 km apart; no place is within 229 km of both".
func anycastWhy(cs []latency.Constraint) string {
	bi, bj, worst := -1, -1, 0.0
	for i := range cs {
		for j := i + 1; j < len(cs); j++ {
			gap := latency.DistanceKm(cs[i].From, cs[j].From) - cs[i].MaxKm() - cs[j].MaxKm()
			if bi < 0 || gap > worst {
				bi, bj, worst = i, j, gap
			}
		}
	}
	if bi < 0 || worst <= 0 {
		return "the RTTs seen from several vantage points cannot all hold for one place"
	}
	a, b := cs[bi], cs[bj]
	return fmt.Sprintf("seen at %.1f ms from %s and %.1f ms from %s, %.0f km apart; no single place is that close to both",
		a.RTTMs, nameOr(a.FromName), b.RTTMs, nameOr(b.FromName), latency.DistanceKm(a.From, b.From))
}

func nameOr(s string) string {
	if s == "" {
		return "a vantage point"
	}
	return s
}

func nameOf(th *traceroute.Hop, a netip.Addr) string {
	for _, p := range th.Probes {
		if p.Addr == a && p.Name != "" {
			return p.Name
		}
	}
	for _, s := range th.Stats {
		if s.Addr == a && s.Name != "" {
			return s.Name
		}
	}
	return ""
}

func asnOf(th *traceroute.Hop, a netip.Addr) uint32 {
	for _, p := range th.Probes {
		if p.Addr == a && p.ASN != 0 {
			return p.ASN
		}
	}
	for _, s := range th.Stats {
		if s.Addr == a && s.ASN != 0 {
			return s.ASN
		}
	}
	return 0
}

// vantageOf finds where t was measured from: the trace's own source
// location, then Options.VantageOf, then Options.From.
func (e *Engine) vantageOf(t *traceroute.Trace) (Vantage, bool) {
	if t.Source.HasLocation() {
		p := latency.Point{Lat: *t.Source.Lat, Lon: *t.Source.Lon}
		if p.Valid() {
			name := t.Source.Name
			switch {
			case t.Source.ProbeID != "":
				name = "probe " + t.Source.ProbeID
			case name == "" && t.Source.Addr.IsValid():
				name = t.Source.Addr.String()
			case name == "":
				name = p.String()
			}
			return Vantage{Lat: p.Lat, Lon: p.Lon, Name: name}, true
		}
	}
	if e.opts.VantageOf != nil {
		if v, ok := e.opts.VantageOf(t); ok {
			return v, true
		}
	}
	if e.opts.From != nil {
		return *e.opts.From, true
	}
	return Vantage{}, false
}

// placeUnlocated places hops without a location of their own (special
// addresses, addresses with no usable candidate) and hops whose own
// candidates fit the path badly with their neighbour of the closest RTT,
// marked inferred, when the RTTs allow it and the placement breaks no hard
// bound. Hops near the start may be placed at a known vantage point.
func (e *Engine) placeUnlocated(hops []*hop, v *Vantage) {
	for i, h := range hops {
		if h.res.Location != nil && !h.weak {
			continue
		}
		if h.special != "" && h.res.Why == "" {
			h.res.Why = notLookedUp(h.special)
		}
		if !h.hasRTT || h.res.Anycast {
			continue
		}
		var best *hop
		bestGap := math.Inf(1)
		for _, j := range []int{i - 1, i + 1, i - 2, i + 2, i - 3, i + 3} {
			if j < 0 || j >= len(hops) {
				continue
			}
			n := hops[j]
			if n.loc == nil || n.res.Inferred || n.weak || !n.hasRTT {
				continue
			}
			if gap := math.Abs(n.res.RTTMs - h.res.RTTMs); gap < bestGap {
				best, bestGap = n, gap
			}
		}
		var loc Location
		var conf float64
		var method, why string
		switch {
		case best != nil && bestGap <= maxNeighbourGapMs:
			loc = *best.res.Location
			loc.RadiusKm = math.Round(best.radKm + latency.MaxDistanceKm(bestGap, 0))
			conf = best.conf * 0.5 / (1 + bestGap)
			method = "neighbour"
			why = "placed with hop " + strconv.Itoa(best.res.TTL) + ", " + strconv.FormatFloat(bestGap, 'f', 1, 64) + " ms apart"
		case v != nil && h.res.RTTMs <= maxNeighbourGapMs:
			loc = Location{Lat: v.Lat, Lon: v.Lon, RadiusKm: math.Round(latency.MaxDistanceKm(h.res.RTTMs, e.slack) + v.RadiusKm)}
			loc.Country, _ = countries.At(v.Lat, v.Lon)
			conf = 0.5 / (1 + h.res.RTTMs) * 50 / (50 + v.RadiusKm)
			method = "neighbour:vantage"
			why = "placed at the vantage point"
			if v.Inferred {
				why = "placed at the inferred vantage point"
			}
		default:
			continue
		}
		if h.weak && conf <= h.conf {
			continue // its own guess is no worse
		}
		p := latency.Point{Lat: loc.Lat, Lon: loc.Lon}
		pv, _ := pointMemo.of(p)
		ok := true
		for j, c := range h.hard {
			if !h.fast[j].feasible(c, pv, p) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		l := loc // allocated only for a hop placed
		h.res.Location = &l
		h.res.Confidence = round3(conf)
		h.res.CountryConfidence = 0
		h.res.Method = method
		h.res.Inferred = true
		h.res.Why = why
		if h.special != "" {
			h.res.Why = h.special + ", not looked up; " + why
		}
		pt := p
		h.loc, h.radKm, h.conf, h.chosen, h.weak = &pt, loc.RadiusKm, conf, -1, false
	}
}

// notLookedUp is the Why of a special address (reason from SpecialReason)
// never looked up; the reasons' own are made once.
func notLookedUp(reason string) string {
	if w, ok := notLookedUpWhy[reason]; ok {
		return w
	}
	return reason + ", not looked up"
}

var notLookedUpWhy = func() map[string]string {
	m := map[string]string{}
	for _, r := range specialRanges {
		m[r.why] = r.why + ", not looked up"
	}
	for _, why := range []string{reasonNoAddress, reasonBroadcast} {
		m[why] = why + ", not looked up"
	}
	return m
}()

// guardPairs enforces the bound any two hops of one trace obey, whatever
// the vantage point: (rtt_a + rtt_b)/2 × 204.19 km plus slack. Placements
// are accepted most confident first; one that breaks the bound with an
// accepted hop is placed again under the bounds of every accepted hop (its
// best candidate they allow, else the region they leave), or not at all.
func (e *Engine) guardPairs(hops []*hop) {
	var order []*hop
	for _, h := range hops {
		if h.loc != nil && h.res.Location != nil && h.hasRTT {
			order = append(order, h)
		}
	}
	slices.SortStableFunc(order, func(a, b *hop) int {
		if a.res.Inferred != b.res.Inferred {
			return byLess(!a.res.Inferred, !b.res.Inferred)
		}
		return byLess(a.conf > b.conf, b.conf > a.conf)
	})
	var acc []*hop
	for _, h := range order {
		if e.pairOK(h, acc) {
			acc = append(acc, h)
			continue
		}
		for _, a := range acc {
			h.addHard(e.pairConstraint(a, h))
		}
		if h.res.Inferred || h.f == nil {
			h.res.Location, h.loc, h.res.Confidence, h.res.Method, h.res.Inferred = nil, nil, 0, "", false
			h.res.Why = "no placement fits the hops around it"
			if h.special != "" {
				h.res.Why = notLookedUp(h.special)
			}
			continue
		}
		e.decideAlone(h)
		if h.loc != nil && e.pairOK(h, acc) {
			acc = append(acc, h)
		} else if h.loc != nil {
			h.res.Location, h.loc, h.res.Confidence, h.res.Method = nil, nil, 0, ""
			h.res.Why = "no placement fits the hops around it"
		}
	}
}

func (e *Engine) pairOK(h *hop, acc []*hop) bool {
	// Each pair's bound as a fast bound around the accepted hop: no
	// distance for pairs surely within or beyond it.
	hv, _ := pointMemo.of(*h.loc)
	for _, a := range acc {
		av, _ := pointMemo.of(*a.loc)
		k := latency.Constraint{From: *a.loc, RTTMs: math.Max(h.res.RTTMs, 0) + math.Max(a.res.RTTMs, 0), SlackKm: 2 * e.slack}
		switch fb, d := fastBoundFrom(k, av), hv.Dot(av); {
		case d >= fb.cos:
			continue
		case d < fb.cosOut:
			return false
		}
		if latency.DistanceKm(*h.loc, *a.loc) > latency.PairMaxDistanceKm(h.res.RTTMs, a.res.RTTMs, 2*e.slack) {
			return false
		}
	}
	return true
}

// pairConstraint is the bound placed hop a puts on h: within
// (rtt_a + rtt_h)/2 × 204.19 km plus twice the slack of a's place.
func (e *Engine) pairConstraint(a, h *hop) latency.Constraint {
	where := ""
	if l := a.res.Location; l != nil {
		where = " at " + placeName(l.City, l.Country)
	}
	return latency.Constraint{From: *a.loc, FromName: fmt.Sprintf("hop %d%s (both RTTs added)", a.res.TTL, where), RTTMs: a.res.RTTMs + h.res.RTTMs, SlackKm: 2 * e.slack}
}

// contradiction checks a given vantage point against the names: when most
// hops with a name hint have every hint ruled out by it, the vantage point
// is likely wrong (a Tokyo trace given --from osl). It returns a warning, ""
// when the vantage point fits.
func (e *Engine) contradiction(hops []*hop, v Vantage) string {
	hinted, ruled := 0, 0
	for _, h := range hops {
		if h.f == nil || !h.vFirst {
			continue
		}
		any, bad := false, true
		for i := range h.f.cands {
			c := &h.f.cands[i]
			if c.Kind != candidates.KindHint {
				continue
			}
			any = true
			if h.hard[0].Check(c.pt).Feasible {
				bad = false
			}
		}
		if any {
			hinted++
			if bad {
				ruled++
			}
		}
	}
	if ruled < 2 || 2*ruled < hinted {
		return ""
	}
	w := fmt.Sprintf("the RTTs contradict the vantage point %s: %d of %d hops with a name hint are impossible from there", nameOr(v.Name), ruled, hinted)
	// Where does the trace look measured from? Solve again without it.
	saved := make([][]latency.Constraint, len(hops))
	savedFast := make([][]fastBound, len(hops))
	for i, h := range hops {
		saved[i], savedFast[i] = h.hard, h.fast
		if h.vFirst {
			h.hard, h.fast = h.hard[1:], h.fast[1:]
		}
	}
	s := e.newSolver(hops)
	if hyp, _, ok := e.inferVantage(s, nil, nil); ok && latency.DistanceKm(hyp.at, latency.Point{Lat: v.Lat, Lon: v.Lon}) > 500 {
		w += "; the trace looks measured near " + hyp.city
	}
	for i, h := range hops {
		h.hard, h.fast = saved[i], savedFast[i]
	}
	return w
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func fmtKm(km float64) string { return strconv.FormatFloat(km, 'f', 0, 64) + " km" }
