package geoloc

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/latency"
)

// destination is the point at distance km and bearing deg from p.
func destination(p latency.Point, km, deg float64) latency.Point {
	const rad = math.Pi / 180
	d := km / latency.EarthRadiusKm
	lat1, lon1, th := p.Lat*rad, p.Lon*rad, deg*rad
	lat2 := math.Asin(math.Sin(lat1)*math.Cos(d) + math.Cos(lat1)*math.Sin(d)*math.Cos(th))
	lon2 := lon1 + math.Atan2(math.Sin(th)*math.Sin(d)*math.Cos(lat1), math.Cos(d)-math.Sin(lat1)*math.Sin(lat2))
	lon2 = math.Mod(lon2/rad+540, 360) - 180
	return latency.Point{Lat: lat2 / rad, Lon: lon2}
}

// checkFast requires the fast bound's answer to be Check's.
func checkFast(t *testing.T, k latency.Constraint, p latency.Point) {
	t.Helper()
	if !p.Valid() || !k.From.Valid() {
		return
	}
	want := k.Check(p).Feasible
	got := fastBoundOf(k).feasible(k, unitVector(p), p)
	require.Equal(t, want, got, "constraint %+v (max %.9f km), point %+v at %.9f km", k, k.MaxKm(), p, latency.DistanceKm(k.From, p))
}

// TestFastBoundIsCheck holds the trigonometry-free bound test to
// Constraint.Check: random constraints and points, and points on the
// bound's edge and within millimetres of it on both sides.
func TestFastBoundIsCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	for range 20000 {
		from := latency.Point{Lat: rng.Float64()*180 - 90, Lon: rng.Float64()*360 - 180}
		k := latency.Constraint{From: from, RTTMs: math.Pow(10, rng.Float64()*5-2), SlackKm: rng.Float64() * 50}
		if rng.IntN(10) == 0 {
			k.RTTMs = 0
		}
		checkFast(t, k, latency.Point{Lat: rng.Float64()*180 - 90, Lon: rng.Float64()*360 - 180})
		for _, off := range []float64{0, 1e-6, -1e-6, 1e-3, -1e-3, 0.5, -0.5} {
			km := k.MaxKm() + off
			if km < 0 || km > math.Pi*latency.EarthRadiusKm {
				continue
			}
			checkFast(t, k, destination(from, km, rng.Float64()*360))
		}
	}
	// Bounds of no radius or a few metres (no slack, no RTT) and points
	// centimetres to metres from their centre.
	for _, rtt := range []float64{0, 1e-6, 1e-5, 1e-4} {
		k := latency.Constraint{From: latency.Point{Lat: 48.1, Lon: 11.6}, RTTMs: rtt}
		for _, km := range []float64{0, 1e-5, 1e-4, 5e-4, 1e-3, 2e-3, 1e-2} {
			checkFast(t, k, destination(k.From, km, 45))
		}
	}
	// The vantage point itself, the antipode, and bounds covering the Earth.
	for _, rtt := range []float64{0, 1, 133.4, 140, 1000} {
		k := latency.Constraint{From: latency.Point{Lat: 10, Lon: 20}, RTTMs: rtt}
		checkFast(t, k, k.From)
		checkFast(t, k, latency.Point{Lat: -10, Lon: -160})
	}
}

func FuzzFastBound(f *testing.F) {
	f.Add(59.9, 10.7, 12.5, 25.0, 48.1, 2.3)
	f.Add(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
	f.Add(10.0, 20.0, 133.4, 0.0, -10.0, -160.0)
	f.Fuzz(func(t *testing.T, lat, lon, rtt, slack, plat, plon float64) {
		if math.IsNaN(rtt) || math.IsInf(rtt, 0) || rtt < 0 || math.IsNaN(slack) || math.IsInf(slack, 0) || slack < 0 {
			return
		}
		k := latency.Constraint{From: latency.Point{Lat: lat, Lon: lon}, RTTMs: rtt, SlackKm: slack}
		checkFast(t, k, latency.Point{Lat: plat, Lon: plon})
	})
}
