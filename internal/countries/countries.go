// Package countries is geoloc's one country data set: it answers "which
// country is this point in?" from the Natural Earth Admin-0 outlines
// embedded in the binary, hands the outlines to map writers, and gives each
// country's codes, name, centroid and extent ([Lookup]) for country-level
// candidates.
//
// Point-in-polygon runs on the 1:50m outlines with github.com/golang/geo/s2
// (a shape index over every ring, so a lookup touches only the rings near the
// point). Those outlines are coarse at coasts: New York, Singapore's docks or a
// landing station on a beach may fall in the sea, so At falls back to the
// nearest country whose border lies within [CoastKm].
//
// Data: Natural Earth 4.1.0 Admin-0 (public domain) as packaged by npm
// world-atlas@2.0.2 (ISC); names and ISO codes from npm world-countries@5.1.0
// (ODbL-1.0). The embedded files are produced by ./gen (go generate).
package countries

//go:generate go run ./gen -src ../../../shared/data/countries -out .

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"

	"github.com/geoloc-dev/geoloc/latency"
)

//go:embed outlines-50m.bin
var outlines50m []byte

//go:embed outlines-110m.bin
var outlines110m []byte

//go:embed countries.tsv
var countriesTSV string

// CoastKm is how far from a country's outline At still assigns a point to
// that country: the 1:50m outlines can be several km off at coasts and
// estuaries.
const CoastKm = 50

// Detail selects an outline resolution.
type Detail int

const (
	// Medium is Natural Earth 1:50m (about 98 000 points), the outlines At uses.
	Medium Detail = iota
	// Coarse is Natural Earth 1:110m (about 10 000 points, 175 countries),
	// enough for a world map drawn a few hundred pixels wide.
	Coarse
)

// Point is a position in degrees (WGS84).
type Point struct {
	Lon, Lat float64
}

// Country is the outline of one country.
type Country struct {
	ISO2 string // ISO 3166-1 alpha-2 (XK for Kosovo)
	Name string // common English name
	// Polygons are the country's parts; each is a list of rings, the first
	// the outer boundary and the rest holes. Rings are open (the first point
	// is not repeated at the end).
	Polygons [][][]Point
}

// Outlines yields every country of the given detail in ISO code order. The
// outlines are decoded afresh on every call; callers may keep and modify them.
func Outlines(d Detail) iter.Seq[Country] {
	data := outlines50m
	if d == Coarse {
		data = outlines110m
	}
	return func(yield func(Country) bool) {
		cs, err := decode(data)
		if err != nil {
			panic(err) // embedded data is checked by the tests
		}
		for _, c := range cs {
			c.Name = Name(c.ISO2)
			if !yield(c) {
				return
			}
		}
	}
}

// Info is a country's identity and extent.
type Info struct {
	ISO2, ISO3 string
	Name       string  // common English name
	Lat, Lon   float64 // centroid, degrees
	// RadiusKm is the distance from the centroid to the farthest point of
	// the country's largest polygon (its mainland), at least 10 km, so a
	// disc of this radius covers the mainland; overseas parts are outside.
	RadiusKm float64
	AreaKm2  float64 // area of all its polygons (0 when unknown)
}

// Lookup returns the country of an ISO 3166-1 alpha-2 code
// (case-insensitive); ok is false for an unknown code.
func Lookup(iso2 string) (Info, bool) {
	c, ok := table()[strings.ToUpper(iso2)]
	return c, ok
}

// Name returns the common English name of an ISO 3166-1 alpha-2 code
// (case-insensitive), or "" if the code is unknown.
func Name(iso2 string) string {
	return table()[strings.ToUpper(iso2)].Name
}

// table parses countries.tsv (written by ./gen) on first use.
var table = sync.OnceValue(func() map[string]Info {
	m := make(map[string]Info, 256)
	for line := range strings.Lines(countriesTSV) {
		line = strings.TrimSuffix(line, "\n")
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			panic("countries: corrupt embedded table: " + line) // checked by the tests
		}
		c := Info{ISO2: f[0], ISO3: f[1], Name: f[2]}
		var errs [4]error
		c.Lat, errs[0] = strconv.ParseFloat(f[3], 64)
		c.Lon, errs[1] = strconv.ParseFloat(f[4], 64)
		c.RadiusKm, errs[2] = strconv.ParseFloat(f[5], 64)
		c.AreaKm2, errs[3] = strconv.ParseFloat(f[6], 64)
		if err := errors.Join(errs[:]...); err != nil {
			panic("countries: corrupt embedded table: " + line)
		}
		m[c.ISO2] = c
	}
	return m
})

// At returns the ISO 3166-1 alpha-2 code of the country the point (degrees)
// stands in, or of the nearest country within [CoastKm]; ok is false in open
// sea, far from any outline, or for coordinates out of range.
func At(lat, lon float64) (iso2 string, ok bool) {
	iso2, _, ok = Nearest(lat, lon, CoastKm)
	return iso2, ok
}

// Nearest is At with a chosen fallback distance: it returns the country that
// contains the point (distanceKm 0) or else the country whose outline is
// nearest, if within maxDistanceKm.
func Nearest(lat, lon, maxDistanceKm float64) (iso2 string, distanceKm float64, ok bool) {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return "", 0, false
	}
	ix, err := index()
	if err != nil {
		return "", 0, false
	}
	p := s2.PointFromLatLng(s2.LatLngFromDegrees(lat, lon))
	if iso, ok := ix.contains(p); ok {
		return iso, 0, true
	}
	if maxDistanceKm <= 0 {
		return "", 0, false
	}
	limit := s1.ChordAngleFromAngle(s1.Angle(maxDistanceKm / latency.EarthRadiusKm))
	opts := s2.NewClosestEdgeQueryOptions().MaxResults(1).DistanceLimit(limit.Successor()).IncludeInteriors(false)
	res := s2.NewClosestEdgeQuery(ix.shapes, opts).FindEdges(s2.NewMinDistanceToPointTarget(p))
	if len(res) == 0 || res[0].IsEmpty() {
		return "", 0, false
	}
	r := ix.shapes.Shape(res[0].ShapeID()).(*ring)
	return ix.polys[r.poly].iso, res[0].Distance().Angle().Radians() * latency.EarthRadiusKm, true
}

// ring is one ring of one polygon as an s2 shape, oriented so that its
// interior (on the left of its edges) is the land (or, for a hole, the
// hole). A LaxLoop, unlike s2.Loop, builds no index of its own: the one
// shape index over all rings is enough, and costs a fraction of the memory.
type ring struct {
	*s2.LaxLoop
	poly int32
	hole bool
}

type poly struct {
	iso string
}

type pipIndex struct {
	shapes *s2.ShapeIndex
	polys  []poly
}

// index is built on first use (about 100 ms) and read-only afterwards.
var index = sync.OnceValues(func() (*pipIndex, error) { return newIndex(outlines50m) })

func newIndex(data []byte) (*pipIndex, error) {
	cs, err := decode(data)
	if err != nil {
		return nil, err
	}
	ix := &pipIndex{shapes: s2.NewShapeIndex()}
	for _, c := range cs {
		for _, p := range c.Polygons {
			id := int32(len(ix.polys))
			ix.polys = append(ix.polys, poly{iso: c.ISO2})
			for i, r := range p {
				l := loopFrom(r)
				if l == nil {
					continue
				}
				ix.shapes.Add(&ring{LaxLoop: l, poly: id, hole: i > 0})
			}
		}
	}
	ix.shapes.Build()
	return ix, nil
}

// contains finds the polygon whose outer ring contains p and none of whose
// holes does. Lesotho is a hole in South Africa and a polygon of its own, so
// a point there is in exactly one polygon.
func (ix *pipIndex) contains(p s2.Point) (string, bool) {
	shapes := s2.NewContainsPointQuery(ix.shapes, s2.VertexModelSemiOpen).ContainingShapes(p)
	if len(shapes) == 0 {
		return "", false
	}
	var outer, holes []int32
	for _, s := range shapes {
		r := s.(*ring)
		if r.hole {
			holes = append(holes, r.poly)
		} else {
			outer = append(outer, r.poly)
		}
	}
	for _, o := range outer {
		inHole := false
		for _, h := range holes {
			if h == o {
				inHole = true
				break
			}
		}
		if !inHole {
			return ix.polys[o].iso, true
		}
	}
	return "", false
}

// loopFrom turns a ring into an s2 loop with the interior on the left,
// dropping vertices that coincide on the sphere (±180° longitude, the
// poles); nil if fewer than three distinct vertices remain.
//
// Orientation comes from the ring's signed area in the longitude/latitude
// plane, with longitudes unwrapped so that rings crossing the antimeridian
// (Russia, Fiji) stay continuous: that plane maps the sphere without
// reversing orientation. A ring that winds round a pole (Antarctica) has no
// planar area; for those few, s2.Loop normalisation decides.
func loopFrom(r []Point) *s2.LaxLoop {
	pts := make([]s2.Point, 0, len(r))
	for _, q := range r {
		p := s2.PointFromLatLng(s2.LatLngFromDegrees(q.Lat, q.Lon))
		if n := len(pts); n > 0 && pts[n-1].ApproxEqual(p) {
			continue
		}
		pts = append(pts, p)
	}
	for len(pts) > 1 && pts[len(pts)-1].ApproxEqual(pts[0]) {
		pts = pts[:len(pts)-1]
	}
	if len(pts) < 3 {
		return nil
	}
	area2, winding := 0.0, 0.0
	prevLon := r[0].Lon
	for i := range r {
		j := (i + 1) % len(r)
		d := r[j].Lon - r[i].Lon
		if d > 180 {
			d -= 360
		} else if d < -180 {
			d += 360
		}
		winding += d
		next := prevLon + d
		area2 += prevLon*r[j].Lat - next*r[i].Lat
		prevLon = next
	}
	if math.Abs(winding) > 180 {
		l := s2.LoopFromPoints(pts)
		l.Normalize()
		return s2.LaxLoopFromLoop(l)
	}
	if area2 < 0 {
		slices.Reverse(pts)
	}
	return s2.LaxLoopFromPoints(pts)
}

var errCorrupt = errors.New("countries: corrupt embedded outlines")

// decode reads the format written by ./gen (see its doc comment).
func decode(data []byte) ([]Country, error) {
	const magic = "GLCO1"
	if len(data) < len(magic)+32 || string(data[:len(magic)]) != magic {
		return nil, errCorrupt
	}
	off := len(magic)
	var f [4]float64
	for i := range f {
		f[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[off:]))
		off += 8
	}
	sx, sy, tx, ty := f[0], f[1], f[2], f[3]
	uv := func() (int, error) {
		v, n := binary.Uvarint(data[off:])
		if n <= 0 || v > uint64(len(data)) {
			return 0, fmt.Errorf("%w at byte %d", errCorrupt, off)
		}
		off += n
		return int(v), nil
	}
	sv := func() (int64, error) {
		v, n := binary.Varint(data[off:])
		if n <= 0 {
			return 0, fmt.Errorf("%w at byte %d", errCorrupt, off)
		}
		off += n
		return v, nil
	}
	nc, err := uv()
	if err != nil {
		return nil, err
	}
	out := make([]Country, 0, nc)
	for range nc {
		if off+2 > len(data) {
			return nil, errCorrupt
		}
		c := Country{ISO2: string(data[off : off+2])}
		off += 2
		np, err := uv()
		if err != nil {
			return nil, err
		}
		for range np {
			nr, err := uv()
			if err != nil {
				return nil, err
			}
			rings := make([][]Point, 0, nr)
			for range nr {
				npt, err := uv()
				if err != nil {
					return nil, err
				}
				r := make([]Point, npt)
				var x, y int64
				for i := range r {
					dx, err := sv()
					if err != nil {
						return nil, err
					}
					dy, err := sv()
					if err != nil {
						return nil, err
					}
					x, y = x+dx, y+dy
					r[i] = Point{Lon: float64(x)*sx + tx, Lat: float64(y)*sy + ty}
				}
				rings = append(rings, r)
			}
			c.Polygons = append(c.Polygons, rings)
		}
		out = append(out, c)
	}
	if off != len(data) {
		return nil, fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(data)-off)
	}
	return out, nil
}
