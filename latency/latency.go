package latency

import (
	"fmt"
	"math"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

const (
	// FibreKmPerMs is how far light travels in optical fibre in one
	// millisecond: c / 1.468, the constant CAIDA's Hoiho uses.
	FibreKmPerMs = 204.19
	// EarthRadiusKm is the mean radius of the Earth (IUGG).
	EarthRadiusKm = 6371.0088
)

// Point is a place on the Earth, in degrees. The zero value is 0°N 0°E.
type Point struct {
	Lat float64 // degrees north, [-90, 90]
	Lon float64 // degrees east, [-180, 180]
}

// PointFromLatLng converts an s2.LatLng.
func PointFromLatLng(ll s2.LatLng) Point {
	return Point{Lat: ll.Lat.Degrees(), Lon: ll.Lng.Degrees()}
}

// LatLng converts p to an s2.LatLng.
func (p Point) LatLng() s2.LatLng { return s2.LatLngFromDegrees(p.Lat, p.Lon) }

// Valid reports whether p's latitude and longitude are finite and in range.
func (p Point) Valid() bool {
	return !math.IsNaN(p.Lat) && !math.IsNaN(p.Lon) &&
		p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180
}

// String formats p as "lat,lon" with four decimals (about 10 m).
func (p Point) String() string { return fmt.Sprintf("%.4f,%.4f", p.Lat, p.Lon) }

// DistanceKm is the great-circle distance between a and b in kilometres
// (haversine formula, accurate to millimetres at all distances).
func DistanceKm(a, b Point) float64 {
	const rad = math.Pi / 180
	lat1, lat2 := a.Lat*rad, b.Lat*rad
	dLat := lat2 - lat1
	dLon := (b.Lon - a.Lon) * rad
	s1, s2 := math.Sin(dLat/2), math.Sin(dLon/2)
	h := s1*s1 + math.Cos(lat1)*math.Cos(lat2)*s2*s2
	if h > 1 {
		h = 1
	}
	return 2 * EarthRadiusKm * math.Asin(math.Sqrt(h))
}

// Destination is the point distanceKm from p along the great circle that
// leaves p at bearingDeg (clockwise from north).
func Destination(p Point, bearingDeg, distanceKm float64) Point {
	const rad = math.Pi / 180
	d := distanceKm / EarthRadiusKm
	lat1, lon1, brg := p.Lat*rad, p.Lon*rad, bearingDeg*rad
	sinLat := math.Sin(lat1)*math.Cos(d) + math.Cos(lat1)*math.Sin(d)*math.Cos(brg)
	lat2 := math.Asin(math.Max(-1, math.Min(1, sinLat)))
	lon2 := lon1 + math.Atan2(math.Sin(brg)*math.Sin(d)*math.Cos(lat1), math.Cos(d)-math.Sin(lat1)*sinLat)
	lon := math.Mod(lon2/rad+540, 360) - 180
	return Point{Lat: lat2 / rad, Lon: lon}
}

// BearingDeg is the initial bearing of the great circle from a to b, in
// degrees clockwise from north in [0, 360); 0 when a and b coincide.
func BearingDeg(a, b Point) float64 {
	const rad = math.Pi / 180
	lat1, lat2 := a.Lat*rad, b.Lat*rad
	dLon := (b.Lon - a.Lon) * rad
	y := math.Sin(dLon) * math.Cos(lat2)
	x := math.Cos(lat1)*math.Sin(lat2) - math.Sin(lat1)*math.Cos(lat2)*math.Cos(dLon)
	if x == 0 && y == 0 {
		return 0
	}
	return math.Mod(math.Atan2(y, x)/rad+360, 360)
}

// MaxDistanceKm is the farthest a router answering after rttMs can be from
// the vantage point: rttMs/2 × FibreKmPerMs, plus slackKm. A negative or NaN
// RTT allows only the slack.
func MaxDistanceKm(rttMs, slackKm float64) float64 {
	if !(rttMs > 0) {
		return math.Max(slackKm, 0)
	}
	return rttMs/2*FibreKmPerMs + math.Max(slackKm, 0)
}

// MinRTTMs is the smallest round-trip time in milliseconds that light in
// fibre needs to cover distanceKm and back, after forgiving slackKm.
func MinRTTMs(distanceKm, slackKm float64) float64 {
	d := distanceKm - math.Max(slackKm, 0)
	if d <= 0 {
		return 0
	}
	return 2 * d / FibreKmPerMs
}

// MinOfRTTs returns the smallest positive RTT of rttsMs and whether there was
// one. Zero, negative and NaN values (lost or unreported probes) are skipped.
func MinOfRTTs(rttsMs ...float64) (float64, bool) {
	best, ok := 0.0, false
	for _, r := range rttsMs {
		if !(r > 0) {
			continue
		}
		if !ok || r < best {
			best, ok = r, true
		}
	}
	return best, ok
}

// PairMaxDistanceKm bounds the distance between two routers of one trace,
// answering after rttIMs and rttJMs, without knowing where the vantage point
// is: both lie within their one-way bound of the same (unknown) source, so by
// the triangle inequality they are at most (rttI+rttJ)/2 × FibreKmPerMs apart,
// plus slackKm.
func PairMaxDistanceKm(rttIMs, rttJMs, slackKm float64) float64 {
	return MaxDistanceKm(math.Max(rttIMs, 0)+math.Max(rttJMs, 0), slackKm)
}

// DetourExcessKm is how much farther apart two consecutive routers of one
// trace are than the rise in RTT between them can pay for: the distance
// between them minus (rttNextMs - rttPrevMs)/2 × FibreKmPerMs, minus slackKm.
// Zero when the rise pays for the hop. This is soft evidence, not a bound:
// return paths differ and ICMP generation delays vary, so an excess makes a
// placement unlikely, not impossible.
func DetourExcessKm(prev, next Point, rttPrevMs, rttNextMs, slackKm float64) float64 {
	rise := math.Max(rttNextMs-rttPrevMs, 0)
	x := DistanceKm(prev, next) - rise/2*FibreKmPerMs - math.Max(slackKm, 0)
	return math.Max(x, 0)
}

// kmToAngle converts a great-circle distance to the angle it subtends.
func kmToAngle(km float64) s1.Angle { return s1.Angle(km / EarthRadiusKm) }

// angleToKm converts an angle to the great-circle distance it subtends.
func angleToKm(a s1.Angle) float64 { return float64(a) * EarthRadiusKm }
