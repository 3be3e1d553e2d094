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
	hints func(string) []rdns.Hint
	slack float64
	cache *factCache
	fuse  *fusion
}

// New returns an Engine configured by opts (see Options for the zero values).
func New(opts Options) *Engine {
	e := &Engine{opts: opts, log: opts.Logger, hints: opts.Hints, slack: opts.slackKm()}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.hints == nil {
		e.hints = defaultHints
	}
	e.cache = newFactCache(opts.CacheSize)
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
	// hard are constraints from known vantage points; soft from an inferred one.
	hard, soft []latency.Constraint
	fast       []fastBound // hard, for quick tests
	// chosen placement, nil when none
	loc   *latency.Point
	radKm float64
	conf  float64
	// country the placement stands in, for TraceResult.Countries
	country string
	// anycastWhy names two constraints that cannot both hold
	anycastWhy string
}

// Locate places every responding address of t. It fails only when ctx is
// done; a trace with nothing to say about gives hops with null locations.
func (e *Engine) Locate(ctx context.Context, t *traceroute.Trace) (*TraceResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t == nil {
		return nil, errors.New("geoloc: Locate of a nil trace")
	}
	out := &TraceResult{Format: t.Format, Source: t.Source, Destination: t.Destination, Protocol: t.Protocol, Error: t.Error}
	v, haveV := e.vantageOf(t)
	var vi int32 = -1
	if haveV {
		vv := v
		out.Vantage = &vv
		vi = e.fuse.vantageIndex(v, false)
	}
	if e.opts.Resolver != nil {
		e.prefetch(ctx, t)
	}
	addrs := make([][]netip.Addr, len(t.Hops))
	n := 0
	for i := range t.Hops {
		addrs[i] = t.Hops[i].Addrs()
		n += len(addrs[i])
	}
	store := make([]hop, 0, n) // one allocation for the trace's hops
	hops := make([]*hop, 0, n)
	for i := range t.Hops {
		th := &t.Hops[i]
		for _, a := range addrs[i] {
			store = append(store, hop{res: HopResult{TTL: th.TTL, Addr: a, Name: nameOf(th, a)}})
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
				e.constrain(h, v, haveV, vi)
			} else if haveV && h.hasRTT && !v.Inferred {
				// Never looked up, but a placement with a neighbour
				// must still respect its own RTT.
				h.hard = append(h.hard, latency.Constraint{From: latency.Point{Lat: v.Lat, Lon: v.Lon}, FromName: v.Name, RTTMs: h.res.RTTMs, SlackKm: e.slack})
			}
			hops = append(hops, h)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	for _, h := range hops {
		h.fast = make([]fastBound, len(h.hard))
		for j, k := range h.hard {
			h.fast[j] = fastBoundOf(k)
		}
	}
	e.decide(hops, nil, false)
	if !haveV && !e.opts.NoInferVantage {
		if iv, ok := e.inferVantage(hops); ok {
			out.Vantage = &iv
		}
	}
	// Second pass: with the neighbours' first placements, judge detours.
	first := make([]*latency.Point, len(hops))
	for i, h := range hops {
		first[i] = h.loc
	}
	e.decide(hops, first, true)
	e.placeUnlocated(hops, out.Vantage)
	for _, h := range hops {
		guardBounds(h)
	}
	out.Hops = make([]HopResult, len(hops))
	for i, h := range hops {
		out.Hops[i] = h.res
	}
	out.setCrossing()
	return out, nil
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
		h.res.Why = h.special + ", not looked up"
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
	vi := int32(-1)
	if from != nil {
		v = *from
		vi = e.fuse.vantageIndex(v, false)
	}
	e.constrain(h, v, from != nil, vi)
	for _, k := range h.hard {
		h.fast = append(h.fast, fastBoundOf(k))
	}
	e.decide([]*hop{h}, nil, true)
	guardBounds(h)
	return h.res, nil
}

// constrain sets the hard constraints of h: its RTT from the trace's vantage
// point and the fused constraints Observe gathered for its address. When
// these cannot all hold, the address is anycast and only the trace's own
// constraint is kept.
func (e *Engine) constrain(h *hop, v Vantage, haveV bool, vi int32) {
	if haveV && h.hasRTT && !v.Inferred {
		h.hard = append(h.hard, latency.Constraint{From: latency.Point{Lat: v.Lat, Lon: v.Lon}, FromName: v.Name, RTTMs: h.res.RTTMs, SlackKm: e.slack})
	}
	fused := e.fuse.constraints(h.res.Addr, vi, e.slack)
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

// inferVantage guesses the vantage point from the first located public hop
// with a short RTT and turns it into soft constraints on every hop: the
// source is within rtt_a/2·v of that hop a, so hop h is within
// (rtt_a+rtt_h)/2·v of a's location.
func (e *Engine) inferVantage(hops []*hop) (Vantage, bool) {
	const maxAnchorRTTMs, minAnchorConf = 10, 0.5
	var a *hop
	for _, h := range hops {
		if h.special == "" && h.loc != nil && h.hasRTT && h.res.RTTMs <= maxAnchorRTTMs && h.conf >= minAnchorConf {
			a = h
			break
		}
	}
	if a == nil {
		return Vantage{}, false
	}
	where := a.res.Addr.String()
	if a.res.Location != nil && a.res.Location.City != "" {
		where = a.res.Location.City
	}
	name := "inferred vantage near " + where
	for _, h := range hops {
		if h == a || h.special != "" || !h.hasRTT {
			continue
		}
		h.soft = append(h.soft, latency.Constraint{
			From: *a.loc, FromName: name,
			RTTMs: h.res.RTTMs + a.res.RTTMs, SlackKm: e.slack + a.radKm,
		})
	}
	return Vantage{Lat: a.loc.Lat, Lon: a.loc.Lon, Name: name, Inferred: true}, true
}

// placeUnlocated places hops without a location of their own (special
// addresses, addresses with no usable candidate) with their neighbour of the
// closest RTT, marked inferred, when the RTTs allow it and the placement
// breaks no hard bound. Hops near the start may be placed at a known vantage
// point.
func (e *Engine) placeUnlocated(hops []*hop, v *Vantage) {
	const maxGapMs = 5
	for i, h := range hops {
		if h.res.Location != nil {
			continue
		}
		if h.special != "" && h.res.Why == "" {
			h.res.Why = h.special + ", not looked up"
		}
		if !h.hasRTT || h.res.Anycast {
			continue
		}
		var best *hop
		bestGap := math.Inf(1)
		for _, j := range []int{i - 1, i + 1, i - 2, i + 2} {
			if j < 0 || j >= len(hops) {
				continue
			}
			n := hops[j]
			if n.loc == nil || n.res.Inferred || !n.hasRTT {
				continue
			}
			if gap := math.Abs(n.res.RTTMs - h.res.RTTMs); gap < bestGap {
				best, bestGap = n, gap
			}
		}
		var loc Location
		var conf float64
		var method string
		switch {
		case best != nil && bestGap <= maxGapMs:
			loc = *best.res.Location
			loc.RadiusKm = math.Round(best.radKm + latency.MaxDistanceKm(bestGap, 0))
			conf = best.conf * 0.5 / (1 + bestGap)
			method = "neighbour"
		case v != nil && !v.Inferred && h.res.RTTMs <= maxGapMs:
			loc = Location{Lat: v.Lat, Lon: v.Lon, RadiusKm: math.Round(latency.MaxDistanceKm(h.res.RTTMs, e.slack))}
			loc.Country, _ = countries.At(v.Lat, v.Lon)
			conf = 0.5 / (1 + h.res.RTTMs)
			method = "neighbour:vantage"
		default:
			continue
		}
		p := latency.Point{Lat: loc.Lat, Lon: loc.Lon}
		ok := true
		for _, c := range h.hard {
			if !c.Check(p).Feasible {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		h.res.Location = &loc
		h.res.Confidence = round3(conf)
		h.res.Method = method
		h.res.Inferred = true
		h.res.Why = ""
		if h.special != "" {
			h.res.Why = h.special + ", not looked up; placed with its neighbour"
		}
	}
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func fmtKm(km float64) string { return strconv.FormatFloat(km, 'f', 0, 64) + " km" }
