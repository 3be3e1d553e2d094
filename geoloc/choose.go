package geoloc

import (
	"fmt"
	"math"
	"sort"
	"strings"

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
	// unlikely: an excess of detourScaleKm halves the candidate's score.
	detourScaleKm = 250
	// softPenalty multiplies the score of a candidate that breaks a
	// constraint from an inferred vantage point.
	softPenalty = 0.05
	// strengthKm scales total support into strength: one IATA hint alone
	// gives about 0.91, a hint and a database agreeing about 0.97.
	strengthScale = 0.35
	// latencyOnlyMaxKm is the largest feasible region reported as a
	// location when no candidate survives.
	latencyOnlyMaxKm = 500
	// dbCopyFactor discounts the second and later databases agreeing.
	dbCopyFactor = 0.5
	// nearMs, nbMinConf, nbWeight: a neighbour hop within nearMs of RTT,
	// placed with at least nbMinConf, counts as a candidate of weight
	// nbWeight × its confidence.
	nearMs    = 1.0
	nbMinConf = 0.6
	nbWeight  = 0.4
)

// decide chooses a placement for every public hop. first holds the
// placements of a previous pass (nil on the first), used to judge detours.
func (e *Engine) decide(hops []*hop, first []*latency.Point, final bool) {
	for i, h := range hops {
		if h.special != "" || h.f == nil {
			continue
		}
		var prev, next *hop
		var prevPt, nextPt latency.Point
		if first != nil && h.hasRTT {
			for j := i - 1; j >= 0; j-- {
				if first[j] != nil && hops[j].hasRTT && hops[j].res.TTL < h.res.TTL && !hops[j].res.Anycast {
					prev, prevPt = hops[j], *first[j]
					break
				}
			}
			for j := i + 1; j < len(hops); j++ {
				if first[j] != nil && hops[j].hasRTT && hops[j].res.TTL > h.res.TTL && !hops[j].res.Anycast {
					next, nextPt = hops[j], *first[j]
					break
				}
			}
		}
		e.choose(h, prev, prevPt, next, nextPt, final)
	}
}

type eval struct {
	ruled   bool
	factor  float64
	support float64
	score   float64
	why     string
}

func agrees(a, b *cand) bool {
	switch {
	case a.countryLevel || b.countryLevel:
		return a.Country != "" && a.Country == b.Country
	}
	lim := math.Max(agreeMinKm, math.Min(math.Min(a.RadiusKm, b.RadiusKm), agreeMaxKm))
	return latency.DistanceKm(a.pt, b.pt) <= lim
}

// choose scores h's candidates and fills h.res. prev and next are the
// nearest earlier and later hops placed in the previous pass (or nil).
// Explanations (evidence) are written only when final is set.
func (e *Engine) choose(h *hop, prev *hop, prevPt latency.Point, next *hop, nextPt latency.Point, final bool) {
	cs := h.f.cands
	var evBuf [8]eval
	var ev []eval
	if len(cs) <= len(evBuf) {
		ev = evBuf[:len(cs)]
	} else {
		ev = make([]eval, len(cs))
	}
	for i := range cs {
		c := &cs[i]
		ev[i].factor = 1
		for j, k := range h.hard {
			if h.fast[j].inside(c.v) {
				continue
			}
			if chk := k.Check(c.pt); !chk.Feasible {
				ev[i].ruled = true
				if final {
					ev[i].why = chk.String()
				}
				break
			}
		}
		if ev[i].ruled {
			continue
		}
		var whys []string
		for _, k := range h.soft {
			if chk := k.Check(c.pt); !chk.Feasible {
				ev[i].factor *= softPenalty
				if final {
					whys = append(whys, chk.String())
				}
			}
		}
		if prev != nil {
			if x := latency.DetourExcessKm(prevPt, c.pt, prev.res.RTTMs, h.res.RTTMs, e.slack+prev.radKm); x > 0 {
				ev[i].factor /= 1 + prev.conf*x/detourScaleKm
				if final {
					whys = append(whys, fmt.Sprintf("%.0f km farther from hop %d than its %.1f ms RTT rise pays for", x, prev.res.TTL, math.Max(0, h.res.RTTMs-prev.res.RTTMs)))
				}
			}
		}
		if next != nil {
			if x := latency.DetourExcessKm(c.pt, nextPt, h.res.RTTMs, next.res.RTTMs, e.slack+next.radKm); x > 0 {
				ev[i].factor /= 1 + next.conf*x/detourScaleKm
				if final {
					whys = append(whys, fmt.Sprintf("%.0f km farther from hop %d than the %.1f ms RTT rise to it pays for", x, next.res.TTL, math.Max(0, next.res.RTTMs-h.res.RTTMs)))
				}
			}
		}
		if len(whys) > 0 {
			ev[i].why = strings.Join(whys, "; ")
		}
	}
	// A neighbour placed with confidence and answering within nearMs of
	// this hop is most likely in the same place (routers of one PoP): it
	// lends support to candidates near it, and may itself be the answer.
	var nb *hop
	var nbPt latency.Point
	var nbW float64
	for _, n := range []struct {
		h  *hop
		pt latency.Point
	}{{prev, prevPt}, {next, nextPt}} {
		if n.h == nil || n.h.conf < nbMinConf || math.Abs(n.h.res.RTTMs-h.res.RTTMs) > nearMs {
			continue
		}
		if w := nbWeight * n.h.conf; w > nbW {
			nb, nbPt, nbW = n.h, n.pt, w
		}
	}
	// Support: for each independent group, the best agreeing candidate.
	type gmax struct {
		g string
		w float64
	}
	var gsBuf [8]gmax
	gs := gsBuf[:0]
	for i := range cs {
		if ev[i].ruled {
			continue
		}
		gs = gs[:0]
	next:
		for j := range cs {
			if ev[j].ruled || !h.f.agrees(i, j) {
				continue
			}
			w := cs[j].weight
			for k := range gs {
				if gs[k].g == cs[j].group {
					gs[k].w = math.Max(gs[k].w, w)
					continue next
				}
			}
			gs = append(gs, gmax{cs[j].group, w})
		}
		// Databases copy each other and the registries (head-office
		// placements repeat across vendors), so the second and later
		// databases agreeing count for half.
		sort.Slice(gs, func(a, b int) bool { return gs[a].w > gs[b].w })
		dbs := 0
		for _, g := range gs {
			if g.g != hintGroup {
				dbs++
				if dbs > 1 {
					ev[i].support += g.w * dbCopyFactor
					continue
				}
			}
			ev[i].support += g.w
		}
		if nb != nil && !cs[i].countryLevel && latency.DistanceKm(cs[i].pt, nbPt) <= agreeMinKm {
			ev[i].support += nbW
		}
		ev[i].score = ev[i].support * ev[i].factor
		if cs[i].countryLevel {
			ev[i].score *= 0.5
		}
	}
	best := -1
	for i := range cs {
		if ev[i].ruled {
			continue
		}
		if best < 0 || ev[i].score > ev[best].score ||
			(ev[i].score == ev[best].score && cs[i].weight > cs[best].weight) {
			best = i
		}
	}
	if nb != nil && e.withNeighbour(h, cs, ev, best, nb, nbPt, nbW, final) {
		return
	}
	if best < 0 {
		e.noCandidate(h, ev, final)
		return
	}
	b := &cs[best]
	alt := 0.0
	for i := range cs {
		if !ev[i].ruled && i != best && !h.f.agrees(best, i) {
			alt = math.Max(alt, ev[i].score)
		}
	}
	sb := ev[best].score
	conf := (1 - math.Exp(-sb/strengthScale)) * sb / (sb + alt)
	if b.countryLevel {
		conf = math.Min(conf, 0.3)
	}
	if h.res.Anycast {
		conf *= 0.5
	}
	// The country is the one the point stands in (embedded outlines),
	// falling back to the candidate's own: the countries rule reads it.
	loc := &Location{Lat: b.Lat, Lon: b.Lon, RadiusKm: b.RadiusKm, City: b.City, Region: b.Region, Country: b.at}
	if loc.Country == "" {
		loc.Country = b.Country
	}
	h.country = b.at
	h.res.Location = loc
	h.res.Confidence = round3(conf)
	h.res.Method = methodOf(b)
	h.res.Why = ""
	if h.res.Anycast {
		h.res.Why = "anycast: " + h.anycastWhy + "; placed for this trace's vantage point"
	}
	pt := b.pt
	h.loc, h.radKm, h.conf = &pt, b.RadiusKm, conf
	h.res.Evidence = nil
	if final {
		h.res.Evidence = evidence(h, cs, ev, best)
	}
}

// noCandidate handles a hop none of whose candidates survives: the feasible
// region of its hard constraints, when small, is still a location.
func (e *Engine) noCandidate(h *hop, ev []eval, final bool) {
	h.loc = nil
	h.res.Location, h.res.Confidence, h.res.Method = nil, 0, ""
	switch {
	case len(h.f.cands) == 0:
		h.res.Why = "no name hint and no database knows this address"
	default:
		h.res.Why = "every candidate breaks a latency bound"
	}
	if h.res.Anycast {
		h.res.Why = "anycast: " + h.anycastWhy + "; " + h.res.Why
	}
	if len(h.hard) > 0 {
		discs := make([]latency.Disc, len(h.hard))
		for i, c := range h.hard {
			discs[i] = c.Disc()
		}
		if r, ok := latency.Intersect(discs...); ok && r.RadiusKm <= latencyOnlyMaxKm {
			loc := &Location{Lat: r.Center.Lat, Lon: r.Center.Lon, RadiusKm: math.Round(r.RadiusKm)}
			loc.Country, _ = countries.At(loc.Lat, loc.Lon)
			h.country = loc.Country
			h.res.Location = loc
			h.res.Method = "latency"
			if len(discs) > 1 {
				h.res.Method = "latency:multilateration"
			}
			h.res.Confidence = round3(math.Min(0.6, 40/math.Max(r.RadiusKm, 1)))
			h.loc, h.radKm, h.conf = &r.Center, r.RadiusKm, h.res.Confidence
		}
	}
	h.res.Evidence = nil
	if final {
		h.res.Evidence = evidence(h, h.f.cands, ev, -1)
	}
}

func methodOf(c *cand) string {
	switch {
	case c.Kind == candidates.KindHint && c.Hint != nil:
		return "rdns:" + string(c.Hint.Kind)
	case c.countryLevel:
		return "country:" + c.Source
	case c.Kind == candidates.KindGeofeed:
		return "geofeed:" + c.Source
	}
	return "geoip:" + c.Source
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

func evidence(h *hop, cs []cand, ev []eval, best int) []Evidence {
	out := make([]Evidence, 0, len(cs))
	for i := range cs {
		c := &cs[i]
		x := Evidence{Source: c.evSource, Kind: c.evKind, Lat: c.Lat, Lon: c.Lon, City: c.City, Country: c.Country}
		switch {
		case ev[i].ruled:
			x.Status, x.Why = StatusRuledOut, ev[i].why
		case i == best:
			x.Status = StatusChosen
			var parts []string
			if n := countAgreeing(h.f, ev, best); n > 0 {
				parts = append(parts, fmt.Sprintf("%d other source(s) agree", n))
			}
			if len(h.hard) > 0 {
				parts = append(parts, h.hard[0].Check(c.pt).String())
			}
			if ev[i].why != "" {
				parts = append(parts, ev[i].why)
			}
			x.Why = strings.Join(parts, "; ")
		case best >= 0 && h.f.agrees(best, i):
			x.Status = StatusAgrees
			if c.countryLevel || cs[best].countryLevel {
				x.Why = "same country as the chosen place"
			} else {
				x.Why = fmt.Sprintf("%s from the chosen place", fmtKm(latency.DistanceKm(c.pt, cs[best].pt)))
			}
		default:
			x.Status = StatusUnlikely
			if best >= 0 {
				x.Why = fmt.Sprintf("score %.2f against %.2f for the chosen place", ev[i].score, ev[best].score)
			}
			if ev[i].why != "" {
				if x.Why != "" {
					x.Why += "; "
				}
				x.Why += ev[i].why
			}
		}
		out = append(out, x)
	}
	return out
}

func countAgreeing(f *facts, ev []eval, best int) int {
	cs := f.cands
	n := 0
	for i := range cs {
		if i != best && !ev[i].ruled && cs[i].group != cs[best].group && f.agrees(best, i) {
			n++
		}
	}
	return n
}

// withNeighbour places h with its neighbour nb when that beats every own
// candidate of h (best < 0: none survived): the neighbour's place, if it
// satisfies h's hard constraints, scores nbW plus the support of h's
// candidates that agree with it. It reports whether it placed h.
func (e *Engine) withNeighbour(h *hop, cs []cand, ev []eval, best int, nb *hop, nbPt latency.Point, nbW float64, final bool) bool {
	for _, k := range h.hard {
		if !k.Check(nbPt).Feasible {
			return false
		}
	}
	score := nbW
	for i := range cs {
		if !ev[i].ruled && !cs[i].countryLevel && latency.DistanceKm(cs[i].pt, nbPt) <= agreeMinKm {
			return false // an own candidate is there already and scored with the neighbour's support
		}
	}
	for _, k := range h.soft {
		if !k.Check(nbPt).Feasible {
			score *= softPenalty
		}
	}
	alt := 0.0
	if best >= 0 {
		alt = ev[best].score
	}
	if score <= alt {
		return false
	}
	conf := (1 - math.Exp(-score/strengthScale)) * score / (score + alt)
	loc := *nb.res.Location
	loc.RadiusKm = math.Round(nb.radKm + latency.MaxDistanceKm(math.Abs(nb.res.RTTMs-h.res.RTTMs), 0))
	h.res.Location = &loc
	h.res.Confidence = round3(conf)
	h.res.Method = "neighbour"
	h.res.Inferred = true
	h.res.Why = fmt.Sprintf("placed with hop %d, %.1f ms apart", nb.res.TTL, math.Abs(nb.res.RTTMs-h.res.RTTMs))
	pt := nbPt
	h.loc, h.radKm, h.conf, h.country = &pt, loc.RadiusKm, conf, nb.country
	h.res.Evidence = nil
	if final {
		h.res.Evidence = evidence(h, cs, ev, -1)
		for i := range h.res.Evidence {
			if h.res.Evidence[i].Status == StatusUnlikely && best >= 0 {
				h.res.Evidence[i].Why = fmt.Sprintf("score %.2f against %.2f for hop %d's place", ev[i].score, score, nb.res.TTL) + joinWhy(ev[i].why)
			}
		}
	}
	return true
}

func joinWhy(w string) string {
	if w == "" {
		return ""
	}
	return "; " + w
}
