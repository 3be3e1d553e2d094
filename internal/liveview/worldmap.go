package liveview

import (
	"math"
	"slices"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/geoloc-dev/geoloc/internal/countries"
)

// canvas is a braille dot grid: every terminal cell holds 2×4 dots, so a
// cell-aspect of 1:2 gives square dots and an undistorted equirectangular
// map.
type canvas struct {
	w, h  int // cells
	land  []uint8
	route []uint8
	mark  []rune // a marker character drawn instead of the dots, 0 none
}

func newCanvas(w, h int) *canvas {
	return &canvas{w: w, h: h, land: make([]uint8, w*h), route: make([]uint8, w*h), mark: make([]rune, w*h)}
}

// brailleBit is the bit of dot (x, y) within its cell (Unicode braille
// patterns number dots 1-3 down the left, 4-6 down the right, 7-8 below).
var brailleBit = [4][2]uint8{{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}}

func (c *canvas) set(layer []uint8, x, y int) {
	if x < 0 || y < 0 || x >= 2*c.w || y >= 4*c.h {
		return
	}
	layer[(y/4)*c.w+x/2] |= brailleBit[y%4][x%2]
}

// line draws a straight dot line (Bresenham).
func (c *canvas) line(layer []uint8, x0, y0, x1, y1 int) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for n := 0; n < 4*(c.w+c.h)*4; n++ {
		c.set(layer, x0, y0)
		if x0 == x1 && y0 == y1 {
			return
		}
		if e2 := 2 * e; e2 >= dy {
			e += dy
			x0 += sx
		} else {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// view is the map's window onto the world: the left/top corner and
// degrees per dot.
type view struct {
	lon0, lat1, deg float64
}

func (v view) dot(lat, lon float64) (int, int) {
	return int(math.Floor((lon - v.lon0) / v.deg)), int(math.Floor((v.lat1 - lat) / v.deg))
}

// fitView frames the points (lat, lon pairs) with a margin, at least
// minSpan degrees wide, in a canvas of w×h cells.
func fitView(pts [][2]float64, w, h int) view {
	const minSpanLon, minSpanLat = 40.0, 20.0
	lat0, lat1, lon0, lon1 := -58.0, 84.0, -180.0, 180.0 // the inhabited world
	if len(pts) > 0 {
		lat0, lat1, lon0, lon1 = 90, -90, 180, -180
		for _, p := range pts {
			lat0, lat1 = min(lat0, p[0]), max(lat1, p[0])
			lon0, lon1 = min(lon0, p[1]), max(lon1, p[1])
		}
		padLat, padLon := max((minSpanLat-(lat1-lat0))/2, 5), max((minSpanLon-(lon1-lon0))/2, 8)
		lat0, lat1, lon0, lon1 = lat0-padLat, lat1+padLat, lon0-padLon, lon1+padLon
	}
	dw, dh := float64(2*w), float64(4*h)
	deg := max((lon1-lon0)/dw, (lat1-lat0)/dh)
	cLon, cLat := (lon0+lon1)/2, (lat0+lat1)/2
	return view{lon0: cLon - deg*dw/2, lat1: cLat + deg*dh/2, deg: deg}
}

// landCache is the land layer last drawn.
type landCache struct {
	w, h int
	v    view
	land []uint8
}

// outlines are the coarse country rings, decoded once per model.
type outlines struct{ rings [][]countries.Point }

func loadOutlines() *outlines {
	o := &outlines{}
	for c := range countries.Outlines(countries.Coarse) {
		for _, poly := range c.Polygons {
			if len(poly) > 0 {
				o.rings = append(o.rings, poly[0])
			}
		}
	}
	return o
}

func (c *canvas) drawLand(o *outlines, v view) {
	for _, r := range o.rings {
		for i := range r {
			a, b := r[i], r[(i+1)%len(r)]
			if math.Abs(a.Lon-b.Lon) > 180 {
				continue // a ring edge across the antimeridian
			}
			x0, y0 := v.dot(a.Lat, a.Lon)
			x1, y1 := v.dot(b.Lat, b.Lon)
			if (x0 < 0 && x1 < 0) || (y0 < 0 && y1 < 0) || (x0 >= 2*c.w && x1 >= 2*c.w) || (y0 >= 4*c.h && y1 >= 4*c.h) {
				continue
			}
			c.line(c.land, x0, y0, x1, y1)
		}
	}
}

// uncertainConfidence is the confidence below which a hop is drawn as
// uncertain (hollow) on the map, as on the HTML and KML maps.
const uncertainConfidence = 0.5

// mapPane draws the route of t on a world map h lines high (a legend line
// included).
func (m *Model) mapPane(t *target, st styles, w, h int) []string {
	if m.outlines == nil {
		m.outlines = loadOutlines()
	}
	// A small pane: about twice as wide as high in dots, so a regional
	// route is not lost in a strip of the whole world.
	cw, ch := min(w, 4*(h-1)), h-1
	r := t.result
	type stop struct {
		lat, lon float64
		mark     rune
	}
	var stops []stop
	var pts [][2]float64
	if r != nil && r.Vantage != nil {
		mk := 'S'
		if r.Vantage.Inferred {
			mk = 's'
		}
		stops = append(stops, stop{r.Vantage.Lat, r.Vantage.Lon, mk})
	}
	if r != nil {
		for i, hop := range r.Hops {
			l := hop.Location
			if l == nil {
				continue
			}
			mk := '●'
			switch {
			case i == len(r.Hops)-1 && hop.Addr == t.Addr:
				mk = '◆'
			case hop.Inferred || hop.Confidence < uncertainConfidence:
				mk = '○'
			}
			stops = append(stops, stop{l.Lat, l.Lon, mk})
		}
	}
	for _, s := range stops {
		pts = append(pts, [2]float64{s.lat, s.lon})
	}
	v := fitView(pts, cw, ch)
	c := newCanvas(cw, ch)
	// The land layer changes only with the window onto the world; drawing
	// ten thousand outline edges every frame would cost more than all else.
	if lc := m.land; lc != nil && lc.w == cw && lc.h == ch && lc.v == v {
		copy(c.land, lc.land)
	} else {
		c.drawLand(m.outlines, v)
		m.land = &landCache{w: cw, h: ch, v: v, land: slices.Clone(c.land)}
	}
	for i := 1; i < len(stops); i++ {
		x0, y0 := v.dot(stops[i-1].lat, stops[i-1].lon)
		x1, y1 := v.dot(stops[i].lat, stops[i].lon)
		c.line(c.route, x0, y0, x1, y1)
	}
	for _, s := range stops {
		x, y := v.dot(s.lat, s.lon)
		if x >= 0 && y >= 0 && x < 2*cw && y < 4*ch {
			i := (y/4)*cw + x/2
			// The start and the destination stay visible over hops.
			if c.mark[i] == 0 || s.mark == 'S' || s.mark == 's' || s.mark == '◆' {
				c.mark[i] = s.mark
			}
		}
	}
	out := make([]string, 0, h)
	for y := range ch {
		var b strings.Builder
		for x := range cw {
			i := y*cw + x
			switch {
			case c.mark[i] != 0:
				b.WriteString(st.flag.Render(string(c.mark[i])))
			case c.route[i] != 0:
				b.WriteString(st.fair.Render(string(rune(0x2800 + int(c.route[i]|c.land[i])))))
			case c.land[i] != 0:
				b.WriteString(st.dim.Render(string(rune(0x2800 + int(c.land[i])))))
			default:
				b.WriteByte(' ')
			}
		}
		out = append(out, strings.TrimRight(b.String(), " "))
	}
	legend := "map: S start  s start (inferred)  ● hop  ○ uncertain  ◆ destination"
	if r == nil {
		legend = "map: the route appears once hops are located"
	}
	out = append(out, st.dim.Render(ansi.Truncate(legend, w, "…")))
	return out
}
