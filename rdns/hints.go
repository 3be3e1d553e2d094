package rdns

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/geoloc-dev/geoloc/internal/fold"
)

// Length caps: a DNS name is at most 253 characters and 63 a label. Longer
// input is not a host name and is refused before any work is done, which
// bounds the time spent on one name.
const (
	maxNameLen  = 253
	maxLabelLen = 63
	maxHints    = 8
)

// Confidence of a hint by the kind of code it was read from, before the
// evidence of the name is weighed. The order is the ranking order of the
// package doc (IATA > ICAO > CLLI-like > LOCODE > place > site): an
// operator-site hint read under its operator's convention gets
// convConfidence instead, since there the convention says what the code is.
var kindConfidence = map[HintKind]float64{
	KindIATA:         0.85,
	KindICAO:         0.7,
	KindCLLI:         0.8,
	KindLOCODE:       0.65,
	KindPlace:        0.6,
	KindOperatorSite: 0.55,
}

const (
	convConfidence    = 0.95 // code in the label where the operator's convention puts it
	learnedConfidence = 0.85 // a code learned from observations, plus 0.01 per observation
	// ambiguousConfidence: a learned code whose observations allow other
	// places as well; its alternatives get 0.1 less.
	ambiguousConfidence = 0.7
	defaultConfidence   = 0.8  // the one site of a single-site network (an IXP)
	looseFactor         = 0.75 // code among other words of a label, not glued to digits
	poolFactor          = 0.6  // name of a customer pool (embedded address, dsl, dyn...)
	wrongCountry        = 0.4  // a country qualifier in the name says otherwise
)

var kindOrder = map[HintKind]int{KindIATA: 0, KindICAO: 1, KindCLLI: 2, KindLOCODE: 3, KindPlace: 4, KindOperatorSite: 5}

// Hints reads location hints from a router's host name, best first. A name
// with no recognisable location gives nil. Names that are not plausible host
// names (too long, characters outside letters, digits, '-', '_', '/' and
// '.') give nil too. Hints never does I/O beyond a one-time load of the embedded
// dictionaries.
func Hints(name string) []Hint {
	return defaultReader().Hints(name)
}

// normalise lower-cases name and drops one trailing dot; ok is false for
// anything that is not a plausible host name (see checkName).
func normalise(name string) (string, bool) {
	name, upper, ok := checkName(name)
	if !ok {
		return "", false
	}
	if upper {
		name = strings.ToLower(name)
	}
	return name, true
}

// checkName is the one test of what a host name may hold, shared by Hints
// and CleanName: ASCII letters, digits, '-', '_' and '/' in labels of 1 to
// 63 characters, 253 characters in all, one trailing dot dropped. '/' is no
// host-name character, but the DNS carries any byte and real PTR records
// hold interface names with it (Bell Canada "bx6-seattle_et-0/0/13_ae1");
// it is inert in HTML, XML, CSV and on a terminal, and since empty labels are
// refused no ".." path step can be formed. upper tells whether name has
// upper-case letters.
func checkName(name string) (clean string, upper, ok bool) {
	name = strings.TrimSuffix(name, ".")
	if name == "" || len(name) > maxNameLen {
		return "", false, false
	}
	labelLen := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '/':
			labelLen++
		case c >= 'A' && c <= 'Z':
			labelLen++
			upper = true
		case c == '.':
			if labelLen == 0 {
				return "", false, false
			}
			labelLen = 0
		default:
			return "", false, false
		}
		if labelLen > maxLabelLen {
			return "", false, false
		}
	}
	if labelLen == 0 {
		return "", false, false
	}
	return name, upper, true
}

// ctx is the per-name state of an extraction.
type ctx struct {
	d      *dict
	quals  []string // two-letter labels: countries ("de", "uk") or regions ("tx")
	pool   bool
	hints  []ctxHint
	convCC string // the country qualifier an operator's convention gave ("uk"), raw
	state  string // the US state or CA province a convention gave ("ne")
	// why, when set, heads the explanation of every hint added (the
	// convention under which a code is read).
	why string
	// skip is a word the generic reading leaves alone: a code where an
	// operator's convention puts its own site codes, unknown to us.
	skip string
}

// registrableLen is the number of labels that name the operator rather than
// the host: "example.net" → 2, "example.co.uk" → 3.
func registrableLen(labels []string) int {
	n := len(labels)
	if n >= 3 && len(labels[n-1]) == 2 {
		switch labels[n-2] {
		case "co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "go", "ad", "gr", "lg", "ed":
			return 3
		}
	}
	return min(2, n)
}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return s != ""
}

// isPool tells names of customer address pools: a pool word from the stop
// list, or an embedded address: four or more numeric words in the host part
// (c-73-12-1-2, 81.27.252.175.rascom), unless they follow an interface name
// (xe-0-0-14-1, et-0-1-4-0 are port numbers).
func (d *dict) isPool(host []string) bool {
	nums := 0
	for _, l := range host {
		iface := false
		for w := range strings.FieldsFuncSeq(l, isSep) {
			if d.poolWords[w] {
				return true
			}
			if isDigits(w) {
				if len(w) <= 3 && !iface {
					nums++
				}
				continue
			}
			// "ip-1-2-3-4", "host123-45-67-89"
			if t := strings.TrimLeft(w, "abcdefghijklmnopqrstuvwxyz"); t != w && isDigits(t) {
				if d.poolWords[w[:len(w)-len(t)]] {
					return true
				}
				iface = d.ifaceWords[w[:len(w)-len(t)]]
				continue
			}
			iface = d.ifaceWords[w]
		}
	}
	return nums >= 4
}

func isSep(r rune) bool { return r == '-' || r == '_' || r == '/' }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// fromConvention reads loc, a code no entry of the domain names, the ways
// the domain's convention says codes are read (its kinds).
func (c *ctx) fromConvention(op *convDomain, loc, label string) {
	c.why = op.title()
	defer func() { c.why = "" }()
	conf := convConfidence
	if op.hasCodes() {
		// A code missing from the operator's own table may be a site
		// code we do not know: its reading by kind is less sure.
		conf -= 0.05
	}
	for _, k := range op.kinds {
		switch k {
		case KindIATA:
			n := len(c.hints)
			// An operator with a site table of its own uses codes that are
			// not airport codes: one missing from the table is read only
			// as an airport with scheduled service, not an airfield.
			minRank := 0
			if op.hasCodes() {
				minRank = 2
			}
			c.iata(loc, label, conf, minRank)
			if cc := countryOf(c.convCC); c.convCC != "" && c.d.countries[cc] != "" {
				// The convention names the country: an airport elsewhere
				// is a misreading ("tor3.ca" is not Torrington, US). Try
				// the code as the start of a city's name there instead.
				if len(c.hints) > n && c.hints[n].Country != cc {
					c.hints = c.hints[:n]
				}
				if len(c.hints) == n {
					c.cityPrefix(loc, cc, label, conf*0.8, 200000)
				}
			}
		case KindCLLI:
			if len(loc) == 3 && len(c.state) == 2 {
				// Three letters of the city, then the state (AT&T "ptdor").
				c.clli(loc+c.state, label, conf, 1000)
			} else {
				c.clli(loc, label, conf, 1000)
			}
		case KindLOCODE:
			c.locode(loc, label, conf, 0)
		case KindPlace:
			c.place(strings.ReplaceAll(loc, "-", ""), label, conf, 1000)
		case KindICAO:
			c.icao(loc, label, conf, 0)
		}
		conf -= 0.05
	}
}

// cityPrefix adds the most populous place of country cc (any country when
// cc is "") of at least minPop people whose name starts with code: Internet2
// "losa", "salt"; Zayo "tor3.ca". Without a country, the prefix must point
// to one city only.
func (c *ctx) cityPrefix(code, cc, label string, conf float64, minPop int) {
	if cc == "" {
		if id, ok := c.d.prefixes[code]; ok && id >= 0 {
			p := &c.d.places[id]
			c.add(Hint{Code: code, Kind: KindPlace, Place: p.name, Region: p.region, Country: p.cc, Lat: p.lat, Lon: p.lon, Population: p.pop}, label, conf,
				why("%s starts the name of %s, %s, and of no other city of a million people", code, p.name, p.cc))
		}
		return
	}
	for _, id := range c.d.byFirst[cc+code[:1]] {
		p := &c.d.places[id]
		if p.pop < minPop {
			return
		}
		if squeezedPrefix(p.words, code) {
			c.add(Hint{Code: code, Kind: KindPlace, Place: p.name, Region: p.region, Country: p.cc, Lat: p.lat, Lon: p.lon, Population: p.pop}, label, conf,
				why("%s starts the name of %s, the largest such place in %s", code, p.name, p.cc))
			return
		}
	}
}

// squeezedPrefix tells whether words, spaces removed, start with prefix.
func squeezedPrefix(words, prefix string) bool {
	j := 0
	for i := 0; i < len(words) && j < len(prefix); i++ {
		if words[i] == ' ' {
			continue
		}
		if words[i] != prefix[j] {
			return false
		}
		j++
	}
	return j == len(prefix)
}

// labelOf returns the label of host that holds loc (the last one, where
// conventions put locations), or loc itself.
func labelOf(host []string, loc string) string {
	for i := len(host) - 1; i >= 0; i-- {
		if strings.Contains(host[i], loc) {
			return host[i]
		}
	}
	return loc
}

// generic reads a name under no known convention.
func (c *ctx) generic(host []string) {
	for _, label := range host {
		words := strings.FieldsFunc(label, isSep)
		for i, w := range words {
			// Alphabetic runs of the word: "fra03" → fra (glued), "ae"
			// and "5" of "ae5".
			for j := 0; j < len(w); {
				k := j
				for k < len(w) && w[k] >= 'a' && w[k] <= 'z' {
					k++
				}
				if k > j && w[j:k] != c.skip {
					run := w[j:k]
					glued := k-j < len(w)
					// A word beside a router-role or interface word
					// ("hln-core-01", "bb2-chi-p0-0") is in a code's place.
					if !glued && (i > 0 && c.d.isRoleWord(words[i-1]) || i+1 < len(words) && c.d.isRoleWord(words[i+1])) {
						glued = true
					}
					c.word(run, label, glued, len(words) == 1)
					// "washdcdn", "toroon4443w": a CLLI-style code heading a
					// longer run.
					if len(run) > 6 && len(run) <= 10 {
						c.clli(run[:6], label, kindConfidence[KindCLLI]*looseFactor, 100000)
					}
				}
				for k < len(w) && !(w[k] >= 'a' && w[k] <= 'z') {
					k++
				}
				j = k
			}
			// Place names written with dashes: "new-york", "palo-alto",
			// "frankfurt-am-main".
			joined := trimDigits(w)
			for k := i + 1; k < len(words) && k < i+4; k++ {
				next := trimDigits(words[k])
				if !isAlpha(next) || !isAlpha(joined) {
					break
				}
				joined += next
				if _, ok := c.d.spell[joined]; ok {
					c.place(joined, label, kindConfidence[KindPlace], 20000)
				}
			}
		}
	}
}

// isCity tells whether w spells a place of at least minPop people.
func (d *dict) isCity(w string, minPop int) bool {
	ids := d.spell[w]
	return len(ids) > 0 && d.places[ids[0]].pop >= minPop
}

// isRoleWord tells whether a dash-separated word is a router role or an
// interface name, with or without its number ("core", "agg8", "p0").
func (d *dict) isRoleWord(w string) bool {
	a := trimDigits(w)
	if a == "" || a == w && len(w) < 2 {
		return false
	}
	return d.roleWords[a] || d.ifaceWords[a] || len(a) == 1 && a != w
}

// word weighs one alphabetic run of a label. glued: digits follow or precede
// it in the same word ("fra03"); alone: the word is the whole label. A run
// that is neither (a whole dash-separated word among others) is read only
// for codes of four letters or more, which are specific enough; a bare
// three-letter word among others ("turner-tls") is too often not a place.
func (c *ctx) word(w, label string, glued, alone bool) {
	if c.d.stop[w] || len(w) < 3 {
		return
	}
	f := 1.0
	if !glued && !alone {
		f = looseFactor
	}
	if c.pool {
		f *= poolFactor
	}
	switch len(w) {
	case 3:
		switch {
		case c.pool:
		case glued || alone:
			// Only airports with scheduled service (or large ones): the
			// codes of airfields are too many to read names by.
			c.iata(w, label, kindConfidence[KindIATA]*f, 2)
		case len(c.quals) > 0:
			// A bare word among others counts when a country label in
			// the name agrees ("bdr02-ipt-47bourke-syd.au").
			n := len(c.hints)
			c.iata(w, label, kindConfidence[KindIATA]*f, 2)
			if len(c.hints) > n && !c.qualified(c.hints[n].Hint) {
				c.hints = c.hints[:n]
			}
		}
	case 4:
		if !c.pool {
			c.icao(w, label, kindConfidence[KindICAO]*f, 2)
		}
	case 5:
		if !c.pool {
			c.locode(w, label, kindConfidence[KindLOCODE]*f, 50000)
		}
	case 6:
		// A city's own name ("london", "berlin") is not also read as a
		// CLLI code (lond + ON would be London, Ontario).
		if !c.d.isCity(w, 20000) {
			c.clli(w, label, kindConfidence[KindCLLI]*f, 10000)
		}
	}
	if (len(w) == 4 || len(w) == 5) && !c.pool && (glued || alone) {
		// "losa", "salt": the start of one big city's name.
		c.cityPrefix(w, "", label, kindConfidence[KindPlace]*f*0.8, 0)
	}
	if len(w) >= 8 && (glued || alone || !c.pool) {
		// "vancouverbg", "frankfurtix": a big city's name heading a run,
		// followed by a short suffix.
		for n := len(w) - 1; n >= 6 && n >= len(w)-4; n-- {
			if c.d.isCity(w[:n], 500000) {
				c.place(w[:n], label, kindConfidence[KindPlace]*f*0.8, 500000)
				break
			}
		}
	}
	if len(w) >= 4 {
		minPop := placeMinPop(len(w))
		if !glued && !alone {
			// A word among others ("anderson--cr001") is as often a
			// building or a customer as a town: only cities count.
			minPop *= 5
		}
		c.place(w, label, kindConfidence[KindPlace]*f, minPop)
	}
}

// placeMinPop is the population a place must have to be read from a word
// of n letters standing for its name: short words spell many small towns
// by chance.
func placeMinPop(n int) int {
	switch n {
	case 4:
		return 500000
	case 5:
		return 100000
	}
	return 20000
}

// ctxHint is a hint being gathered, its explanation still in parts.
type ctxHint struct {
	Hint
	why whyText
}

func (c *ctx) add(h Hint, label string, conf float64, w whyText) {
	h.Label = label
	h.Confidence = conf
	w.convention = c.why
	c.hints = append(c.hints, ctxHint{h, w})
}

// whyText is an explanation kept as its parts until its hint survives the
// ranking: a name gives many readings and keeps few, and formatting them
// all would cost more than reading the name.
type whyText struct {
	convention string // read under this operator's convention, when set
	format     string // %s verbs only
	args       [5]string
}

func why(format string, args ...string) whyText {
	w := whyText{format: format}
	copy(w.args[:], args)
	return w
}

func (w whyText) String() string {
	var b strings.Builder
	n := len(w.format) + len(w.convention) + 25
	for _, a := range w.args {
		n += len(a)
	}
	b.Grow(n)
	if w.convention != "" {
		b.WriteString("under the ")
		b.WriteString(w.convention)
		b.WriteString(" convention, ")
	}
	f := w.format
	for i := 0; ; i++ {
		j := strings.Index(f, "%s")
		if j < 0 {
			b.WriteString(f)
			return b.String()
		}
		b.WriteString(f[:j])
		if i < len(w.args) {
			b.WriteString(w.args[i])
		}
		f = f[j+2:]
	}
}

func airportHint(a *airportRec, kind HintKind, code string) Hint {
	return Hint{Code: code, Kind: kind, Place: a.name, Region: a.region, Country: a.cc, Lat: a.lat, Lon: a.lon, Population: a.pop}
}

func (c *ctx) iata(code, label string, conf float64, minRank int) {
	if m := c.d.metros[code]; m != nil {
		c.add(airportHint(m, KindIATA, code), label, conf, why("IATA metropolitan area code %s (%s, %s)", code, m.name, m.cc))
		return
	}
	if a := c.d.airports[code]; a != nil && a.rank >= minRank {
		// Minor airports are less likely to be what a code means.
		c.add(airportHint(a, KindIATA, code), label, conf*(0.85+0.05*float64(a.rank)), why("IATA airport code %s (%s, %s)", code, a.name, a.cc))
	}
}

func (c *ctx) icao(code, label string, conf float64, minRank int) {
	if a := c.d.icao[code]; a != nil && a.rank >= minRank {
		c.add(airportHint(a, KindICAO, code), label, conf, why("ICAO airport code %s (%s, %s)", code, a.name, a.cc))
	}
}

func (c *ctx) locode(code, label string, conf float64, minPop int) {
	if len(code) != 5 || c.d.countries[strings.ToUpper(code[:2])] == "" {
		return
	}
	l := c.d.locodes()[code]
	if l == nil || l.pop < minPop {
		return
	}
	cc := strings.ToUpper(code[:2])
	c.add(Hint{Code: code, Kind: KindLOCODE, Place: l.name, Region: l.region, Country: cc, Lat: l.lat, Lon: l.lon, Population: l.pop}, label, conf, why("UN/LOCODE %s (%s, %s)", code, l.name, cc))
}

// place adds the places spelled s: the most populous one, and the most
// populous one in each country or region a qualifier names.
func (c *ctx) place(s, label string, conf float64, minPop int) {
	ids := c.d.spell[s]
	if len(ids) == 0 {
		return
	}
	seen := 0
	for _, id := range ids {
		p := &c.d.places[id]
		if p.pop < minPop {
			break // sorted by population
		}
		keep := seen == 0 || c.state != "" && strings.EqualFold(c.state, p.region)
		for _, q := range c.quals {
			if countryOf(q) == p.cc || strings.EqualFold(q, p.region) {
				keep = true
			}
		}
		if !keep || seen >= 3 {
			continue
		}
		seen++
		// A less populous namesake is a weaker reading.
		f := 1.0
		if id != ids[0] {
			f = 0.9
		}
		w := why("place name %s spelled out: %s, %s", s, p.name, p.cc)
		if id != ids[0] {
			w.format += ", a smaller namesake"
		}
		c.add(Hint{Code: s, Kind: KindPlace, Place: p.name, Region: p.region, Country: p.cc, Lat: p.lat, Lon: p.lon, Population: p.pop}, label, conf*f, w)
	}
}

// qualified tells whether a country or region label of the name agrees
// with h.
func (c *ctx) qualified(h Hint) bool {
	for _, q := range c.quals {
		if countryOf(q) == h.Country || strings.EqualFold(q, h.Region) {
			return true
		}
	}
	return false
}

// countryOf maps a two-letter name label to an ISO country code: the
// country-code TLD "uk" means GB.
func countryOf(q string) string {
	if q == "uk" {
		return "GB"
	}
	return strings.ToUpper(q)
}

// clliCountry maps the two-letter country part of CLLI-style codes that
// differ from ISO 3166 to ISO codes. These are the few used in public router
// names (NTT: frnkge = Frankfurt, Germany; londen = London, England;
// stcksw = Stockholm, Sweden).
var clliCountry = map[string][]string{
	"ge": {"DE"}, "en": {"GB"}, "uk": {"GB"}, "sw": {"SE", "CH"}, "sp": {"ES"}, "po": {"PL", "PT"},
	"si": {"SG"}, "ja": {"JP"}, "ch": {"CH", "CN"}, "au": {"AU", "AT"}, "ir": {"IE"}, "nz": {"NZ"},
}

// clliState maps the province parts of CLLI-style codes that predate the
// current postal abbreviations (Bell Canada "mtrlpq" = Montreal, PQ).
var clliState = map[string]string{"pq": "CA-QC", "nf": "CA-NL", "yk": "CA-YT"}

// clli reads a CLLI-style code: four letters of the city and a two-letter
// state, province or country ("dllstx", "frnkge"). The abbreviation is
// matched against place names by the CLLI rule rather than a table.
func (c *ctx) clli(code, label string, conf float64, minPop int) {
	if len(code) != 6 && len(code) != 5 || !isAlpha(code) {
		return
	}
	abbr, st := code[:len(code)-2], code[len(code)-2:]
	var areas []string // keys of byFirst without the letter
	if c.state != "" {
		for _, cc := range []string{"US", "CA"} {
			if up := strings.ToUpper(c.state); c.d.regions[cc][up] != "" {
				areas = append(areas, cc+"-"+up)
			}
		}
	}
	// A country qualifier in the name ("frnkge13.de") says where to look.
	for _, q := range c.quals {
		if c.state != "" {
			break
		}
		cc := countryOf(q)
		if cc == "US" || cc == "CA" {
			areas = append(areas, cc+"-"+strings.ToUpper(st))
		} else if _, ok := c.d.countries[cc]; ok {
			areas = append(areas, cc)
		}
	}
	if len(areas) == 0 {
		if a, ok := clliState[st]; ok {
			areas = append(areas, a)
		}
		up := strings.ToUpper(st)
		for _, cc := range []string{"US", "CA"} {
			if _, ok := c.d.regions[cc][up]; ok {
				areas = append(areas, cc+"-"+up)
			}
		}
		areas = append(areas, clliCountry[st]...)
		if _, ok := c.d.countries[up]; ok && !slices.Contains(areas, up) {
			areas = append(areas, up)
		}
	}
	// The most populous matching place of each area, then the best two:
	// "sntcca" fits Santa Clara and Santa Clarita; latency decides.
	var found []int32
	for _, area := range areas {
		cc, _, _ := strings.Cut(area, "-")
		// "nycmny": an IATA metropolitan code as the first three letters.
		if m := c.d.metros[abbr[:3]]; m != nil && m.cc == cc {
			h := airportHint(m, KindCLLI, code)
			if area != cc {
				h.Region = area[len(cc)+1:]
			}
			c.add(h, label, conf, why("CLLI-style code %s: IATA metropolitan code %s (%s) and %s", code, abbr[:3], m.name, st))
			return
		}
		n, floor := 0, minPop
		for _, id := range c.d.byFirst[area+abbr[:1]] {
			p := &c.d.places[id]
			if p.pop < floor || n == 3 {
				break
			}
			if clliMatch(abbr, p.words) && !slices.Contains(found, id) {
				found = append(found, id)
				n++
				// Namesakes a twentieth the size of the best match are
				// not worth a hint (and not worth the scan).
				floor = max(floor, p.pop/20)
			}
		}
	}
	// The most populous place whose name gives the code by the plain rule
	// is the reading meant (hnggcn: Huanggang, not the larger Hengyang,
	// which needs a letter skipped); the other fits follow by population,
	// the prior for where routers stand, for latency to decide between.
	slices.SortStableFunc(found, func(a, b int32) int { return c.d.places[b].pop - c.d.places[a].pop })
	for i, id := range found {
		if clliClass(abbr, c.d.places[id].words) == 0 {
			copy(found[1:i+1], found[:i])
			found[0] = id
			break
		}
	}
	for i, id := range found {
		if i == 3 {
			break
		}
		p := &c.d.places[id]
		f := 1.0
		if i > 0 {
			f = 0.9
		}
		c.add(Hint{Code: code, Kind: KindCLLI, Place: p.name, Region: p.region, Country: p.cc, Lat: p.lat, Lon: p.lon, Population: p.pop}, label, conf*f,
			clliWhy(code, abbr, st, p))
	}
}

// areaText names the region (US state, CA province) or country of p.
func areaText(p *placeRec) string {
	if (p.cc == "US" || p.cc == "CA") && p.region != "" {
		return p.region + ", " + p.cc
	}
	return p.cc
}

func clliWhy(code, abbr, st string, p *placeRec) whyText {
	if (p.cc == "US" || p.cc == "CA") && p.region != "" {
		return why("CLLI-style code %s: %s abbreviates %s the CLLI way, %s = %s, %s", code, abbr, p.name, st, p.region+", "+p.cc)
	}
	return why("CLLI-style code %s: %s abbreviates %s the CLLI way, %s = %s", code, abbr, p.name, st, p.cc)
}

// clliMatch tells whether abbr abbreviates a place whose name has the given
// words (lower-case ASCII, one space apart) the way CLLI city codes do: each
// word gives at least its first letter, in order; within a word, after a
// prefix of the word only consonants are taken (vowels are dropped: Chicago
// → chcg, Dallas → dlls, but London → lond, Paris → pars), and a word's
// final letter may close the code (Topeka → tpka).
func clliMatch(abbr, words string) bool {
	if words == "" || strings.Count(words, " ")+1 > len(abbr) {
		return false
	}
	return matchWords(abbr, words)
}

// clliClass grades how plainly abbr, which clliMatch accepts for words,
// derives from the name: 0 when it is a prefix of the name followed by the
// start of the rest's skeleton, that is the first letter of each word and
// the consonants (London → lond, Paris → pars, Chicago → chcg, Los Angeles
// → lsan, Frankfurt → frnk); 1 for the other derivations the CLLI rule
// allows, which skip consonants or end on a word's last letter (Hengyang →
// hngg, Topeka → tpka).
func clliClass(abbr, words string) int {
	i := 0 // position in words after the prefix
	for p := 0; p < len(abbr); p++ {
		for i < len(words) && words[i] == ' ' {
			i++
		}
		if i == len(words) || words[i] != abbr[p] {
			return 1
		}
		i++
		if skeletonPrefix(abbr[p+1:], words[i:]) {
			return 0
		}
	}
	return 0
}

// skeletonPrefix tells whether a starts the skeleton of the rest of a name,
// from within a word: the first letter of each later word and the
// consonants.
func skeletonPrefix(a, words string) bool {
	j := 0
	for i := 0; i < len(words) && j < len(a); i++ {
		ch := words[i]
		if ch == ' ' || isVowel(ch) && !(i > 0 && words[i-1] == ' ') {
			continue
		}
		if ch != a[j] {
			return false
		}
		j++
	}
	return j == len(a)
}

func matchWords(abbr, words string) bool {
	if words == "" {
		return abbr == ""
	}
	w, rest, more := strings.Cut(words, " ")
	if abbr == "" || w == "" || abbr[0] != w[0] {
		return false
	}
	// Letters left for the remaining words: at least one each.
	left := 0
	if more {
		left = strings.Count(rest, " ") + 1
	}
	for take := len(abbr) - left; take >= 1; take-- {
		if abbrevWord(abbr[:take], w) && matchWords(abbr[take:], rest) {
			return true
		}
	}
	return false
}

// abbrevWord: a starts with w[0], continues with a prefix of w, then with
// consonants of w in order; the last letter of w may end it.
func abbrevWord(a, w string) bool {
	p := 1
	for p < len(a) && p < len(w) && a[p] == w[p] {
		p++
	}
	// Try every prefix length from the longest down.
	for pre := p; pre >= 1; pre-- {
		if consonantTail(a[pre:], w[pre:]) {
			return true
		}
	}
	return false
}

func consonantTail(a, w string) bool {
	j := 0
	for i := 0; i < len(a); i++ {
		for j < len(w) && w[j] != a[i] {
			j++
		}
		if j == len(w) {
			return false
		}
		if isVowel(a[i]) && !(i == len(a)-1 && j == len(w)-1) {
			return false
		}
		j++
	}
	return true
}

func isVowel(b byte) bool { return b == 'a' || b == 'e' || b == 'i' || b == 'o' || b == 'u' }

// asciiLetters keeps ASCII letters, folding other Latin letters to their
// base spelling (Zürich → zurich, Straße → strasse), as internal/dictgen
// does for the dictionary.
func asciiLetters(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r)
		case r >= 0x80:
			if f, ok := fold.Base(r); ok {
				b.WriteString(f)
			}
		}
	}
	return b.String()
}

// finish applies country qualifiers, removes duplicates and ranks.
func (c *ctx) finish() []Hint {
	if len(c.hints) == 0 {
		return nil
	}
	var countries []string
	for _, q := range c.quals {
		cc := countryOf(q)
		if _, ok := c.d.countries[cc]; ok {
			countries = append(countries, cc)
		}
	}
	for i := range c.hints {
		h := &c.hints[i]
		if len(countries) == 0 {
			continue
		}
		agree := slices.Contains(countries, h.Country) || c.state != "" && strings.EqualFold(c.state, h.Region)
		for _, q := range c.quals {
			if strings.EqualFold(q, h.Region) {
				agree = true
			}
		}
		if agree {
			h.Confidence = math.Min(0.99, h.Confidence+0.05)
		} else {
			h.Confidence *= wrongCountry
		}
	}
	for i := range c.hints {
		c.hints[i].Confidence = math.Round(c.hints[i].Confidence*100) / 100
	}
	slices.SortStableFunc(c.hints, func(a, b ctxHint) int {
		if x := cmp.Compare(b.Confidence, a.Confidence); x != 0 {
			return x
		}
		if x := cmp.Compare(kindOrder[a.Kind], kindOrder[b.Kind]); x != 0 {
			return x
		}
		return cmp.Compare(b.Population, a.Population)
	})
	// One hint per place: the best reading of it.
	out := make([]Hint, 0, min(len(c.hints), maxHints))
	for _, h := range c.hints {
		if len(out) == maxHints {
			break
		}
		dup := false
		for _, o := range out {
			if o.Country == h.Country && math.Abs(o.Lat-h.Lat) < 0.3 && math.Abs(o.Lon-h.Lon) < 0.3 {
				dup = true
				break
			}
		}
		if !dup {
			h.Hint.Why = h.why.String()
			out = append(out, h.Hint)
		}
	}
	return out
}

// trimDigits drops trailing ASCII digits ("agg8" → "agg").
func trimDigits(s string) string {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	return s[:i]
}
