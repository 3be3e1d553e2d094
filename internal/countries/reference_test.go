package countries

// The implementation At and Nearest had before the lazy per-polygon index:
// one s2.ShapeIndex over every ring of every country, built at once. It is
// kept here, in the tests only, as the reference the equivalence tests
// compare against.

import (
	"math"
	"slices"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"

	"github.com/geoloc-dev/geoloc/latency"
)

type refRing struct {
	*s2.LaxLoop
	poly int32
	hole bool
}

type refIndex struct {
	shapes *s2.ShapeIndex
	polys  []string
}

func newRefIndex(data []byte) (*refIndex, error) {
	cs, err := decode(data)
	if err != nil {
		return nil, err
	}
	ix := &refIndex{shapes: s2.NewShapeIndex()}
	for _, c := range cs {
		for _, p := range c.Polygons {
			id := int32(len(ix.polys))
			ix.polys = append(ix.polys, c.ISO2)
			for i, r := range p {
				l := refLoopFrom(r)
				if l == nil {
					continue
				}
				ix.shapes.Add(&refRing{LaxLoop: l, poly: id, hole: i > 0})
			}
		}
	}
	ix.shapes.Build()
	return ix, nil
}

func (ix *refIndex) nearest(lat, lon, maxDistanceKm float64) (iso2 string, distanceKm float64, ok bool) {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
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
	r := ix.shapes.Shape(res[0].ShapeID()).(*refRing)
	return ix.polys[r.poly], res[0].Distance().Angle().Radians() * latency.EarthRadiusKm, true
}

func (ix *refIndex) contains(p s2.Point) (string, bool) {
	shapes := s2.NewContainsPointQuery(ix.shapes, s2.VertexModelSemiOpen).ContainingShapes(p)
	if len(shapes) == 0 {
		return "", false
	}
	var outer, holes []int32
	for _, s := range shapes {
		r := s.(*refRing)
		if r.hole {
			holes = append(holes, r.poly)
		} else {
			outer = append(outer, r.poly)
		}
	}
	for _, o := range outer {
		if !slices.Contains(holes, o) {
			return ix.polys[o], true
		}
	}
	return "", false
}

func refLoopFrom(r []Point) *s2.LaxLoop {
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
	// The orientation rule and the loop are the package's: this reference
	// stands for the single index over all rings, not for reading rings.
	return ringPoints{pts: pts, orient: orientationOf(r)}.loop()
}
