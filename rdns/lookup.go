package rdns

import (
	"slices"
	"strings"

	"github.com/geoloc-dev/geoloc/internal/fold"
)

// Place is a populated place of the embedded dictionaries.
type Place struct {
	Name       string  `json:"name"`             // "Frankfurt am Main"
	Region     string  `json:"region,omitempty"` // first-level region code where known ("HE")
	Country    string  `json:"country"`          // ISO 3166-1 alpha-2, upper case
	Lat        float64 `json:"lat"`              // degrees, WGS84
	Lon        float64 `json:"lon"`
	Population int     `json:"population,omitempty"`
}

// LookupPlace finds a place by its name as people write it ("São Paulo",
// "Sao Paulo", "München", "Muenchen", "new york"): the name is folded to the
// ASCII spellings of the dictionary (accents dropped, umlauts both as base
// letter and as ue/oe/ae, ß as ss, spaces and punctuation removed). Of the
// places so spelled, the most populous one is returned; with country (ISO
// 3166-1 alpha-2, any case, "UK" for GB) only places there count, and with
// region (the subdivision code of ISO 3166-2 without the country, "CA" for
// California; "US-CA" is accepted too) places in another region of that
// country are skipped. Places whose region is unknown are not ruled out by
// region. ok is false when nothing fits, including names in non-Latin
// scripts and names longer than a host name may be (253 bytes).
func LookupPlace(name, region, country string) (Place, bool) {
	if len(name) > maxNameLen {
		// No place name is that long; folding one would cost time for
		// nothing.
		return Place{}, false
	}
	sp := spellingsOf(name)
	if len(sp) == 0 {
		return Place{}, false
	}
	cc := ""
	if country != "" {
		cc = countryOf(strings.ToLower(strings.TrimSpace(country)))
	}
	region = strings.TrimSpace(region)
	if i := strings.IndexByte(region, '-'); i >= 0 {
		region = region[i+1:]
	}
	d := loadDict()
	best := int32(-1)
	for _, s := range sp {
		for _, id := range d.spell[s] {
			p := &d.places[id]
			if cc != "" && p.cc != cc {
				continue
			}
			if region != "" && p.region != "" && !strings.EqualFold(p.region, region) {
				continue
			}
			// Lists are sorted by population: the first fit is the best
			// for this spelling.
			if best < 0 || p.pop > d.places[best].pop {
				best = id
			}
			break
		}
	}
	if best < 0 {
		return Place{}, false
	}
	p := &d.places[best]
	return Place{Name: p.name, Region: p.region, Country: p.cc, Lat: p.lat, Lon: p.lon, Population: p.pop}, true
}

// LookupCode reads one location code standing alone, as a user types it
// ("FRA", "nyc", "EDDF", "DEFRA", "frnkge"): a 3-letter IATA metropolitan or
// airport code, a 4-letter ICAO code, a 5-letter UN/LOCODE or a 6-letter
// CLLI-style city code. Hints come ranked as from [Hints], best first; nil
// means the code is unknown. Unlike Hints, which reads router names, every
// airport counts here, not only those with scheduled service, since the user
// said that it is a code.
func LookupCode(code string) []Hint {
	code = strings.ToLower(strings.TrimSpace(code))
	if !isAlpha(code) {
		return nil
	}
	c := &ctx{d: loadDict()}
	switch len(code) {
	case 3:
		c.iata(code, code, kindConfidence[KindIATA], 0)
	case 4:
		c.icao(code, code, kindConfidence[KindICAO], 0)
	case 5:
		c.locode(code, code, kindConfidence[KindLOCODE], 0)
	case 6:
		c.clli(code, code, kindConfidence[KindCLLI], 1000)
	}
	return c.finish()
}

// spellingsOf folds a place name into the dictionary's spelling form, the
// way internal/dictgen spells the names it writes: ASCII lower-case letters
// and digits, nothing else ("São Paulo" → saopaulo); letters with two
// customary spellings give two variants (München → muenchen, munchen). A
// letter of no Latin script gives no spelling at all.
func spellingsOf(name string) []string {
	var out []string
	for _, v := range fold.Variants(strings.ToLower(name)) {
		if s := squeeze(v); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// squeeze keeps ASCII letters and digits.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// spellingOf turns a place name into the dictionary's spelling form (ASCII
// letters, lower case, no spaces).
func spellingOf(name string) string {
	return asciiLetters(strings.ToLower(name))
}
