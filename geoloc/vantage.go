package geoloc

import (
	"fmt"
	"math"
	"slices"

	"github.com/golang/geo/r3"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/internal/countries"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/rdns"
)

// A trace whose vantage point nobody gives is still bound by physics: every
// hop is within rtt/2 × 204.19 km of the same unknown point. The solver
// treats that point as latent. Hypotheses for it come from the candidates
// of the hops that answered first (if hop a, answering after rtt_a, stands
// at p, the vantage point is within rtt_a/2 × 204.19 km of p), from the
// trace's own source address, and, with --fuse, from the other traces of
// the same source address or probe. Under a hypothesis every hop gets a
// hard disc around it; the path solver scores each and the best is kept,
// its discs staying hard: no placement may break them.

const (
	// anchorSpreadMs: hops answering within this of the fastest hop anchor
	// hypotheses; maxAnchors of them at most.
	anchorSpreadMs = 3
	maxAnchors     = 3
	// maxAnchorCands bounds the candidates of one anchor that become
	// hypotheses; maxHypotheses all of them.
	maxAnchorCands = 6
	maxHypotheses  = 12
	// hypMergeKm merges hypotheses closer than this.
	hypMergeKm = 50
	// srcRadiusKm is how far a source address's database place may be from
	// the machine: residential and office blocks are placed far better
	// than router blocks, but not exactly.
	srcRadiusKm = 100
	// maxRegionDiscs bounds the discs intersected to report the inferred
	// vantage region.
	maxRegionDiscs = 8
)

// cosMergeIn: hypotheses whose unit vectors' dot product is at least this
// are surely within hypMergeKm; below cosMergeOut, surely beyond.
var (
	cosMergeIn  = math.Cos(hypMergeKm/latency.EarthRadiusKm - metreRad)
	cosMergeOut = math.Cos(hypMergeKm/latency.EarthRadiusKm + metreRad)
)

// vhyp is one hypothesis for the vantage point.
type vhyp struct {
	at   latency.Point
	v    r3.Vector // at as a unit vector
	name string    // where it came from, for explanations ("" for an anchor's until label)
	city string
	// bonus is added to the path score (consensus of other traces).
	bonus float64
	// anchorTTL and anchorRTT are the hop a hypothesis from a hop's
	// candidate came from: its name is made by label, for the one kept.
	anchorTTL int
	anchorRTT float64
}

// label is v's name, made for a hypothesis from a hop's candidate (most of
// them lose, and go unnamed).
func (v vhyp) label() string {
	if v.name == "" && v.anchorTTL > 0 {
		return fmt.Sprintf("the vantage point of hop %d at %s (%.1f ms)", v.anchorTTL, v.city, v.anchorRTT)
	}
	return v.name
}

// hypConstraint is the hard bound hypothesis v at radius rKm puts on h.
func (e *Engine) hypConstraint(v vhyp, rKm float64, h *hop) latency.Constraint {
	return latency.Constraint{From: v.at, FromName: v.name, RTTMs: h.res.RTTMs, SlackKm: rKm + e.slack}
}

// hypotheses lists the vantage hypotheses of a trace and the radius they
// share: the anchors' own bound (so that hypotheses are compared at the same
// strength), at least srcRadiusKm.
func (e *Engine) hypotheses(s *solver, src *facts, shared []vhyp) ([]vhyp, float64) {
	anchors := slices.Clone(s.chain)
	slices.SortStableFunc(anchors, func(a, b int) int {
		return byLess(s.nodes[a].h.res.RTTMs < s.nodes[b].h.res.RTTMs, s.nodes[b].h.res.RTTMs < s.nodes[a].h.res.RTTMs)
	})
	rKm := float64(srcRadiusKm)
	var hs []vhyp
	add := func(v vhyp) {
		if len(hs) >= maxHypotheses {
			return
		}
		v.v = unitVector(v.at)
		for i := range hs {
			// DistanceKm ≤ hypMergeKm, mostly from the unit vectors.
			if d := hs[i].v.Dot(v.v); d >= cosMergeIn || d >= cosMergeOut && latency.DistanceKm(hs[i].at, v.at) <= hypMergeKm {
				hs[i].bonus = math.Max(hs[i].bonus, v.bonus)
				return
			}
		}
		hs = append(hs, v)
	}
	for _, v := range shared {
		add(v)
	}
	if src != nil {
		for _, c := range src.cands {
			if !c.countryLevel {
				add(vhyp{at: c.pt, name: "the source address's place (" + placeName(c.City, c.at) + ")", city: placeName(c.City, c.at)})
			}
		}
	}
	for k, i := range anchors {
		n := s.nodes[i]
		h := n.h
		if k >= maxAnchors || h.res.RTTMs > s.nodes[anchors[0]].h.res.RTTMs+anchorSpreadMs {
			break
		}
		rKm = math.Max(rKm, latency.MaxDistanceKm(h.res.RTTMs, e.slack))
		order := make([]int, len(n.cands))
		for j := range order {
			order[j] = j
		}
		slices.SortStableFunc(order, func(a, b int) int { return byLess(n.p[a] > n.p[b], n.p[b] > n.p[a]) })
		for j, st := range order {
			if j >= maxAnchorCands {
				break
			}
			c := &h.f.cands[n.cands[st]]
			if c.countryLevel {
				continue
			}
			add(vhyp{at: c.pt, city: placeName(c.City, c.at), anchorTTL: h.res.TTL, anchorRTT: h.res.RTTMs})
		}
	}
	return hs, rKm
}

// byLess is a comparison from "a before b" and "b before a" (both false:
// equal), for slices.SortStableFunc with the order of a less function.
func byLess(aFirst, bFirst bool) int {
	switch {
	case aFirst:
		return -1
	case bFirst:
		return 1
	}
	return 0
}

func placeName(city, cc string) string {
	switch {
	case city != "" && cc != "":
		return city + ", " + cc
	case city != "":
		return city
	case cc != "":
		if n := countries.Name(cc); n != "" {
			return n
		}
		return cc
	}
	return "an unnamed place"
}

// maskFor restricts every solved hop to hypothesis v at radius rKm.
func (e *Engine) maskFor(s *solver, v vhyp, rKm float64) {
	s.hyp, s.hypKm = &v, rKm
	at := unitVector(v.at)
	for _, n := range s.nodes {
		if n == nil {
			continue
		}
		h := n.h
		if !h.hasRTT {
			for k := range n.mask {
				n.mask[k] = true
			}
			continue
		}
		k := e.hypConstraint(v, rKm, h)
		// The bound's cosines depend on its radius only, the same for
		// every hypothesis tried at rKm: computed once per node.
		if km := k.MaxKm(); km != n.hypMaxKm || n.hypFast.cos == 0 {
			n.hypMaxKm, n.hypFast = km, fastBoundFrom(k, at)
		}
		fb := n.hypFast
		fb.c = at
		for j := range n.mask {
			c := n.cand(j)
			n.mask[j] = fb.feasible(k, c.v, c.pt)
		}
	}
}

// inferVantage tries every hypothesis and keeps the best-scoring one; the
// solver is left solved under it. It reports false when there is nothing to
// hypothesise from.
func (e *Engine) inferVantage(s *solver, src *facts, shared []vhyp) (vhyp, float64, bool) {
	hs, rKm := e.hypotheses(s, src, shared)
	if len(hs) == 0 {
		return vhyp{}, 0, false
	}
	sc := e.scoreHypotheses(s, hs, rKm)
	best := 0
	for i := range sc {
		if sc[i] > sc[best] {
			best = i
		}
	}
	v := hs[best]
	v.name = v.label()
	// The masks scoring made for it: no bound tests again.
	s.hyp, s.hypKm = &v, rKm
	s.loadMasks(s.hypMasks[s.hypAt[best]:s.hypAt[best+1]])
	s.run()
	// Narrow the hypothesis to where the vantage point can be given the
	// placements it led to, and solve again under the narrower bound.
	if r, where, ok := e.regionFromPath(s, v, rKm); ok && r.RadiusKm < rKm {
		v.at, rKm = r.Center, r.RadiusKm
		if where != "" {
			v.city = where
		}
		e.maskFor(s, v, rKm)
		s.run()
	}
	return v, rKm, true
}

// regionFromPath is where the vantage point can be under hypothesis v:
// the intersection of its disc with the discs of the fastest hops the
// solver placed confidently. where names the fastest of them.
func (e *Engine) regionFromPath(s *solver, v vhyp, rKm float64) (latency.Region, string, bool) {
	type pl struct {
		rtt  float64
		d    latency.Disc
		city string
	}
	var ps []pl
	for h, c := range s.confident() {
		if c.RadiusKm > detourRadiusCapKm {
			continue
		}
		ps = append(ps, pl{h.res.RTTMs, latency.Disc{Center: c.pt, RadiusKm: latency.MaxDistanceKm(h.res.RTTMs, e.slack+c.RadiusKm)}, c.City})
	}
	if len(ps) == 0 {
		return latency.Region{}, "", false
	}
	slices.SortStableFunc(ps, func(a, b pl) int { return byLess(a.rtt < b.rtt, b.rtt < a.rtt) })
	discs := []latency.Disc{{Center: v.at, RadiusKm: rKm}}
	for i, p := range ps {
		if i >= maxRegionDiscs {
			break
		}
		discs = append(discs, p.d)
	}
	for len(discs) > 1 {
		if r, ok := latency.Intersect(discs...); ok {
			return r, ps[0].city, true
		}
		discs = discs[:len(discs)-1] // the slowest disc disagrees: drop it
	}
	return latency.Region{}, "", false
}

// scoreHypotheses is the path score of each hypothesis (plus its bonus).
// The path is solved only for the hypotheses whose hops, each on its own,
// score within reach of the best (the path score is never above that
// bound, so a hypothesis far below it cannot win); the others keep their
// bound minus a margin.
func (e *Engine) scoreHypotheses(s *solver, hs []vhyp, rKm float64) []float64 {
	out := make([]float64, len(hs))
	bound := make([]float64, len(hs))
	best := negInf
	// The masks of every hypothesis, kept from the screening pass for the
	// solving pass: masking costs a bound test per candidate.
	masks := s.hypMasks[:0]
	at := make([]int, len(hs)+1)
	defer func() { s.hypMasks, s.hypAt = masks, at }()
	for i, v := range hs {
		e.maskFor(s, v, rKm)
		bound[i] = s.independentBound() + v.bonus
		best = math.Max(best, bound[i])
		masks = s.appendMasks(masks)
		at[i+1] = len(masks)
	}
	// Hypotheses that leave every hop the same states (often: places a
	// few hundred km apart) score the same path: solved once.
	type solvedMasks struct {
		masks []bool
		score float64
	}
	var solved []solvedMasks
	for i, v := range hs {
		if bound[i] < best-hypScreenMargin {
			out[i] = bound[i] - hypScreenMargin
			continue
		}
		m := masks[at[i]:at[i+1]]
		if k := slices.IndexFunc(solved, func(d solvedMasks) bool { return slices.Equal(d.masks, m) }); k >= 0 {
			out[i] = solved[k].score + v.bonus
			continue
		}
		s.hyp, s.hypKm = &v, rKm
		s.loadMasks(m)
		sc := s.run()
		solved = append(solved, solvedMasks{m, sc})
		out[i] = sc + v.bonus
	}
	return out
}

// appendMasks appends every node's mask, in node order, to buf.
func (s *solver) appendMasks(buf []bool) []bool {
	for _, n := range s.nodes {
		if n != nil {
			buf = append(buf, n.mask...)
		}
	}
	return buf
}

// loadMasks sets every node's mask from what appendMasks saved.
func (s *solver) loadMasks(buf []bool) {
	for _, n := range s.nodes {
		if n != nil {
			buf = buf[copy(n.mask, buf):]
		}
	}
}

// hypScreenMargin: a hypothesis whose independent bound is this far below
// the best one's is not solved (the edges of a path, bonuses for
// co-location included, rarely move a score by more).
const hypScreenMargin = 3

const (
	// maxExpand bounds the places one code is read as.
	maxExpand = 4
	// maxExpandAnchors bounds the placed hops whose pairwise bounds narrow
	// a hop's region for Expand.
	maxExpandAnchors = 8
)

// expandCodes reads, for every hop whose name has words that look like
// location codes and no feasible reading from the dictionaries or
// conventions, those words as abbreviations of places inside the region
// the hop may be in: its hard bounds and the pairwise bounds of the hops
// the solver placed confidently. It reports whether any hop gained
// candidates (the caller then solves again).
func (e *Engine) expandCodes(s *solver, hops []*hop) bool {
	r := e.names.Load()
	if r == nil {
		return false
	}
	type anchor struct {
		pt  latency.Point
		rtt float64
	}
	var anchors []anchor
	for h, c := range s.confident() {
		anchors = append(anchors, anchor{c.pt, h.res.RTTMs})
	}
	changed := false
	for _, h := range hops {
		if h.f == nil || len(h.f.codes) == 0 || h.hasFeasibleHint() {
			continue
		}
		var near []anchor
		if h.hasRTT {
			near = append(near, anchors...)
			slices.SortStableFunc(near, func(a, b anchor) int {
				da, db := math.Abs(a.rtt-h.res.RTTMs), math.Abs(b.rtt-h.res.RTTMs)
				return byLess(da < db, db < da)
			})
			near = near[:min(len(near), maxExpandAnchors)]
		}
		if len(h.hard) == 0 && len(near) == 0 {
			continue // no region: an abbreviation read anywhere invents places
		}
		feasible := func(lat, lon float64) bool {
			p := latency.Point{Lat: lat, Lon: lon}
			for _, a := range near {
				if latency.DistanceKm(p, a.pt) > latency.PairMaxDistanceKm(a.rtt, h.res.RTTMs, 2*e.slack) {
					return false
				}
			}
			return h.feasiblePt(p)
		}
		var hs []rdns.Hint
		for _, c := range h.f.codes {
			hs = append(hs, r.Expand(c, feasible, maxExpand)...)
		}
		if len(hs) > 0 {
			h.f = h.f.withHints(hs)
			changed = true
		}
	}
	return changed
}

// hasFeasibleHint reports whether a reading of h's name (a hint candidate)
// satisfies h's hard bounds.
func (h *hop) hasFeasibleHint() bool {
	for i := range h.f.cands {
		if h.f.cands[i].Kind == candidates.KindHint && h.feasible(i) {
			return true
		}
	}
	return false
}
