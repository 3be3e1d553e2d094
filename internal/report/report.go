// Package report answers "which countries and which organisations saw this
// traffic?" for a set of geolocated traces: per trace the ordered countries
// its located hops stand in (point in polygon over Natural Earth outlines,
// see internal/countries), with the confidence of the hops behind each, and
// a flag when a path leaves a country and comes back (tromboning); over all
// traces, the countries and organisations on the way and for how many of
// the destinations.
package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/countries"
	"github.com/geoloc-dev/geoloc/internal/output/style"
)

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

// Trace is the countries-crossed answer for one trace.
type Trace struct {
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

// Exposure is one country or organisation and how much of the traffic it
// saw.
type Exposure struct {
	Key  string `json:"key"`  // ISO code or "AS<n>"
	Name string `json:"name"` // country name or organisation
	// Destinations is the number of distinct destinations whose path it
	// saw; Traces the number of traces; Hops the located (for countries) or
	// responding (for organisations) hops.
	Destinations int `json:"destinations"`
	Traces       int `json:"traces"`
	Hops         int `json:"hops"`
	// MeanConfidence is over the hops counted in Hops.
	MeanConfidence float64 `json:"mean_confidence"`
}

// Report is the countries-crossed report for a set of traces.
type Report struct {
	Traces        []Trace    `json:"traces"`
	Destinations  int        `json:"destinations"`
	Countries     []Exposure `json:"countries"`
	Organisations []Exposure `json:"organisations"`
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
func ForTrace(tr *geoloc.TraceResult, i int) Trace {
	t := Trace{Title: style.Sanitize(style.TraceTitle(tr, i), 255), Destination: destKey(tr, i), Steps: []Step{}, Countries: []string{}}
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
		if !style.Located(h) || cc == "" {
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
		s.MeanConfidence = round(sums[k] / float64(s.Hops))
		s.MinConfidence = round(s.MinConfidence)
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

func round(x float64) float64 { return style.Round(x, 3) }

// destKey identifies a destination across traces: its address, else its
// name, else the trace's position.
func destKey(tr *geoloc.TraceResult, i int) string {
	if tr.Destination.Addr.IsValid() {
		return tr.Destination.Addr.String()
	}
	if tr.Destination.Name != "" {
		return style.Sanitize(tr.Destination.Name, 255)
	}
	return "trace " + strconv.Itoa(i+1)
}

type tally struct {
	name   string
	dests  map[string]bool
	traces int
	hops   int
	conf   float64
}

// Build computes the report for a set of traces (nil entries are skipped).
func Build(results []*geoloc.TraceResult) *Report {
	r := &Report{Traces: []Trace{}, Countries: []Exposure{}, Organisations: []Exposure{}}
	byCountry := map[string]*tally{}
	byOrg := map[string]*tally{}
	dests := map[string]bool{}
	get := func(m map[string]*tally, key, name string) *tally {
		t := m[key]
		if t == nil {
			t = &tally{name: name, dests: map[string]bool{}}
			m[key] = t
		}
		if t.name == "" {
			t.name = name
		}
		return t
	}
	for i, tr := range results {
		if tr == nil {
			continue
		}
		t := ForTrace(tr, i)
		r.Traces = append(r.Traces, t)
		dests[t.Destination] = true
		for _, s := range t.Steps {
			c := get(byCountry, s.Country, s.Name)
			c.hops += s.Hops
			c.conf += s.MeanConfidence * float64(s.Hops)
			c.dests[t.Destination] = true
		}
		for _, cc := range uniq(t.Countries) {
			byCountry[cc].traces++
		}
		orgsSeen := map[string]bool{}
		for j := range tr.Hops {
			h := &tr.Hops[j]
			if h.ASN == 0 && h.ASOrg == "" {
				continue
			}
			key := "AS" + strconv.FormatUint(uint64(h.ASN), 10)
			if h.ASN == 0 {
				key = style.Sanitize(h.ASOrg, 80)
			}
			o := get(byOrg, key, style.Sanitize(h.ASOrg, 80))
			o.hops++
			o.conf += h.Confidence
			o.dests[t.Destination] = true
			if !orgsSeen[key] {
				orgsSeen[key] = true
				o.traces++
			}
		}
	}
	r.Destinations = len(dests)
	r.Countries = exposures(byCountry)
	r.Organisations = exposures(byOrg)
	return r
}

func uniq(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

func exposures(m map[string]*tally) []Exposure {
	out := make([]Exposure, 0, len(m))
	for k, t := range m {
		e := Exposure{Key: k, Name: t.name, Destinations: len(t.dests), Traces: t.traces, Hops: t.hops}
		if t.hops > 0 {
			e.MeanConfidence = round(t.conf / float64(t.hops))
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Exposure) int {
		return cmp.Or(cmp.Compare(b.Destinations, a.Destinations), cmp.Compare(b.Hops, a.Hops), cmp.Compare(a.Key, b.Key))
	})
	return out
}

// WriteJSON writes the report as one indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report as aligned plain text for a terminal: one
// line per trace with its countries, then the countries and organisations
// by the number of destinations they saw. Every network string is
// sanitised (no escape sequences reach the terminal).
func (r *Report) WriteTable(w io.Writer) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TRACE\tCOUNTRIES (min confidence)\tTROMBONE")
	for _, t := range r.Traces {
		var parts []string
		for _, s := range t.Steps {
			parts = append(parts, s.Country+"("+strconv.FormatFloat(s.MinConfidence, 'f', 2, 64)+")")
		}
		path := strings.Join(parts, " > ")
		if path == "" {
			path = "-"
		}
		if t.Unlocated > 0 {
			path += fmt.Sprintf(" [%d unlocated]", t.Unlocated)
		}
		trombone := ""
		if t.Trombone {
			trombone = "yes: " + strings.Join(t.Returns, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", clip(t.Title, 48), path, trombone)
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "COUNTRY\tDESTINATIONS (of %d)\tTRACES\tHOPS\tMEAN CONFIDENCE\n", r.Destinations)
	for _, c := range r.Countries {
		fmt.Fprintf(tw, "%s %s\t%d\t%d\t%d\t%.2f\n", c.Key, clip(c.Name, 32), c.Destinations, c.Traces, c.Hops, c.MeanConfidence)
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "ORGANISATION\tDESTINATIONS (of %d)\tTRACES\tHOPS\tMEAN CONFIDENCE\n", r.Destinations)
	for _, o := range r.Organisations {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.2f\n", clip(style.ASLabel(asnOf(o.Key), o.Name), 48), o.Destinations, o.Traces, o.Hops, o.MeanConfidence)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Drop the padding tabwriter leaves after a short last cell.
	var out bytes.Buffer
	for line := range strings.Lines(buf.String()) {
		out.WriteString(strings.TrimRight(line, " \n"))
		out.WriteByte('\n')
	}
	_, err := w.Write(out.Bytes())
	return err
}

func asnOf(key string) uint32 {
	n, err := strconv.ParseUint(strings.TrimPrefix(key, "AS"), 10, 32)
	if err != nil || !strings.HasPrefix(key, "AS") {
		return 0
	}
	return uint32(n)
}

// clip sanitises s (tabs and escape sequences included, which would break
// the alignment or the terminal) and cuts it to n runes.
func clip(s string, n int) string { return style.Sanitize(s, n) }
