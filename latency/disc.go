package latency

import (
	"math"
	"strconv"
	"sync"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s2"
)

// Disc is the set of points within RadiusKm (great-circle) of Center: where a
// router must be, given one measurement. The zero value is the single point
// 0°N 0°E.
type Disc struct {
	Center   Point
	RadiusKm float64
}

// DiscFromRTT is the disc around center that a reply after rttMs allows:
// radius MaxDistanceKm(rttMs, slackKm).
func DiscFromRTT(center Point, rttMs, slackKm float64) Disc {
	return Disc{Center: center, RadiusKm: MaxDistanceKm(rttMs, slackKm)}
}

// Contains reports whether p lies in d (boundary included).
func (d Disc) Contains(p Point) bool { return DistanceKm(d.Center, p) <= d.RadiusKm }

// Intersects reports whether d and o have at least one point in common.
func (d Disc) Intersects(o Disc) bool {
	return DistanceKm(d.Center, o.Center) <= d.RadiusKm+o.RadiusKm
}

// ContainsDisc reports whether o lies entirely inside d.
func (d Disc) ContainsDisc(o Disc) bool {
	return DistanceKm(d.Center, o.Center)+o.RadiusKm <= d.RadiusKm
}

// Cap is d as an s2.Cap. A radius of half the Earth's circumference or more
// gives the full cap.
func (d Disc) Cap() s2.Cap {
	if d.RadiusKm >= math.Pi*EarthRadiusKm {
		return s2.FullCap()
	}
	return s2.CapFromCenterAngle(s2.PointFromLatLng(d.Center.LatLng()), kmToAngle(math.Max(d.RadiusKm, 0)))
}

// DiscFromCap converts an s2.Cap back to a Disc.
func DiscFromCap(c s2.Cap) Disc {
	return Disc{Center: PointFromLatLng(s2.LatLngFromPoint(c.Center())), RadiusKm: angleToKm(c.Radius())}
}

// Constraint is one measurement: from a vantage point at From (called
// FromName in explanations), a router replied after RTTMs milliseconds. Where
// the router may be is Disc(); SlackKm widens that disc.
type Constraint struct {
	From     Point
	FromName string
	RTTMs    float64
	SlackKm  float64
}

// Disc is the region the constraint allows.
func (c Constraint) Disc() Disc { return DiscFromRTT(c.From, c.RTTMs, c.SlackKm) }

// MaxKm is the radius of the constraint's disc.
func (c Constraint) MaxKm() float64 { return MaxDistanceKm(c.RTTMs, c.SlackKm) }

// Check tests whether p satisfies c, with the numbers an explanation needs.
func (c Constraint) Check(p Point) Check {
	d := DistanceKm(c.From, p)
	maxKm := c.MaxKm()
	return Check{
		Feasible:   d <= maxKm,
		DistanceKm: d,
		MaxKm:      maxKm,
		NeedMs:     MinRTTMs(d, c.SlackKm),
		SawMs:      c.RTTMs,
		From:       c.FromName,
	}
}

// Check is the outcome of testing one point against one Constraint.
type Check struct {
	Feasible   bool
	DistanceKm float64 // from the vantage point to the point tested
	MaxKm      float64 // the constraint's bound
	NeedMs     float64 // the smallest RTT the point would need
	SawMs      float64 // the RTT measured
	From       string  // the vantage point's name
}

// String explains the check in words: "needs at least 38.1 ms from Oslo, saw
// 2.3 ms" when infeasible, "1203 km from Oslo, 2.3 ms allows 260 km" otherwise.
func (c Check) String() string {
	var buf [128]byte
	return string(c.AppendTo(buf[:0]))
}

// AppendTo appends String's words to b, without fmt (whose %.1f and %.0f
// write what strconv does): the engine explains every candidate of every
// hop this way.
func (c Check) AppendTo(b []byte) []byte {
	from := c.From
	if from == "" {
		from = "the vantage point"
	}
	if !c.Feasible {
		b = append(b, "needs at least "...)
		b = strconv.AppendFloat(b, c.NeedMs, 'f', 1, 64)
		b = append(b, " ms from "...)
		b = append(b, from...)
		b = append(b, ", saw "...)
		b = strconv.AppendFloat(b, c.SawMs, 'f', 1, 64)
		return append(b, " ms"...)
	}
	b = strconv.AppendFloat(b, c.DistanceKm, 'f', 0, 64)
	b = append(b, " km from "...)
	b = append(b, from...)
	b = append(b, ", "...)
	b = strconv.AppendFloat(b, c.SawMs, 'f', 1, 64)
	b = append(b, " ms allows "...)
	b = strconv.AppendFloat(b, c.MaxKm, 'f', 0, 64)
	return append(b, " km"...)
}

// Region approximates the intersection of several discs: the centroid of the
// feasible area and the radius of a disc around it that covers the area.
type Region struct {
	Center   Point
	RadiusKm float64
}

// Intersect finds the region common to all discs (CBG-style multilateration)
// and reports whether there is one. When one disc lies inside all others the
// region is that disc; otherwise the smallest disc is sampled on a polar grid
// and the feasible samples give the centroid and covering radius. A thin
// sliver narrower than the grid spacing (about a twelfth of the smallest
// radius) can be missed; then the grid is refined once (a forty-eighth)
// before giving up. No discs give no region.
func Intersect(discs ...Disc) (Region, bool) {
	if len(discs) == 0 {
		return Region{}, false
	}
	small := 0
	for i, d := range discs {
		if d.RadiusKm < 0 {
			return Region{}, false
		}
		if d.RadiusKm < discs[small].RadiusKm {
			small = i
		}
	}
	if !PairwiseIntersect(discs...) {
		return Region{}, false
	}
	s := discs[small]
	inside := true
	for _, d := range discs {
		if !d.ContainsDisc(s) {
			inside = false
			break
		}
	}
	if inside {
		return Region(s), true
	}
	caps := make([]unitCap, len(discs))
	for i, d := range discs {
		caps[i] = unitCapOf(d)
	}
	for _, rings := range []int{12, maxSampleRings} {
		if r, ok := sampleIntersection(s, caps, rings); ok {
			return r, true
		}
	}
	return Region{}, false
}

// PairwiseIntersect reports whether every two discs overlap: a necessary
// condition for a common region, and the cheap test for constraints that
// cannot all hold (anycast).
func PairwiseIntersect(discs ...Disc) bool {
	for i := range discs {
		for j := i + 1; j < len(discs); j++ {
			if !discs[i].Intersects(discs[j]) {
				return false
			}
		}
	}
	return true
}

// unitCap is a disc as a unit vector and the cosine of its angular radius:
// p is inside when p·c ≥ cos, which needs no trigonometry per test.
type unitCap struct {
	c   r3.Vector
	cos float64
}

func unitCapOf(d Disc) unitCap {
	a := math.Min(d.RadiusKm/EarthRadiusKm, math.Pi)
	return unitCap{c: s2.PointFromLatLng(d.Center.LatLng()).Vector, cos: math.Cos(a) - 1e-12}
}

// ringTrigs[k] holds the sine and cosine of the 6k bearings of ring k,
// 2π·i/6k, for every ring Intersect samples (up to 48): the same for every
// disc, computed once.
var ringTrigs = sync.OnceValue(func() [][][2]float64 {
	out := make([][][2]float64, maxSampleRings+1)
	for k := 1; k <= maxSampleRings; k++ {
		out[k] = bearings(k)
	}
	return out
})

// bearings computes ring k's 6k bearings (sine, cosine).
func bearings(k int) [][2]float64 {
	n := 6 * k
	out := make([][2]float64, n)
	for i := range n {
		st, ct := math.Sincos(2 * math.Pi * float64(i) / float64(n))
		out[i] = [2]float64{st, ct}
	}
	return out
}

// maxSampleRings is the finest grid Intersect samples.
const maxSampleRings = 48

// ringTrig is ring k's bearings (sine, cosine), from the table when k is
// in it.
func ringTrig(k int) [][2]float64 {
	if k <= maxSampleRings {
		return ringTrigs()[k]
	}
	return bearings(k)
}

// samplePool holds sampleIntersection's buffers of feasible samples (up to
// 1+3·rings·(rings+1) vectors, 170 KB at 48 rings): the engine intersects
// discs for most hops, and allocating them each time fed the collector.
var samplePool = sync.Pool{New: func() any { return new([]r3.Vector) }}

// sampleIntersection samples disc s on a polar grid of the given number of
// rings (ring k has 6k points) and returns the region of samples inside every
// cap.
func sampleIntersection(s Disc, caps []unitCap, rings int) (Region, bool) {
	var sum r3.Vector
	buf := samplePool.Get().(*[]r3.Vector)
	pts := (*buf)[:0]
	defer func() { *buf = pts[:0]; samplePool.Put(buf) }()
	feasible := func(v r3.Vector) bool {
		for _, c := range caps {
			if v.Dot(c.c) < c.cos {
				return false
			}
		}
		return true
	}
	center := s2.PointFromLatLng(s.Center.LatLng()).Vector
	if feasible(center) {
		pts = append(pts, center)
	}
	// An orthonormal tangent basis at the centre: samples at angular
	// distance a and bearing θ are cos a·c + sin a·(cos θ·u + sin θ·w).
	u := center.Ortho()
	w := center.Cross(u).Normalize()
	step := s.RadiusKm / float64(rings)
	for k := 1; k <= rings; k++ {
		a := math.Min(step*float64(k)/EarthRadiusKm, math.Pi)
		ca, sa := math.Cos(a), math.Sin(a)
		n := 6 * k
		trig := ringTrig(k)
		for i := 0; i < n; i++ {
			st, ct := trig[i][0], trig[i][1]
			v := center.Mul(ca).Add(u.Mul(sa * ct)).Add(w.Mul(sa * st))
			if feasible(v) {
				pts = append(pts, v)
			}
		}
	}
	if len(pts) == 0 {
		return Region{}, false
	}
	for _, v := range pts {
		sum = sum.Add(v)
	}
	if sum.Norm() == 0 {
		return Region{}, false
	}
	cv := sum.Normalize()
	c := PointFromLatLng(s2.LatLngFromPoint(s2.Point{Vector: cv}))
	maxAngle := 0.0
	for _, v := range pts {
		maxAngle = math.Max(maxAngle, cv.Angle(v).Radians())
	}
	return Region{Center: c, RadiusKm: maxAngle*EarthRadiusKm + step}, true
}
