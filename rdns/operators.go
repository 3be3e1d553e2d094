package rdns

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// operatorsJSON is the table of operator naming conventions: which domain
// suffix, where the location sits in the name, which kind of code it is and
// the operator's own site codes. Every entry names its sources.
//
//go:embed operators.json
var operatorsJSON []byte

type operatorSpec struct {
	Name     string            `json:"name"`
	ASN      []int             `json:"asn,omitempty"`
	Suffixes []string          `json:"suffixes"`
	Pattern  string            `json:"pattern"`
	Kinds    []HintKind        `json:"kinds"`
	Sites    map[string]string `json:"sites,omitempty"`   // code → "Place|CC"
	Default  string            `json:"default,omitempty"` // "Place|CC" of a single-site network
	Examples map[string]string `json:"examples,omitempty"`
	Sources  []string          `json:"sources"`
	Note     string            `json:"note,omitempty"`
}

type operator struct {
	name  string
	re    *regexp.Regexp
	loc   int // submatch index of "loc"
	cc    int // submatch index of "cc", -1 if none
	st    int // submatch index of "st" (a US state or CA province), -1 if none
	kinds []HintKind
	sites map[string]int32 // code → place index
	def   int32            // place of a single-site network, -1 if none
}

type operatorTable struct {
	bySuffix map[string]*operator
	maxParts int
}

// match finds the operator whose domain suffix ends labels, longest first,
// and the number of labels the suffix takes.
func (t *operatorTable) match(labels []string) (*operator, int) {
	if t == nil {
		return nil, 0
	}
	for n := min(t.maxParts, len(labels)-1); n >= 1; n-- {
		if op := t.bySuffix[strings.Join(labels[len(labels)-n:], ".")]; op != nil {
			return op, n
		}
	}
	return nil, 0
}

// find applies the operator's pattern to the host part of a name.
func (op *operator) find(host string) (loc, cc, st string, ok bool) {
	if op.loc < 0 {
		return "", "", "", false
	}
	m := op.re.FindStringSubmatch(host)
	if m == nil || m[op.loc] == "" {
		return "", "", "", false
	}
	if op.cc >= 0 {
		cc = m[op.cc]
	}
	if op.st >= 0 {
		st = m[op.st]
	}
	return m[op.loc], cc, st, true
}

func parseOperators(raw []byte, d *dict) (*operatorTable, error) {
	var file struct {
		Operators []operatorSpec `json:"operators"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		return nil, fmt.Errorf("operators.json: %w", err)
	}
	t := &operatorTable{bySuffix: map[string]*operator{}}
	for i, s := range file.Operators {
		where := fmt.Sprintf("operators.json: operator %d (%s)", i+1, s.Name)
		if len(s.Sources) == 0 {
			return nil, fmt.Errorf("%s: no source", where)
		}
		re, err := regexp.Compile(s.Pattern)
		if err != nil {
			return nil, fmt.Errorf("%s: pattern: %w", where, err)
		}
		op := &operator{name: s.Name, re: re, loc: re.SubexpIndex("loc"), cc: re.SubexpIndex("cc"), st: re.SubexpIndex("st"), kinds: s.Kinds, sites: map[string]int32{}, def: -1}
		if op.loc < 0 && s.Default == "" {
			return nil, fmt.Errorf("%s: pattern has no (?P<loc>...) group and there is no default", where)
		}
		resolve := func(code, ref string) (int32, error) {
			name, cc, ok := strings.Cut(ref, "|")
			if !ok {
				return 0, fmt.Errorf("%s: site %q: want \"Place|CC\", got %q", where, code, ref)
			}
			if cc, coords, ok := strings.Cut(cc, "|"); ok {
				// A place too small for the dictionaries, with its
				// coordinates: "Falkenstein|DE|50.478,12.371".
				la, lo, _ := strings.Cut(coords, ",")
				lat, lon, err := parseFloats(la, lo)
				if err != nil || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
					return 0, fmt.Errorf("%s: site %q: bad coordinates %q", where, code, coords)
				}
				d.places = append(d.places, placeRec{name: name, cc: cc, lat: lat, lon: lon})
				return int32(len(d.places) - 1), nil
			}
			id, ok := d.bestPlace(spellingOf(name), cc, "")
			if !ok {
				return 0, fmt.Errorf("%s: site %q: no place %q in %s", where, code, name, cc)
			}
			return id, nil
		}
		for code, ref := range s.Sites {
			id, err := resolve(code, ref)
			if err != nil {
				return nil, err
			}
			op.sites[code] = id
		}
		if s.Default != "" {
			id, err := resolve("default", s.Default)
			if err != nil {
				return nil, err
			}
			op.def = id
		}
		for _, suf := range s.Suffixes {
			suf = strings.ToLower(suf)
			if t.bySuffix[suf] != nil {
				return nil, fmt.Errorf("%s: suffix %q listed twice", where, suf)
			}
			t.bySuffix[suf] = op
			t.maxParts = max(t.maxParts, strings.Count(suf, ".")+1)
		}
	}
	return t, nil
}

// spellingOf turns a place name of the operator table into the dictionary's
// spelling form (ASCII letters, lower case, no spaces).
func spellingOf(name string) string {
	return asciiLetters(strings.ToLower(name))
}
