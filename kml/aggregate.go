package kml

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"image/color"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/golang/geo/s2"
	"github.com/twpayne/go-kml/v3"

	"github.com/geoloc-dev/geoloc/internal/aggregate"
	"github.com/geoloc-dev/geoloc/internal/style"
)

// linkWidths is the number of line widths (and shared link styles) of an
// aggregated map: a link of one trace is 1 px wide, the busiest linkWidths.
const linkWidths = 8

// linkColor is the colour of an aggregated map's links.
var linkColor = color.RGBA{R: 0xd9, G: 0x5f, B: 0x0e, A: 0xc0}

// WriteAggregate writes an aggregated batch (output.Aggregate, built one
// trace at a time) as one KML 2.2 document: a folder of places, each
// distinct placed point once (named by its city, styled by its AS, its
// count of traces in the balloon and as ExtendedData "traces"), and a
// folder of links, each distinct directed link between consecutive placed
// hops once as a tessellated great-circle LineString named "A → B: N
// traces", its width growing with the logarithm of N. The document's
// description gives the countries crossed with their counts of traces and
// says what the cap on links left out. Memory is bounded by the
// aggregate: each placemark is encoded as it is written. Circles and
// Indent are ignored.
func WriteAggregate(w io.Writer, a *aggregate.Aggregate, opts Options) error {
	name := opts.Name
	if name == "" {
		name = "geoloc"
	}
	points := a.Points()
	links := a.Links()
	var ases []uint32
	for _, p := range points {
		if !p.Start && !slices.Contains(ases, p.ASN) {
			ases = append(ases, p.ASN)
		}
	}
	slices.Sort(ases)

	doc := kml.Document(kml.Name(label(name)), kml.Open(true), kml.Description(aggregateDescription(a, len(points), len(links))))
	for _, asn := range ases {
		c := style.ASColor(asn)
		doc.Add(kml.SharedStyle(asStyleID(asn),
			kml.IconStyle(kml.Color(c), kml.Scale(0.8)),
			kml.LabelStyle(kml.Scale(0.7)),
		))
		doc.Add(kml.SharedStyle(uncertainStyleID(asn),
			kml.IconStyle(kml.Color(color.RGBA{R: c.R, G: c.G, B: c.B, A: 0x70}), kml.Scale(0.6)),
			kml.LabelStyle(kml.Color(color.RGBA{R: 0xff, G: 0xff, B: 0xff, A: 0x90}), kml.Scale(0.6)),
		))
	}
	for k := 1; k <= linkWidths; k++ {
		doc.Add(kml.SharedStyle(linkStyleID(k), kml.LineStyle(kml.Color(linkColor), kml.Width(float64(k)))))
	}
	for _, st := range sourceStyles() {
		doc.Add(st)
	}
	var head bytes.Buffer
	if err := kml.KML(doc).Write(&head); err != nil {
		return err
	}
	h, ok := bytes.CutSuffix(head.Bytes(), []byte(docTail))
	if !ok {
		return fmt.Errorf("kml: unexpected document head %q", head.Bytes()[max(head.Len()-40, 0):])
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(h)
	enc := xml.NewEncoder(bw)
	raw := func(s string) error {
		if err := enc.Flush(); err != nil {
			return err
		}
		_, err := bw.WriteString(s)
		return err
	}

	if err := raw("<Folder><name>places</name>"); err != nil {
		return err
	}
	for _, p := range points {
		if err := enc.Encode(aggregatePlace(p)); err != nil {
			return err
		}
	}
	if err := raw("</Folder><Folder><name>links</name>"); err != nil {
		return err
	}
	maxN := a.MaxTraces()
	for _, l := range links {
		if err := enc.Encode(aggregateLink(l, maxN)); err != nil {
			return err
		}
	}
	if err := raw("</Folder>" + docTail); err != nil {
		return err
	}
	return bw.Flush()
}

func linkStyleID(k int) string { return "link" + strconv.Itoa(k) }

// aggregateDescription is the document's description: what the map is,
// the countries crossed with their counts, and what the cap left out.
func aggregateDescription(a *aggregate.Aggregate, nPoints, nLinks int) string {
	var d strings.Builder
	traces := "traces"
	if a.Traces() == 1 {
		traces = "trace"
	}
	fmt.Fprintf(&d, "<p>%d %s, aggregated: each distinct link between consecutive located hops is drawn once (%d links), "+
		"wider the more traces take it; each place (one AS and country, within about a kilometre) once (%d places).</p>",
		a.Traces(), traces, nLinks, nPoints)
	if cs := a.Countries(); len(cs) > 0 {
		d.WriteString(`<table><tr><th>country</th><th>traces</th></tr>`)
		for _, c := range cs {
			n := c.Name
			if n == "" {
				n = c.Country
			}
			fmt.Fprintf(&d, "<tr><td>%s %s</td><td>%d</td></tr>", html.EscapeString(c.Country), html.EscapeString(n), c.Traces)
		}
		d.WriteString(`</table>`)
	}
	if links, linkTraces, points := a.Dropped(); links > 0 || points > 0 {
		fmt.Fprintf(&d, "<p>Left out to keep the map bounded: the %d least-used links (%d traversals) and %d least-used places.</p>", links, linkTraces, points)
	}
	return d.String()
}

// placeName names an aggregated point: its city, else its position.
func placeName(p aggregate.Point) string {
	if p.Start {
		return "start"
	}
	if p.City != "" {
		return p.City
	}
	return ff(p.Lat, 2) + "," + ff(p.Lon, 2)
}

// placeTitle is a point's name with its country and AS.
func placeTitle(p aggregate.Point) string {
	s := placeName(p)
	if p.Country != "" {
		s += ", " + p.Country
	}
	if as := style.ASLabel(p.ASN, p.Org); as != "" && !p.Start {
		s += " (" + as + ")"
	}
	return s
}

func aggregatePlace(p aggregate.Point) *kml.PlacemarkElement {
	esc := func(s string) string { return html.EscapeString(style.Sanitize(s, maxText)) }
	var d strings.Builder
	d.WriteString("<table>")
	row := func(k, v string) {
		if v != "" {
			d.WriteString("<tr><th>" + k + "</th><td>" + esc(v) + "</td></tr>")
		}
	}
	row("place", placeName(p))
	row("country", p.Country)
	if !p.Start {
		row("AS", style.ASLabel(p.ASN, p.Org))
	}
	row("position", ff(p.Lat, 2)+", "+ff(p.Lon, 2))
	row("traces", strconv.Itoa(p.Traces))
	if p.Uncertain > 0 {
		what := "drawn uncertain in"
		if p.Start {
			what = "inferred in"
		}
		row(what, strconv.Itoa(p.Uncertain)+" of them")
	}
	d.WriteString("</table>")
	st := "#" + asStyleID(p.ASN)
	switch {
	case p.Start && p.Uncertain*2 > p.Traces:
		st = "#start-inferred"
	case p.Start:
		st = "#source"
	case p.Uncertain*2 > p.Traces:
		st = "#" + uncertainStyleID(p.ASN)
	}
	return kml.Placemark(
		kml.Name(label(placeName(p)+" ("+strconv.Itoa(p.Traces)+")")),
		kml.Description(d.String()),
		kml.StyleURL(st),
		kml.ExtendedData(
			kml.Data("traces", kml.Value(p.Traces)),
			kml.Data("asn", kml.Value(p.ASN)),
			kml.Data("as_org", kml.Value(style.Sanitize(p.Org, maxText))),
			kml.Data("country", kml.Value(style.Sanitize(p.Country, 8))),
			kml.Data("city", kml.Value(style.Sanitize(p.City, maxText))),
		),
		kml.Point(kml.Coordinates(coord(p.Lat, p.Lon))),
	)
}

func aggregateLink(l aggregate.Link, maxN int) *kml.PlacemarkElement {
	w := int(math.Round(aggregate.Width(l.Traces, maxN, 1, linkWidths)))
	traces := "traces"
	if l.Traces == 1 {
		traces = "trace"
	}
	return kml.Placemark(
		kml.Name(label(placeName(l.From)+" → "+placeName(l.To)+": "+strconv.Itoa(l.Traces)+" "+traces)),
		kml.Description("<p>"+html.EscapeString(style.Sanitize(placeTitle(l.From), maxText))+" → "+
			html.EscapeString(style.Sanitize(placeTitle(l.To), maxText))+"</p><p>"+strconv.Itoa(l.Traces)+" "+traces+"</p>"),
		kml.StyleURL("#"+linkStyleID(w)),
		kml.ExtendedData(kml.Data("traces", kml.Value(l.Traces))),
		kml.LineString(kml.Tessellate(true), kml.Coordinates(geodesic(l.From, l.To)...)),
	)
}

// geodesic is the great circle from a to b on the ground, in arcSteps
// segments.
func geodesic(a, b aggregate.Point) []kml.Coordinate {
	pa := s2.PointFromLatLng(s2.LatLngFromDegrees(a.Lat, a.Lon))
	pb := s2.PointFromLatLng(s2.LatLngFromDegrees(b.Lat, b.Lon))
	out := make([]kml.Coordinate, 0, arcSteps+1)
	for k := range arcSteps + 1 {
		ll := s2.LatLngFromPoint(s2.Interpolate(float64(k)/arcSteps, pa, pb))
		out = append(out, coord(ll.Lat.Degrees(), ll.Lng.Degrees()))
	}
	return out
}
