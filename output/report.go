// The countries-crossed report answers "which countries and which
// organisations saw this traffic?" for a set of geolocated traces: per
// trace the ordered countries its located hops stand in (point in polygon
// over Natural Earth outlines, see internal/countries), with the
// confidence of the hops behind each, and a flag when a path leaves a
// country and comes back (tromboning); over all traces, the countries and
// organisations on the way and for how many of the destinations.

package output

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
	"github.com/geoloc-dev/geoloc/internal/style"
)

// TraceCountries is the countries-crossed answer for one trace: the
// countries in order ([CountryStep]s), tromboning, located and unlocated
// hop counts.
type TraceCountries = style.Path

// CountryStep is one country on a path: consecutive located hops in the
// same country fold into one step.
type CountryStep = style.Step

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
	Traces        []TraceCountries `json:"traces"`
	Destinations  int              `json:"destinations"`
	Countries     []Exposure       `json:"countries"`
	Organisations []Exposure       `json:"organisations"`
}

func round(x float64) float64 { return style.Round(x, 3) }

type tally struct {
	name   string
	dests  map[string]bool
	traces int
	hops   int
	conf   float64
}

// BuildReport computes the countries-crossed report for a set of traces (nil entries are skipped).
func BuildReport(results []*geoloc.TraceResult) *Report {
	return BuildReportSeq(slices.All(results))
}

// BuildReportSeq is BuildReport for results given as a sequence of
// (position, result), such as a Stream's spool.
func BuildReportSeq(results Results) *Report {
	r := &Report{Traces: []TraceCountries{}, Countries: []Exposure{}, Organisations: []Exposure{}}
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
		t := style.ForTrace(tr, i)
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
