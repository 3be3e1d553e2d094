package rdns

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/geoloc-dev/geoloc/latency"
)

// Learning naming conventions from measurements, as Hoiho (Luckie et al.,
// CoNEXT 2021) and HLOC do: a router's name is seen with the round-trip
// times of where it was measured from, each of which bounds where the
// router can be (a disc). For each domain and each position a code can take
// in its names, every code seen there is matched against the places it can
// mean (what it abbreviates, and the airports, UN/LOCODEs and CLLI-style
// codes it spells); a mapping is accepted only where one place lies inside
// every disc of every observation of the code. Where several places fit
// and none is clearly the likelier reading (abbreviation plausibility ×
// √population), up to three are kept as alternatives, for the engine to
// choose between trace by trace; more than that, and the code is rejected.
// The position where most codes are accepted and few are contradicted is
// the domain's convention.

// LearnOptions configure a Learner. The zero value is usable.
type LearnOptions struct {
	// Reader reads the names: its conventions say which domain suffix a
	// name is under, and codes its conventions already map are not learned
	// again. Nil means NewReader().
	Reader *Reader
	// MinSupport is the number of observations a code needs before a
	// mapping is accepted; 0 means 2.
	MinSupport int
	// MaxConflictShare is the share of a code's observations that may rule
	// the place out (a probe whose position is wrong, a router named for
	// another site); 0 means none may.
	MaxConflictShare float64
	// AmbiguityRatio: a place stands alone only when it is this many times
	// as likely a reading (abbreviation plausibility × √population) as any
	// other place every observation allows; otherwise the entry lists the
	// others as Alternatives (at most three; more is too vague, and the
	// code is rejected). 0 means 2.
	AmbiguityRatio float64
	// MaxObservations bounds memory: the number of router names kept,
	// about 150 bytes each; 0 means 131072 (about 20 MB). Observations of
	// new names beyond it are counted in Stats and otherwise dropped.
	MaxObservations int
}

// Learner learns naming conventions from router names seen with RTT bounds
// ([Learner.Observe]) and returns them as [Conventions]. It is safe for
// concurrent use and its memory is bounded by LearnOptions.MaxObservations.
type Learner struct {
	opts LearnOptions
	r    *Reader

	mu      sync.Mutex
	seed    maphash.Seed
	names   map[uint64]*learnObs // by hash of the router name
	codes   map[learnKey]*learnCode
	dropped int
	seen    int
}

// learnKey is one code in one position of one domain's names.
type learnKey struct {
	domain string
	tmpl   template
	code   string
}

// template is a position a code can take: the label counted from the
// domain (0 = the label just before it) and the '-'-separated word of the
// label counted from its start.
type template struct{ label, word int16 }

// learnCode gathers the observations of one code: one per router name,
// shared with the other codes of the same name.
type learnCode struct {
	obs []*learnObs
}

// maxObsDiscs is the number of discs kept per router name: the tightest,
// which carry nearly all of the information.
const maxObsDiscs = 4

// learnObs is what is known of one router name: the tightest discs it was
// seen in, in single precision (a metre of rounding against bounds with 25
// km of slack), and how many observations were merged.
type learnObs struct {
	discs [maxObsDiscs]obsDisc
	n     int8
	calls int32
}

type obsDisc struct{ lat, lon, radiusKm float32 }

func packDisc(d latency.Disc) obsDisc {
	r := float32(d.RadiusKm)
	if float64(r) < d.RadiusKm {
		r = math.Nextafter32(r, float32(math.Inf(1))) // never tighter than measured
	}
	return obsDisc{float32(d.Center.Lat), float32(d.Center.Lon), r}
}

func (d obsDisc) disc() latency.Disc {
	return latency.Disc{Center: latency.Point{Lat: float64(d.lat), Lon: float64(d.lon)}, RadiusKm: float64(d.radiusKm)}
}

// contains tells whether pt lies in every disc of o.
func (o *learnObs) contains(pt latency.Point) bool {
	for _, d := range o.discs[:o.n] {
		if !d.disc().Contains(pt) {
			return false
		}
	}
	return true
}

// NewLearner returns a Learner.
func NewLearner(opts LearnOptions) *Learner {
	if opts.MinSupport <= 0 {
		opts.MinSupport = 2
	}
	if opts.AmbiguityRatio <= 1 {
		opts.AmbiguityRatio = 2
	}
	if opts.MaxObservations <= 0 {
		opts.MaxObservations = 1 << 17
	}
	opts.MaxConflictShare = math.Max(0, math.Min(opts.MaxConflictShare, 0.5))
	r := opts.Reader
	if r == nil {
		r = NewReader()
	}
	return &Learner{opts: opts, r: r, seed: maphash.MakeSeed(), names: map[uint64]*learnObs{}, codes: map[learnKey]*learnCode{}}
}

// Observe records that the router called name lies inside every disc of
// where (for example the discs its RTTs allow around each vantage point it
// was measured from). Calling it once per router with all its discs, or
// once per measurement, gives the same result. Names that are not host
// names, customer pool names, invalid discs and empty where are ignored.
func (l *Learner) Observe(name string, where []latency.Disc) {
	var discs [maxObsDiscs]latency.Disc
	n := 0
	for _, d := range where {
		if !(d.RadiusKm >= 0) || math.IsInf(d.RadiusKm, 0) || !d.Center.Valid() {
			continue
		}
		n = addDisc(&discs, n, d)
	}
	if n == 0 {
		return
	}
	p, keys := l.keysOf(name)
	if len(keys) == 0 {
		return
	}
	h := maphash.String(l.seed, strings.Join(p.labels, "."))
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen++
	o := l.names[h]
	if o == nil {
		if len(l.names) >= l.opts.MaxObservations {
			l.dropped++
			return
		}
		o = &learnObs{}
		l.names[h] = o
		for _, k := range keys {
			lc := l.codes[k]
			if lc == nil {
				lc = &learnCode{}
				l.codes[k] = lc
			}
			lc.obs = append(lc.obs, o)
		}
	}
	o.calls++
	var all [maxObsDiscs]latency.Disc
	m := int(o.n)
	for i := range m {
		all[i] = o.discs[i].disc()
	}
	for _, d := range discs[:n] {
		m = addDisc(&all, m, d)
	}
	for i := range m {
		o.discs[i] = packDisc(all[i])
	}
	o.n = int8(m)
}

// keysOf parses name and lists the codes Observe would learn from it: none
// for what is no host name, a customer pool name, or a name whose codes
// the Reader's conventions map already.
func (l *Learner) keysOf(name string) (parsedName, []learnKey) {
	p, ok := l.r.parse(name)
	if !ok || len(p.host) == 0 || l.r.dict().isPool(p.host) {
		return p, nil
	}
	var keys []learnKey
	for _, w := range l.r.dict().codeWords(p.host) {
		if p.dom != nil && p.dom.entry(w.code) != nil {
			continue // known already
		}
		keys = append(keys, learnKey{domain: p.suffix, tmpl: template{label: int16(w.labelIndex), word: int16(w.word)}, code: w.code})
	}
	return p, keys
}

// Domain returns the domain suffix Observe files name under ("" when it
// would learn nothing from the name). Learning is per domain: what
// Conventions says of a domain depends only on the observations of names
// under it, so learners fed the names of disjoint sets of domains give,
// together, the domains and entries one learner fed every name gives (as
// long as none reaches MaxObservations). A distributed pipeline groups the
// names by Domain and learns each group on its own.
func (l *Learner) Domain(name string) string {
	p, keys := l.keysOf(name)
	if len(keys) == 0 {
		return ""
	}
	return p.suffix
}

// addDisc adds d to the n discs of ds, keeping the tightest maxObsDiscs,
// and returns the new count.
func addDisc(ds *[maxObsDiscs]latency.Disc, n int, d latency.Disc) int {
	for i := 0; i < n; i++ {
		if ds[i].ContainsDisc(d) {
			ds[i] = d // d says more
			return n
		}
		if d.ContainsDisc(ds[i]) {
			return n // d says nothing new
		}
	}
	if n < maxObsDiscs {
		ds[n] = d
		return n + 1
	}
	widest := 0
	for i := 1; i < n; i++ {
		if ds[i].RadiusKm > ds[widest].RadiusKm {
			widest = i
		}
	}
	if d.RadiusKm < ds[widest].RadiusKm {
		ds[widest] = d
	}
	return n
}

// LearnStats counts what a Learner holds.
type LearnStats struct {
	Observed int // Observe calls kept: a router name with a code-like word, and a disc
	Stored   int // router names kept
	Dropped  int // observations of new names not kept because MaxObservations was reached
	Codes    int // distinct (domain, position, code)
}

// Stats reports what l holds.
func (l *Learner) Stats() LearnStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return LearnStats{Observed: l.seen, Stored: len(l.names), Dropped: l.dropped, Codes: len(l.codes)}
}

// learnCand is a place a code may mean, with its prior.
type learnCand struct {
	place Place
	prior float64
	why   string
}

// verdict is what the observations say about one code.
type verdict struct {
	key       learnKey
	best      *learnCand
	support   int
	conflicts int
	accepted  bool
	reason    string  // why not accepted
	alts      []Place // other places that fit as well (ambiguous)
}

// maxLearnedAlternatives: a code that fits more places than this, all
// comparable, says too little to be kept.
const maxLearnedAlternatives = 3

// Conventions returns what l has learned: per domain, the code positions
// where codes map consistently to places, and for them every code seen
// often enough, accepted (Place, Alternatives when ambiguous, Support,
// Conflicts, Source "learned") or rejected with the reason (no place fits
// every observation; too many places fit). Domains already known to the Reader get entries only; new domains
// get a Domain whose Pattern is the best position. The result is sorted and
// can be written with WriteJSON, read back with ReadConventions and given
// to NewReader.
func (l *Learner) Conventions() *Conventions {
	l.mu.Lock()
	defer l.mu.Unlock()
	byTmpl := map[learnKey][]learnKey{} // (domain, template) → keys
	for k := range l.codes {
		t := learnKey{domain: k.domain, tmpl: k.tmpl}
		byTmpl[t] = append(byTmpl[t], k)
	}
	type tmplResult struct {
		domain   string
		tmpl     template
		verdicts []verdict
		accepted int
		score    int
	}
	best := map[string][]tmplResult{}
	for t, keys := range byTmpl {
		res := tmplResult{domain: t.domain, tmpl: t.tmpl}
		conflicting := 0
		for _, k := range keys {
			v, ok := l.judge(k)
			if !ok {
				continue
			}
			res.verdicts = append(res.verdicts, v)
			switch {
			case v.accepted:
				res.accepted++
			case v.conflicts > 0:
				conflicting++
			}
		}
		// A position is a convention when codes there map to places again
		// and again, more often than they contradict the measurements.
		res.score = res.accepted - conflicting
		if res.accepted >= 2 && res.score > 0 {
			best[t.domain] = append(best[t.domain], res)
		}
	}
	out := &Conventions{
		About: fmt.Sprintf("Naming conventions learned by geoloc from %d observations of router names with the RTT bounds of where they were measured from. "+
			"An entry is accepted where one place lies inside every bound of every observation of its code (support: observations; conflicts: observations that rule the place out) "+
			"and no other place the code can mean is as plausible, or, where up to three others are, with them as alternatives for the engine to choose between by latency; rejected entries say why. Review before use.", l.seen),
		Sources: map[string]string{"learned": "learned from observations: see about"},
	}
	domains := make([]string, 0, len(best))
	for d := range best {
		domains = append(domains, d)
	}
	slices.Sort(domains)
	for _, d := range domains {
		rs := best[d]
		slices.SortFunc(rs, func(a, b tmplResult) int {
			if c := cmp.Compare(b.score, a.score); c != 0 {
				return c
			}
			return cmp.Compare(int(a.tmpl.label)*1000+int(a.tmpl.word), int(b.tmpl.label)*1000+int(b.tmpl.word))
		})
		known := l.r.table.bySuffix[d] != nil
		if !known {
			out.Domains = append(out.Domains, Domain{
				Domain:  d,
				Pattern: rs[0].tmpl.pattern(),
				Sources: []string{"learned"},
				Note:    fmt.Sprintf("learned: the location code is the letters of word %d of label %d counted from the domain (0 = first word, label 0 = the label just before %s)", rs[0].tmpl.word, rs[0].tmpl.label, d),
			})
		}
		var entries []Entry
		for _, res := range rs {
			pat := res.tmpl.pattern()
			for _, v := range res.verdicts {
				e := Entry{Domain: d, Pattern: pat, Code: v.key.code, Support: v.support, Conflicts: v.conflicts, Source: "learned"}
				if v.best != nil {
					pl := v.best.place
					e.Place = &pl
				}
				if !v.accepted {
					e.Rejected = v.reason
				} else {
					e.Note = v.best.why
					e.Alternatives = v.alts
				}
				entries = append(entries, e)
			}
		}
		slices.SortFunc(entries, func(a, b Entry) int {
			if c := strings.Compare(a.Pattern, b.Pattern); c != 0 {
				return c
			}
			return strings.Compare(a.Code, b.Code)
		})
		out.Entries = append(out.Entries, entries...)
	}
	return out
}

// judge decides one code; ok is false when it was seen too seldom to say.
func (l *Learner) judge(k learnKey) (verdict, bool) {
	lc := l.codes[k]
	total := 0
	// The tightest disc of each router: a place that fits a router lies
	// in it, so the places worth counting lie in one of them (the eight
	// tightest routers' discs are enough to find them).
	var tight []latency.Disc
	for _, o := range lc.obs {
		total += int(o.calls)
		t := o.discs[0]
		for _, d := range o.discs[1:o.n] {
			if d.radiusKm < t.radiusKm {
				t = d
			}
		}
		tight = append(tight, t.disc())
	}
	if total < l.opts.MinSupport {
		return verdict{}, false
	}
	slices.SortFunc(tight, func(a, b latency.Disc) int { return cmp.Compare(a.RadiusKm, b.RadiusKm) })
	tight = tight[:min(len(tight), 8)]
	v := verdict{key: k}

	maxConf := int(math.Floor(l.opts.MaxConflictShare * float64(total)))
	var fits []*learnCand
	var inside []*learnCand
	cands := l.r.learnCandidates(k.code)
	for i := range cands {
		c := &cands[i]
		pt := latency.Point{Lat: c.place.Lat, Lon: c.place.Lon}
		in := false
		for _, d := range tight {
			if d.Contains(pt) {
				in = true
				break
			}
		}
		if !in || nearAny(inside, pt) {
			continue
		}
		inside = append(inside, c)
		support := lc.support(pt)
		if support > v.support || v.best == nil {
			v.support, v.best = support, c
		}
		if total-support <= maxConf {
			fits = append(fits, c)
		}
	}
	if v.best == nil {
		v.conflicts = total
		v.reason = "no place the code can mean fits the observations"
		return v, true
	}
	switch {
	case len(fits) == 0:
		v.reason = fmt.Sprintf("no place the code can mean fits every observation (the best, %s, fits %d of %d)", placeText(&v.best.place), v.support, total)
	case len(fits) > 1 && fits[1].prior*l.opts.AmbiguityRatio > fits[0].prior:
		// Several places fit every observation and none stands out: kept
		// with its comparable alternatives, for the engine to choose
		// between trace by trace, unless there are too many to mean
		// anything.
		v.best = fits[0]
		for _, f := range fits[1:] {
			if f.prior*l.opts.AmbiguityRatio > fits[0].prior {
				v.alts = append(v.alts, f.place)
			}
		}
		switch {
		case len(v.alts) > maxLearnedAlternatives:
			v.alts = nil
			v.reason = fmt.Sprintf("ambiguous: %s, %s and %d more places fit every observation", placeText(&fits[0].place), placeText(&fits[1].place), len(fits)-2)
		default:
			v.accepted = true
		}
	default:
		v.best = fits[0]
		v.accepted = true
	}
	v.support = lc.support(latency.Point{Lat: v.best.place.Lat, Lon: v.best.place.Lon})
	v.conflicts = total - v.support
	return v, true
}

// support counts the observations whose every disc holds pt.
func (lc *learnCode) support(pt latency.Point) int {
	n := 0
	for _, o := range lc.obs {
		if o.contains(pt) {
			n += int(o.calls)
		}
	}
	return n
}

// learnCandidates lists the places a code can mean, most plausible first:
// what it abbreviates, and the airports (any size), UN/LOCODEs and
// CLLI-style codes it spells.
func (r *Reader) learnCandidates(code string) []learnCand {
	d := r.dict()
	var out []learnCand
	c := &ctx{d: d}
	switch len(code) {
	case 3:
		c.iata(code, code, 1, 0)
	case 4:
		c.icao(code, code, 1, 0)
	case 5:
		c.locode(code, code, 1, 0)
	}
	if len(code) == 5 || len(code) == 6 {
		c.clli(code, code, 1, 1000)
	}
	for _, h := range c.hints {
		out = append(out, learnCand{
			place: Place{Name: h.Place, Region: h.Region, Country: h.Country, Lat: h.Lat, Lon: h.Lon, Population: h.Population},
			prior: h.Confidence * math.Sqrt(float64(max(h.Population, 1000))),
			why:   h.why.String(),
		})
	}
	for _, a := range r.candidates(code) {
		p := &d.places[a.id]
		out = append(out, learnCand{
			place: Place{Name: p.name, Region: p.region, Country: p.cc, Lat: p.lat, Lon: p.lon, Population: p.pop},
			prior: float64(a.prior),
			why:   d.abbrevWhy(code, a),
		})
	}
	slices.SortStableFunc(out, func(a, b learnCand) int { return cmp.Compare(b.prior, a.prior) })
	return out
}

// nearAny tells whether pt is within 30 km of one of cs: the same place
// read two ways (an airport and the city it serves).
func nearAny(cs []*learnCand, pt latency.Point) bool {
	for _, c := range cs {
		if latency.DistanceKm(latency.Point{Lat: c.place.Lat, Lon: c.place.Lon}, pt) < 30 {
			return true
		}
	}
	return false
}

// pattern renders the template as a convention pattern over the host part:
// the letters of word t.word of the label t.label counted from the domain,
// digits allowed after them.
func (t template) pattern() string {
	var b strings.Builder
	b.WriteString(`(?:^|\.)`)
	if t.word > 0 {
		fmt.Fprintf(&b, `(?:[^.-]*-){%d}`, t.word)
	}
	b.WriteString(`(?P<loc>[a-z]+)[0-9]*(?:-[^.]*)?`)
	if t.label > 0 {
		fmt.Fprintf(&b, `(?:\.[^.]+){%d}`, t.label)
	}
	b.WriteString(`$`)
	return b.String()
}
