package kml

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"image/color"
	"io"
	"iter"
	"os"
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
	if opts.Indent {
		return kml.KML(Document(results, opts)).WriteIndent(w, "", "  ")
	}
	return WriteSeq(w, slices.All(results), opts)
}

// WriteSeq writes the same document as Write (compact, whatever
// opts.Indent says) from results given as a sequence of (position, result)
// that can be ranged over three times, such as results spooled to a file:
// the document is written element by element, so memory stays bounded by
// one trace (and the set of ASes) however many traces there are. Nil
// results are skipped; positions number the traces' titles and colours.
func WriteSeq(w io.Writer, results iter.Seq2[int, *geoloc.TraceResult], opts Options) error {
	var t asTally
	var positions []int
	for i, tr := range results {
		if tr != nil {
			t.add(tr)
			positions = append(positions, i)
		}
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	enc, err := writeHead(bw, &t, positions, opts)
	if err != nil {
		return err
	}
	maxKm := opts.maxKm()
	for i, tr := range results {
		if tr == nil {
			continue
		}
		if err := enc.Encode(folder(tr, i, opts.Circles, maxKm)); err != nil {
			return err
		}
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	bw.WriteString(docTail)
	return bw.Flush()
}

const docTail = "</Document></kml>"

// writeHead writes the document up to its first folder: the head (name,
// legend, AS styles) as a Document of its own cut before its end tags, the
// styles of the traces at positions, and the source style.
func writeHead(bw *bufio.Writer, t *asTally, positions []int, opts Options) (*xml.Encoder, error) {
	var head bytes.Buffer
	if err := kml.KML(t.head(opts)).Write(&head); err != nil {
		return nil, err
	}
	h, ok := bytes.CutSuffix(head.Bytes(), []byte(docTail))
	if !ok {
		return nil, fmt.Errorf("kml: unexpected document head %q", head.Bytes()[max(head.Len()-40, 0):])
	}
	bw.Write(h)
	enc := xml.NewEncoder(bw)
	for _, i := range positions {
		for _, st := range traceStyles(i) {
			if err := enc.Encode(st); err != nil {
				return nil, err
			}
		}
	}
	for _, st := range sourceStyles() {
		if err := enc.Encode(st); err != nil {
			return nil, err
		}
	}
	return enc, nil
}

func (o Options) maxKm() float64 {
	if o.MaxCircleKm <= 0 {
		return 2000
	}
	return o.MaxCircleKm
}

// Stream writes a document a trace at a time, for batches of any size:
// each trace's folder is encoded as it comes into a spool file, and Close
// writes the head (whose legend needs every AS) followed by the spooled
// folders. Memory holds the set of ASes and one int per trace. Indent is
// ignored: the document is compact.
type Stream struct {
	w         io.Writer
	opts      Options
	spool     *os.File
	sw        *bufio.Writer
	enc       *xml.Encoder
	t         asTally
	positions []int
	i         int
}

// NewStream starts a document on w, spooling to a temporary file in
// spoolDir ("" for the system's temporary directory).
func NewStream(w io.Writer, spoolDir string, opts Options) (*Stream, error) {
	f, err := os.CreateTemp(spoolDir, "geoloc-kml-*.xml")
	if err != nil {
		return nil, fmt.Errorf("kml: spool: %w", err)
	}
	_ = os.Remove(f.Name()) // nothing left behind, where the system allows
	sw := bufio.NewWriterSize(f, 64<<10)
	return &Stream{w: w, opts: opts, spool: f, sw: sw, enc: xml.NewEncoder(sw)}, nil
}

// Add writes one trace's folder to the spool. A nil result takes a
// position (titles and colours are numbered by position) and is skipped.
func (s *Stream) Add(tr *geoloc.TraceResult) error {
	i := s.i
	s.i++
	if tr == nil {
		return nil
	}
	s.t.add(tr)
	s.positions = append(s.positions, i)
	return s.enc.Encode(folder(tr, i, s.opts.Circles, s.opts.maxKm()))
}

// Close writes the document to w and removes the spool.
func (s *Stream) Close() error {
	defer func() {
		s.spool.Close()
		_ = os.Remove(s.spool.Name())
	}()
	if err := s.enc.Flush(); err != nil {
		return err
	}
	if err := s.sw.Flush(); err != nil {
		return fmt.Errorf("kml: spool: %w", err)
	}
	bw := bufio.NewWriterSize(s.w, 64<<10)
	enc, err := writeHead(bw, &s.t, s.positions, s.opts)
	if err != nil {
		return err
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	if _, err := s.spool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("kml: spool: %w", err)
	}
	if _, err := io.Copy(bw, s.spool); err != nil {
		return err
	}
	bw.WriteString(docTail)
	return bw.Flush()
}

// WriteKMZ writes results as a KMZ archive (a zip holding one deflated
// doc.kml, dated opts.Modified) to w.
func WriteKMZ(w io.Writer, results []*geoloc.TraceResult, opts Options) error {
	return WriteKMZSeq(w, slices.All(results), opts)
}

// WriteKMZSeq is WriteKMZ for a sequence of results, as WriteSeq takes
// them.
func WriteKMZSeq(w io.Writer, results iter.Seq2[int, *geoloc.TraceResult], opts Options) error {
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
	if opts.Indent {
		var rs []*geoloc.TraceResult
		for i, r := range results {
			rs = append(rs, make([]*geoloc.TraceResult, max(i-len(rs), 0))...)
			rs = append(rs, r)
		}
		err = Write(entry, rs, opts)
	} else {
		err = WriteSeq(entry, results, opts)
	}
	if err != nil {
		return err
	}
	return zw.Close()
}

// Document builds the KML Document element for results, for callers that
// want to embed it in a larger go-kml tree.
func Document(results []*geoloc.TraceResult, opts Options) *kml.DocumentElement {
	seq := slices.All(results)
	doc := documentHead(seq, opts)
	for i, tr := range seq {
		if tr == nil {
			continue
		}
		for _, st := range traceStyles(i) {
			doc.Add(st)
		}
	}
	for _, st := range sourceStyles() {
		doc.Add(st)
	}
	maxKm := opts.maxKm()
	for i, tr := range seq {
		if tr == nil {
			continue
		}
		doc.Add(folder(tr, i, opts.Circles, maxKm))
	}
	return doc
}

// documentHead is the Document with its name, the legend of ASes and the
// AS styles: everything before the per-trace styles and folders.
func documentHead(results iter.Seq2[int, *geoloc.TraceResult], opts Options) *kml.DocumentElement {
	var t asTally
	for _, tr := range results {
		t.add(tr)
	}
	return t.head(opts)
}

// asTally collects the ASes of the traces in order of first appearance,
// for styles and legend, and counts the traces.
type asTally struct {
	ases  []*asInfo
	byASN map[uint32]*asInfo
	n     int
}

type asInfo struct {
	asn uint32
	org string
	n   int
}

func (t *asTally) add(tr *geoloc.TraceResult) {
	if tr == nil {
		return
	}
	if t.byASN == nil {
		t.byASN = map[uint32]*asInfo{}
	}
	t.n++
	for i := range tr.Hops {
		h := &tr.Hops[i]
		a := t.byASN[h.ASN]
		if a == nil {
			a = &asInfo{asn: h.ASN}
			t.byASN[h.ASN] = a
			t.ases = append(t.ases, a)
		}
		if a.org == "" {
			a.org = style.Sanitize(h.ASOrg, 80)
		}
		a.n++
	}
}

func (t *asTally) head(opts Options) *kml.DocumentElement {
	name := opts.Name
	if name == "" {
		name = "geoloc"
	}
	ases := slices.Clone(t.ases)
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
	traces := "traces"
	if t.n == 1 {
		traces = "trace"
	}
	doc.Add(kml.Description(fmt.Sprintf("<p>%d %s. Hops are coloured by the AS that announces them:</p>%s", t.n, traces, legend.String())))

	for _, a := range ases {
		c := style.ASColor(a.asn)
		doc.Add(kml.SharedStyle(asStyleID(a.asn),
			kml.IconStyle(kml.Color(c), kml.Scale(0.9)),
			kml.LabelStyle(kml.Scale(0.7)),
			kml.LineStyle(kml.Color(c), kml.Width(2)),
			kml.PolyStyle(kml.Color(color.RGBA{R: c.R, G: c.G, B: c.B, A: 0x40}), kml.Outline(true)),
		))
		// Uncertain hops: faint, smaller, and their radius outlined only.
		doc.Add(kml.SharedStyle(uncertainStyleID(a.asn),
			kml.IconStyle(kml.Color(color.RGBA{R: c.R, G: c.G, B: c.B, A: 0x70}), kml.Scale(0.6)),
			kml.LabelStyle(kml.Color(color.RGBA{R: 0xff, G: 0xff, B: 0xff, A: 0x90}), kml.Scale(0.6)),
			kml.LineStyle(kml.Color(color.RGBA{R: c.R, G: c.G, B: c.B, A: 0xa0}), kml.Width(1)),
			kml.PolyStyle(kml.Color(color.RGBA{R: c.R, G: c.G, B: c.B, A: 0x18}), kml.Outline(true)),
		))
	}
	return doc
}

// traceStyles are the line styles of trace i: its path and its ECMP
// branches.
func traceStyles(i int) []kml.Element {
	c := style.TraceColor(i)
	return []kml.Element{
		kml.SharedStyle(traceStyleID(i), kml.LineStyle(kml.Color(c), kml.Width(3))),
		kml.SharedStyle(branchStyleID(i), kml.LineStyle(kml.Color(color.RGBA{R: c.R, G: c.G, B: c.B, A: 0xa0}), kml.Width(1.5))),
	}
}

// sourceStyles are the styles of a route's start: the source (or a given
// vantage point), and a vantage point the engine inferred, faint.
func sourceStyles() []kml.Element {
	return []kml.Element{
		kml.SharedStyle("source", kml.IconStyle(kml.Color(color.RGBA{A: 0xff}), kml.Scale(1.1))),
		kml.SharedStyle("start-inferred", kml.IconStyle(kml.Color(color.RGBA{A: 0x80}), kml.Scale(0.9)),
			kml.LabelStyle(kml.Color(color.RGBA{R: 0xff, G: 0xff, B: 0xff, A: 0x90}))),
	}
}

func asStyleID(asn uint32) string { return "as" + strconv.FormatUint(uint64(asn), 10) }
func traceStyleID(i int) string   { return "trace" + strconv.Itoa(i+1) }
func branchStyleID(i int) string  { return "trace" + strconv.Itoa(i+1) + "-ecmp" }
func uncertainStyleID(asn uint32) string {
	return "as" + strconv.FormatUint(uint64(asn), 10) + "-uncertain"
}

func folder(tr *geoloc.TraceResult, i int, circles bool, maxKm float64) *kml.FolderElement {
	title := style.Sanitize(style.TraceTitle(tr, i), maxText)
	rt := style.ForTrace(tr, i)
	ccs := tr.Countries
	if len(ccs) == 0 {
		ccs = rt.Countries
	}
	// The folder says the countries crossed, so the list of traces in
	// Google Earth's sidebar reads as the answer.
	folderName := title
	if len(ccs) > 0 {
		folderName += ": " + style.Sanitize(style.CountryNames(ccs, " → "), maxText)
	}
	f := kml.Folder(kml.Name(label(folderName)))

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
	if len(tr.CountriesUncertain) > 0 {
		d.WriteString("<p>Too uncertain to name a country:</p><ul>")
		for _, u := range tr.CountriesUncertain {
			d.WriteString("<li>TTL " + strconv.Itoa(u.TTL) + " " + html.EscapeString(u.Addr.String()) + ": " +
				html.EscapeString(style.Sanitize(style.CountryNames(u.Countries, " or "), maxText)) + "</li>")
		}
		d.WriteString("</ul>")
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

	if lat, lon, inferred, ok := style.Start(tr); ok {
		name, st := "start", "source"
		if style.SourceLocated(tr) {
			name = "source " + endpoint(tr.Source)
		} else {
			name = style.StartLabel(tr)
			if inferred {
				st = "start-inferred"
			}
		}
		f.Append(kml.Placemark(
			kml.Name(label(name)),
			kml.StyleURL("#"+st),
			kml.Point(kml.Coordinates(coord(lat, lon))),
		))
	}
	for j := range tr.Hops {
		h := &tr.Hops[j]
		if !style.Located(h) {
			continue
		}
		f.Append(placemark(tr, h))
	}
	// The route as arcs from the start: each hop at its TTL's altitude.
	for _, l := range style.Lines(tr) {
		type stop struct {
			p   [2]float64
			alt float64
		}
		var stops []stop
		if l.Source {
			lat, lon, _, _ := style.Start(tr)
			stops = append(stops, stop{[2]float64{lat, lon}, 0})
		}
		for _, j := range l.Hops {
			h := &tr.Hops[j]
			stops = append(stops, stop{[2]float64{h.Location.Lat, h.Location.Lon}, float64(h.TTL) * hopAltitudeM})
		}
		var cs []kml.Coordinate
		for k := 1; k < len(stops); k++ {
			cs = append(cs, arc(stops[k-1].p, stops[k].p, stops[k-1].alt, stops[k].alt, k == 1)...)
		}
		if len(cs) == 0 {
			continue
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
			kml.LineString(kml.AltitudeMode(kml.AltitudeModeRelativeToGround), kml.Coordinates(cs...)),
		))
	}
	{
		var cf []kml.Element
		for j := range tr.Hops {
			h := &tr.Hops[j]
			// Every radius with --circles; the uncertain hops' always.
			if !style.Located(h) || !(h.Location.RadiusKm > 0) || !(circles || style.DrawUncertain(tr, h)) {
				continue
			}
			st := asStyleID(h.ASN)
			if style.DrawUncertain(tr, h) {
				st = uncertainStyleID(h.ASN)
			}
			r := min(h.Location.RadiusKm, maxKm)
			cf = append(cf, kml.Placemark(
				kml.Name(label(style.HopTitle(h))+" ±"+strconv.FormatFloat(style.Round(h.Location.RadiusKm, 1), 'f', -1, 64)+" km"),
				kml.StyleURL("#"+st),
				kml.Polygon(kml.Tessellate(true), kml.OuterBoundaryIs(kml.LinearRing(kml.Coordinates(circle(h.Location.Lat, h.Location.Lon, r)...)))),
			))
		}
		if len(cf) > 0 {
			f.Append(kml.Folder(append([]kml.Element{kml.Name("uncertainty"), kml.Visibility(true)}, cf...)...))
		}
	}
	return f
}
