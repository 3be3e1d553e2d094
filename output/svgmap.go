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
}

type asItem struct {
	asn   uint32
	org   string
	hops  int
	dests map[string]bool
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
		if style.SourceLocated(tr) {
			add(*tr.Source.Lat, *tr.Source.Lon)
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
	s.proj.k = math.Max(math.Cos(mid*math.Pi/180), 0.35)
	x0, y0 := s.proj.xy(maxLat, minLon)
	x1, y1 := s.proj.xy(minLat, maxLon)
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
	s.proj.vb = vb
	return s
}

// linePoints returns a line's [lon, lat] points.
func linePoints(tr *geoloc.TraceResult, ln style.Line) [][2]float64 {
	var pts [][2]float64
	if ln.Source {
		pts = append(pts, [2]float64{*tr.Source.Lon, *tr.Source.Lat})
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

// writeMap writes the map as an <svg> element (without xmlns when inline in
// HTML). Routes are <path class="route">, hops <circle class="hop"> with
// data-t (trace index) and data-h (hop index) for the HTML map's script.
func (s *mapScene) writeMap(b *strings.Builder, widthPx float64, standalone bool) {
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
				x, y := s.proj.xy(h.Location.Lat, h.Location.Lon)
				ry := min(h.Location.RadiusKm, 2000) / 111.195 * unit
				rx := ry * s.proj.k / math.Max(math.Cos(h.Location.Lat*math.Pi/180), 0.05)
				c := style.Hex(style.ASColor(h.ASN))
				b.WriteString(`<ellipse data-t="` + strconv.Itoa(i) + `" cx="`)
				num(b, x, 2)
				b.WriteString(`" cy="`)
				num(b, y, 2)
				b.WriteString(`" rx="`)
				num(b, rx, 2)
				b.WriteString(`" ry="`)
				num(b, ry, 2)
				b.WriteString(`" fill="` + c + `" stroke="` + c + `"/>`)
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
	b.WriteString(`<g class="hops" stroke="#ffffff" stroke-width="`)
	num(b, 1*upp, 3)
	b.WriteString(`">`)
	for i, tr := range s.results {
		if tr == nil {
			continue
		}
		if style.SourceLocated(tr) {
			x, y := s.proj.xy(*tr.Source.Lat, *tr.Source.Lon)
			b.WriteString(`<rect class="source" data-t="` + strconv.Itoa(i) + `" x="`)
			num(b, x-r, 2)
			b.WriteString(`" y="`)
			num(b, y-r, 2)
			b.WriteString(`" width="`)
			num(b, 2*r, 2)
			b.WriteString(`" height="`)
			num(b, 2*r, 2)
			b.WriteString(`" fill="#222222"><title>source</title></rect>`)
		}
		for j := range tr.Hops {
			h := &tr.Hops[j]
			if !style.Located(h) {
				continue
			}
			x, y := s.proj.xy(h.Location.Lat, h.Location.Lon)
			b.WriteString(`<circle class="hop" data-t="` + strconv.Itoa(i) + `" data-h="` + strconv.Itoa(j) + `" cx="`)
			num(b, x, 2)
			b.WriteString(`" cy="`)
			num(b, y, 2)
			b.WriteString(`" r="`)
			num(b, r, 2)
			b.WriteString(`" fill="` + style.Hex(style.ASColor(h.ASN)) + `"><title>`)
			t := style.HopTitle(h)
			if p := style.Place(h.Location); p != "" {
				t += " — " + p
			}
			if as := style.ASLabel(h.ASN, h.ASOrg); as != "" {
				t += " — " + as
			}
			b.WriteString(html.EscapeString(style.Sanitize(t, 300)))
			b.WriteString(`</title></circle>`)
		}
	}
	b.WriteString(`</g>`)

	// City labels when there are few traces: one per distinct city.
	if n <= 5 {
		b.WriteString(`<g class="labels" font-family="sans-serif" fill="#333333" stroke="#ffffff" paint-order="stroke" stroke-width="`)
		num(b, 2.5*upp, 3)
		b.WriteString(`" font-size="`)
		num(b, 11*upp, 2)
		b.WriteString(`">`)
		seen := map[string]bool{}
		var placed [][4]float64
		for _, tr := range s.results {
			if tr == nil {
				continue
			}
			for j := range tr.Hops {
				h := &tr.Hops[j]
				if !style.Located(h) || h.Location.City == "" {
					continue
				}
				city := style.Sanitize(h.Location.City, 40)
				if seen[city] {
					continue
				}
				seen[city] = true
				x, y := s.proj.xy(h.Location.Lat, h.Location.Lon)
				// Skip a label that would overlap one already placed.
				box := [4]float64{x + 1.5*r, y - 1.5*r - 11*upp, x + 1.5*r + float64(len([]rune(city)))*6.5*upp, y - 1.5*r + 2*upp}
				if overlaps(placed, box) {
					continue
				}
				placed = append(placed, box)
				b.WriteString(`<text x="`)
				num(b, x+1.5*r, 2)
				b.WriteString(`" y="`)
				num(b, y-1.5*r, 2)
				b.WriteString(`">`)
				b.WriteString(html.EscapeString(city))
				b.WriteString(`</text>`)
			}
		}
		b.WriteString(`</g>`)
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
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" width="`)
	num(&b, W, 0)
	b.WriteString(`" height="`)
	num(&b, mapH+legendH, 0)
	b.WriteString(`" viewBox="0 0 `)
	num(&b, W, 0)
	b.WriteString(` `)
	num(&b, mapH+legendH, 0)
	b.WriteString(`" font-family="sans-serif"><title>`)
	b.WriteString(html.EscapeString(style.Sanitize(title, 255)))
	b.WriteString(`</title>`)
	s.writeMap(&b, W, true)

	y := mapH + 22
	b.WriteString(`<rect x="0" y="`)
	num(&b, mapH, 0)
	b.WriteString(`" width="`)
	num(&b, W, 0)
	b.WriteString(`" height="`)
	num(&b, legendH, 0)
	b.WriteString(`" fill="#ffffff"/>`)
	text := func(x, y float64, size int, weight, s string) {
		b.WriteString(`<text x="`)
		num(&b, x, 1)
		b.WriteString(`" y="`)
		num(&b, y, 1)
		b.WriteString(`" font-size="` + strconv.Itoa(size) + `"`)
		if weight != "" {
			b.WriteString(` font-weight="` + weight + `"`)
		}
		b.WriteString(`>`)
		b.WriteString(html.EscapeString(style.Sanitize(s, 90)))
		b.WriteString(`</text>`)
	}
	text(12, y, 13, "bold", strconv.Itoa(len(traces))+" traces")
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
		b.WriteString(`" r="5" fill="` + style.Hex(style.ASColor(a.asn)) + `"/>`)
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
	b.WriteString("</svg>\n")
	bw := bufio.NewWriter(w)
	bw.WriteString(b.String())
	return bw.Flush()
}
