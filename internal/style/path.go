package style

import (
	"slices"
	"strconv"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/countries"
)

// The countries a trace's located hops stand in, as the writers show them
// (KML descriptions, HTML, SVG, the countries report). It lives here, not in
// package output, because kml needs it and output imports kml.

// Step is one country on a path: consecutive located hops in the same
// country fold into one step.
type Step struct {
	Country string `json:"country"` // ISO 3166-1 alpha-2
	Name    string `json:"name,omitempty"`
	FromTTL int    `json:"from_ttl"`
	ToTTL   int    `json:"to_ttl"`
	Hops    int    `json:"hops"`
	// MinConfidence and MeanConfidence summarise the confidences of the
	// hops behind this step: a country seen only through one weak guess is
	// not the same as one seen through five named routers.
	MinConfidence  float64 `json:"min_confidence"`
	MeanConfidence float64 `json:"mean_confidence"`
}

// Path is the countries-crossed answer for one trace.
type Path struct {
	Title       string `json:"trace"`
	Destination string `json:"destination"`
	Steps       []Step `json:"steps"`
	// Countries is Steps' country codes in order (what TraceResult.Countries
	// holds).
	Countries []string `json:"countries"`
	// Trombone is true when the path leaves a country and comes back;
	// Returns lists the countries re-entered.
	Trombone bool     `json:"trombone"`
	Returns  []string `json:"returns,omitempty"`
	// Uncertain are the hops that may add a country but are too unsure to
	// name one (geoloc.Crossed).
	Uncertain []geoloc.UncertainHop `json:"uncertain,omitempty"`
	Located   int                   `json:"located"`
	// Unlocated counts the hops with no location (not in any step).
	Unlocated int `json:"unlocated"`
}

// CountryOf is the country a located hop stands in (geoloc.LocationCountry):
// the outline that contains its position (or the nearest within
// countries.CoastKm), else the country the engine recorded, else "".
func CountryOf(l *geoloc.Location) string { return geoloc.LocationCountry(l) }

// ForTrace computes the countries crossed by one trace. Hops are taken in
// TTL order. Of several addresses at one TTL (ECMP), those in the country
// the path is already in come first, so load balancing across a border
// does not read as a detour.
//
// Trombone is set for a country the path is in at some TTL, then at a
// later TTL wholly outside it (every located address elsewhere), then in
// it again: an ECMP alternative abroad alone does not count.
func ForTrace(tr *geoloc.TraceResult, i int) Path {
	t := Path{Title: Sanitize(TraceTitle(tr, i), 255), Destination: DestKey(tr, i), Steps: []Step{}, Countries: []string{}}
	type located struct {
		h  *geoloc.HopResult
		cc string
	}
	var ttls []int
	byTTL := map[int][]located{}
	for j := range tr.Hops {
		h := &tr.Hops[j]
		// geoloc's one countries rule decides which hops name a country;
		// the rest are unlocated here or listed as uncertain.
		cc, sure := geoloc.CountryOf(h)
		if !Located(h) || cc == "" {
			t.Unlocated++
			continue
		}
		if !sure {
			continue
		}
		t.Located++
		if _, ok := byTTL[h.TTL]; !ok {
			ttls = append(ttls, h.TTL)
		}
		byTTL[h.TTL] = append(byTTL[h.TTL], located{h, cc})
	}
	slices.Sort(ttls)
	var sums []float64
	for _, ttl := range ttls {
		group := byTTL[ttl]
		if n := len(t.Steps); n > 0 {
			cur := t.Steps[n-1].Country
			slices.SortStableFunc(group, func(a, b located) int {
				switch {
				case a.cc == cur && b.cc != cur:
					return -1
				case a.cc != cur && b.cc == cur:
					return 1
				}
				return 0
			})
		}
		for _, l := range group {
			h := l.h
			if n := len(t.Steps); n > 0 && t.Steps[n-1].Country == l.cc {
				s := &t.Steps[n-1]
				s.ToTTL = h.TTL
				s.Hops++
				s.MinConfidence = min(s.MinConfidence, h.Confidence)
				sums[n-1] += h.Confidence
				continue
			}
			t.Steps = append(t.Steps, Step{Country: l.cc, Name: countries.Name(l.cc), FromTTL: h.TTL, ToTTL: h.TTL, Hops: 1, MinConfidence: h.Confidence})
			sums = append(sums, h.Confidence)
		}
	}
	for k := range t.Steps {
		s := &t.Steps[k]
		s.MeanConfidence = round3(sums[k] / float64(s.Hops))
		s.MinConfidence = round3(s.MinConfidence)
		t.Countries = append(t.Countries, s.Country)
	}
	t.Uncertain = geoloc.Crossed(tr.Hops).Uncertain
	// Tromboning, per country: in it, then a TTL wholly outside, then in
	// it again.
	for _, cc := range t.Countries {
		if slices.Contains(t.Returns, cc) {
			continue
		}
		state := 0 // 0 not yet in cc, 1 in cc, 2 left cc
		for _, ttl := range ttls {
			in := slices.ContainsFunc(byTTL[ttl], func(l located) bool { return l.cc == cc })
			switch {
			case in && state == 2:
				t.Trombone = true
				t.Returns = append(t.Returns, cc)
				state = 3
			case in:
				state = 1
			case state == 1:
				state = 2
			}
			if state == 3 {
				break
			}
		}
	}
	return t
}

func round3(x float64) float64 { return Round(x, 3) }

// DestKey identifies a destination across traces: its address, else its
// name, else the trace's position.
func DestKey(tr *geoloc.TraceResult, i int) string {
	if tr.Destination.Addr.IsValid() {
		return tr.Destination.Addr.String()
	}
	if tr.Destination.Name != "" {
		return Sanitize(tr.Destination.Name, 255)
	}
	return "trace " + strconv.Itoa(i+1)
}
