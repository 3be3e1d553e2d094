package accuracy

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/rdns"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// The unknown-operator world (issue 11): the same simulated Internet, but
// every operator whose router names carry a location uses codes no
// dictionary knows, under a domain no built-in convention covers, the way
// real operators abbreviate city names (Arelion "ipls" Indianapolis, "omha"
// Omaha, "tky" Tokyo, "zgb" Zagreb): the start of the name ("prag"), the
// first letter and consonants ("frnk"), first letter, consonants and last
// letter ("omha"), first letters of the words ("slp"). A code is kept only
// if the dictionaries do not already read the name as the right city
// (within 40 km); it may still spell an airport elsewhere, as real codes do
// ("bei" is Beica, Ethiopia; "win" is Winton, Australia). The traces are
// the batch of the base world: several vantage points with known
// positions.

// unknownStyle is how an operator abbreviates city names.
type unknownStyle int

const (
	abbrevStart     unknownStyle = iota // prag, bost, toro
	abbrevConsonant                     // frnk, tky, dlls
	abbrevEnding                        // omha, sfia, mdrd
)

// unknownFormats are name formats of real backbones, with the code's place:
// a site code heading the label (Arelion), glued to digits in a label of
// its own (Cogent, HE), a label of its own after the router role.
var unknownFormats = []string{
	"%[1]s-b%[2]d-link.ip.%[3]s",       // ipls-b2-link.ip.example
	"ae-%[4]d.%[1]s%[2]d.core.%[3]s",   // ae-3.omha2.core.example
	"xe-%[4]d-0-1.cr%[2]d.%[1]s.%[3]s", // xe-1-0-1.cr2.zgb.example
}

// unknownDomains are the operators' domains: fictional, in no convention.
var unknownDomains = []string{"nordbahn-carrier.net", "transalp-fibre.eu", "pacifica-backbone.com", "meridian-transit.net", "atlas-longhaul.org", "boreal-ix.net"}

// UnknownOperatorWorld builds the world of cfg and renames the routers of
// every operator whose names carry a location (see above). The renamed
// routers keep Hinted set: their names carry a location, by a convention
// no table knows.
func UnknownOperatorWorld(cfg Config) (*World, error) {
	w, err := Build(cfg)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5bd1e995))
	names := rdns.NewReader()
	renamed := map[int]string{} // router → new name
	k := 0
	for oi := range w.Ops {
		op := &w.Ops[oi]
		if op.Conv == ConvNone {
			continue
		}
		op.domain = unknownDomains[k%len(unknownDomains)]
		if k >= len(unknownDomains) {
			op.domain = fmt.Sprintf("net%d.%s", k/len(unknownDomains), op.domain)
		}
		format := unknownFormats[k%len(unknownFormats)]
		style := unknownStyle(rng.IntN(3))
		k++
		codes := map[int]string{} // city → code
		used := map[string]bool{}
		for _, ci := range op.PoPs {
			codes[ci] = unknownCode(names, w.Cities[ci], style, used, format, op.domain)
		}
		for ri := range w.Routers {
			r := &w.Routers[ri]
			if r.Op != oi || r.Name == "" {
				continue
			}
			n := 1 + ri%4
			r.Name = fmt.Sprintf(format, codes[r.City], n, op.domain, ri%8)
			r.Hinted = true
			renamed[ri] = r.Name
		}
	}
	for _, t := range w.Traces {
		for i := range t.Hops {
			for j := range t.Hops[i].Probes {
				p := &t.Hops[i].Probes[j]
				if ri, ok := w.ByAddr[p.Addr]; ok && !p.Lost {
					if n, ok := renamed[ri]; ok {
						p.Name = n
					}
				}
			}
		}
	}
	return w, nil
}

// unknownCode abbreviates c's name in style, unique within the operator
// (used), a word the reader takes for a code (not "dsl", a pool word) and
// does not already read as c itself; other styles and longer codes are
// tried in turn.
func unknownCode(names *rdns.Reader, c City, style unknownStyle, used map[string]bool, format, domain string) string {
	words := strings.Fields(strings.ToLower(asciiName(c.Name)))
	var tries []string
	for s := range 3 {
		st := unknownStyle((int(style) + s) % 3)
		for n := 3; n <= 5; n++ {
			tries = append(tries, abbreviate(words, st, n))
		}
	}
	if len(words) > 1 {
		// Several words: their first letters, as operators write them.
		in := ""
		for _, w := range words {
			in += w[:1]
		}
		tries = append([]string{in}, tries...)
	}
	for _, code := range tries {
		if len(code) < 3 || used[code] || code == c.IATA {
			continue
		}
		name := fmt.Sprintf(format, code, 1, domain, 0)
		if cl := names.Codes(name); len(cl) == 0 || cl[0].Code != code {
			continue // not a code to a reader of names
		}
		if hs := names.Hints(name); len(hs) > 0 && latency.DistanceKm(c.Pt(), latency.Point{Lat: hs[0].Lat, Lon: hs[0].Lon}) <= WithinKm {
			continue // a dictionary knows it
		}
		used[code] = true
		return code
	}
	// Every style taken: the start of the name and a digit-free suffix.
	for i := 0; ; i++ {
		code := abbreviate(words, abbrevStart, 3) + string(rune('a'+i%26))
		if !used[code] {
			used[code] = true
			return code
		}
	}
}

// abbreviate writes words (lower-case ASCII) in style, n letters at most.
func abbreviate(words []string, style unknownStyle, n int) string {
	s := strings.Join(words, "")
	if s == "" {
		return ""
	}
	isV := func(b byte) bool { return strings.IndexByte("aeiou", b) >= 0 }
	switch style {
	case abbrevStart:
		return s[:min(n, len(s))]
	case abbrevConsonant, abbrevEnding:
		out := []byte{s[0]}
		limit := n
		if style == abbrevEnding {
			limit = n - 1
		}
		for i := 1; i < len(s) && len(out) < limit; i++ {
			if !isV(s[i]) && s[i] != s[i-1] {
				out = append(out, s[i])
			}
		}
		if style == abbrevEnding && len(s) > len(out) {
			out = append(out, s[len(s)-1])
		}
		return string(out)
	}
	return ""
}

// asciiName drops what is not an ASCII letter or a space (São Paulo → So
// Paulo is not what operators write; the fold below keeps base letters).
func asciiName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == ' ':
			b.WriteRune(r)
		case r == '-':
			b.WriteRune(' ')
		default:
			if f, ok := latinBase[r]; ok {
				b.WriteString(f)
			}
		}
	}
	return b.String()
}

// latinBase folds the accented letters of the benchmark's city names.
var latinBase = map[rune]string{'á': "a", 'à': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'ç': "c", 'é': "e", 'è': "e", 'ê': "e", 'ë': "e",
	'í': "i", 'î': "i", 'ï': "i", 'ñ': "n", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o", 'ú': "u", 'ü': "u", 'ß': "ss", 'ı': "i", 'ł': "l", 'ş': "s", 'ğ': "g", 'Ş': "S", 'İ': "I", 'Ö': "O", 'Ü': "U", 'É': "E", 'Á': "A"}

// UnknownMetrics are the figures of one method on the unknown-operator
// world.
type UnknownMetrics struct {
	Method string
	// Traces scored, and the share whose countries crossed are exactly the
	// countries of their routers, in order (repeats folded); NamedNever:
	// the share that names a country none of its routers stands in.
	Traces         int
	CountriesExact float64
	NamedNever     float64
	// Hops of the renamed operators' routers, the share placed within
	// WithinKm, and placements breaking the true bound.
	Hops     int
	Within   float64
	Breaking int
	// Learned: mapping entries accepted by the learner, and of those, the
	// share within WithinKm of the code's true city (0 when not learning).
	Learned   int
	LearnedOK float64
}

// RunUnknownOperators runs, on the unknown-operator world of cfg: the
// engine; the engine with --fuse; the engine with --fuse learning naming
// conventions in its first pass and applying them in the second
// (Options.Learn); the best single database; names alone. It also returns
// what the engine learned.
func RunUnknownOperators(ctx context.Context, cfg Config) ([]UnknownMetrics, *rdns.Conventions, error) {
	w, err := UnknownOperatorWorld(cfg)
	if err != nil {
		return nil, nil, err
	}
	var dbs []candidates.Source
	for _, d := range w.DBs {
		s, err := candidates.OpenMMDBBytes(d.Image, d.Name+".mmdb")
		if err != nil {
			return nil, nil, fmt.Errorf("accuracy: opening %s: %w", d.Name, err)
		}
		dbs = append(dbs, s)
	}
	asn, err := candidates.OpenMMDBBytes(w.ASN, "asn.mmdb")
	if err != nil {
		return nil, nil, fmt.Errorf("accuracy: opening ASN db: %w", err)
	}
	sources := append(slices.Clone(dbs), asn)
	var out []UnknownMetrics
	var learned *rdns.Conventions
	engine := func(name string, fuse, learn bool) error {
		e := geoloc.New(geoloc.Options{Sources: sources, Learn: learn})
		if fuse {
			if _, err := e.ObserveAll(ctx, seqOf(w.Traces), nil); err != nil {
				return err
			}
		}
		var res []*geoloc.TraceResult
		for r, err := range e.Stream(ctx, seqOf(w.Traces), 0) {
			if err != nil {
				return err
			}
			res = append(res, r)
		}
		m := w.scoreUnknown(name, res)
		if learn {
			learned = e.Learned()
			for _, en := range learned.Entries {
				if en.Rejected != "" || en.Place == nil {
					continue
				}
				m.Learned++
				if w.learnedRight(en) {
					m.LearnedOK++
				}
			}
			if m.Learned > 0 {
				m.LearnedOK /= float64(m.Learned)
			}
		}
		out = append(out, m)
		return nil
	}
	if err := engine("engine", false, false); err != nil {
		return nil, nil, err
	}
	if err := engine("engine --fuse, no learning", true, false); err != nil {
		return nil, nil, err
	}
	if err := engine("engine --fuse (learning)", true, true); err != nil {
		return nil, nil, err
	}
	best := UnknownMetrics{Within: -1}
	for i, db := range dbs {
		mm := w.scoreBaseline("database alone: "+w.DBs[i].Name, func(p traceroute.Probe) (placement, bool) {
			ans, err := db.Lookup(candidates.Query{Addr: p.Addr})
			if err != nil || len(ans.Candidates) == 0 {
				return placement{}, false
			}
			c := ans.Candidates[0]
			return placement{ok: true, lat: c.Lat, lon: c.Lon, country: c.Country}, true
		})
		if mm.Within > best.Within {
			best = mm
		}
	}
	out = append(out, best)
	out = append(out, w.scoreBaseline("names alone (top hint)", func(p traceroute.Probe) (placement, bool) {
		hs := rdns.Hints(p.Name)
		if p.Name == "" || len(hs) == 0 {
			return placement{}, false
		}
		return placement{ok: true, lat: hs[0].Lat, lon: hs[0].Lon, country: hs[0].Country}, true
	}))
	return out, learned, nil
}

// learnedRight tells whether a learned entry puts its code where the
// operator's routers with that code stand.
func (w *World) learnedRight(e rdns.Entry) bool {
	for _, r := range w.Routers {
		if !strings.HasSuffix(r.Name, "."+e.Domain) {
			continue
		}
		if rdnsCodeOf(r.Name) == e.Code {
			return latency.DistanceKm(w.Cities[r.City].Pt(), latency.Point{Lat: e.Place.Lat, Lon: e.Place.Lon}) <= WithinKm
		}
	}
	return false
}

// rdnsCodeOf is the code a name of unknownFormats carries.
func rdnsCodeOf(name string) string {
	labels := strings.Split(name, ".")
	switch {
	case strings.HasSuffix(labels[0], "-link"):
		return strings.SplitN(labels[0], "-", 2)[0]
	case strings.HasPrefix(labels[0], "xe-"):
		return labels[2]
	}
	return strings.TrimRight(labels[1], "0123456789")
}

// truthCountries is the countries of t's routers, in order, repeats
// folded; private and unknown addresses count for nothing.
func (w *World) truthCountries(t *traceroute.Trace) []string {
	var out []string
	for i := range t.Hops {
		for _, a := range t.Hops[i].Addrs() {
			ri, ok := w.ByAddr[a]
			if !ok {
				continue
			}
			cc := w.Cities[w.Routers[ri].City].Country
			if len(out) == 0 || out[len(out)-1] != cc {
				out = append(out, cc)
			}
		}
	}
	return out
}

// scoreUnknown scores engine results, one per trace in order.
func (w *World) scoreUnknown(method string, res []*geoloc.TraceResult) UnknownMetrics {
	m := UnknownMetrics{Method: method}
	var exact, never, within int
	for ti, t := range w.Traces {
		if ti >= len(res) {
			break
		}
		r := res[ti]
		truth := w.truthCountries(t)
		m.Traces++
		if slices.Equal(truth, r.Countries) {
			exact++
		}
		for _, cc := range r.Countries {
			if !slices.Contains(truth, cc) {
				never++
				break
			}
		}
		ht := w.truthOf(t)
		for hi, th := range ht {
			if th.router < 0 || hi >= len(r.Hops) || !w.renamedOp(th.router) {
				continue
			}
			m.Hops++
			loc := r.Hops[hi].Location
			if loc == nil {
				continue
			}
			pt := latency.Point{Lat: loc.Lat, Lon: loc.Lon}
			if latency.DistanceKm(pt, w.Cities[w.Routers[th.router].City].Pt()) <= WithinKm {
				within++
			}
			if th.rttMs > 0 && latency.DistanceKm(th.vantage, pt) > latency.MaxDistanceKm(th.rttMs, boundSlackKm) {
				m.Breaking++
			}
		}
	}
	m.CountriesExact = frac(exact, m.Traces)
	m.NamedNever = frac(never, m.Traces)
	m.Within = frac(within, m.Hops)
	return m
}

// scoreBaseline scores a per-address method: hops within 40 km, and the
// countries of the trace's placed addresses, folded, as its countries.
func (w *World) scoreBaseline(method string, place func(traceroute.Probe) (placement, bool)) UnknownMetrics {
	m := UnknownMetrics{Method: method}
	var exact, never, within int
	for _, t := range w.Traces {
		truth := w.truthCountries(t)
		var got []string
		for i := range t.Hops {
			h := &t.Hops[i]
			for _, a := range h.Addrs() {
				ri, ok := w.ByAddr[a]
				if !ok {
					continue
				}
				var probe traceroute.Probe
				for _, p := range h.Probes {
					if p.Addr == a {
						probe = p
						break
					}
				}
				p, ok := place(probe)
				if !ok {
					continue
				}
				if p.country != "" && (len(got) == 0 || got[len(got)-1] != p.country) {
					got = append(got, p.country)
				}
				if !w.renamedOp(ri) {
					continue
				}
				m.Hops++
				if latency.DistanceKm(latency.Point{Lat: p.lat, Lon: p.lon}, w.Cities[w.Routers[ri].City].Pt()) <= WithinKm {
					within++
				}
			}
		}
		m.Traces++
		if slices.Equal(truth, got) {
			exact++
		}
		for _, cc := range got {
			if !slices.Contains(truth, cc) {
				never++
				break
			}
		}
	}
	m.CountriesExact = frac(exact, m.Traces)
	m.NamedNever = frac(never, m.Traces)
	// Unplaced hops count as wrong: the denominator is every hop of the
	// renamed operators, which this method saw only when it placed them.
	total := 0
	for _, t := range w.Traces {
		for _, th := range w.truthOf(t) {
			if th.router >= 0 && w.renamedOp(th.router) {
				total++
			}
		}
	}
	m.Hops = total
	m.Within = frac(within, total)
	return m
}

// renamedOp tells whether router ri belongs to an operator whose names
// were rewritten (one whose names carry a location).
func (w *World) renamedOp(ri int) bool {
	return w.Ops[w.Routers[ri].Op].Conv != ConvNone && w.Routers[ri].Name != ""
}

func frac(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// WriteUnknownTable prints unknown-operator metrics as an aligned table.
func WriteUnknownTable(out io.Writer, title string, ms []UnknownMetrics) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, title)
	fmt.Fprintln(tw, "method\ttraces\tcountries exact\tnaming a country never crossed\thops\t≤40km\tbound-breaking\tlearned\tof which right\t")
	for _, m := range ms {
		learned := "-"
		ok := "-"
		if m.Learned > 0 {
			learned = fmt.Sprint(m.Learned)
			ok = fmt.Sprintf("%.1f%%", 100*m.LearnedOK)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%.1f%%\t%d\t%.1f%%\t%d\t%s\t%s\t\n", m.Method, m.Traces, 100*m.CountriesExact, 100*m.NamedNever, m.Hops, 100*m.Within, m.Breaking, learned, ok)
	}
	return tw.Flush()
}
