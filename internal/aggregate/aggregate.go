// Package aggregate folds a batch of traces of any size into what a map of
// the batch needs: each distinct placed point once and each distinct
// directed link between consecutive placed hops once, with the number of
// traces through it, and the traces per country crossed. Memory grows with
// the distinct links and points, not with the traces, and is capped.
//
// It lives here, not in package output, because package kml draws it too
// and output imports kml; output.Aggregate is this type.
package aggregate

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/countries"
	"github.com/geoloc-dev/geoloc/internal/style"
)

// DefaultMaxLinks is the cap on distinct links (and, separately, on distinct
// points) when Options.MaxLinks is 0: about 100 bytes each, a few MB.
const DefaultMaxLinks = 50000

// Precision is the number of decimals of a point's position: hops within
// about a kilometre of each other, in the same country and AS, are one
// point (one router room, one city's routers of an operator).
const Precision = 2

// Options tune an Aggregate.
type Options struct {
	// MaxLinks caps the distinct links and, separately, the distinct
	// points kept; 0 means DefaultMaxLinks. Beyond it the least-used are
	// dropped (a quarter at a time, fewest traces first) and counted in
	// DroppedLinks, DroppedPoints.
	MaxLinks int
	// Note, when set, is called once, the first time links or points are
	// dropped at the cap, with a one-line explanation.
	Note func(string)
}

// key identifies a point: its rounded position, country, AS and whether it
// is a route's start rather than a hop.
type key struct {
	lat, lon int32 // position × 10^Precision
	cc       [2]byte
	asn      uint32
	start    bool
}

type linkKey struct{ from, to key }

type point struct {
	org, city string
	traces    int
	uncertain int
	inferred  int
	lastTrace int // the trace that last counted it (one count per trace)
}

// Point is a distinct place the batch's routes pass through.
type Point struct {
	Lat, Lon float64 // rounded to Precision decimals
	// Country is the ISO 3166-1 alpha-2 code of the place
	// (geoloc.LocationCountry), "" when unknown.
	Country string
	ASN     uint32
	Org     string // the AS's organisation, first seen, sanitised
	City    string // first seen, sanitised
	// Start is a route's start (a source's position or a vantage point)
	// rather than a hop.
	Start bool
	// Traces is the number of traces through the point; Uncertain the
	// number of those in which its hop is drawn uncertain (low confidence,
	// placed from neighbours, or too unsure to name its country) or, for a
	// start, was inferred by the engine.
	Traces, Uncertain int
}

// Link is a distinct directed link between consecutive placed hops (or a
// start and the first hop), with the number of traces that take it.
type Link struct {
	From, To Point
	Traces   int
}

// CountryCount is a country crossed (by the engine's countries rule,
// geoloc.Crossed) and the number of traces that cross it.
type CountryCount struct {
	Country string `json:"country"`
	Name    string `json:"name"`
	Traces  int    `json:"traces"`
}

// Aggregate consumes traces one at a time (Add) and keeps only their
// distinct points and links, with counts. The zero value is not ready: use
// New.
type Aggregate struct {
	opts      Options
	max       int
	points    map[key]*point
	links     map[linkKey]*linkVal
	countries map[string]int
	traces    int
	hops      int
	located   int
	noted     bool
	// Dropped at the cap: entries and the trace counts they held.
	droppedLinks, droppedLinkTraces, droppedPoints int
}

type linkVal struct {
	traces    int
	lastTrace int
}

// New returns an empty Aggregate.
func New(o Options) *Aggregate {
	m := o.MaxLinks
	if m <= 0 {
		m = DefaultMaxLinks
	}
	return &Aggregate{opts: o, max: m, points: map[key]*point{}, links: map[linkKey]*linkVal{}, countries: map[string]int{}}
}

func round(x float64) int32 {
	return int32(math.Round(x * math.Pow10(Precision)))
}

func ccBytes(cc string) [2]byte {
	var b [2]byte
	if len(cc) == 2 {
		copy(b[:], cc)
	}
	return b
}

// Add folds one trace in. A nil trace is skipped. Add reads tr and keeps
// nothing of it but strings it copies (organisation and city names, once
// per point).
func (a *Aggregate) Add(tr *geoloc.TraceResult) {
	if tr == nil {
		return
	}
	a.traces++
	id := a.traces
	for _, cc := range uniq(geoloc.Crossed(tr.Hops).Countries) {
		a.countries[cc]++
	}
	hopKey := make([]key, len(tr.Hops))
	for j := range tr.Hops {
		h := &tr.Hops[j]
		a.hops++
		if !style.Located(h) {
			continue
		}
		a.located++
		k := key{lat: round(h.Location.Lat), lon: round(h.Location.Lon), cc: ccBytes(geoloc.LocationCountry(h.Location)), asn: h.ASN}
		hopKey[j] = k
		a.countPoint(k, id, style.DrawUncertain(tr, h), h.ASOrg, h.Location.City)
	}
	var startKey key
	if lat, lon, inferred, ok := style.Start(tr); ok {
		startKey = key{lat: round(lat), lon: round(lon), start: true}
		a.countPoint(startKey, id, inferred, "", "")
	}
	for _, ln := range style.Lines(tr) {
		var prev key
		have := false
		if ln.Source {
			prev, have = startKey, true
		}
		for _, j := range ln.Hops {
			k := hopKey[j]
			// A link between two points in one place (a start at its first
			// hop, ECMP across ASes in one room) has no length to draw.
			if have && (prev.lat != k.lat || prev.lon != k.lon) {
				a.countLink(linkKey{prev, k}, id)
			}
			prev, have = k, true
		}
	}
	a.prune()
}

func (a *Aggregate) countPoint(k key, id int, uncertain bool, org, city string) {
	p := a.points[k]
	if p == nil {
		p = &point{org: style.Sanitize(org, 80), city: style.Sanitize(city, 80)}
		a.points[k] = p
	}
	if p.org == "" && org != "" {
		p.org = style.Sanitize(org, 80)
	}
	if p.city == "" && city != "" {
		p.city = style.Sanitize(city, 80)
	}
	if p.lastTrace == id {
		return // an ECMP sibling in the same place: one trace, one count
	}
	p.lastTrace = id
	p.traces++
	if uncertain {
		p.uncertain++
	}
}

func (a *Aggregate) countLink(k linkKey, id int) {
	l := a.links[k]
	if l == nil {
		l = &linkVal{}
		a.links[k] = l
	}
	if l.lastTrace == id {
		return
	}
	l.lastTrace = id
	l.traces++
}

// prune drops the least-used links (and points) down to three quarters of
// the cap when there are more than the cap.
func (a *Aggregate) prune() {
	if len(a.links) > a.max {
		type kv struct {
			k linkKey
			n int
		}
		all := make([]kv, 0, len(a.links))
		for k, v := range a.links {
			all = append(all, kv{k, v.traces})
		}
		slices.SortFunc(all, func(x, y kv) int {
			return cmp.Or(cmp.Compare(x.n, y.n), compareKey(x.k.from, y.k.from), compareKey(x.k.to, y.k.to))
		})
		for _, e := range all[:len(all)-a.max*3/4] {
			delete(a.links, e.k)
			a.droppedLinks++
			a.droppedLinkTraces += e.n
		}
		a.note()
	}
	if len(a.points) > a.max {
		type kv struct {
			k key
			n int
		}
		all := make([]kv, 0, len(a.points))
		for k, v := range a.points {
			all = append(all, kv{k, v.traces})
		}
		slices.SortFunc(all, func(x, y kv) int { return cmp.Or(cmp.Compare(x.n, y.n), compareKey(x.k, y.k)) })
		for _, e := range all[:len(all)-a.max*3/4] {
			delete(a.points, e.k)
			a.droppedPoints++
		}
		a.note()
	}
}

func (a *Aggregate) note() {
	if a.noted || a.opts.Note == nil {
		return
	}
	a.noted = true
	a.opts.Note(fmt.Sprintf("more than %d distinct links or places: the least used are left out of the map (the map says how many)", a.max))
}

func compareKey(x, y key) int {
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	return cmp.Or(cmp.Compare(x.lat, y.lat), cmp.Compare(x.lon, y.lon), cmp.Compare(string(x.cc[:]), string(y.cc[:])),
		cmp.Compare(x.asn, y.asn), cmp.Compare(b(x.start), b(y.start)))
}

func uniq(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// Traces is the number of traces added (nil ones not counted).
func (a *Aggregate) Traces() int { return a.traces }

// Hops is the number of hops added and Located the number of them with a
// usable location.
func (a *Aggregate) Hops() (hops, located int) { return a.hops, a.located }

// Dropped says what the cap left out: distinct links, the traces through
// them (a link dropped and seen again later counts again), and distinct
// points.
func (a *Aggregate) Dropped() (links, linkTraces, points int) {
	return a.droppedLinks, a.droppedLinkTraces, a.droppedPoints
}

func (a *Aggregate) pointOf(k key) Point {
	p := Point{
		Lat: float64(k.lat) / math.Pow10(Precision), Lon: float64(k.lon) / math.Pow10(Precision),
		ASN: k.asn, Start: k.start,
	}
	if k.cc != [2]byte{} {
		p.Country = string(k.cc[:])
	}
	if v := a.points[k]; v != nil {
		p.Org, p.City, p.Traces, p.Uncertain = v.org, v.city, v.traces, v.uncertain
	}
	return p
}

// Points returns the distinct points, most traces first (then by position),
// starts included.
func (a *Aggregate) Points() []Point {
	ks := make([]key, 0, len(a.points))
	for k := range a.points {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(x, y key) int {
		return cmp.Or(cmp.Compare(a.points[y].traces, a.points[x].traces), compareKey(x, y))
	})
	out := make([]Point, len(ks))
	for i, k := range ks {
		out[i] = a.pointOf(k)
	}
	return out
}

// Links returns the distinct links, most traces first (then by their ends).
// An end whose point was dropped at the cap has its position, country and
// AS but no names or counts.
func (a *Aggregate) Links() []Link {
	ks := make([]linkKey, 0, len(a.links))
	for k := range a.links {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(x, y linkKey) int {
		return cmp.Or(cmp.Compare(a.links[y].traces, a.links[x].traces), compareKey(x.from, y.from), compareKey(x.to, y.to))
	})
	out := make([]Link, len(ks))
	for i, k := range ks {
		out[i] = Link{From: a.pointOf(k.from), To: a.pointOf(k.to), Traces: a.links[k].traces}
	}
	return out
}

// MaxTraces is the largest number of traces through one link (0 without
// links), for scaling line widths.
func (a *Aggregate) MaxTraces() int {
	m := 0
	for _, l := range a.links {
		m = max(m, l.traces)
	}
	return m
}

// Countries returns the countries crossed with the number of traces that
// cross each (the engine's countries rule, geoloc.Crossed: the same count
// as the countries report's TRACES column), most traces first.
func (a *Aggregate) Countries() []CountryCount {
	out := make([]CountryCount, 0, len(a.countries))
	for cc, n := range a.countries {
		out = append(out, CountryCount{Country: style.Sanitize(cc, 8), Name: countries.Name(cc), Traces: n})
	}
	slices.SortFunc(out, func(x, y CountryCount) int {
		return cmp.Or(cmp.Compare(y.Traces, x.Traces), cmp.Compare(x.Country, y.Country))
	})
	return out
}

// Width is a line width for a link of n traces when the busiest has max:
// from lo to hi, by the logarithm of the count, so a link of one trace
// stays visible beside one of ten thousand.
func Width(n, max int, lo, hi float64) float64 {
	if max <= 1 || n <= 1 {
		return lo
	}
	return lo + (hi-lo)*math.Log(float64(n))/math.Log(float64(max))
}
