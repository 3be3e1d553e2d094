package output

import (
	"archive/zip"
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/aggregate"
	"github.com/geoloc-dev/geoloc/internal/style"
	"github.com/geoloc-dev/geoloc/kml"
)

// Aggregate folds a batch of any size, one trace at a time (Add), into
// what a map of the batch needs: each distinct placed point once (its
// position rounded to 0.01°, its country and AS) and each distinct
// directed link between consecutive placed hops once (a route's start to
// its first hop included), with the number of traces through it, and the
// number of traces per country crossed (the engine's countries rule,
// geoloc.Crossed: the countries report's TRACES column). Memory grows
// with the distinct links and points, not with the traces, and is capped
// (AggregateOptions.MaxLinks): beyond the cap the least-used are dropped
// and counted (Dropped), and every map says so.
//
// Its methods: Add(*geoloc.TraceResult) folds a trace in (nil skipped);
// Points() and Links() return the places and links, most traces first;
// Countries() the countries with their counts of traces; Traces(),
// Hops() (hops, located), MaxTraces() (the busiest link's count) and
// Dropped() (links, their traversals, places left out at the cap).
//
// Options.Aggregate and Options.AggregateAbove make the map writers draw
// one; [WriteAggregate] draws one built by hand. Aggregated maps ignore
// Options.Circles: a place stands for many hops.
type Aggregate = aggregate.Aggregate

// AggregateOptions tune an Aggregate: the cap on distinct links and
// points, and a callback for the note when the cap drops some.
type AggregateOptions = aggregate.Options

// AggregatePoint is a distinct point of an Aggregate.
type AggregatePoint = aggregate.Point

// AggregateLink is a distinct link of an Aggregate, with its count of
// traces.
type AggregateLink = aggregate.Link

// CountryCount is a country crossed and the number of traces crossing it.
type CountryCount = aggregate.CountryCount

// DefaultMaxLinks is the cap on an Aggregate's distinct links (and
// points) when AggregateOptions.MaxLinks is 0.
const DefaultMaxLinks = aggregate.DefaultMaxLinks

// NewAggregate returns an empty Aggregate.
func NewAggregate(o AggregateOptions) *Aggregate { return aggregate.New(o) }

// mapFormats are the map formats and their aggregate writers; the other
// formats (CSV, JSON Lines, JSON, DOT, the report) are not maps and are
// always written trace by trace.
var mapFormats = map[string]func(io.Writer, *Aggregate, Options) error{
	"kml":     writeKMLAggregate,
	"kmz":     writeKMZAggregate,
	"geojson": writeGeoJSONAggregate,
	"html":    writeHTMLAggregate,
	"svg":     writeSVGAggregate,
}

// IsMap reports whether a format (a name ForName knows) is a map that
// Options.Aggregate and Options.AggregateAbove apply to.
func IsMap(format string) bool {
	w, err := ForName(format)
	if err != nil {
		return false
	}
	_, ok := mapFormats[w.Format()]
	return ok
}

// WriteAggregate writes an Aggregate as a map in a map format (kml, kmz,
// geojson, html, svg; or an extension or file name, as ForName takes).
func WriteAggregate(w io.Writer, format string, a *Aggregate, opts Options) error {
	f, err := ForName(format)
	if err != nil {
		return err
	}
	write, ok := mapFormats[f.Format()]
	if !ok {
		return fmt.Errorf("%s is not a map: only %s are drawn aggregated", f.Format(), "kml, kmz, geojson, html and svg")
	}
	return write(w, a, opts)
}

// SharedAggregate is one Aggregate that the map Streams of a run build
// between them instead of one each: begin every map Stream with the same
// Options.Shared and give them all the same results in the same order (as
// a program writing one batch to several files does). Each result is then
// folded in once, by the first Stream to get it, the memory is that of one
// Aggregate, and every map drawn aggregated draws it. Its cap is the
// maxLinks of NewSharedAggregate (the Streams' Options.MaxLinks is not
// used), and the note of the cap reaches every Stream's Options.Note. Like
// a Stream, it is not for concurrent use.
type SharedAggregate struct {
	agg    *Aggregate
	folded int            // the results folded in
	notes  []func(string) // the Streams' Options.Note
}

// NewSharedAggregate returns an empty SharedAggregate capped at maxLinks
// distinct links and places (0 means DefaultMaxLinks).
func NewSharedAggregate(maxLinks int) *SharedAggregate {
	s := &SharedAggregate{}
	s.agg = NewAggregate(AggregateOptions{MaxLinks: maxLinks, Note: func(msg string) {
		for _, note := range s.notes {
			note(msg)
		}
	}})
	return s
}

// Aggregate returns the Aggregate built so far.
func (s *SharedAggregate) Aggregate() *Aggregate { return s.agg }

// add folds in r, a Stream's n-th result (nil ones not counted), unless
// another Stream has folded its own n-th already.
func (s *SharedAggregate) add(n int, r *geoloc.TraceResult) {
	if n > s.folded {
		s.agg.Add(r)
		s.folded = n
	}
}

// mapStream is the Stream of a map format with Options.Aggregate or
// Options.AggregateAbove: every result goes into an Aggregate (its own, or
// Options.Shared); up to AggregateAbove results are also spooled, and
// Close draws them trace by trace if no more came, or the Aggregate
// otherwise.
type mapStream struct {
	w      io.Writer
	o      Options
	write  func(io.Writer, *Aggregate, Options) error
	shared *SharedAggregate
	spool  *spooled // nil once aggregating
	n      int
}

func beginMap(f format, write func(io.Writer, *Aggregate, Options) error, w io.Writer, o Options) (Stream, error) {
	sh := o.Shared
	if sh == nil {
		sh = NewSharedAggregate(o.MaxLinks)
	}
	if o.Note != nil {
		sh.notes = append(sh.notes, o.Note)
	}
	s := &mapStream{w: w, o: o, write: write, shared: sh}
	if !o.Aggregate {
		replay := func(w io.Writer, rs Results, o Options) error {
			st, err := f.begin(w, o)
			if err != nil {
				return err
			}
			for _, r := range rs {
				if err := st.Add(r); err != nil {
					return err
				}
			}
			return st.Close()
		}
		st, err := beginSpooled(replay)(w, o)
		if err != nil {
			return nil, err
		}
		s.spool = st.(*spooled)
	}
	return s, nil
}

func (s *mapStream) Add(r *geoloc.TraceResult) error {
	if r != nil {
		s.n++
		s.shared.add(s.n, r)
	}
	if s.spool == nil {
		return nil
	}
	if s.n > s.o.AggregateAbove {
		s.spool.discard()
		s.spool = nil
		if s.o.Note != nil {
			s.o.Note(fmt.Sprintf("more than %d traces: drawing each distinct link once with its count", s.o.AggregateAbove))
		}
		return nil
	}
	return s.spool.Add(r)
}

// Aggregated reports whether the map is drawn aggregated: Options.Aggregate,
// or more than Options.AggregateAbove traces have come.
func (s *mapStream) Aggregated() bool { return s.spool == nil }

func (s *mapStream) Close() error {
	if s.spool != nil {
		return s.spool.Close()
	}
	return s.write(s.w, s.shared.agg, s.o)
}

// discard gives the spool up without writing anything.
func (s *spooled) discard() {
	s.f.Close()
	_ = os.Remove(s.f.Name())
	s.held = nil
}

func writeKMLAggregate(w io.Writer, a *Aggregate, o Options) error {
	return kml.WriteAggregate(w, a, kml.Options{Name: o.Title})
}

func writeKMZAggregate(w io.Writer, a *Aggregate, o Options) error {
	modified := o.Modified
	if modified.IsZero() {
		modified = time.Now()
	}
	zw := zip.NewWriter(w)
	entry, err := zw.CreateHeader(&zip.FileHeader{Name: "doc.kml", Method: zip.Deflate, Modified: modified})
	if err != nil {
		return err
	}
	if err := writeKMLAggregate(entry, a, o); err != nil {
		return err
	}
	return zw.Close()
}

// placeLabel names an aggregated point: "start", its city, or its
// position.
func placeLabel(p AggregatePoint) string {
	switch {
	case p.Start:
		return "start"
	case p.City != "":
		return p.City
	}
	return fmt.Sprintf("%.2f,%.2f", p.Lat, p.Lon)
}

// placeTitle is a point's label with its country and AS.
func placeTitle(p AggregatePoint) string {
	s := placeLabel(p)
	if p.Country != "" {
		s += ", " + p.Country
	}
	if as := style.ASLabel(p.ASN, p.Org); as != "" && !p.Start {
		s += " (" + as + ")"
	}
	return s
}

// aggregateSummary is the GeoJSON collection's "aggregate" member.
type aggregateSummary struct {
	Traces            int            `json:"traces"`
	Places            int            `json:"places"`
	Links             int            `json:"links"`
	Countries         []CountryCount `json:"countries"`
	DroppedLinks      int            `json:"dropped_links"`
	DroppedLinkTraces int            `json:"dropped_link_traces"`
	DroppedPlaces     int            `json:"dropped_places"`
}

// writeGeoJSONAggregate writes an RFC 7946 FeatureCollection with a
// foreign member "aggregate" (traces, places, links, countries with their
// counts of traces, what the cap dropped): a Point per distinct place
// (kind "place", or "start") and a LineString per distinct link (kind
// "link"; a MultiLineString across ±180°), each with its "count" of
// traces.
func writeGeoJSONAggregate(w io.Writer, a *Aggregate, o Options) error {
	name := o.Title
	if name == "" {
		name = "geoloc"
	}
	points, links := a.Points(), a.Links()
	dl, dt, dp := a.Dropped()
	head := struct {
		Type      string           `json:"type"`
		Name      string           `json:"name"`
		Aggregate aggregateSummary `json:"aggregate"`
	}{"FeatureCollection", name, aggregateSummary{
		Traces: a.Traces(), Places: len(points), Links: len(links), Countries: a.Countries(),
		DroppedLinks: dl, DroppedLinkTraces: dt, DroppedPlaces: dp,
	}}
	b, err := json.Marshal(head)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(b[:len(b)-1])
	bw.WriteString(`,"features":[`)
	n := 0
	put := func(f feature) error {
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if n > 0 {
			bw.WriteByte(',')
		}
		n++
		_, err = bw.Write(b)
		return err
	}
	for _, p := range points {
		kind := "place"
		if p.Start {
			kind = "start"
		}
		if err := put(feature{Type: "Feature", Geometry: geometry{"Point", pos(p.Lat, p.Lon)}, Properties: map[string]any{
			"kind": kind, "count": p.Traces, "uncertain": p.Uncertain, "name": placeTitle(p),
			"asn": p.ASN, "as_org": p.Org, "country": p.Country, "city": p.City,
			"color": style.Hex(style.ASColor(p.ASN)),
		}}); err != nil {
			return err
		}
	}
	for _, l := range links {
		if err := put(feature{
			Type:     "Feature",
			Geometry: lineGeometry([][2]float64{{l.From.Lon, l.From.Lat}, {l.To.Lon, l.To.Lat}}),
			Properties: map[string]any{
				"kind": "link", "count": l.Traces, "from": placeTitle(l.From), "to": placeTitle(l.To),
			},
		}); err != nil {
			return err
		}
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}
