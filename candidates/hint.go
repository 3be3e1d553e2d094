package candidates

import (
	"github.com/geoloc-dev/geoloc/rdns"
)

// DefaultHintRadiusKm is the radius given to a hint of each kind: how far
// from the code's reference point a router named after it usually is. An
// airport code names a metro area (airports sit outside the city they
// serve); a CLLI or LOCODE names the town itself; an operator's site code
// names a metro as well, and so does an abbreviation read without a
// dictionary (the town it abbreviates).
var defaultHintRadiusKm = map[rdns.HintKind]float64{
	rdns.KindIATA:         50,
	rdns.KindICAO:         50,
	rdns.KindCLLI:         30,
	rdns.KindLOCODE:       30,
	rdns.KindPlace:        30,
	rdns.KindOperatorSite: 50,
	rdns.KindAbbrev:       30,
}

// HintRadiusKm returns the default radius for a hint kind (50 km for a kind
// it does not know).
func HintRadiusKm(k rdns.HintKind) float64 {
	if r, ok := defaultHintRadiusKm[k]; ok {
		return r
	}
	return 50
}

// HintSourceName is the Name of a HintSource; candidates carry
// "hint:<kind>" as their Source.
const HintSourceName = "hints"

// HintSource is a Source that turns the hints read from a router's name
// (Query.Hints) into KindHint candidates, in the hints' order. A hint with
// a country but no coordinates becomes a country-sized KindHint candidate
// at the country's centroid. The zero value is ready to use.
type HintSource struct {
	// RadiusKm overrides the radius per hint kind; kinds not in it get
	// HintRadiusKm.
	RadiusKm map[rdns.HintKind]float64
	// Max caps the number of candidates per query; 0 means all.
	Max int
}

// Name implements Source.
func (HintSource) Name() string { return HintSourceName }

// Lookup implements Source. It never fails.
func (h HintSource) Lookup(q Query) (Answer, error) {
	if len(q.Hints) == 0 {
		return Answer{}, nil
	}
	out := make([]Candidate, 0, len(q.Hints))
	for i := range q.Hints {
		if h.Max > 0 && len(out) >= h.Max {
			break
		}
		hint := q.Hints[i]
		c := Candidate{
			Lat: hint.Lat, Lon: hint.Lon,
			City: hint.Place, Region: hint.Region, Country: hint.Country,
			Source: "hint:" + string(hint.Kind), Kind: KindHint, Hint: &hint,
		}
		r, ok := h.RadiusKm[hint.Kind]
		if !ok {
			r = HintRadiusKm(hint.Kind)
		}
		c.RadiusKm = r
		if hint.Lat == 0 && hint.Lon == 0 {
			cc, ok := LookupCountry(hint.Country)
			if !ok {
				continue // nowhere to put it
			}
			c.Lat, c.Lon, c.RadiusKm = cc.Lat, cc.Lon, cc.RadiusKm
		}
		out = append(out, c)
	}
	return Answer{Candidates: out}, nil
}
