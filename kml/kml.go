package kml

import (
	"archive/zip"
	"fmt"
	"html"
	"image/color"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twpayne/go-kml/v3"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/style"
)

// Options tune the document. The zero value writes one folder per trace
// without uncertainty circles, named "geoloc".
type Options struct {
	// Name is the document name; "" means "geoloc".
	Name string
	// Circles draws each located hop's uncertainty radius as a polygon.
	Circles bool
	// MaxCircleKm caps the drawn radius (a 3000 km circle hides the map);
	// 0 means 2000 km.
	MaxCircleKm float64
	// Indent pretty-prints the XML (two spaces); the default is compact.
	Indent bool
	// Modified is the modification time recorded for doc.kml inside a
	// KMZ; the zero value means the time of writing. Set it for
	// byte-identical archives.
	Modified time.Time
}

// coordPrecision is the number of decimals written for coordinates
// (1e-6° is about 0.1 m), so output is stable across platforms.
const coordPrecision = 6

// circleSegments is the number of vertices of an uncertainty circle.
const circleSegments = 48

// maxText bounds any single network string in the output.
const maxText = 255

// Write writes results as one KML 2.2 document to w.
func Write(w io.Writer, results []*geoloc.TraceResult, opts Options) error {
	k := kml.KML(Document(results, opts))
	if opts.Indent {
		return k.WriteIndent(w, "", "  ")
	}
	return k.Write(w)
}

// WriteKMZ writes results as a KMZ archive (a zip holding one deflated
// doc.kml, dated opts.Modified) to w.
func WriteKMZ(w io.Writer, results []*geoloc.TraceResult, opts Options) error {
	modified := opts.Modified
	if modified.IsZero() {
		modified = time.Now()
	}
	zw := zip.NewWriter(w)
	// zip.Writer.Create leaves the date zero, which unzip lists as
	// 1980-00-00.
	entry, err := zw.CreateHeader(&zip.FileHeader{Name: "doc.kml", Method: zip.Deflate, Modified: modified})
	if err != nil {
		return err
	}
	if err := Write(entry, results, opts); err != nil {
		return err
	}
	return zw.Close()
}

// Document builds the KML Document element for results, for callers that
// want to embed it in a larger go-kml tree.
func Document(results []*geoloc.TraceResult, opts Options) *kml.DocumentElement {
	name := opts.Name
	if name == "" {
		name = "geoloc"
	}
	maxKm := opts.MaxCircleKm
	if maxKm <= 0 {
		maxKm = 2000
	}

	// Collect the ASes in order of first appearance for styles and legend.
	type asInfo struct {
		asn uint32
		org string
		n   int
	}
	var ases []*asInfo
	byASN := map[uint32]*asInfo{}
	for _, tr := range results {
		if tr == nil {
			continue
		}
		for i := range tr.Hops {
			h := &tr.Hops[i]
			a := byASN[h.ASN]
			if a == nil {
				a = &asInfo{asn: h.ASN}
				byASN[h.ASN] = a
				ases = append(ases, a)
			}
			if a.org == "" {
				a.org = style.Sanitize(h.ASOrg, 80)
			}
			a.n++
		}
	}
	slices.SortStableFunc(ases, func(a, b *asInfo) int {
		switch {
		case a.asn == b.asn:
			return 0
		case a.asn == 0:
			return 1
		case b.asn == 0:
			return -1
		case a.asn < b.asn:
			return -1
		}
		return 1
	})

	doc := kml.Document(kml.Name(label(name)), kml.Open(true))
	var legend strings.Builder
	legend.WriteString(`<table><tr><th></th><th>AS</th><th>hops</th></tr>`)
	for _, a := range ases {
		c := style.ASColor(a.asn)
		label := style.ASLabel(a.asn, a.org)
		if label == "" {
			label = "unknown AS"
		}
		fmt.Fprintf(&legend, `<tr><td style="background:%s">&#160;&#160;&#160;</td><td>%s</td><td>%d</td></tr>`,
			style.Hex(c), html.EscapeString(label), a.n)
	}
	legend.WriteString(`</table>`)
	n := countNonNil(results)
	traces := "traces"
	if n == 1 {
		traces = "trace"
	}
	doc.Add(kml.Description(fmt.Sprintf("<p>%d %s. Hops are coloured by the AS that announces them:</p>%s", n, traces, legend.String())))

	for _, a := range ases {
		c := style.ASColor(a.asn)
		doc.Add(kml.SharedStyle(asStyleID(a.asn),
			kml.IconStyle(kml.Color(c), kml.Scale(0.9)),
			kml.LabelStyle(kml.Scale(0.7)),
			kml.LineStyle(kml.Color(c), kml.Width(2)),
			kml.PolyStyle(kml.Color(color.RGBA{R: c.R, G: c.G, B: c.B, A: 0x40}), kml.Outline(true)),
		))
	}
	for i, tr := range results {
		if tr == nil {
			continue
		}
		c := style.TraceColor(i)
		doc.Add(kml.SharedStyle(traceStyleID(i), kml.LineStyle(kml.Color(c), kml.Width(3))))
		doc.Add(kml.SharedStyle(branchStyleID(i), kml.LineStyle(kml.Color(color.RGBA{R: c.R, G: c.G, B: c.B, A: 0xa0}), kml.Width(1.5))))
	}
	doc.Add(kml.SharedStyle("source", kml.IconStyle(kml.Color(color.RGBA{A: 0xff}), kml.Scale(1.1))))
	for i, tr := range results {
		if tr == nil {
			continue
		}
		doc.Add(folder(tr, i, opts.Circles, maxKm))
	}
	return doc
}

func countNonNil(rs []*geoloc.TraceResult) int {
	n := 0
	for _, r := range rs {
		if r != nil {
			n++
		}
	}
	return n
}

func asStyleID(asn uint32) string { return "as" + strconv.FormatUint(uint64(asn), 10) }
func traceStyleID(i int) string   { return "trace" + strconv.Itoa(i+1) }
func branchStyleID(i int) string  { return "trace" + strconv.Itoa(i+1) + "-ecmp" }

func folder(tr *geoloc.TraceResult, i int, circles bool, maxKm float64) *kml.FolderElement {
	title := style.Sanitize(style.TraceTitle(tr, i), maxText)
	f := kml.Folder(kml.Name(label(title)))

	var d strings.Builder
	d.WriteString("<p>")
	if tr.Source.Addr.IsValid() || style.SourceLocated(tr) {
		d.WriteString("From " + html.EscapeString(endpoint(tr.Source)) + " ")
	}
	d.WriteString("to " + html.EscapeString(title))
	if tr.Protocol != "" {
		d.WriteString(" (" + html.EscapeString(style.Sanitize(tr.Protocol, 16)) + ")")
	}
	d.WriteString("</p>")
	// The engine fills Countries; for results from elsewhere, work them
	// out from the hop positions. Tromboning comes from the hops either way
	// (see style.ForTrace: ECMP across a border is not a detour).
	rt := style.ForTrace(tr, i)
	ccs := tr.Countries
	if len(ccs) == 0 {
		ccs = rt.Countries
	}
	trombone := rt.Trombone
	if len(ccs) > 0 {
		cs := make([]string, len(ccs))
		for j, c := range ccs {
			cs[j] = html.EscapeString(style.Sanitize(c, 8))
		}
		d.WriteString("<p>Countries: " + strings.Join(cs, " → "))
		if trombone {
			d.WriteString(" (leaves and re-enters " + html.EscapeString(strings.Join(rt.Returns, ", ")) + ")")
		}
		d.WriteString("</p>")
	}
	if un := style.Unlocated(tr); len(un) > 0 {
		d.WriteString("<p>Not located:</p><ul>")
		for _, h := range un {
			d.WriteString("<li>" + html.EscapeString(style.Sanitize(style.HopTitle(h), maxText)))
			if h.Addr.IsValid() && h.Name != "" {
				d.WriteString(" (" + h.Addr.String() + ")")
			}
			if as := style.ASLabel(h.ASN, style.Sanitize(h.ASOrg, 80)); as != "" {
				d.WriteString(", " + html.EscapeString(as))
			}
			if h.Why != "" {
				d.WriteString(": " + html.EscapeString(style.Sanitize(h.Why, maxText)))
			}
			d.WriteString("</li>")
		}
		d.WriteString("</ul>")
	}
	f.Append(kml.Description(d.String()))

	if style.SourceLocated(tr) {
		f.Append(kml.Placemark(
			kml.Name(label("source "+endpoint(tr.Source))),
			kml.StyleURL("#source"),
			kml.Point(kml.Coordinates(coord(*tr.Source.Lat, *tr.Source.Lon))),
		))
	}
	for j := range tr.Hops {
		h := &tr.Hops[j]
		if !style.Located(h) {
			continue
		}
		f.Append(placemark(h))
	}
	for _, l := range style.Lines(tr) {
		var cs []kml.Coordinate
		if l.Source {
			cs = append(cs, coord(*tr.Source.Lat, *tr.Source.Lon))
		}
		for _, j := range l.Hops {
			cs = append(cs, coord(tr.Hops[j].Location.Lat, tr.Hops[j].Location.Lon))
		}
		name, st := "path", traceStyleID(i)
		if l.Branch {
			// The alternative address is the only hop of its TTL on the line
			// that is not on the main path; name the branch by it.
			alt := &tr.Hops[l.Hops[0]]
			if len(l.Hops) > 1 && !l.Source {
				alt = &tr.Hops[l.Hops[1]]
			}
			name, st = "ECMP "+label(style.HopTitle(alt)), branchStyleID(i)
		}
		f.Append(kml.Placemark(
			kml.Name(name),
			kml.StyleURL("#"+st),
			kml.LineString(kml.Tessellate(true), kml.Coordinates(cs...)),
		))
	}
	if circles {
		var cf []kml.Element
		for j := range tr.Hops {
			h := &tr.Hops[j]
			if !style.Located(h) || !(h.Location.RadiusKm > 0) {
				continue
			}
			r := min(h.Location.RadiusKm, maxKm)
			cf = append(cf, kml.Placemark(
				kml.Name(label(style.HopTitle(h))+" ±"+strconv.FormatFloat(style.Round(h.Location.RadiusKm, 1), 'f', -1, 64)+" km"),
				kml.StyleURL("#"+asStyleID(h.ASN)),
				kml.Polygon(kml.Tessellate(true), kml.OuterBoundaryIs(kml.LinearRing(kml.Coordinates(circle(h.Location.Lat, h.Location.Lon, r)...)))),
			))
		}
		if len(cf) > 0 {
			f.Append(kml.Folder(append([]kml.Element{kml.Name("uncertainty"), kml.Visibility(true)}, cf...)...))
		}
	}
	return f
}
