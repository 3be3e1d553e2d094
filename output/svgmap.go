package output

import (
	"bufio"
	"html"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/countries"
	"github.com/geoloc-dev/geoloc/internal/style"
)

// Maps use an equirectangular projection with the longitude scaled by the
// cosine of the map's middle latitude (so Europe does not look flattened):
// x = (lon+180)·unit·k, y = (90−lat)·unit, in "map units"; the SVG viewBox
// selects the part of the world the traces cover.
const unit = 10 // map units per degree of latitude

// mapWidthPx is the width the static SVG is drawn at.
const mapWidthPx = 1200

type viewBox struct{ x, y, w, h float64 }

type proj struct {
	k  float64 // cos(middle latitude)
	vb viewBox
}

func (p proj) xy(lat, lon float64) (float64, float64) {
	return (lon + 180) * unit * p.k, (90 - lat) * unit
}

// mapScene is what both map writers draw.
type mapScene struct {
	proj    proj
	results Results
	ases    []asItem
	circles bool
	// crossed are the countries some located hop stands in: shaded, so the
	// map shows at a glance whose territory the traffic crossed.
	crossed map[string]bool
	asRank  map[uint32]int // position in ases, unknown AS not counted
}

type asItem struct {
	asn   uint32
	org   string
	hops  int
	dests map[string]bool
}

// asColor is an AS's colour on this map: the networks seen most get the
// palette's distinct colours (from its far end, so that a map of few traces
// and few networks does not reuse a route's colour for a hop), the rest a
// stable colour of their number; unknown is grey.
func (s *mapScene) asColor(asn uint32) string {
	if asn == 0 {
		return style.Hex(style.ASColor(0))
	}
	if i, ok := s.asRank[asn]; ok && i < style.PaletteSize {
		return style.Hex(style.Distinct(style.PaletteSize - 1 - i))
	}
	return style.Hex(style.ASColor(asn))
}

// newScene computes the view and the AS list of a set of traces.
func newScene(results Results, circles bool) *mapScene {
	s := &mapScene{results: results, circles: circles, crossed: map[string]bool{}}
	minLat, maxLat, minLon, maxLon := 90.0, -90.0, 180.0, -180.0
	found, wraps := false, false
	add := func(lat, lon float64) {
		found = true
		minLat, maxLat = min(minLat, lat), max(maxLat, lat)
		minLon, maxLon = min(minLon, lon), max(maxLon, lon)
	}
	byAS := map[uint32]*asItem{}
	for i, tr := range results {
		if tr == nil {
			continue
		}
		if lat, lon, _, ok := style.Start(tr); ok {
			add(lat, lon)
		}
		for j := range tr.Hops {
			h := &tr.Hops[j]
			if style.Located(h) {
				add(h.Location.Lat, h.Location.Lon)
				if cc := style.CountryOf(h.Location); cc != "" {
					s.crossed[cc] = true
				}
			}
			if h.Addr.IsValid() || style.Located(h) {
				a := byAS[h.ASN]
				if a == nil {
					a = &asItem{asn: h.ASN, dests: map[string]bool{}}
					byAS[h.ASN] = a
				}
				if a.org == "" {
					a.org = style.Sanitize(h.ASOrg, 80)
				}
				a.hops++
				a.dests[style.TraceTitle(tr, i)] = true
			}
		}
		for _, ln := range style.Lines(tr) {
			if len(SplitAntimeridian(linePoints(tr, ln))) > 1 {
				wraps = true
			}
		}
	}
	for _, a := range byAS {
		s.ases = append(s.ases, *a)
	}
	sort.Slice(s.ases, func(i, j int) bool {
		a, b := s.ases[i], s.ases[j]
		if len(a.dests) != len(b.dests) {
			return len(a.dests) > len(b.dests)
		}
		if a.hops != b.hops {
			return a.hops > b.hops
		}
		return a.asn < b.asn
	})
	s.asRank = map[uint32]int{}
	for _, a := range s.ases {
		if a.asn != 0 {
			s.asRank[a.asn] = len(s.asRank)
		}
	}
	s.proj = view(minLat, maxLat, minLon, maxLon, found, wraps)
	return s
}

// view is the projection and viewBox showing the box from minLat to maxLat
// and minLon to maxLon (the whole world's inhabited part when !found, all
// longitudes when a route wraps round ±180°), padded.
func view(minLat, maxLat, minLon, maxLon float64, found, wraps bool) proj {
	var p proj
	if !found {
		minLat, maxLat, minLon, maxLon = -60, 80, -180, 180
	}
	if wraps {
		minLon, maxLon = -180, 180
	}
	// Pad, keep a minimum extent so one city is not a blur, clamp.
	padLat := max((maxLat-minLat)*0.15, 4)
	padLon := max((maxLon-minLon)*0.15, 6)
	minLat, maxLat = max(minLat-padLat, -85), min(maxLat+padLat, 85)
	minLon, maxLon = max(minLon-padLon, -180), min(maxLon+padLon, 180)
	if maxLat-minLat < 16 {
		c := (maxLat + minLat) / 2
		minLat, maxLat = max(c-8, -85), min(c+8, 85)
	}
	mid := (minLat + maxLat) / 2
	p.k = math.Max(math.Cos(mid*math.Pi/180), 0.35)
	x0, y0 := p.xy(maxLat, minLon)
	x1, y1 := p.xy(minLat, maxLon)
	vb := viewBox{x0, y0, x1 - x0, y1 - y0}
	// Keep the picture between 2.6:1 and 1.1:1 by widening the short side.
	if vb.w/vb.h > 2.6 {
		grow := vb.w/2.6 - vb.h
		vb.y -= grow / 2
		vb.h += grow
	} else if vb.w/vb.h < 1.1 {
		grow := vb.h*1.1 - vb.w
		vb.x -= grow / 2
		vb.w += grow
	}
	p.vb = vb
	return p
}

// linePoints returns a line's [lon, lat] points.
func linePoints(tr *geoloc.TraceResult, ln style.Line) [][2]float64 {
	var pts [][2]float64
	if ln.Source {
		lat, lon, _, _ := style.Start(tr)
		pts = append(pts, [2]float64{lon, lat})
	}
	for _, j := range ln.Hops {
		pts = append(pts, [2]float64{tr.Hops[j].Location.Lon, tr.Hops[j].Location.Lat})
	}
	return pts
}

// upp is map units per pixel at a given drawn width.
func (s *mapScene) upp(widthPx float64) float64 { return s.proj.vb.w / widthPx }

func num(b *strings.Builder, x float64, prec int) {
	b.WriteString(strconv.FormatFloat(style.Round(x, prec), 'f', -1, 64))
}

// coarseCountry is a 1:110m outline with its bounding box in degrees.
type coarseCountry struct {
	countries.Country
	minLon, minLat, maxLon, maxLat float64
}

// outlinesCoarse is the decoded 1:110m world, shared by every map written
// by this process (read-only after the first use).
var outlinesCoarse = sync.OnceValue(func() []coarseCountry {
	var cs []coarseCountry
	for c := range countries.Outlines(countries.Coarse) {
		cc := coarseCountry{Country: c, minLon: 180, minLat: 90, maxLon: -180, maxLat: -90}
		for _, p := range c.Polygons {
			for _, pt := range p[0] {
				cc.minLon, cc.maxLon = min(cc.minLon, pt.Lon), max(cc.maxLon, pt.Lon)
				cc.minLat, cc.maxLat = min(cc.minLat, pt.Lat), max(cc.maxLat, pt.Lat)
			}
		}
		cs = append(cs, cc)
	}
	return cs
})

// writeLand draws the country outlines that intersect the view, one path
// per country with its name as a tooltip.
func (s *mapScene) writeLand(b *strings.Builder, upp float64) {
	vb := s.proj.vb
	viewMinLon, viewMaxLon := vb.x/(unit*s.proj.k)-180, (vb.x+vb.w)/(unit*s.proj.k)-180
	viewMaxLat, viewMinLat := 90-vb.y/unit, 90-(vb.y+vb.h)/unit
	b.WriteString(`<g class="land" fill="#e9e6df" stroke="#b9b3a6" stroke-width="`)
	num(b, 0.6*upp, 2)
	b.WriteString(`">`)
	for _, c := range outlinesCoarse() {
		// Bounding box test in degrees against the view.
		if c.maxLon < viewMinLon || c.minLon > viewMaxLon || c.maxLat < viewMinLat || c.minLat > viewMaxLat {
			continue
		}
		b.WriteString(`<path data-cc="`)
		b.WriteString(html.EscapeString(c.ISO2))
		if s.crossed[c.ISO2] {
			b.WriteString(`" class="crossed" fill="#f3e3bd`)
		}
		b.WriteString(`" d="`)
		for _, p := range c.Polygons {
			for _, ring := range p {
				// Rings cut at the antimeridian (Russia, Fiji) jump from
				// +180 to -180: unwrap them and draw the overhang again on
				// the other side, where the viewBox shows it.
				lons, lo, hi := unwrapLons(ring)
				for _, shift := range []float64{0, -360, 360} {
					if (shift < 0 && hi <= 180) || (shift > 0 && lo >= -180) {
						continue
					}
					s.writeRing(b, ring, lons, shift)
				}
			}
		}
		b.WriteString(`"><title>`)
		b.WriteString(html.EscapeString(c.Name))
		b.WriteString(`</title></path>`)
	}
	b.WriteString(`</g>`)
}

// unwrapLons returns the ring's longitudes made continuous (no jump over
// 180°) and their range.
func unwrapLons(ring []countries.Point) (lons []float64, lo, hi float64) {
	lons = make([]float64, len(ring))
	lo, hi = math.Inf(1), math.Inf(-1)
	for i, p := range ring {
		lon := p.Lon
		if i > 0 {
			for lon-lons[i-1] > 180 {
				lon -= 360
			}
			for lon-lons[i-1] < -180 {
				lon += 360
			}
		}
		lons[i] = lon
		lo, hi = min(lo, lon), max(hi, lon)
	}
	return lons, lo, hi
}

func (s *mapScene) writeRing(b *strings.Builder, ring []countries.Point, lons []float64, shift float64) {
	lastX, lastY := math.NaN(), math.NaN()
	n := 0
	for i, pt := range ring {
		x, y := s.proj.xy(pt.Lat, lons[i]+shift)
		x, y = style.Round(x, 1), style.Round(y, 1)
		if x == lastX && y == lastY {
			continue
		}
		if n == 0 {
			b.WriteByte('M')
		} else {
			b.WriteByte('L')
		}
		num(b, x, 1)
		b.WriteByte(' ')
		num(b, y, 1)
		lastX, lastY = x, y
		n++
	}
	b.WriteByte('Z')
}

// writeBase opens the <svg> map element and draws what every map has under
// its routes: the sea, a graticule and the country outlines. It returns map
// units per pixel.
func (s *mapScene) writeBase(b *strings.Builder, widthPx float64, standalone bool) float64 {
	vb := s.proj.vb
	upp := s.upp(widthPx)
	b.WriteString(`<svg class="map"`)
	if standalone {
		b.WriteString(` x="0" y="0" width="`)
		num(b, widthPx, 0)
		b.WriteString(`" height="`)
		num(b, widthPx*vb.h/vb.w, 0)
		b.WriteString(`"`)
	}
	b.WriteString(` viewBox="`)
	for i, v := range []float64{vb.x, vb.y, vb.w, vb.h} {
		if i > 0 {
			b.WriteByte(' ')
		}
		num(b, v, 1)
	}
	b.WriteString(`" preserveAspectRatio="xMidYMid meet">`)
	b.WriteString(`<rect class="sea" x="-10000" y="-10000" width="30000" height="30000" fill="#f4f8fb"/>`)

	// Graticule every 30° for orientation.
	b.WriteString(`<g class="grid" stroke="#dbe3ea" fill="none" stroke-width="`)
	num(b, 0.8*upp, 2)
	b.WriteString(`">`)
	for lon := -180.0; lon <= 180; lon += 30 {
		x, _ := s.proj.xy(0, lon)
		b.WriteString(`<path d="M`)
		num(b, x, 1)
		b.WriteString(` 0V1800"/>`)
	}
	for lat := -60.0; lat <= 60; lat += 30 {
		_, y := s.proj.xy(lat, 0)
		b.WriteString(`<path d="M0 `)
		num(b, y, 1)
		b.WriteString(`H`)
		num(b, 360*unit*s.proj.k, 1)
		b.WriteString(`"/>`)
	}
	b.WriteString(`</g>`)
	s.writeLand(b, upp)
	return upp
}

// writeMap writes the map as an <svg> element (without xmlns when inline in
// HTML). Routes are <path class="route">, hops <circle class="hop"> with
// data-t (trace index) and data-h (hop index) for the HTML map's script.
func (s *mapScene) writeMap(b *strings.Builder, widthPx float64, standalone bool) {
	upp := s.writeBase(b, widthPx, standalone)

	n := 0
	for _, tr := range s.results {
		if tr != nil {
			n++
		}
	}
	lineW := 2.2
	opacity := "0.85"
	if n > 20 {
		lineW, opacity = 1.3, "0.55"
	}
	s.writeUncertainRadii(b, upp)
	if s.circles {
		b.WriteString(`<g class="uncertainty" fill-opacity="0.12" stroke-opacity="0.5" stroke-width="`)
		num(b, 0.8*upp, 3)
		b.WriteString(`">`)
		for i, tr := range s.results {
			if tr == nil {
				continue
			}
			for j := range tr.Hops {
				h := &tr.Hops[j]
				if !style.Located(h) || !(h.Location.RadiusKm > 0) {
					continue
				}
				c := s.asColor(h.ASN)
				s.writeRadius(b, `data-t="`+strconv.Itoa(i)+`"`, h.Location, ` fill="`+c+`" stroke="`+c+`"`)
			}
		}
		b.WriteString(`</g>`)
	}

	b.WriteString(`<g class="routes" fill="none" stroke-linecap="round" stroke-linejoin="round">`)
	for i, tr := range s.results {
		if tr == nil {
			continue
		}
		col := style.Hex(style.TraceColor(i))
		for _, ln := range style.Lines(tr) {
			cls := "route"
			extra := ""
			w := lineW
			if ln.Branch {
				cls = "route ecmp"
				extra = ` stroke-dasharray="4 3"`
				w = lineW * 0.7
			}
			b.WriteString(`<path class="` + cls + `" data-t="` + strconv.Itoa(i) + `" stroke="` + col + `" stroke-opacity="` + opacity + `" stroke-width="`)
			num(b, w, 1)
			b.WriteString(`" vector-effect="non-scaling-stroke"` + extra + ` d="`)
			for _, part := range SplitAntimeridian(linePoints(tr, ln)) {
				for k, p := range part {
					if k == 0 {
						b.WriteByte('M')
					} else {
						b.WriteByte('L')
					}
					x, y := s.proj.xy(p[1], p[0])
					num(b, x, 2)
					b.WriteByte(' ')
					num(b, y, 2)
				}
			}
			b.WriteString(`"><title>`)
			b.WriteString(html.EscapeString(style.Sanitize(style.TraceTitle(tr, i), 255)))
			b.WriteString(`</title></path>`)
		}
	}
	b.WriteString(`</g>`)

	r := 5.0 * upp
	if n > 20 {
		r = 3.0 * upp
	}
	s.writeArrows(b, r, opacity)
	b.WriteString(`<g class="hops" stroke="#ffffff" stroke-width="`)
	num(b, 1*upp, 3)
	b.WriteString(`">`)
	for i, tr := range s.results {
		if tr == nil {
			continue
		}
		if lat, lon, inferred, ok := style.Start(tr); ok {
			// The start: a square in the trace's colour, hollow and dashed
			// when the engine inferred it.
			x, y := s.proj.xy(lat, lon)
			col := style.Hex(style.TraceColor(i))
			cls, fill, extra := "start", col, ""
			if inferred {
				cls, fill = "start inferred", "#ffffff"
				extra = ` stroke-dasharray="` + strconv.FormatFloat(style.Round(1.5*upp, 3), 'f', -1, 64) + `"`
			}
			b.WriteString(`<rect class="` + cls + `" data-t="` + strconv.Itoa(i) + `" x="`)
			num(b, x-1.3*r, 2)
			b.WriteString(`" y="`)
			num(b, y-1.3*r, 2)
			b.WriteString(`" width="`)
			num(b, 2.6*r, 2)
			b.WriteString(`" height="`)
			num(b, 2.6*r, 2)
			b.WriteString(`" fill="` + fill + `" stroke="` + col + `" stroke-width="`)
			num(b, 1.5*upp, 3)
			b.WriteString(`"` + extra + `><title>`)
			b.WriteString(html.EscapeString(style.Sanitize(style.StartLabel(tr)+" — "+style.TraceTitle(tr, i), 300)))
			b.WriteString(`</title></rect>`)
		}
		for j := range tr.Hops {
			h := &tr.Hops[j]
			if !style.Located(h) {
				continue
			}
			x, y := s.proj.xy(h.Location.Lat, h.Location.Lon)
			cls := "hop"
			col := s.asColor(h.ASN)
			fill, extra := col, ""
			cu := style.CountryUncertain(tr, h)
			if style.DrawUncertain(tr, h) {
				// Below the confidence threshold, placed from neighbours, or
				// too unsure to name its country: hollow and faint.
				cls = "hop uncertain"
				fill = "#ffffff"
				extra = ` stroke="` + col + `" stroke-width="` + strconv.FormatFloat(style.Round(1.6*upp, 3), 'f', -1, 64) + `" opacity="0.75"`
			}
			b.WriteString(`<circle class="` + cls + `" data-t="` + strconv.Itoa(i) + `" data-h="` + strconv.Itoa(j) + `" cx="`)
			num(b, x, 2)
			b.WriteString(`" cy="`)
			num(b, y, 2)
			b.WriteString(`" r="`)
			num(b, r, 2)
			b.WriteString(`" fill="` + fill + `"` + extra + `><title>`)
			t := style.HopTitle(h)
			if p := style.Place(h.Location); p != "" {
				t += " — " + p
			}
			t += " — confidence " + strconv.FormatFloat(style.Round(h.Confidence, 2), 'f', 2, 64)
			if h.Inferred {
				t += " (placed from its neighbours)"
			}
			if cu != nil {
				t += " — country uncertain: " + style.CountryNames(cu, " or ")
			}
			if as := style.ASLabel(h.ASN, h.ASOrg); as != "" {
				t += " — " + as
			}
			b.WriteString(html.EscapeString(style.Sanitize(t, 300)))
			b.WriteString(`</title></circle>`)
		}
	}
	b.WriteString(`</g>`)

	// Labels when there are few traces: the hop numbers beside the hops,
	// "start" at the start, and one "City, Country" per distinct city.
	if n <= 5 {
		s.writeLabels(b, upp, r)
	}
	b.WriteString(`</svg>`)
}

func overlaps(boxes [][4]float64, b [4]float64) bool {
	for _, o := range boxes {
		if b[0] < o[2] && o[0] < b[2] && b[1] < o[3] && o[1] < b[3] {
			return true
		}
	}
	return false
}

// WriteSVG writes a static SVG map: country outlines, every trace's path in
// its colour, hops coloured by AS with tooltips, and a legend of traces and
// networks below the map.
func WriteSVG(w io.Writer, results []*geoloc.TraceResult, opts Options) error {
	return writeSVG(w, slices.All(results), opts)
}

func writeSVG(w io.Writer, results Results, opts Options) error {
	s := newScene(results, opts.Circles)
	title := opts.Title
	if title == "" {
		title = "geoloc"
	}
	const W = mapWidthPx
	mapH := math.Round(W * s.proj.vb.h / s.proj.vb.w)

	var traces []string
	var colors []string
	for i, tr := range results {
		if tr == nil {
			continue
		}
		traces = append(traces, style.TraceTitle(tr, i))
		colors = append(colors, style.Hex(style.TraceColor(i)))
	}
	const maxRows = 12
	rep := BuildReportSeq(results)
	rows := max(min(len(traces), maxRows+1), min(len(s.ases), maxRows+1), min(len(rep.Countries), maxRows+1))
	const colAS, colCC = W * 0.42, W * 0.75
	legendH := 40 + 16*float64(rows)

	var b strings.Builder
	svgOpen(&b, W, mapH+legendH, title)
	s.writeMap(&b, W, true)

	y := mapH + 22
	svgLegendBox(&b, W, mapH, legendH)
	text := func(x, y float64, size int, weight, s string) {
		svgText(&b, x, y, size, weight, s, 90)
	}
	text(12, y, 13, "bold", plural(len(traces), "trace"))
	text(colAS, y, 13, "bold", "networks (AS), by destinations")
	for k, t := range traces {
		yy := y + 18 + 16*float64(k)
		if k == maxRows {
			text(12, yy, 11, "", "+ "+strconv.Itoa(len(traces)-maxRows)+" more")
			break
		}
		b.WriteString(`<path d="M12 `)
		num(&b, yy-4, 1)
		b.WriteString(`h24" stroke="` + colors[k] + `" stroke-width="3"/>`)
		text(42, yy, 11, "", t)
	}
	for k, a := range s.ases {
		yy := y + 18 + 16*float64(k)
		if k == maxRows {
			text(colAS, yy, 11, "", "+ "+strconv.Itoa(len(s.ases)-maxRows)+" more")
			break
		}
		b.WriteString(`<circle cx="`)
		num(&b, colAS+6, 1)
		b.WriteString(`" cy="`)
		num(&b, yy-4, 1)
		b.WriteString(`" r="5" fill="` + s.asColor(a.asn) + `"/>`)
		label := style.ASLabel(a.asn, a.org)
		if label == "" {
			label = "unknown AS"
		}
		text(colAS+18, yy, 11, "", label+" ("+strconv.Itoa(len(a.dests))+")")
	}
	text(colCC, y, 13, "bold", "countries, by destinations")
	for k, c := range rep.Countries {
		yy := y + 18 + 16*float64(k)
		if k == maxRows {
			text(colCC, yy, 11, "", "+ "+strconv.Itoa(len(rep.Countries)-maxRows)+" more")
			break
		}
		text(colCC, yy, 11, "", c.Key+" "+c.Name+" ("+strconv.Itoa(c.Destinations)+")")
	}
	return svgClose(w, &b)
}

// svgOpen starts a standalone SVG document of width w and height h, titled
// title; svgClose ends it.
func svgOpen(b *strings.Builder, w, h float64, title string) {
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" width="`)
	num(b, w, 0)
	b.WriteString(`" height="`)
	num(b, h, 0)
	b.WriteString(`" viewBox="0 0 `)
	num(b, w, 0)
	b.WriteString(` `)
	num(b, h, 0)
	b.WriteString(`" font-family="sans-serif"><title>`)
	b.WriteString(html.EscapeString(style.Sanitize(title, 255)))
	b.WriteString(`</title>`)
}

// svgClose ends the document svgOpen started in b and writes it all to w.
func svgClose(w io.Writer, b *strings.Builder) error {
	b.WriteString("</svg>\n")
	bw := bufio.NewWriter(w)
	bw.WriteString(b.String())
	return bw.Flush()
}

// svgLegendBox draws the white box, w wide and h high, that holds the
// legend below a map mapH high.
func svgLegendBox(b *strings.Builder, w, mapH, h float64) {
	b.WriteString(`<rect x="0" y="`)
	num(b, mapH, 0)
	b.WriteString(`" width="`)
	num(b, w, 0)
	b.WriteString(`" height="`)
	num(b, h, 0)
	b.WriteString(`" fill="#ffffff"/>`)
}

// svgText writes one legend line of text at (x, y) in font size size and,
// unless "", font weight weight: s sanitized to at most maxLen characters.
func svgText(b *strings.Builder, x, y float64, size int, weight, s string, maxLen int) {
	b.WriteString(`<text x="`)
	num(b, x, 1)
	b.WriteString(`" y="`)
	num(b, y, 1)
	b.WriteString(`" font-size="` + strconv.Itoa(size) + `"`)
	if weight != "" {
		b.WriteString(` font-weight="` + weight + `"`)
	}
	b.WriteString(`>`)
	b.WriteString(html.EscapeString(style.Sanitize(s, maxLen)))
	b.WriteString(`</text>`)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// writeUncertainRadii draws, dashed, the radius of every hop drawn as
// uncertain: how far off it may be is part of what the map says.
func (s *mapScene) writeUncertainRadii(b *strings.Builder, upp float64) {
	b.WriteString(`<g class="radii" fill="none" stroke-opacity="0.6" stroke-dasharray="`)
	num(b, 3*upp, 3)
	b.WriteString(`" stroke-width="`)
	num(b, 1*upp, 3)
	b.WriteString(`">`)
	for i, tr := range s.results {
		if tr == nil {
			continue
		}
		for j := range tr.Hops {
			h := &tr.Hops[j]
			if !style.Located(h) || !(h.Location.RadiusKm > 0) || !style.DrawUncertain(tr, h) {
				continue
			}
			s.writeRadius(b, `data-t="`+strconv.Itoa(i)+`" data-h="`+strconv.Itoa(j)+`"`, h.Location, ` stroke="`+s.asColor(h.ASN)+`"`)
		}
	}
	b.WriteString(`</g>`)
}

// writeRadius draws a location's radius (at most 2000 km) as an ellipse
// of the projection, with the given data attributes and paint.
func (s *mapScene) writeRadius(b *strings.Builder, data string, l *geoloc.Location, paint string) {
	x, y := s.proj.xy(l.Lat, l.Lon)
	ry := min(l.RadiusKm, 2000) / 111.195 * unit
	rx := ry * s.proj.k / math.Max(math.Cos(l.Lat*math.Pi/180), 0.05)
	b.WriteString(`<ellipse ` + data + ` cx="`)
	num(b, x, 2)
	b.WriteString(`" cy="`)
	num(b, y, 2)
	b.WriteString(`" rx="`)
	num(b, rx, 2)
	b.WriteString(`" ry="`)
	num(b, ry, 2)
	b.WriteString(`"` + paint + `/>`)
}

// writeArrows puts an arrowhead in the middle of every segment of every
// route long enough to hold one, pointing the way the packets went.
func (s *mapScene) writeArrows(b *strings.Builder, r float64, opacity string) {
	b.WriteString(`<g class="arrows" stroke="none">`)
	size := 2.2 * r
	for i, tr := range s.results {
		if tr == nil {
			continue
		}
		col := style.Hex(style.TraceColor(i))
		for _, ln := range style.Lines(tr) {
			if ln.Branch {
				continue
			}
			for _, part := range SplitAntimeridian(linePoints(tr, ln)) {
				for k := 1; k < len(part); k++ {
					x0, y0 := s.proj.xy(part[k-1][1], part[k-1][0])
					x1, y1 := s.proj.xy(part[k][1], part[k][0])
					dx, dy := x1-x0, y1-y0
					l := math.Hypot(dx, dy)
					if l < 4*size {
						continue
					}
					ux, uy := dx/l, dy/l
					mx, my := (x0+x1)/2, (y0+y1)/2
					// Tip ahead of the middle, the base behind it.
					tx, ty := mx+ux*size/2, my+uy*size/2
					bx, by := mx-ux*size/2, my-uy*size/2
					w := size * 0.45
					b.WriteString(`<path data-t="` + strconv.Itoa(i) + `" fill="` + col + `" fill-opacity="` + opacity + `" d="M`)
					num(b, tx, 2)
					b.WriteByte(' ')
					num(b, ty, 2)
					b.WriteByte('L')
					num(b, bx-uy*w, 2)
					b.WriteByte(' ')
					num(b, by+ux*w, 2)
					b.WriteByte('L')
					num(b, bx+uy*w, 2)
					b.WriteByte(' ')
					num(b, by-ux*w, 2)
					b.WriteString(`Z"/>`)
				}
			}
		}
	}
	b.WriteString(`</g>`)
}

// writeLabels writes the hop numbers (TTLs) beside the hops, "start" at
// each start, and one "City, Country" label per distinct city, skipping
// labels that would overlap one already placed.
func (s *mapScene) writeLabels(b *strings.Builder, upp, r float64) {
	fs := 11 * upp
	b.WriteString(`<g class="labels" font-family="sans-serif" fill="#333333" stroke="#ffffff" paint-order="stroke" stroke-width="`)
	num(b, 2.5*upp, 3)
	b.WriteString(`" font-size="`)
	num(b, fs, 2)
	b.WriteString(`">`)
	var placed [][4]float64
	label := func(x, y float64, text, cls string, size float64) {
		w := float64(len([]rune(text))) * 0.6 * size
		box := [4]float64{x, y - size, x + w, y + 0.2*size}
		if overlaps(placed, box) {
			return
		}
		placed = append(placed, box)
		b.WriteString(`<text`)
		if cls != "" {
			b.WriteString(` class="` + cls + `"`)
		}
		b.WriteString(` x="`)
		num(b, x, 2)
		b.WriteString(`" y="`)
		num(b, y, 2)
		b.WriteString(`"`)
		if size != fs {
			b.WriteString(` font-size="`)
			num(b, size, 2)
			b.WriteString(`"`)
		}
		b.WriteString(`>`)
		b.WriteString(html.EscapeString(text))
		b.WriteString(`</text>`)
	}
	// Hop numbers first: they say the order, so they win over names.
	for _, tr := range s.results {
		if tr == nil {
			continue
		}
		if lat, lon, _, ok := style.Start(tr); ok {
			x, y := s.proj.xy(lat, lon)
			label(x+1.6*r, y+1.6*r+fs, style.StartLabel(tr), "start-label", fs)
		}
		// Places in path order, each with the TTLs seen there.
		var at [][2]float64
		ttlsAt := map[[2]float64][]string{}
		for j := range tr.Hops {
			h := &tr.Hops[j]
			if !style.Located(h) {
				continue
			}
			k := [2]float64{style.Round(h.Location.Lat, 2), style.Round(h.Location.Lon, 2)}
			if ttlsAt[k] == nil {
				at = append(at, k)
			}
			ttlsAt[k] = append(ttlsAt[k], strconv.Itoa(h.TTL))
		}
		for _, k := range at {
			ttls := ttlsAt[k]
			x, y := s.proj.xy(k[0], k[1])
			// Hops at one place share one label: "4-7" or "2,5".
			label(x-1.2*r-float64(len(compactTTLs(ttls)))*0.55*0.85*fs, y+0.85*fs+0.6*r, compactTTLs(ttls), "ttl", 0.85*fs)
		}
	}
	seen := map[string]bool{}
	for _, tr := range s.results {
		if tr == nil {
			continue
		}
		for j := range tr.Hops {
			h := &tr.Hops[j]
			if !style.Located(h) || h.Location.City == "" {
				continue
			}
			name := style.Sanitize(style.Place(h.Location), 60)
			if seen[name] {
				continue
			}
			seen[name] = true
			x, y := s.proj.xy(h.Location.Lat, h.Location.Lon)
			label(x+1.5*r, y-1.5*r, name, "", fs)
		}
	}
	b.WriteString(`</g>`)
}

// compactTTLs writes TTLs (in path order) as "3", "4–7" or "2,5,9".
func compactTTLs(ttls []string) string {
	n := make([]int, 0, len(ttls))
	for _, t := range ttls {
		v, _ := strconv.Atoi(t)
		n = append(n, v)
	}
	sort.Ints(n)
	n = slices.Compact(n)
	var parts []string
	for i := 0; i < len(n); {
		j := i
		for j+1 < len(n) && n[j+1] == n[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, strconv.Itoa(n[i])+"–"+strconv.Itoa(n[j]))
		} else {
			parts = append(parts, strconv.Itoa(n[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
