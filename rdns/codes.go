package rdns

import (
	"math"
	"strings"
)

// CodeLabel is a word of a router name that looks like a location code
// (see [Reader.Codes]).
type CodeLabel struct {
	Code   string `json:"code"`   // the letters ("ipls")
	Label  string `json:"label"`  // the DNS label they stand in ("ipls-bb1-link")
	Domain string `json:"domain"` // the operator's suffix, or the registrable domain ("example.net")
	// LabelIndex is the label's position counted from the domain: 0 is
	// the label just before it. Word is the position of the code's word
	// in the label, words being separated by '-'.
	LabelIndex int `json:"label_index"`
	Word       int `json:"word"`
	// Glued says digits follow the code in its word ("ipls2").
	Glued bool `json:"glued,omitempty"`
	// Read says the dictionaries already read the word (the name's hints
	// include a reading of it, such as an airport with that code). Expand
	// is then a second opinion, for when those readings are ruled out:
	// "bei" is an airport in Ethiopia and, under Arelion, Berlin.
	Read bool `json:"read,omitempty"`
}

// codeWord is a word of a host part in a position a location code can
// take.
type codeWord struct {
	code       string
	label      string
	labelIndex int // from the right of the host part
	word       int // from the left of the label
	glued      bool
	placed     bool // beside a role or interface word or digits, or alone in its label
}

// maxCodeWords bounds the words looked at per name.
const maxCodeWords = 16

// codeWords lists the words of host (labels before the domain) that could
// be location codes: letters, three to eight of them, optionally followed
// by digits, that are no stop word (interface, role, pool, network,
// operator or common words).
func (d *dict) codeWords(host []string) []codeWord {
	var out []codeWord
	for li, label := range host {
		words := strings.Split(label, "-")
		for wi, w := range words {
			letters := strings.TrimRight(w, "0123456789")
			if len(letters) < 3 || len(letters) > 8 || !isAlpha(letters) {
				continue
			}
			if d.stop[letters] || d.isRoleWord(w) {
				continue
			}
			cw := codeWord{code: letters, label: label, labelIndex: len(host) - 1 - li, word: wi, glued: letters != w}
			cw.placed = cw.glued || len(words) == 1 ||
				wi > 0 && d.besideCode(words[wi-1]) || wi+1 < len(words) && d.besideCode(words[wi+1])
			out = append(out, cw)
			if len(out) == maxCodeWords {
				return out
			}
		}
	}
	return out
}

// besideCode tells whether w, next to a word, puts that word in a code's
// place: a role or interface word ("bb1", "core", "link", "xe") or digits.
func (d *dict) besideCode(w string) bool {
	return isDigits(w) || d.isRoleWord(w) || d.stop[trimDigits(w)] && (d.roleWords[trimDigits(w)] || d.ifaceWords[trimDigits(w)])
}

// Codes lists the words of name that look like location codes, by their
// letters (three to eight, no stop word, optionally followed by digits) and
// their position (glued to digits, alone in their label, or beside a router
// role or interface word: "ipls-bb1-link", "core1.omha", "zgb2"), and that
// no convention of r reads. A word the dictionaries read is listed with
// Read set (see CodeLabel). Names of customer address pools give none.
// Codes reads names only; what a code means is for [Reader.Expand] to say,
// within a region.
func (r *Reader) Codes(name string) []CodeLabel {
	p, ok := r.parse(name)
	if !ok || len(p.host) == 0 || r.dict().isPool(p.host) {
		return nil
	}
	c := r.read(p)
	var conv string // the word a convention read
	for _, h := range c.hints {
		if h.Kind == KindOperatorSite && p.dom != nil {
			conv = h.Code
		}
	}
	var out []CodeLabel
	for _, w := range r.dict().codeWords(p.host) {
		if w.code == conv || trimDigits(conv) == w.code {
			continue
		}
		// Under a known convention, the word where it puts its codes; else
		// a word in a code's usual place.
		if p.dom != nil && p.dom.hasOwnPattern() {
			if !r.convWord(p, w) {
				continue
			}
		} else if !w.placed {
			continue
		}
		cl := CodeLabel{Code: w.code, Label: w.label, Domain: p.suffix, LabelIndex: w.labelIndex, Word: w.word, Glued: w.glued}
		for _, h := range c.hints {
			if h.Label == w.label && (strings.Contains(h.Code, w.code) || strings.Contains(w.code, h.Code)) {
				cl.Read = true
			}
		}
		out = append(out, cl)
	}
	return out
}

// convWord tells whether the domain's convention puts a code where w is.
func (r *Reader) convWord(p parsedName, w codeWord) bool {
	if p.dom == nil {
		return false
	}
	m, ok := p.dom.match(p.hostStr)
	return ok && trimDigits(m.loc) == w.code
}

// popFactor is 1 for a city of three million people or more, less for
// smaller places (about 0.66 for 20,000).
func popFactor(pop int) float64 {
	return math.Min(1, math.Log10(float64(max(pop, 1)))/6.5)
}

// Expand reads c as an abbreviation of the name of a place (English or
// local: "win" = Wien, "prag" = Praha, "koln" = Köln) among the places
// feasible allows, and returns at most max hints (max ≤ 0 means 8) of kind
// KindAbbrev, best first, each with its Why. Places are ranked by how
// usual the abbreviation is (the start of the name, first letter and
// consonants, first letters of the words, the same closed by the last
// letter, CLLI-like with a state or country, then letters in order with
// consonants left out) times the square root of the population. feasible
// is asked about candidates in that order until max are found; nil feasible
// gives nil: an abbreviation read without a region invents places.
//
// The candidates of a code are computed once per Reader (a scan of the
// places that start with the code's first letter) and cached, so Expand
// costs a few feasibility tests per call.
func (r *Reader) Expand(c CodeLabel, feasible func(lat, lon float64) bool, max int) []Hint {
	if feasible == nil || len(c.Code) < 2 || len(c.Code) > 8 || !isAlpha(c.Code) {
		return nil
	}
	if max <= 0 || max > maxHints {
		max = maxHints
	}
	var picked []abbrevCand
	sum := float32(0)
	for _, a := range r.candidates(c.Code) {
		p := &r.dict().places[a.id]
		if !feasible(p.lat, p.lon) {
			continue
		}
		picked = append(picked, a)
		sum += a.prior
		if len(picked) == max {
			break
		}
	}
	if len(picked) == 0 {
		return nil
	}
	out := make([]Hint, 0, len(picked))
	// Confidence stays below every dictionary reading: at most 0.6, for a
	// usual abbreviation of a city, the only one in the region; less for
	// a strained abbreviation, a small town or a region several places
	// share. It depends on the rank alone, so that the order holds.
	top := float64(picked[0].plaus) * popFactor(r.dict().places[picked[0].id].pop)
	for _, a := range picked {
		p := &r.dict().places[a.id]
		share := float64(a.prior / sum)
		conf := math.Round((0.2+0.4*top*share)*100) / 100
		out = append(out, Hint{Code: c.Code, Kind: KindAbbrev, Place: p.name, Region: p.region, Country: p.cc, Lat: p.lat, Lon: p.lon,
			Label: c.Label, Population: p.pop, Confidence: conf, Why: r.dict().abbrevWhy(c.Code, a)})
	}
	return out
}
