package rdns

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Reader reads location hints from router names with the embedded
// dictionaries and a set of naming conventions. It is safe for concurrent
// use; build one and share it. The zero value is not usable: use
// [NewReader].
type Reader struct {
	table  *convTable
	abbrev *abbrevCache
}

// NewReader returns a Reader of the embedded conventions and extra, in
// order: for the same domain and code a later set wins, and a later
// rejected entry withdraws an earlier mapping. Domains and entries that do
// not pass the checks [ReadConventions] makes are skipped (sets read with
// ReadConventions always pass).
func NewReader(extra ...*Conventions) *Reader {
	sets := append([]*Conventions{embeddedConventions()}, extra...)
	return &Reader{table: buildTable(sets), abbrev: newAbbrevCache(abbrevCacheCodes)}
}

// dict is the embedded dictionaries, parsed on first use (about 0.15 s of
// CPU), not by NewReader: a batch whose traces carry no names never reads
// one.
func (r *Reader) dict() *dict { return loadDict() }

// defaultReader is the Reader of the package-level functions: embedded
// conventions only.
var defaultReader = sync.OnceValue(func() *Reader { return NewReader() })

// Hints reads location hints from a router's host name, best first, as the
// package-level [Hints] does, with r's conventions: a code read where a
// convention of the name's domain puts it, and named by one of that
// domain's entries, outranks every generic reading of the same name (under
// Arelion's domain "sng" is Singapore, not San Ignacio airport).
func (r *Reader) Hints(name string) []Hint {
	p, ok := r.parse(name)
	if !ok {
		return nil
	}
	return r.read(p).finish()
}

// parsedName is a name split for reading.
type parsedName struct {
	labels  []string
	host    []string    // labels before the domain suffix
	hostStr string      // the same, as one string
	dom     *convDomain // the convention of the name's domain, nil if none
	suffix  string      // the convention's suffix, or the registrable domain
}

func (r *Reader) parse(name string) (parsedName, bool) {
	n, ok := normalise(name)
	if !ok {
		return parsedName{}, false
	}
	labels := strings.Split(n, ".")
	dom, nSuffix := r.table.match(labels)
	if dom == nil {
		nSuffix = registrableLen(labels)
	}
	// The suffix and the host part are substrings of n: no copies.
	suffix := n
	for range len(labels) - nSuffix {
		suffix = suffix[strings.IndexByte(suffix, '.')+1:]
	}
	hostStr := ""
	if len(suffix) < len(n) {
		hostStr = n[:len(n)-len(suffix)-1]
	}
	p := parsedName{labels: labels, host: labels[:len(labels)-nSuffix], hostStr: hostStr, dom: dom, suffix: suffix}
	return p, len(p.host) > 0 || dom != nil && dom.def != nil
}

// read gathers the hints of a parsed name, before ranking.
func (r *Reader) read(p parsedName) *ctx {
	d := r.dict()
	c := &ctx{d: d}
	host := p.host
	for _, l := range host {
		if len(l) == 2 && isAlpha(l) && !d.stop[l] {
			c.quals = append(c.quals, l)
		}
	}
	c.pool = d.isPool(host)
	skip := ""
	if dom := p.dom; dom != nil {
		hostStr := p.hostStr
		m, matched := dom.match(hostStr)
		if matched {
			if m.cc != "" {
				c.quals = append(c.quals, m.cc)
				c.convCC = m.cc
			}
			c.state = m.st
		}
		if e, loc := dom.site(hostStr); e != nil {
			h := e.hint
			h.Code = loc
			c.add(h, labelOf(host, loc), e.conf, why("%s", e.why))
			for _, a := range e.alts {
				a.Code = loc
				c.add(a, labelOf(host, loc), a.Confidence, why("%s", a.Why))
			}
			return c
		}
		if matched {
			c.fromConvention(dom, m.loc, labelOf(host, m.loc))
			if len(c.hints) > 0 {
				return c
			}
			if len(dom.kinds) == 0 && dom.hasCodes() {
				// The convention says this word is one of the operator's
				// own site codes, and none we know: reading it as an
				// airport or a town would put the router wherever that
				// code happens to be (Arelion "sng" is not San Ignacio).
				// It is left to Codes and Expand.
				skip = trimDigits(m.loc)
			}
		}
		if dom.def != nil {
			pl := dom.def
			code := p.suffix
			c.add(Hint{Code: code, Kind: KindOperatorSite, Place: pl.Name, Region: pl.Region, Country: pl.Country, Lat: pl.Lat, Lon: pl.Lon, Population: pl.Population},
				code, defaultConfidence, why("single-site network %s: %s", dom.title(), placeText(pl)))
			return c
		}
	}
	// Under no known convention, or where the operator's convention did not
	// match, the generic reading applies, with stricter thresholds.
	c.skip = skip
	c.generic(host)
	return c
}

// convTable is the merged set of conventions of a Reader, by suffix.
type convTable struct {
	bySuffix map[string]*convDomain
	maxParts int
}

// convDomain is one domain's convention, merged from every set.
type convDomain struct {
	name     string // the primary suffix
	operator string
	patterns []*convPattern // the domain's own first, then its entries'
	kinds    []HintKind
	codes    map[string]*convEntry
	def      *Place
	sites    *convDomain // the domain whose entries this one also reads
	sitesOf  string
}

type convPattern struct {
	src         string
	re          *regexp.Regexp
	loc, cc, st int
	own         bool // the domain's own pattern: codes no entry names are read by kinds
}

type convEntry struct {
	hint Hint // place fields only
	conf float64
	why  string
	// alts are the weaker readings of an ambiguous learned code.
	alts []Hint
}

type convMatch struct{ loc, cc, st string }

// match applies the domain's own patterns to the host part; the first that
// finds a location wins.
func (cd *convDomain) match(host string) (convMatch, bool) {
	for _, p := range cd.patterns {
		if !p.own {
			continue
		}
		if m, ok := p.find(host); ok {
			return m, true
		}
	}
	return convMatch{}, false
}

func (p *convPattern) find(host string) (convMatch, bool) {
	m := p.re.FindStringSubmatch(host)
	if m == nil || m[p.loc] == "" {
		return convMatch{}, false
	}
	out := convMatch{loc: m[p.loc]}
	if p.cc >= 0 {
		out.cc = m[p.cc]
	}
	if p.st >= 0 {
		out.st = m[p.st]
	}
	return out, true
}

// site finds a code that one of the domain's patterns extracts and one of
// its entries names (digits after the code may be dropped: "sjo2").
func (cd *convDomain) site(host string) (*convEntry, string) {
	if !cd.hasCodes() {
		return nil, ""
	}
	for _, p := range cd.patterns {
		m, ok := p.find(host)
		if !ok {
			continue
		}
		if e := cd.entry(m.loc); e != nil {
			return e, m.loc
		}
		if t := trimDigits(m.loc); t != m.loc {
			if e := cd.entry(t); e != nil {
				return e, t
			}
		}
	}
	return nil, ""
}

func (cd *convDomain) entry(code string) *convEntry {
	if e := cd.codes[code]; e != nil {
		return e
	}
	if cd.sites != nil {
		return cd.sites.codes[code]
	}
	return nil
}

func (cd *convDomain) hasOwnPattern() bool {
	for _, p := range cd.patterns {
		if p.own {
			return true
		}
	}
	return false
}

func (cd *convDomain) hasCodes() bool {
	return len(cd.codes) > 0 || cd.sites != nil && len(cd.sites.codes) > 0
}

func (cd *convDomain) title() string {
	if cd.operator != "" {
		return cd.operator
	}
	return cd.name
}

// match finds the convention whose domain suffix ends labels, longest
// first, and the number of labels the suffix takes. A suffix is never the
// whole name.
func (t *convTable) match(labels []string) (*convDomain, int) {
	for n := min(t.maxParts, len(labels)-1); n >= 1; n-- {
		if cd := t.bySuffix[strings.Join(labels[len(labels)-n:], ".")]; cd != nil {
			return cd, n
		}
	}
	return nil, 0
}

// buildTable merges sets in order.
func buildTable(sets []*Conventions) *convTable {
	t := &convTable{bySuffix: map[string]*convDomain{}}
	compiled := map[string]*convPattern{}
	pattern := func(src string) *convPattern {
		if p, ok := compiled[src]; ok {
			return p
		}
		var p *convPattern
		if re, err := compilePattern(src); err == nil {
			p = &convPattern{src: src, re: re, loc: re.SubexpIndex("loc"), cc: re.SubexpIndex("cc"), st: re.SubexpIndex("st")}
		}
		compiled[src] = p
		return p
	}
	domain := func(name string) *convDomain {
		if cd := t.bySuffix[name]; cd != nil {
			return cd
		}
		cd := &convDomain{name: name, codes: map[string]*convEntry{}}
		t.register(name, cd)
		return cd
	}
	addPattern := func(cd *convDomain, src string, own bool) {
		p := pattern(src)
		if p == nil {
			return
		}
		for _, q := range cd.patterns {
			if q.src == src {
				return
			}
		}
		q := *p
		q.own = own
		cd.patterns = append(cd.patterns, &q)
	}
	for _, set := range sets {
		if set == nil {
			continue
		}
		for i := range set.Domains {
			d := &set.Domains[i]
			if checkSuffix(d.Domain) != nil {
				continue
			}
			cd := domain(d.Domain)
			for _, a := range d.Also {
				if checkSuffix(a) == nil {
					t.register(a, cd)
				}
			}
			if d.Pattern != "" {
				addPattern(cd, d.Pattern, true)
			}
			if len(d.Kinds) > 0 {
				cd.kinds = nil
				for _, k := range d.Kinds {
					if readableKinds[k] {
						cd.kinds = append(cd.kinds, k)
					}
				}
			}
			if d.Default != nil && checkPlace(d.Default) == nil {
				pl := *d.Default
				cd.def = &pl
			}
			if d.Operator != "" {
				cd.operator = d.Operator
			}
			if d.Sites != "" {
				cd.sitesOf = d.Sites
			}
		}
		for i := range set.Entries {
			e := &set.Entries[i]
			if checkSuffix(e.Domain) != nil || e.Code == "" {
				continue
			}
			cd := domain(e.Domain)
			if e.Rejected != "" {
				delete(cd.codes, e.Code)
				continue
			}
			if e.Place == nil || checkPlace(e.Place) != nil {
				continue
			}
			if e.Pattern != "" {
				addPattern(cd, e.Pattern, false)
			}
			cd.codes[e.Code] = newConvEntry(cd, e)
		}
	}
	for _, cd := range t.bySuffix {
		if cd.sitesOf != "" && cd.sitesOf != cd.name {
			cd.sites = t.bySuffix[cd.sitesOf]
		}
	}
	return t
}

func (t *convTable) register(suffix string, cd *convDomain) {
	t.bySuffix[suffix] = cd
	t.maxParts = max(t.maxParts, strings.Count(suffix, ".")+1)
}

func newConvEntry(cd *convDomain, e *Entry) *convEntry {
	pl := e.Place
	ce := &convEntry{
		hint: Hint{Kind: KindOperatorSite, Place: pl.Name, Region: pl.Region, Country: pl.Country, Lat: pl.Lat, Lon: pl.Lon, Population: pl.Population},
		conf: convConfidence,
	}
	if e.Support > 0 {
		// Learned from observations rather than published: a little less
		// sure, more so the more routers agree.
		ce.conf = min(convConfidence, learnedConfidence+0.01*float64(e.Support))
		ce.why = fmt.Sprintf("code %s under %s learned from %d observations whose RTTs all allow %s (%d against)", e.Code, cd.name, e.Support, placeText(pl), e.Conflicts)
		if len(e.Alternatives) > 0 {
			// Ambiguous: the observations allow other places too. All
			// are offered, the likeliest first, none as surely.
			ce.conf = ambiguousConfidence
			ce.why += fmt.Sprintf(", and %d other places", len(e.Alternatives))
		}
		for i := range e.Alternatives {
			a := &e.Alternatives[i]
			if checkPlace(a) != nil {
				continue
			}
			ce.alts = append(ce.alts, Hint{Kind: KindOperatorSite, Place: a.Name, Region: a.Region, Country: a.Country, Lat: a.Lat, Lon: a.Lon, Population: a.Population,
				Confidence: ambiguousConfidence - 0.1,
				Why:        fmt.Sprintf("code %s under %s learned from %d observations whose RTTs all allow %s; a less likely reading than %s", e.Code, cd.name, e.Support, placeText(a), pl.Name)})
		}
		return ce
	}
	ce.why = fmt.Sprintf("%s site code %s: %s (source: %s)", cd.title(), e.Code, placeText(pl), e.Source)
	return ce
}

func placeText(p *Place) string {
	if p.Country == "" {
		return p.Name
	}
	return p.Name + ", " + p.Country
}
