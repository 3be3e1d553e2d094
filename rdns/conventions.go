package rdns

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// ConventionsFormat is the value of the "format" member of a conventions
// file; [ReadConventions] refuses files without it, so that a results file
// or a trace given by mistake is named as such rather than half-read.
const ConventionsFormat = "geoloc-conventions/1"

// Conventions is a set of router naming conventions: per DNS domain suffix,
// where a router's name carries its location (Domain.Pattern) and what the
// operator's codes mean (Entries). The embedded operator table
// ([EmbeddedConventions]), files written by `geoloc learn` ([Learner]) and
// files written by hand share this one form; [ReadConventions] reads it and
// [Conventions.WriteJSON] writes it. The zero value is an empty set.
type Conventions struct {
	// Name says where the set came from (a file name, "embedded"); it is
	// used in messages and not written.
	Name string `json:"-"`
	// About describes the set for a person reading the file.
	About string `json:"about,omitempty"`
	// Sources explains the short source names entries cite
	// ("arelion-lg": "Arelion's published router list ...").
	Sources map[string]string `json:"sources,omitempty"`
	// Domains are the naming conventions, one per operator domain.
	Domains []Domain `json:"domains,omitempty"`
	// Entries map codes to places, each within one domain.
	Entries []Entry `json:"entries,omitempty"`
}

// Domain is one operator's naming convention.
type Domain struct {
	// Domain is the DNS suffix the operator's routers live under
	// ("ip.twelve99.net"); the longest suffix that ends a name is the one
	// that applies. Lower case.
	Domain string `json:"domain"`
	// Also lists other suffixes that follow the same convention and share
	// the entries ("twelve99.net", "telia.net").
	Also []string `json:"also,omitempty"`
	// Sites, when set, names another domain whose entries this one reads
	// its codes with: a customer zone that embeds the operator's router
	// names after the customer's ("ip.twelve99-cust.net" uses
	// "ip.twelve99.net"), with a Pattern of its own that never reads the
	// customer's part.
	Sites    string `json:"sites,omitempty"`
	Operator string `json:"operator,omitempty"` // "Arelion (Telia Carrier, AS1299)"
	ASN      []int  `json:"asn,omitempty"`
	// Pattern is a Go (RE2) regular expression applied to the host part of
	// the lower-cased name (the name without the suffix). Its group loc
	// holds the location code; optional groups cc and st hold a country
	// qualifier and a US state or Canadian province.
	Pattern string `json:"pattern,omitempty"`
	// Kinds says how a code that no entry names is read, in order
	// ("iata", "clli-like", "locode", "place", "icao").
	Kinds []HintKind `json:"kinds,omitempty"`
	// Default is the place of a single-site network (an IXP) where the
	// pattern finds nothing.
	Default *Place `json:"default,omitempty"`
	// Examples are real names and the city they denote, checked by the
	// tests.
	Examples map[string]string `json:"examples,omitempty"`
	Sources  []string          `json:"sources,omitempty"`
	Note     string            `json:"note,omitempty"`
}

// Entry maps one code of one domain to a place.
type Entry struct {
	Domain string `json:"domain"`
	// Pattern is the regular expression (as in Domain.Pattern) that finds
	// the code in the host part of a name; empty means the domain's.
	Pattern string `json:"pattern,omitempty"`
	Code    string `json:"code"`
	// Place is where the code puts a router; nil only in a rejected entry.
	Place *Place `json:"place,omitempty"`
	// Alternatives are other places the code may mean that every
	// observation also allows, less likely than Place by abbreviation and
	// population (a learner's ambiguous codes: "hng" seen only from far
	// away fits Hong Kong and Hangzhou). Readers offer them as weaker
	// readings, for the engine to choose between with latency.
	Alternatives []Place `json:"alternatives,omitempty"`
	// Support is the number of observations (routers seen with the code,
	// with the RTT bounds of where they were measured from) that the place
	// satisfies; Conflicts the number it does not. Zero in curated tables.
	Support   int `json:"support,omitempty"`
	Conflicts int `json:"conflicts,omitempty"`
	// Source names where the mapping comes from: a key of
	// Conventions.Sources, or words.
	Source string `json:"source"`
	// Rejected, when set, says why the code is not used (the operator uses
	// it for two places; the observations do not agree). A rejected entry
	// also withdraws an earlier set's mapping of the same code.
	Rejected string `json:"rejected,omitempty"`
	Note     string `json:"note,omitempty"`
}

// Bounds on what a conventions file may hold: far above any real table,
// low enough that a hostile file costs little memory and time.
const (
	maxConventionsBytes = 64 << 20
	maxDomains          = 100000
	maxEntries          = 2000000
	maxPatterns         = 10000 // distinct regular expressions in one file
	maxPatternLen       = 512
	maxTextLen          = 4096 // about, notes, sources, place names
	maxListLen          = 1000 // also, asn, sources, examples of one domain
	maxAlternatives     = 8
)

//go:embed conventions.json
var conventionsJSON []byte

// EmbeddedConventions returns the conventions built into the package:
// naming conventions of about fifty operators and IXPs and the site tables
// operators publish, each entry with its source (conventions.json). Each
// call returns a fresh copy the caller may change.
func EmbeddedConventions() *Conventions {
	c := embeddedConventions().clone()
	return c
}

var embeddedConventions = sync.OnceValue(func() *Conventions {
	c, err := ReadConventions(bytes.NewReader(conventionsJSON), "conventions.json")
	if err != nil {
		// Generated and tested data: failing to read it is a build defect.
		panic("rdns: embedded conventions: " + err.Error())
	}
	c.Name = "embedded"
	return c
})

func (c *Conventions) clone() *Conventions {
	out := &Conventions{Name: c.Name, About: c.About}
	if c.Sources != nil {
		out.Sources = make(map[string]string, len(c.Sources))
		for k, v := range c.Sources {
			out.Sources[k] = v
		}
	}
	out.Domains = make([]Domain, len(c.Domains))
	for i, d := range c.Domains {
		d.Also = slices.Clone(d.Also)
		d.ASN = slices.Clone(d.ASN)
		d.Kinds = slices.Clone(d.Kinds)
		d.Sources = slices.Clone(d.Sources)
		if d.Default != nil {
			p := *d.Default
			d.Default = &p
		}
		if d.Examples != nil {
			ex := make(map[string]string, len(d.Examples))
			for k, v := range d.Examples {
				ex[k] = v
			}
			d.Examples = ex
		}
		out.Domains[i] = d
	}
	out.Entries = make([]Entry, len(c.Entries))
	for i, e := range c.Entries {
		if e.Place != nil {
			p := *e.Place
			e.Place = &p
		}
		e.Alternatives = slices.Clone(e.Alternatives)
		out.Entries[i] = e
	}
	return out
}

// ConventionsError is an error in a conventions file, with its position.
type ConventionsError struct {
	Name string // the file's name as given to ReadConventions
	Line int    // 1-based; 0 when the error is not tied to a line
	Err  error
}

func (e *ConventionsError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: conventions: %v", e.Name, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: conventions: %v", e.Name, e.Err)
}

func (e *ConventionsError) Unwrap() error { return e.Err }

// ReadConventions reads a conventions file (the JSON form [Conventions.WriteJSON]
// writes) and checks every domain and entry: valid DNS suffixes and codes,
// patterns that compile and have a loc group, coordinates on the Earth, a
// source for every entry. name is used in errors, which read
// "name:line: conventions: what" (a *ConventionsError). Input is bounded:
// at most 64 MiB, 100,000 domains, 2,000,000 entries and 10,000 distinct
// patterns of at most 512 bytes; unknown members are errors, so that a typo
// does not silently drop a setting.
func ReadConventions(r io.Reader, name string) (*Conventions, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxConventionsBytes+1))
	if err != nil {
		return nil, &ConventionsError{Name: name, Err: err}
	}
	if len(raw) > maxConventionsBytes {
		return nil, &ConventionsError{Name: name, Err: fmt.Errorf("larger than %d MiB", maxConventionsBytes>>20)}
	}
	p := &convParser{name: name, raw: raw, dec: json.NewDecoder(bytes.NewReader(raw)), patterns: map[string]bool{}}
	p.dec.DisallowUnknownFields()
	c, err := p.parse()
	if err != nil {
		return nil, err
	}
	c.Name = name
	return c, nil
}

type convParser struct {
	name     string
	raw      []byte
	dec      *json.Decoder
	patterns map[string]bool // distinct patterns seen, compiled once
	domains  map[string]bool // suffixes declared (domain and also)
}

// lineAt is the 1-based line of byte offset off.
func (p *convParser) lineAt(off int64) int {
	off = min(max(off, 0), int64(len(p.raw)))
	return bytes.Count(p.raw[:off], []byte{'\n'}) + 1
}

func (p *convParser) errAt(off int64, format string, args ...any) error {
	return &ConventionsError{Name: p.name, Line: p.lineAt(off), Err: fmt.Errorf(format, args...)}
}

// jsonErr turns a decoding error of the value that starts at off into a
// positioned error.
func (p *convParser) jsonErr(off int64, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &ConventionsError{Name: p.name, Line: p.lineAt(se.Offset), Err: fmt.Errorf("bad JSON: %w", err)}
	case errors.As(err, &te):
		// The offset of a type error counts from the value decoded.
		return &ConventionsError{Name: p.name, Line: p.lineAt(off + te.Offset), Err: fmt.Errorf("%s: want %s, got %s", te.Field, te.Type, te.Value)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &ConventionsError{Name: p.name, Line: p.lineAt(int64(len(p.raw))), Err: errors.New("unexpected end of input")}
	}
	return &ConventionsError{Name: p.name, Line: p.lineAt(off), Err: err}
}

func (p *convParser) parse() (*Conventions, error) {
	c := &Conventions{}
	p.domains = map[string]bool{}
	if err := p.delim('{'); err != nil {
		return nil, err
	}
	format := ""
	seen := map[string]bool{}
	for p.dec.More() {
		off := p.dec.InputOffset()
		tok, err := p.dec.Token()
		if err != nil {
			return nil, p.jsonErr(off, err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return nil, p.errAt(off, "member %q given twice", key)
		}
		seen[key] = true
		switch key {
		case "format":
			err = p.value(&format)
		case "about":
			err = p.value(&c.About)
		case "sources":
			err = p.value(&c.Sources)
		case "domains":
			err = p.array(maxDomains, "domains", func(off int64) error {
				var d Domain
				if err := p.dec.Decode(&d); err != nil {
					return p.jsonErr(off, err)
				}
				if err := p.checkDomain(&d); err != nil {
					return p.errAt(off, "domain %d (%.60q): %v", len(c.Domains)+1, d.Domain, err)
				}
				c.Domains = append(c.Domains, d)
				return nil
			})
		case "entries":
			err = p.array(maxEntries, "entries", func(off int64) error {
				var e Entry
				if err := p.dec.Decode(&e); err != nil {
					return p.jsonErr(off, err)
				}
				if err := p.checkEntry(&e); err != nil {
					return p.errAt(off, "entry %d (%.60q %.20q): %v", len(c.Entries)+1, e.Domain, e.Code, err)
				}
				c.Entries = append(c.Entries, e)
				return nil
			})
		default:
			return nil, p.errAt(off, "unknown member %.60q", key)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := p.delim('}'); err != nil {
		return nil, err
	}
	if off := p.dec.InputOffset(); len(bytes.TrimSpace(p.raw[off:])) > 0 {
		rest := p.raw[off:]
		off += int64(len(rest) - len(bytes.TrimLeft(rest, " \t\r\n")))
		return nil, p.errAt(off, "data after the end of the JSON object")
	}
	if format != ConventionsFormat {
		if format == "" {
			return nil, &ConventionsError{Name: p.name, Line: 1, Err: fmt.Errorf("not a conventions file: no \"format\": %q", ConventionsFormat)}
		}
		return nil, &ConventionsError{Name: p.name, Line: 1, Err: fmt.Errorf("format %.40q, want %q", format, ConventionsFormat)}
	}
	for k, v := range c.Sources {
		if err := checkText(k, 100); err != nil {
			return nil, &ConventionsError{Name: p.name, Err: fmt.Errorf("sources: key: %w", err)}
		}
		if err := checkText(v, maxTextLen); err != nil {
			return nil, &ConventionsError{Name: p.name, Err: fmt.Errorf("sources %q: %w", k, err)}
		}
	}
	if len(c.Sources) > maxListLen {
		return nil, &ConventionsError{Name: p.name, Err: fmt.Errorf("more than %d sources", maxListLen)}
	}
	if err := checkText(c.About, maxTextLen); err != nil {
		return nil, &ConventionsError{Name: p.name, Err: fmt.Errorf("about: %w", err)}
	}
	// An entry without a pattern of its own reads codes with its domain's
	// pattern, which this file must then give.
	patternOf := map[string]string{}
	for _, d := range c.Domains {
		patternOf[d.Domain] = d.Pattern
		for _, a := range d.Also {
			patternOf[a] = d.Pattern
		}
	}
	for i, e := range c.Entries {
		if e.Pattern == "" && e.Rejected == "" && patternOf[e.Domain] == "" {
			return nil, &ConventionsError{Name: p.name, Err: fmt.Errorf("entry %d (%q %q): no pattern, and no domain %q with one in this file", i+1, e.Domain, e.Code, e.Domain)}
		}
	}
	return c, nil
}

func (p *convParser) delim(want json.Delim) error {
	off := p.dec.InputOffset()
	tok, err := p.dec.Token()
	if err != nil && off == 0 {
		if len(bytes.TrimSpace(p.raw)) == 0 {
			return p.errAt(0, "empty input")
		}
		return p.errAt(0, "not a conventions file: want a JSON object")
	}
	if err != nil {
		return p.jsonErr(off, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		if want == '{' && off == 0 {
			return p.errAt(off, "not a conventions file: want a JSON object")
		}
		return p.errAt(off, "want %q, got %v", want, tok)
	}
	return nil
}

func (p *convParser) value(v any) error {
	off := p.dec.InputOffset()
	if err := p.dec.Decode(v); err != nil {
		return p.jsonErr(off, err)
	}
	return nil
}

func (p *convParser) array(limit int, what string, each func(off int64) error) error {
	if err := p.delim('['); err != nil {
		return err
	}
	for n := 0; p.dec.More(); n++ {
		off := p.dec.InputOffset()
		if n == limit {
			return p.errAt(off, "more than %d %s", limit, what)
		}
		// InputOffset is where the previous value ended: step over the
		// comma and spaces so that the line is the element's own.
		for int(off) < len(p.raw) && (p.raw[off] == ',' || p.raw[off] == ' ' || p.raw[off] == '\n' || p.raw[off] == '\t' || p.raw[off] == '\r') {
			off++
		}
		if err := each(off); err != nil {
			return err
		}
	}
	return p.delim(']')
}

func (p *convParser) checkDomain(d *Domain) error {
	if err := checkSuffix(d.Domain); err != nil {
		return err
	}
	if len(d.Also) > maxListLen || len(d.ASN) > maxListLen || len(d.Sources) > maxListLen || len(d.Examples) > maxListLen || len(d.Kinds) > 8 {
		return fmt.Errorf("a list of more than %d items", maxListLen)
	}
	for _, s := range append([]string{d.Domain}, d.Also...) {
		if s != d.Domain {
			if err := checkSuffix(s); err != nil {
				return fmt.Errorf("also: %w", err)
			}
		}
		if p.domains[s] {
			return fmt.Errorf("suffix %q declared twice", s)
		}
		p.domains[s] = true
	}
	if d.Sites != "" {
		if err := checkSuffix(d.Sites); err != nil {
			return fmt.Errorf("sites: %w", err)
		}
	}
	for _, a := range d.ASN {
		if a <= 0 || a > math.MaxUint32 {
			return fmt.Errorf("asn %d out of range", a)
		}
	}
	if d.Pattern == "" && d.Default == nil {
		return errors.New("neither a pattern nor a default place")
	}
	if d.Pattern != "" {
		if err := p.checkPattern(d.Pattern); err != nil {
			return err
		}
	}
	for _, k := range d.Kinds {
		if _, ok := readableKinds[k]; !ok {
			return fmt.Errorf("kind %.20q: want one of iata, icao, clli-like, locode, place", k)
		}
	}
	if d.Default != nil {
		if err := checkPlace(d.Default); err != nil {
			return fmt.Errorf("default: %w", err)
		}
	}
	for k, v := range d.Examples {
		if _, _, ok := checkName(k); !ok {
			return fmt.Errorf("example %.60q is not a host name", k)
		}
		if err := checkText(v, 200); err != nil {
			return fmt.Errorf("example %q: %w", k, err)
		}
	}
	for _, s := range append([]string{d.Operator, d.Note}, d.Sources...) {
		if err := checkText(s, maxTextLen); err != nil {
			return err
		}
	}
	return nil
}

// readableKinds are the kinds a domain may read codes as, beyond its
// entries.
var readableKinds = map[HintKind]bool{KindIATA: true, KindICAO: true, KindCLLI: true, KindLOCODE: true, KindPlace: true}

func (p *convParser) checkEntry(e *Entry) error {
	if err := checkSuffix(e.Domain); err != nil {
		return err
	}
	if e.Code == "" || len(e.Code) > maxLabelLen {
		return errors.New("code: want 1 to 63 characters")
	}
	for i := 0; i < len(e.Code); i++ {
		if c := e.Code[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("code %.20q: want lower-case letters, digits and '-'", e.Code)
		}
	}
	if e.Pattern != "" {
		if err := p.checkPattern(e.Pattern); err != nil {
			return err
		}
	}
	if e.Place == nil {
		if e.Rejected == "" {
			return errors.New("no place (only a rejected entry may omit it)")
		}
	} else if err := checkPlace(e.Place); err != nil {
		return fmt.Errorf("place: %w", err)
	}
	if len(e.Alternatives) > maxAlternatives {
		return fmt.Errorf("more than %d alternatives", maxAlternatives)
	}
	for i := range e.Alternatives {
		if err := checkPlace(&e.Alternatives[i]); err != nil {
			return fmt.Errorf("alternative %d: %w", i+1, err)
		}
	}
	if e.Support < 0 || e.Conflicts < 0 || e.Support > 1e12 || e.Conflicts > 1e12 {
		return errors.New("support and conflicts must be counts")
	}
	if strings.TrimSpace(e.Source) == "" {
		return errors.New("no source")
	}
	for _, s := range []string{e.Source, e.Rejected, e.Note} {
		if err := checkText(s, maxTextLen); err != nil {
			return err
		}
	}
	return nil
}

func (p *convParser) checkPattern(pat string) error {
	if p.patterns[pat] {
		return nil
	}
	if len(p.patterns) == maxPatterns {
		return fmt.Errorf("more than %d distinct patterns", maxPatterns)
	}
	if _, err := compilePattern(pat); err != nil {
		return err
	}
	p.patterns[pat] = true
	return nil
}

// compilePattern compiles a convention's pattern: at most 512 bytes, RE2
// syntax (linear-time matching whatever the input), with a loc group.
func compilePattern(pat string) (*regexp.Regexp, error) {
	if len(pat) > maxPatternLen {
		return nil, fmt.Errorf("pattern longer than %d bytes", maxPatternLen)
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, fmt.Errorf("pattern: %w", err)
	}
	if re.SubexpIndex("loc") < 0 {
		return nil, errors.New("pattern has no (?P<loc>...) group")
	}
	return re, nil
}

// checkSuffix accepts a lower-case DNS suffix of at least two labels.
func checkSuffix(s string) error {
	clean, upper, ok := checkName(s)
	if !ok || upper || clean != s || !strings.Contains(s, ".") {
		return fmt.Errorf("domain %.60q: want a lower-case DNS suffix of two labels or more", s)
	}
	return nil
}

func checkPlace(p *Place) error {
	if err := checkText(p.Name, 200); err != nil {
		return err
	}
	if strings.TrimSpace(p.Name) == "" {
		return errors.New("no name")
	}
	if len(p.Country) != 2 || p.Country[0] < 'A' || p.Country[0] > 'Z' || p.Country[1] < 'A' || p.Country[1] > 'Z' {
		return fmt.Errorf("country %.10q: want an ISO 3166-1 alpha-2 code in upper case", p.Country)
	}
	if err := checkText(p.Region, 10); err != nil {
		return fmt.Errorf("region: %w", err)
	}
	if !(p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180) {
		return fmt.Errorf("coordinates %v,%v off the Earth", p.Lat, p.Lon)
	}
	if p.Population < 0 {
		return errors.New("negative population")
	}
	return nil
}

// checkText accepts valid UTF-8 without control characters, at most n
// bytes: text of the file ends up in terminals and HTML.
func checkText(s string, n int) error {
	if len(s) > n {
		return fmt.Errorf("text longer than %d bytes", n)
	}
	if !utf8.ValidString(s) {
		return errors.New("text is not UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) {
			return fmt.Errorf("control character %U in text", r)
		}
	}
	return nil
}

// WriteJSON writes c in the reviewable form [ReadConventions] reads: the
// header members indented, then one domain after another, then one entry a
// line, so that a diff of two files shows which codes changed.
func (c *Conventions) WriteJSON(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString("{\n  \"format\": ")
	writeJSONValue(&b, ConventionsFormat, "")
	if c.About != "" {
		b.WriteString(",\n  \"about\": ")
		writeJSONValue(&b, c.About, "")
	}
	if len(c.Sources) > 0 {
		b.WriteString(",\n  \"sources\": ")
		writeJSONValue(&b, c.Sources, "  ")
	}
	// items writes n array elements, one a line.
	items := func(n int, each func(i int)) {
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("\n    ")
			each(i)
		}
		if n > 0 {
			b.WriteString("\n  ")
		}
	}
	b.WriteString(",\n  \"domains\": [")
	items(len(c.Domains), func(i int) { writeJSONValue(&b, &c.Domains[i], "    ") })
	b.WriteString("],\n  \"entries\": [")
	items(len(c.Entries), func(i int) { writeJSONValue(&b, &c.Entries[i], "") })
	b.WriteString("]\n}\n")
	_, err := w.Write(b.Bytes())
	return err
}

// writeJSONValue marshals v without HTML escaping (patterns hold '<' and
// '>'), indented from prefix when prefix is not empty, else on one line.
func writeJSONValue(b *bytes.Buffer, v any, prefix string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if prefix != "" {
		enc.SetIndent(prefix, "  ")
	}
	// Every value here marshals: plain structs, strings and maps.
	_ = enc.Encode(v)
	b.Truncate(b.Len() - 1) // Encode's newline
}
