package geoloc

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/geoloc-dev/geoloc/internal/countries"
)

// MinCountryConfidence is the confidence (HopResult.CountryConfidence, else
// Confidence) from which a hop's own placement names the country it stands
// in. Below it, the hop is listed as uncertain, with the countries its
// evidence still allows. It is set from the accuracy benchmark's country
// calibration (internal/accuracy TestCountryCalibration, on seeds the
// engine was not developed on): in every band of country confidence from
// here up, nine hops in ten or more stand in the country named.
const MinCountryConfidence = 0.45

// maxCountryRadiusKm is the largest placement radius that still names a
// country on its own: a latency-only region of 400 km spans borders in most
// of the world.
const maxCountryRadiusKm = 300

// UncertainHop is a hop too uncertain to name the country it stands in.
type UncertainHop struct {
	TTL  int        `json:"ttl"`
	Addr netip.Addr `json:"addr"`
	// Countries are the countries (ISO 3166-1 alpha-2) its placement and
	// surviving evidence allow, the placement's first.
	Countries []string `json:"countries"`
}

// Network is an autonomous system a trace crosses.
type Network struct {
	ASN uint32 `json:"asn"`
	Org string `json:"org,omitempty"`
	// FromTTL and ToTTL are the first and last hops of the run.
	FromTTL int `json:"from_ttl"`
	ToTTL   int `json:"to_ttl"`
}

// Crossing is what a trace crossed: the one rule for "countries crossed",
// used by the engine and every writer.
type Crossing struct {
	// Countries crossed in order, consecutive repeats folded: only hops
	// whose evidence places them in a country with adequate confidence
	// count (see CountryOf).
	Countries []string
	// Uncertain are the hops that may add a country but are too unsure to
	// name one; they are neither added to Countries nor silently dropped.
	Uncertain []UncertainHop
	// Networks are the ASes of the responding public hops in order,
	// consecutive repeats folded.
	Networks []Network
}

// Crossed applies the countries rule to the hops of one trace (in TTL
// order, as TraceResult.Hops holds them). The engine fills TraceResult's
// Countries, CountriesUncertain and Networks with it; readers of results
// written by older versions call it to get the same answer.
func Crossed(hops []HopResult) Crossing {
	out := Crossing{Countries: []string{}}
	// Of several addresses at one TTL (ECMP), those in the country the
	// path is already in count first, so load balancing across a border
	// does not read as leaving and coming back.
	for i := 0; i < len(hops); {
		j := i + 1
		for j < len(hops) && hops[j].TTL == hops[i].TTL {
			j++
		}
		var cur string
		if n := len(out.Countries); n > 0 {
			cur = out.Countries[n-1]
		}
		for pass := range 2 {
			for k := i; k < j; k++ {
				cc, sure := CountryOf(&hops[k])
				if !sure || (pass == 0) != (cc == cur) {
					continue
				}
				if n := len(out.Countries); n == 0 || out.Countries[n-1] != cc {
					out.Countries = append(out.Countries, cc)
				}
			}
		}
		i = j
	}
	for i := range hops {
		h := &hops[i]
		if h.ASN == 0 {
			continue
		}
		if n := len(out.Networks); n > 0 && out.Networks[n-1].ASN == h.ASN {
			out.Networks[n-1].ToTTL = h.TTL
			if out.Networks[n-1].Org == "" {
				out.Networks[n-1].Org = h.ASOrg
			}
			continue
		}
		out.Networks = append(out.Networks, Network{ASN: h.ASN, Org: h.ASOrg, FromTTL: h.TTL, ToTTL: h.TTL})
	}
	for i := range hops {
		h := &hops[i]
		if _, sure := CountryOf(h); sure {
			continue
		}
		ccs := possibleCountries(h)
		if len(ccs) == 0 {
			continue
		}
		// A hop that could only stand in countries crossed anyway (a
		// neighbour-placed copy of a sure hop, a country-level guess)
		// adds nothing to the answer.
		if !slices.ContainsFunc(ccs, func(cc string) bool { return !slices.Contains(out.Countries, cc) }) {
			continue
		}
		out.Uncertain = append(out.Uncertain, UncertainHop{TTL: h.TTL, Addr: h.Addr, Countries: ccs})
	}
	return out
}

// CountryOf is the country a hop's placement names and whether it names it
// with adequate confidence: a hop placed from its own evidence (not a
// neighbour's, not anycast), with a radius that does not span borders and a
// confidence of at least MinCountryConfidence.
func CountryOf(h *HopResult) (string, bool) {
	l := h.Location
	cc := LocationCountry(l)
	if cc == "" {
		return "", false
	}
	if h.Inferred || h.Anycast || l.RadiusKm > maxCountryRadiusKm {
		return cc, false
	}
	conf := h.Confidence
	if h.CountryConfidence > conf {
		conf = h.CountryConfidence
	}
	return cc, conf >= MinCountryConfidence
}

// possibleCountries lists the countries a hop may stand in: its placement's,
// then those of its surviving evidence.
func possibleCountries(h *HopResult) []string {
	var out []string
	add := func(cc string) {
		cc = strings.ToUpper(cc)
		if cc != "" && !slices.Contains(out, cc) {
			out = append(out, cc)
		}
	}
	add(LocationCountry(h.Location))
	for _, ev := range h.Evidence {
		if ev.Status != StatusRuledOut {
			add(ev.Country)
		}
	}
	return out
}

// setCrossing fills r's Countries, CountriesUncertain and Networks from its
// hops.
func (r *TraceResult) setCrossing() {
	c := Crossed(r.Hops)
	r.Countries, r.CountriesUncertain, r.Networks = c.Countries, c.Uncertain, c.Networks
}

// LocationCountry is the country of a location: its own country code
// (upper-cased), else the embedded outline containing its point (or the
// nearest within a coast's width), else "".
func LocationCountry(l *Location) string {
	if l == nil {
		return ""
	}
	if cc := validCC(l.Country); cc != "" {
		return cc
	}
	cc, _ := countries.At(l.Lat, l.Lon)
	return cc
}

// validCC upper-cases a two-letter country code; "" when it is not one.
func validCC(s string) string {
	cc := strings.ToUpper(s)
	if len(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' {
		return ""
	}
	return cc
}
