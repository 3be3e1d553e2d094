// Package countries is geoloc's one country data set: it answers "which
// country is this point in?" from the Natural Earth Admin-0 outlines
// embedded in the binary, hands the outlines to map writers, and gives each
// country's codes, name, centroid and extent ([Lookup]) for country-level
// candidates.
//
// Point-in-polygon runs on the 1:50m outlines with github.com/golang/geo/s2,
// lazily: a grid of bounding rectangles finds the few polygons near a point,
// and only those are made ready for queries, on first use. Those outlines
// are coarse at coasts: New York, Singapore's docks or a landing station on a
// beach may fall in the sea, so At falls back to the nearest country whose
// border lies within [CoastKm].
//
// Data: Natural Earth 4.1.0 Admin-0 (public domain) as packaged by npm
// world-atlas@2.0.2 (ISC); names and ISO codes from npm world-countries@5.1.0
// (ODbL-1.0). The embedded files are produced by ./gen (go generate).
package countries

//go:generate go run ./gen -src ../../../shared/data/countries -out .

import (
	"cmp"
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
	"sync/atomic"

	"github.com/golang/geo/r1"
	"github.com/golang/geo/r3"
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
// nearest, if within maxDistanceKm (no fallback if that is not positive, or
// NaN).
func Nearest(lat, lon, maxDistanceKm float64) (iso2 string, distanceKm float64, ok bool) {
	ix, err := index()
	if err != nil {
		return "", 0, false
	}
	return ix.nearest(lat, lon, maxDistanceKm)
}

// The index is lazy at two levels. On first use every ring is turned into s2
// points and every polygon gets a latitude/longitude bounding rectangle,
// entered in a 1° grid (about 10 ms). Only when a query reaches a polygon
// through the grid and its rectangle is the polygon prepared: its rings
// oriented into s2 loops and cut into chunks of consecutive edges with a cap
// round each. The first query in a grid cell of its rectangle marks the
// cell, if no cap comes near it, as wholly inside or outside the polygon: a
// point in such a cell is answered at once. Elsewhere containment is s2's
// crossing parity from the nearest chunk centre, over the edges of the
// chunks near the way, and distance a search of the chunks, nearest first.
// Preparing every polygon costs about 20 ms and 10 MB; the single
// s2.ShapeIndex over all rings that this replaces cost about 130 ms and
// 110 MB on every run.
//
// The answers are those of one shape index over all rings: a point is in
// the first polygon (in country, then polygon order) whose outer ring
// contains it, semi-open, and none of whose holes does; failing that, the
// nearest edge of any ring within the distance wins, the first polygon in
// that order on an exact tie.
type pipIndex struct {
	polys []poly
	// grid lists, for each 1° cell (row-major from -90° latitude and -180°
	// longitude), the polygons whose bounding rectangle meets it, in order:
	// cell c's are ids[start[c]:start[c+1]].
	start []int32
	ids   []int32
}

const (
	gridRows = 180
	gridCols = 360
	// boundMargin (radians, about 6 mm) widens bounding rectangles and
	// distances compared with them, so that rounding never drops a polygon
	// from the candidates; a candidate too many costs only a test.
	boundMargin = 1e-9
)

// poly is one polygon of one country.
type poly struct {
	iso   string
	bound s2.Rect // of all its rings and, for a ring round a pole, the pole

	span gridSpan // the grid cells its bound meets

	once  sync.Once
	rings []ringPoints // until prepared
	prep  *prepared
}

// ringPoints is a ring's distinct vertices on the sphere in their original
// order, and how to orient them.
type ringPoints struct {
	pts    []s2.Point
	orient orientation
}

type orientation uint8

const (
	keep    orientation = iota // the interior is on the left already
	reverse                    // the vertices run clockwise
	polar                      // the ring winds round a pole: s2 decides
)

// prepared is a polygon ready for queries: loops[0] is the outer ring,
// the rest holes (nil for a ring of fewer than three distinct vertices),
// each cut into chunks for containment and distance tests.
type prepared struct {
	loops  []*s2.LaxLoop
	chunks []chunk
	// ringChunks[i]:ringChunks[i+1] are loop i's chunks.
	ringChunks []int32
	// cells classifies the grid cells of the polygon's span, row by row,
	// on first use (see containsIn): 0 until then, cellClassified after,
	// with cellClear if no edge comes near the cell, so that the polygon
	// contains all of it or none, and then cellInside if all.
	cells []atomic.Uint32
}

const (
	cellClassified uint32 = 1 << iota
	cellClear
	cellInside
)

// chunk is a run of consecutive edges of one ring and a cap around them:
// every vertex, so (the cap being less than a hemisphere) every point of
// every edge, is within chord length radius of center.
type chunk struct {
	center      s2.Point
	radius      float64
	loop        int32
	first, last int32 // edges first..last-1
	inside      bool  // whether the loop contains center
}

// chunkEdges is the number of edges in a chunk of a ring of n edges:
// √n, at least 8, so that a query looks at about as many caps as edges.
func chunkEdges(n int) int {
	return max(8, int(math.Sqrt(float64(n))))
}

// index is built on first use (about 10 ms) and only grows afterwards: each
// polygon is prepared once, under its own sync.Once.
var index = sync.OnceValues(func() (*pipIndex, error) { return newIndex(outlines50m) })

func newIndex(data []byte) (*pipIndex, error) {
	cs, err := decode(data)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, c := range cs {
		n += len(c.Polygons)
	}
	ix := &pipIndex{polys: make([]poly, n)}

	id := 0
	for _, c := range cs {
		for _, p := range c.Polygons {
			pg := &ix.polys[id]
			id++
			pg.iso = c.ISO2
			pg.rings = make([]ringPoints, len(p))
			var b bounder
			for i, r := range p {
				rp := newRingPoints(r, &b)
				pg.rings[i] = rp
			}
			pg.bound = widen(b.rect())
		}
	}
	ix.buildGrid()
	return ix, nil
}

// widen returns the rectangle grown by boundMargin and, if it spans every
// longitude (a ring round a pole), stretched to the poles on its sides: the
// bound of a ring's edges contains the ring's interior unless that holds a
// pole.
func widen(r s2.Rect) s2.Rect {
	if r.IsEmpty() {
		return r
	}
	r.Lat = r.Lat.Expanded(boundMargin)
	r.Lng = r.Lng.Expanded(boundMargin)
	if r.Lng.IsFull() {
		if r.Lat.Lo < 0 {
			r.Lat.Lo = -math.Pi / 2
		}
		if r.Lat.Hi > 0 {
			r.Lat.Hi = math.Pi / 2
		}
	}
	r.Lat.Lo = max(r.Lat.Lo, -math.Pi/2)
	r.Lat.Hi = min(r.Lat.Hi, math.Pi/2)
	return r
}

// gridSpan is the grid cells a rectangle meets: rows r0..r1 and the column
// range c0..c1, which may run past the last column and wraps round.
type gridSpan struct{ r0, r1, c0, c1 int }

func spanOf(r s2.Rect) gridSpan {
	deg := 180 / math.Pi
	s := gridSpan{r0: gridRow(r.Lat.Lo * deg), r1: gridRow(r.Lat.Hi * deg)}
	if r.Lng.IsFull() {
		s.c0, s.c1 = 0, gridCols-1
		return s
	}
	lo, hi := r.Lng.Lo*deg, r.Lng.Hi*deg
	if r.Lng.IsInverted() {
		hi += 360
	}
	s.c0, s.c1 = int(math.Floor(lo+180)), int(math.Floor(hi+180))
	if s.c1-s.c0 >= gridCols-1 {
		s.c0, s.c1 = 0, gridCols-1
	}
	return s
}

func (s gridSpan) each(f func(cell int)) {
	for row := s.r0; row <= s.r1; row++ {
		for c := s.c0; c <= s.c1; c++ {
			f(row*gridCols + ((c%gridCols)+gridCols)%gridCols)
		}
	}
}

func gridRow(latDeg float64) int {
	return min(max(int(math.Floor(latDeg+90)), 0), gridRows-1)
}

func gridCell(latDeg, lonDeg float64) int {
	c := int(math.Floor(lonDeg + 180))
	return gridRow(latDeg)*gridCols + ((c%gridCols)+gridCols)%gridCols
}

func (ix *pipIndex) buildGrid() {
	spans := make([]gridSpan, len(ix.polys))
	count := make([]int32, gridRows*gridCols+1)
	for i := range ix.polys {
		if ix.polys[i].bound.IsEmpty() {
			spans[i] = gridSpan{r0: 1, r1: 0}
			continue
		}
		spans[i] = spanOf(ix.polys[i].bound)
		ix.polys[i].span = spans[i]
		spans[i].each(func(cell int) { count[cell+1]++ })
	}
	for c := 1; c < len(count); c++ {
		count[c] += count[c-1]
	}
	ix.start = count
	ix.ids = make([]int32, count[len(count)-1])
	next := slices.Clone(count[:len(count)-1])
	for i := range ix.polys {
		spans[i].each(func(cell int) {
			ix.ids[next[cell]] = int32(i)
			next[cell]++
		})
	}
}

func (ix *pipIndex) nearest(lat, lon, maxDistanceKm float64) (iso2 string, distanceKm float64, ok bool) {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return "", 0, false
	}
	ll := s2.LatLngFromDegrees(lat, lon)
	p := s2.PointFromLatLng(ll)
	cell := gridCell(lat, lon)
	for _, id := range ix.ids[ix.start[cell]:ix.start[cell+1]] {
		pg := &ix.polys[id]
		if pg.bound.ContainsLatLng(ll) && pg.prepare().containsIn(pg.span, cell, p) {
			return pg.iso, 0, true
		}
	}
	if !(maxDistanceKm > 0) { // NaN too: the single index answered NaN km
		return "", 0, false
	}
	angle := s1.Angle(maxDistanceKm / latency.EarthRadiusKm)
	best := s1.ChordAngleFromAngle(angle).Successor() // distances below best qualify
	found := int32(-1)
	// Nearest rectangle first, so that farther polygons can be skipped; on
	// an exact tie the first polygon in index order wins, as it did in the
	// single index.
	for _, c := range ix.near(p, ll, angle) {
		if found >= 0 && c.lowerBound > best {
			break
		}
		limit := best
		if c.id < found {
			limit = best.Successor()
		}
		if d, ok := ix.polys[c.id].prepare().closest(p, limit); ok {
			best, found = d, c.id
		}
	}
	if found < 0 {
		return "", 0, false
	}
	return ix.polys[found].iso, best.Angle().Radians() * latency.EarthRadiusKm, true
}

// candidate is a polygon near a point, with a lower bound on its distance.
type candidate struct {
	id         int32
	lowerBound s1.ChordAngle
}

// near returns the polygons whose bounding rectangle comes within angle of
// the point, nearest rectangle first.
func (ix *pipIndex) near(p s2.Point, ll s2.LatLng, angle s1.Angle) []candidate {
	reach := angle + boundMargin
	var ids []int32
	if reach >= math.Pi/2 {
		ids = make([]int32, len(ix.polys))
		for i := range ids {
			ids[i] = int32(i)
		}
	} else {
		span := spanOf(s2.CapFromCenterAngle(p, reach).RectBound())
		span.each(func(cell int) {
			ids = append(ids, ix.ids[ix.start[cell]:ix.start[cell+1]]...)
		})
		slices.Sort(ids)
		ids = slices.Compact(ids)
	}
	cs := make([]candidate, 0, len(ids))
	for _, id := range ids {
		b := ix.polys[id].bound
		if b.IsEmpty() {
			continue
		}
		if d := b.DistanceToLatLng(ll); d <= reach {
			cs = append(cs, candidate{id, s1.ChordAngleFromAngle(max(0, d-boundMargin))})
		}
	}
	slices.SortFunc(cs, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.lowerBound, b.lowerBound), cmp.Compare(a.id, b.id))
	})
	return cs
}

// approxEqual is s2.Point.ApproxEqual (an angle of at most 1e-15 radians),
// without its arctangent for points clearly apart.
func approxEqual(a, b s2.Point) bool {
	if a.Sub(b.Vector).Norm2() > 1e-24 {
		return false
	}
	return a.ApproxEqual(b)
}

// bounder accumulates a latitude/longitude rectangle (radians) containing
// rings of geodesic edges, a cheaper s2.RectBounder that starts from the
// decoded degrees rather than from s2 points. Latitudes: the edges' end
// points and, where an edge's great circle peaks (or bottoms out) between
// its ends, the peak. Longitudes: each edge spans the shorter way between
// its ends, so unwrapped along the ring they cover [uLo, uHi]; an edge
// between opposite meridians, or a ring reaching a pole, spans all of them.
// widen's boundMargin covers the rounding here (TestBounds checks the
// result against s2.RectBounder).
type bounder struct {
	latLo, latHi float64
	lngFull      bool
	lng          s1.Interval
	used         bool
}

// ringBounder is a bounder's state along one ring.
type ringBounder struct {
	latLo, latHi float64 // degrees
	u, uLo, uHi  float64 // unwrapped longitude, degrees
	prevLon      float64
	a            s2.Point
	lngFull      bool
}

func newRingBounder(q Point, p s2.Point) ringBounder {
	return ringBounder{latLo: q.Lat, latHi: q.Lat, u: q.Lon, uLo: q.Lon, uHi: q.Lon, prevLon: q.Lon, a: p}
}

// edge adds the edge from the previous vertex to q, which is c on the
// sphere.
func (rb *ringBounder) edge(q Point, c s2.Point) {
	rb.latLo, rb.latHi = min(rb.latLo, q.Lat), max(rb.latHi, q.Lat)
	d := q.Lon - rb.prevLon
	if d > 180 {
		d -= 360
	} else if d < -180 {
		d += 360
	}
	if math.Abs(d) >= 179.999 {
		rb.lngFull = true
	}
	rb.prevLon = q.Lon
	rb.u += d
	rb.uLo, rb.uHi = min(rb.uLo, rb.u), max(rb.uHi, rb.u)
	// The great circle through a and c has normal n; travelling from a to
	// c, z rises at a if (n×a).z > 0 and at c if (n×c).z > 0. A rise then
	// a fall means a peak between them, at the latitude whose sine is
	// |n.xy|/|n|; a fall then a rise, a trough. Near-zero slopes count
	// both ways.
	a := rb.a
	rb.a = c
	n := a.Cross(c.Vector)
	nn := n.Norm()
	if nn == 0 {
		return
	}
	const eps = 1e-12
	da, dc := n.Cross(a.Vector).Z/nn, n.Cross(c.Vector).Z/nn
	peak, trough := da > -eps && dc < eps, da < eps && dc > -eps
	if !peak && !trough {
		return
	}
	lat := math.Asin(min(1, math.Hypot(n.X, n.Y)/nn)) * 180 / math.Pi
	if peak {
		rb.latHi = max(rb.latHi, lat)
	}
	if trough {
		rb.latLo = min(rb.latLo, -lat)
	}
}

// add adds a finished ring (its closing edge added) to b.
func (b *bounder) add(rb *ringBounder) {
	const rad = math.Pi / 180
	if rb.lngFull || rb.uHi-rb.uLo >= 360 || rb.latHi >= 90-1e-9 || rb.latLo <= -90+1e-9 {
		b.lngFull = true
	}
	lng := s1.IntervalFromEndpoints(math.Remainder(rb.uLo*rad, 2*math.Pi), math.Remainder(rb.uHi*rad, 2*math.Pi))
	if !b.used {
		b.latLo, b.latHi, b.lng, b.used = rb.latLo*rad, rb.latHi*rad, lng, true
		return
	}
	b.latLo, b.latHi = min(b.latLo, rb.latLo*rad), max(b.latHi, rb.latHi*rad)
	b.lng = b.lng.Union(lng)
}

func (b *bounder) rect() s2.Rect {
	if !b.used {
		return s2.EmptyRect()
	}
	r := s2.Rect{Lat: r1.Interval{Lo: b.latLo, Hi: b.latHi}, Lng: b.lng}
	if b.lngFull {
		r.Lng = s1.FullInterval()
	}
	return r
}

// newRingPoints converts a ring to s2 points, dropping vertices that
// coincide on the sphere (±180° longitude, the poles), and decides its
// orientation from its signed area in the longitude/latitude plane, with
// longitudes unwrapped so that rings crossing the antimeridian (Russia,
// Fiji) stay continuous: that plane maps the sphere without reversing
// orientation. A ring that winds round a pole (Antarctica) has no planar
// area; for those few, s2.Loop normalisation decides.
//
// The ring's vertices and edges are added to b.
func newRingPoints(r []Point, b *bounder) ringPoints {
	if len(r) == 0 {
		return ringPoints{}
	}
	pts := make([]s2.Point, 0, len(r))
	var rb ringBounder
	for i, q := range r {
		p := s2.PointFromLatLng(s2.LatLngFromDegrees(q.Lat, q.Lon))
		if i == 0 {
			rb = newRingBounder(q, p)
		} else {
			rb.edge(q, p)
		}
		if n := len(pts); n > 0 && approxEqual(pts[n-1], p) {
			continue
		}
		pts = append(pts, p)
	}
	rb.edge(r[0], pts[0])
	b.add(&rb)
	for len(pts) > 1 && approxEqual(pts[len(pts)-1], pts[0]) {
		pts = pts[:len(pts)-1]
	}
	if len(pts) < 3 {
		return ringPoints{pts: pts}
	}
	return ringPoints{pts: pts, orient: orientationOf(r)}
}

// orientationOf decides a ring's orientation from its signed area in the
// longitude/latitude plane, longitudes unwrapped (see newRingPoints): keep
// when counter-clockwise, reverse when clockwise, polar when the ring
// winds round a pole and has no planar area.
func orientationOf(r []Point) orientation {
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
	switch {
	case math.Abs(winding) > 180:
		return polar
	case area2 < 0:
		return reverse
	}
	return keep
}

// loop is the ring as an s2 loop with the interior on the left; nil if it
// has fewer than three distinct vertices. It reuses (and may reverse) the
// ring's points.
func (r ringPoints) loop() *s2.LaxLoop {
	switch {
	case len(r.pts) < 3:
		return nil
	case r.orient == polar:
		l := s2.LoopFromPoints(r.pts)
		l.Normalize()
		return s2.LaxLoopFromLoop(l)
	case r.orient == reverse:
		slices.Reverse(r.pts)
	}
	return s2.LaxLoopFromPoints(r.pts)
}

// prepare makes the polygon's loops and chunks on first use.
func (pg *poly) prepare() *prepared {
	pg.once.Do(func() {
		pr := &prepared{loops: make([]*s2.LaxLoop, len(pg.rings)), ringChunks: make([]int32, len(pg.rings)+1)}
		for i, r := range pg.rings {
			pr.loops[i] = r.loop()
			pr.ringChunks[i] = int32(len(pr.chunks))
			if l := pr.loops[i]; l != nil {
				pr.addChunks(i, l)
			}
		}
		pr.ringChunks[len(pg.rings)] = int32(len(pr.chunks))
		if w, h := pg.span.c1-pg.span.c0+1, pg.span.r1-pg.span.r0+1; w > 0 && h > 0 {
			pr.cells = make([]atomic.Uint32, w*h)
		}
		pg.prep, pg.rings = pr, nil
	})
	return pg.prep
}

// addChunks cuts loop i into chunks and finds whether each chunk's centre is
// inside the loop: the first by s2's brute force from the loop's reference
// point, each next one by the crossings on the way from the one before.
func (pr *prepared) addChunks(i int, l *s2.LaxLoop) {
	n := l.NumEdges()
	size := chunkEdges(n)
	start := len(pr.chunks)
	for first := 0; first < n; first += size {
		c := chunk{loop: int32(i), first: int32(first), last: int32(min(n, first+size))}
		var sum r3.Vector
		for e := first; e < int(c.last); e++ {
			sum = sum.Add(l.Edge(e).V0.Vector)
		}
		sum = sum.Add(l.Edge(int(c.last) - 1).V1.Vector)
		c.center = s2.Point{Vector: sum.Normalize()}
		for e := first; e < int(c.last); e++ {
			ed := l.Edge(e)
			c.radius = max(c.radius, c.center.Sub(ed.V0.Vector).Norm(), c.center.Sub(ed.V1.Vector).Norm())
		}
		if c.radius >= 1.4 || sum.Norm2() == 0 { // not less than a hemisphere: no bound
			c.radius = math.Inf(1)
		}
		pr.chunks = append(pr.chunks, c)
	}
	chunks := pr.chunks[start:]
	ref := l.ReferencePoint()
	chunks[0].inside = bruteContains(l, ref.Point, ref.Contained, chunks[0].center)
	for k := 1; k < len(chunks); k++ {
		chunks[k].inside = crossFrom(l, chunks, chunks[k-1].center, chunks[k-1].inside, chunks[k].center)
	}
}

// containsIn is contains for a point in the given grid cell of the
// polygon's span. The first query in a cell classifies it: clear if no
// chunk's cap meets the cell's bounding cap, so that the polygon contains
// all of the cell or none of it (the segment from any point of the cell to
// any other stays in that cap and crosses no edge), and then inside if it
// contains the centre. Later queries in a clear cell are answered at once.
// Goroutines that classify a cell at the same time store the same value.
func (pr *prepared) containsIn(span gridSpan, cell int, p s2.Point) bool {
	row, col := cell/gridCols-span.r0, ((cell%gridCols-span.c0)%gridCols+gridCols)%gridCols
	w := span.c1 - span.c0 + 1
	if row < 0 || row > span.r1-span.r0 || col >= w || len(pr.cells) != w*(span.r1-span.r0+1) {
		return pr.contains(p)
	}
	c := &pr.cells[row*w+col]
	st := c.Load()
	if st == 0 {
		st = pr.classify(float64(cell/gridCols-90), float64(cell%gridCols-180))
		c.Store(st)
	}
	if st&cellClear != 0 {
		return st&cellInside != 0
	}
	return pr.contains(p)
}

// classify returns the state of the grid cell whose south-west corner is
// at lat, lon (degrees).
func (pr *prepared) classify(lat, lon float64) uint32 {
	const rad = math.Pi / 180
	cp := s2.Rect{Lat: r1.Interval{Lo: lat * rad, Hi: (lat + 1) * rad}, Lng: s1.IntervalFromEndpoints(lon*rad, (lon+1)*rad)}.CapBound()
	reach := 2*math.Sin(float64(cp.Radius())/2) + 1e-12
	for j := range pr.chunks {
		if pr.chunks[j].center.Sub(cp.Center().Vector).Norm() <= pr.chunks[j].radius+reach {
			return cellClassified
		}
	}
	if pr.contains(s2.PointFromLatLng(s2.LatLngFromDegrees(lat+0.5, lon+0.5))) {
		return cellClassified | cellClear | cellInside
	}
	return cellClassified | cellClear
}

// contains reports whether the outer ring contains p and none of the holes
// does, semi-open. Lesotho is a hole in South Africa and a polygon of its
// own, so a point there is in exactly one polygon.
func (pr *prepared) contains(p s2.Point) bool {
	if pr.loops[0] == nil || !pr.ringContains(0, p) {
		return false
	}
	for i, l := range pr.loops[1:] {
		if l != nil && pr.ringContains(i+1, p) {
			return false
		}
	}
	return true
}

// ringContains is s2's semi-open point-in-loop test for loop i, started
// from the nearest chunk centre, whose containment is known: the parity of
// the crossings of the segment from there to p. Only chunks whose cap
// meets the segment's can hold a crossing edge.
func (pr *prepared) ringContains(i int, p s2.Point) bool {
	chunks := pr.chunks[pr.ringChunks[i]:pr.ringChunks[i+1]]
	k, kd := 0, math.Inf(1)
	for j := range chunks {
		if d := chunks[j].center.Sub(p.Vector).Norm2(); d < kd {
			k, kd = j, d
		}
	}
	return crossFrom(pr.loops[i], chunks, chunks[k].center, chunks[k].inside, p)
}

// crossFrom returns whether p is inside loop l given whether a is: a's
// containment flipped by each crossing of the segment from a to p, counted
// as s2's brute force counts them, over the edges of the chunks whose cap
// may meet the segment (with slack for rounding: a chunk skipped has no
// edge within 1e-12 of the segment, so none that s2 would count).
func crossFrom(l *s2.LaxLoop, chunks []chunk, a s2.Point, inside bool, p s2.Point) bool {
	if a == p {
		return inside
	}
	mid := a.Add(p.Vector)
	if mid.Norm2() < 1e-6 { // nearly antipodal: no small cap round the segment
		return bruteContains(l, a, inside, p)
	}
	m := mid.Normalize()
	reach := m.Sub(a.Vector).Norm() + 1e-12
	var crosser *s2.EdgeCrosser // made only if needed: mostly it is not
	for j := range chunks {
		c := &chunks[j]
		if c.center.Sub(m).Norm() > c.radius+reach {
			continue
		}
		if crosser == nil {
			crosser = s2.NewEdgeCrosser(a, p)
		}
		crosser.RestartAt(l.Edge(int(c.first)).V0)
		for e := c.first; e < c.last; e++ {
			inside = inside != crosser.EdgeOrVertexChainCrossing(l.Edge(int(e)).V1)
		}
	}
	return inside
}

// bruteContains is s2's brute-force semi-open containment: the parity of
// the crossings of the segment from a point a of known containment to p
// with every edge.
func bruteContains(l *s2.LaxLoop, a s2.Point, inside bool, p s2.Point) bool {
	if a == p {
		return inside
	}
	c := s2.NewChainEdgeCrosser(a, p, l.Edge(0).V0)
	for i := range l.NumEdges() {
		inside = inside != c.EdgeOrVertexChainCrossing(l.Edge(i).V1)
	}
	return inside
}

// closest returns the distance from p to the polygon's nearest edge if it is
// below limit. It visits the chunk whose cap is nearest first, for a small
// limit early, then the chunks whose caps come within the limit.
func (pr *prepared) closest(p s2.Point, limit s1.ChordAngle) (s1.ChordAngle, bool) {
	first, firstLB := -1, math.Inf(1)
	for i := range pr.chunks {
		if lb := pr.chunks[i].lowerBound(p); lb < firstLB {
			first, firstLB = i, lb
		}
	}
	best, found := limit, false
	if first < 0 {
		return best, false
	}
	pr.chunks[first].closest(pr.loops, p, &best, &found)
	for i := range pr.chunks {
		if i != first && !pr.chunks[i].farther(p, best) {
			pr.chunks[i].closest(pr.loops, p, &best, &found)
		}
	}
	return best, found
}

// lowerBound is a lower bound on the chord distance from p to the chunk's
// edges.
func (c *chunk) lowerBound(p s2.Point) float64 {
	return p.Sub(c.center.Vector).Norm() - c.radius
}

// farther reports whether the chunk's edges are certainly at least limit
// from p (with slack for rounding, as for the edge-level farther).
func (c *chunk) farther(p s2.Point, limit s1.ChordAngle) bool {
	return c.lowerBound(p) > math.Sqrt(float64(limit))+1e-12
}

// closest lowers *best to the distance from p to the chunk's nearest edge
// if that is below it, setting *found.
func (c *chunk) closest(loops []*s2.LaxLoop, p s2.Point, best *s1.ChordAngle, found *bool) {
	l := loops[c.loop]
	for i := c.first; i < c.last; i++ {
		e := l.Edge(int(i))
		if farther(p, e, *best) {
			continue
		}
		if d, ok := s2.UpdateMinDistance(p, e.V0, e.V1, *best); ok {
			*best, *found = d, true
		}
	}
}

// farther reports whether the edge is certainly at least limit from p: every
// point x of the edge (the minor arc from V0 to V1) has |p−x| ≥ |p−V0| −
// |V0−V1| in the chord metric, and likewise from V1. The slack covers the
// rounding, so that an edge skipped here is one s2.UpdateMinDistance would
// not have taken.
func farther(p s2.Point, e s2.Edge, limit s1.ChordAngle) bool {
	l := math.Sqrt(float64(limit))
	ab := e.V0.Sub(e.V1.Vector).Norm()
	pa := p.Sub(e.V0.Vector).Norm()
	pb := p.Sub(e.V1.Vector).Norm()
	return max(pa, pb)-ab > l+1e-12
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
