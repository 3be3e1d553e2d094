package geoloc

import (
	"fmt"
	"math"
	"strconv"

	"github.com/golang/geo/r3"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/internal/countries"
	"github.com/geoloc-dev/geoloc/latency"
)

const (
	// agreeMinKm is how close two city-level candidates must be to count
	// as the same place (metro areas, airports outside their city).
	agreeMinKm = 50
	agreeMaxKm = 150
	// detourScaleKm sets how fast an unpaid detour makes a placement
	// unlikely: an excess of detourScaleKm halves the path's likelihood.
	detourScaleKm = 250
	// latencyOnlyMaxKm is the largest feasible region reported as a
	// location when no candidate survives.
	latencyOnlyMaxKm = 500
	// dbCopyFactor discounts the second and later databases agreeing.
	dbCopyFactor = 0.5
	// nearMs: hops within nearMs of each other are likely in one PoP.
	nearMs = 1.0
	// maxNeighbourGapMs bounds the RTT gap over which a hop without a
	// place of its own is placed with a neighbour.
	maxNeighbourGapMs = 5
)

func agrees(a, b *cand) bool {
	switch {
	case a.countryLevel || b.countryLevel:
		return a.Country != "" && a.Country == b.Country
	}
	// Most pairs are surely within agreeMinKm (one place) or beyond
	// agreeMaxKm, the bounds of lim: no arccosine for them.
	switch dot := a.v.Dot(b.v); {
	case dot >= cosAgreeIn:
		return true
	case dot < cosAgreeOut:
		return false
	}
	lim := math.Max(agreeMinKm, math.Min(math.Min(a.RadiusKm, b.RadiusKm), agreeMaxKm))
	return candKm(a, b) <= lim
}

// metreRad is a metre as an angle at the Earth's centre: the margin that
// makes a comparison of unit vectors' dot product with a cosine sure.
const metreRad = 1e-3 / latency.EarthRadiusKm

var (
	// cosAgreeIn: candidates whose unit vectors' dot product is at least
	// this are surely within agreeMinKm; below cosAgreeOut, surely
	// beyond agreeMaxKm.
	cosAgreeIn  = math.Cos(agreeMinKm/latency.EarthRadiusKm - metreRad)
	cosAgreeOut = math.Cos(agreeMaxKm/latency.EarthRadiusKm + metreRad)
)

// candKm is the great-circle distance between two candidates, from their
// unit vectors: no trigonometry but one arccosine.
func candKm(a, b *cand) float64 {
	return latency.EarthRadiusKm * math.Acos(math.Max(-1, math.Min(1, a.v.Dot(b.v))))
}

// feasible reports whether candidate i of h satisfies every hard bound.
func (h *hop) feasible(i int) bool {
	c := &h.f.cands[i]
	for j, k := range h.hard {
		if !h.fast[j].feasible(k, c.v, c.pt) {
			return false
		}
	}
	return true
}

// feasiblePt reports whether point p satisfies every hard bound of h.
func (h *hop) feasiblePt(p latency.Point) bool {
	for _, k := range h.hard {
		if !k.Check(p).Feasible {
			return false
		}
	}
	return true
}

// failing is the first hard bound candidate i of h breaks, explained.
func (h *hop) failing(i int) string {
	c := &h.f.cands[i]
	for j, k := range h.hard {
		if h.fast[j].feasible(k, c.v, c.pt) {
			continue // the same answer as Check's, mostly without its distance
		}
		if chk := k.Check(c.pt); !chk.Feasible {
			return chk.String()
		}
	}
	return ""
}

// decideAll fills every solved hop's result from the solver's path.
func (e *Engine) decideAll(s *solver) {
	for i, n := range s.nodes {
		if n == nil {
			if h := s.hops[i]; h.special == "" && h.f != nil {
				e.noCandidate(h)
			}
			continue
		}
		h := n.h
		st := s.path[i]
		switch {
		case st >= 0 && st < len(n.cands):
			e.place(h, n.cands[st], s.share(i, st))
			h.res.CountryConfidence = round3(math.Max(h.res.Confidence, s.countryShare(i, h.res.Location.Country)))
			continue
		case st >= len(n.cands) && st < n.elseState():
			nb := n.extraFrom[st-len(n.cands)]
			c := n.cand(st)
			gap := math.Abs(nb.res.RTTMs - h.res.RTTMs)
			loc := &Location{Lat: c.Lat, Lon: c.Lon, RadiusKm: math.Round(c.RadiusKm), City: c.City, Region: c.Region, Country: c.at}
			if loc.Country == "" {
				loc.Country = c.Country
			}
			conf := s.share(i, st)
			pt := c.pt
			h.res.Location, h.res.Confidence, h.res.Method, h.res.Inferred = loc, round3(conf), "neighbour", true
			h.res.Why = fmt.Sprintf("placed with hop %d, %.1f ms apart", nb.res.TTL, gap)
			h.loc, h.radKm, h.conf, h.chosen = &pt, c.RadiusKm, conf, -1
			continue
		}
		// "Elsewhere": none of its candidates fits the path as well as
		// some other place would. The best candidate the bounds allow is
		// still a guess, with the low confidence it deserves; a neighbour
		// may do better (placeUnlocated).
		best := -1
		for k := range n.cands {
			if n.mask[k] && (best < 0 || s.marg[i][k] > s.marg[i][best]) {
				best = k
			}
		}
		if best >= 0 {
			e.place(h, n.cands[best], math.Min(weakMaxConf, s.share(i, best)))
			h.res.Why = "its own candidates fit the path badly; a neighbour's place may be better"
			h.weak = true
			continue
		}
		e.noCandidate(h)
	}
}

// weakMaxConf caps the confidence of a placement the path solver found
// less likely than "somewhere else": below MinCountryConfidence, so that it
// never names a country crossed.
const weakMaxConf = 0.25

// place sets h's result to candidate ci with confidence conf.
func (e *Engine) place(h *hop, ci int, conf float64) {
	b := &h.f.cands[ci]
	if b.countryLevel {
		conf = math.Min(conf, 0.3)
	}
	if h.res.Anycast {
		conf *= 0.5
	}
	// The country is the one the point stands in (embedded outlines),
	// falling back to the candidate's own: the countries rule reads it.
	// The location and its point, in one allocation.
	pl := &struct {
		loc Location
		pt  latency.Point
	}{loc: Location{Lat: b.Lat, Lon: b.Lon, RadiusKm: b.RadiusKm, City: b.City, Region: b.Region, Country: b.at}, pt: b.pt}
	loc := &pl.loc
	if loc.Country == "" {
		loc.Country = b.Country
	}
	h.res.Location = loc
	h.res.Confidence = round3(conf)
	h.res.CountryConfidence = 0
	h.res.Method = e.methodOf(b)
	h.res.Inferred = false
	h.res.Why = ""
	if h.res.Anycast {
		h.res.Why = "anycast: " + h.anycastWhy + "; placed for this trace's vantage point"
	}
	h.loc, h.radKm, h.conf, h.chosen = &pl.pt, b.RadiusKm, conf, ci
}

// decideAlone places h on its own evidence under its hard bounds: the best
// feasible candidate, else the feasible region of the bounds when small.
func (e *Engine) decideAlone(h *hop) {
	h.chosen = -1
	h.weak = false
	if h.f == nil {
		h.res.Location, h.loc = nil, nil
		return
	}
	s := solver{e: e}
	n := s.nodeOf(h, nil)
	if len(n.cands) == 0 {
		e.noCandidate(h)
		return
	}
	best := 0
	var sum float64
	for k := range n.cands {
		sum += n.p[k]
		if n.p[k] > n.p[best] {
			best = k
		}
	}
	var in float64
	for k := range n.cands {
		if k == best || h.f.agrees(n.cands[k], n.cands[best]) {
			in += n.p[k]
		}
	}
	e.place(h, n.cands[best], in/(sum+math.Exp(n.logElse)))
}

// noCandidate handles a hop none of whose candidates survives: the feasible
// region of its hard constraints, when small, is still a location.
func (e *Engine) noCandidate(h *hop) {
	h.loc, h.chosen = nil, -1
	h.res.Location, h.res.Confidence, h.res.Method, h.res.Inferred = nil, 0, "", false
	h.res.CountryConfidence = 0
	switch {
	case h.f == nil || len(h.f.cands) == 0:
		h.res.Why = "no name hint and no database knows this address"
	default:
		h.res.Why = "every candidate breaks a latency bound"
	}
	if h.res.Anycast {
		h.res.Why = "anycast: " + h.anycastWhy + "; " + h.res.Why
	}
	if len(h.hard) == 0 {
		return
	}
	discs := make([]latency.Disc, len(h.hard))
	for i, c := range h.hard {
		discs[i] = c.Disc()
	}
	r, ok := latency.Intersect(discs...)
	if !ok || r.RadiusKm > latencyOnlyMaxKm {
		return
	}
	loc := &Location{Lat: r.Center.Lat, Lon: r.Center.Lon, RadiusKm: math.Round(r.RadiusKm)}
	loc.Country, _ = countries.At(loc.Lat, loc.Lon)
	h.res.Location = loc
	h.res.Method = "latency"
	if len(discs) > 1 {
		h.res.Method = "latency:multilateration"
	}
	h.res.Confidence = round3(math.Min(0.6, 40/math.Max(r.RadiusKm, 1)))
	h.loc, h.radKm, h.conf = &r.Center, r.RadiusKm, h.res.Confidence
	h.weak = true // a close neighbour with a place of its own may do better
}

func (e *Engine) methodOf(c *cand) string {
	switch {
	case c.Kind == candidates.KindHint && c.Hint != nil:
		if m, ok := hintMethods[c.Hint.Kind]; ok {
			return m
		}
		return "rdns:" + string(c.Hint.Kind)
	case c.countryLevel:
		return e.namesOf(c.Source).country
	case c.Kind == candidates.KindGeofeed:
		return e.namesOf(c.Source).geofeed
	case c.Kind == candidates.KindLatency && c.Source == "multilateration":
		return "latency:multilateration"
	case c.Kind == candidates.KindLatency:
		return "latency:shortest-ping"
	}
	return e.namesOf(c.Source).geoip
}

func kindOf(c *cand) string {
	if c.Kind == candidates.KindHint && c.Hint != nil {
		return "hint:" + string(c.Hint.Kind)
	}
	if c.countryLevel {
		return string(candidates.KindCountry)
	}
	return string(c.Kind)
}

// explain writes every solved hop's evidence: each candidate and what
// became of it, with the numbers. prev and next of a chained hop are the
// nearest placed hops before and after it on the path (for detours).
func (e *Engine) explain(s *solver, hops []*hop) {
	placedOnChain := func(k int) *hop {
		if k < 0 || k >= len(s.chain) {
			return nil
		}
		h := s.nodes[s.chain[k]].h
		if h.loc == nil || h.res.Inferred {
			return nil
		}
		return h
	}
	for i, h := range hops {
		if h.f == nil || h.special != "" {
			continue
		}
		var prev, next *hop
		for k, c := range s.chain {
			if c != i {
				continue
			}
			for j := k - 1; j >= 0 && prev == nil; j-- {
				prev = placedOnChain(j)
			}
			for j := k + 1; j < len(s.chain) && next == nil; j++ {
				next = placedOnChain(j)
			}
		}
		h.res.Evidence = e.evidence(s, i, h, prev, next)
	}
}

func (e *Engine) evidence(s *solver, i int, h *hop, prev, next *hop) []Evidence {
	cs := h.f.cands
	var n *pnode
	if s != nil {
		n = s.nodes[i]
	}
	stateOf := func(ci int) int {
		if n == nil {
			return -1
		}
		for k, c := range n.cands {
			if c == ci {
				return k
			}
		}
		return -1
	}
	best := -1
	if h.loc != nil && !h.res.Inferred && h.chosen >= 0 {
		best = h.chosen
	}
	bestShare := 0.0
	if best >= 0 {
		if st := stateOf(best); st >= 0 && s.marg[i] != nil {
			bestShare = s.share(i, st)
		}
	}
	out := make([]Evidence, 0, len(cs))
	why := make([]byte, 0, 256) // the Why being written, reused
	var prevV, nextV r3.Vector
	if prev != nil {
		prevV, _ = pointMemo.of(*prev.loc)
	}
	if next != nil {
		nextV, _ = pointMemo.of(*next.loc)
	}
	for ci := range cs {
		c := &cs[ci]
		x := Evidence{Source: c.evSource, Kind: c.evKind, Lat: c.Lat, Lon: c.Lon, City: c.City, Country: c.Country}
		switch {
		case !h.feasible(ci):
			x.Status, x.Why = StatusRuledOut, h.failing(ci)
		case ci == best:
			x.Status = StatusChosen
			why = why[:0]
			if k := agreeing(h, best); k > 0 {
				why = strconv.AppendInt(why, int64(k), 10)
				why = append(why, " other source(s) agree"...)
			}
			if len(h.hard) > 0 {
				why = h.hard[0].Check(c.pt).AppendTo(whySep(why))
			}
			why = e.appendDetour(why, h, c, prev, next, prevV, nextV)
			x.Why = string(why)
		case best >= 0 && h.f.agrees(best, ci):
			x.Status = StatusAgrees
			if c.countryLevel || cs[best].countryLevel {
				x.Why = "same country as the chosen place"
			} else {
				x.Why = fmtKm(latency.DistanceKm(c.pt, cs[best].pt)) + " from the chosen place"
			}
		default:
			x.Status = StatusUnlikely
			why = why[:0]
			if st := stateOf(ci); st >= 0 && s.marg[i] != nil {
				what := "the chosen place"
				if best < 0 {
					what = "somewhere else"
					if h.res.Inferred {
						what = "the neighbour's place"
					}
				}
				// As fmt's "%.2f".
				why = append(why, "score "...)
				why = strconv.AppendFloat(why, s.share(i, st), 'f', 2, 64)
				why = append(why, " against "...)
				why = strconv.AppendFloat(why, math.Max(bestShare, 1-s.share(i, st)), 'f', 2, 64)
				why = append(why, " for "...)
				why = append(why, what...)
			}
			why = e.appendDetour(why, h, c, prev, next, prevV, nextV)
			x.Why = string(why)
		}
		out = append(out, x)
	}
	return out
}

// whySep appends the "; " between the parts of a Why, if b has one already.
func whySep(b []byte) []byte {
	if len(b) > 0 {
		b = append(b, "; "...)
	}
	return b
}

// appendDetour appends (after "; " when b is not empty) the detour a
// candidate of h would need from the placed hop before it and to the one
// after it (prevV and nextV: their places as unit vectors), nothing when
// none.
func (e *Engine) appendDetour(b []byte, h *hop, c *cand, prev, next *hop, prevV, nextV r3.Vector) []byte {
	if c.countryLevel || !h.hasRTT {
		return b
	}
	// latency.DetourExcessKm, from unit vectors.
	excess := func(fromV r3.Vector, rttFrom, rttTo, slackKm float64) float64 {
		d := latency.EarthRadiusKm * math.Acos(math.Max(-1, math.Min(1, fromV.Dot(c.v))))
		return d - math.Max(rttTo-rttFrom, 0)/2*latency.FibreKmPerMs - slackKm
	}
	// strconv writes numbers as fmt's %.0f and %.1f do.
	part := func(b []byte, x float64, ttl int, rise float64, to bool) []byte {
		b = strconv.AppendFloat(whySep(b), x, 'f', 0, 64)
		b = append(b, " km farther from hop "...)
		b = strconv.AppendInt(b, int64(ttl), 10)
		if to {
			b = append(b, " than the "...)
		} else {
			b = append(b, " than its "...)
		}
		b = strconv.AppendFloat(b, rise, 'f', 1, 64)
		if to {
			return append(b, " ms RTT rise to it pays for"...)
		}
		return append(b, " ms RTT rise pays for"...)
	}
	if prev != nil && prev.res.TTL < h.res.TTL {
		if x := excess(prevV, prev.res.RTTMs, h.res.RTTMs, e.slack+math.Min(prev.radKm, detourRadiusCapKm)); x > 0 {
			b = part(b, x, prev.res.TTL, math.Max(0, h.res.RTTMs-prev.res.RTTMs), false)
		}
	}
	if next != nil && next.res.TTL > h.res.TTL {
		if x := excess(nextV, h.res.RTTMs, next.res.RTTMs, e.slack+math.Min(next.radKm, detourRadiusCapKm)); x > 0 {
			b = part(b, x, next.res.TTL, math.Max(0, next.res.RTTMs-h.res.RTTMs), true)
		}
	}
	return b
}

func agreeing(h *hop, best int) int {
	cs := h.f.cands
	n := 0
	for i := range cs {
		if i != best && cs[i].group != cs[best].group && h.f.agrees(best, i) && h.feasible(i) {
			n++
		}
	}
	return n
}
