package latency

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	oslo      = Point{59.9139, 10.7522}
	frankfurt = Point{50.1109, 8.6821}
	tokyo     = Point{35.6762, 139.6503}
	newYork   = Point{40.7128, -74.0060}
	sydney    = Point{-33.8688, 151.2093}
	london    = Point{51.5074, -0.1278}
	paris     = Point{48.8566, 2.3522}
)

func TestDistanceKm(t *testing.T) {
	tests := []struct {
		name   string
		a, b   Point
		wantKm float64
		tolKm  float64
	}{
		{"same point", oslo, oslo, 0, 1e-9},
		{"london-paris", london, paris, 343.5, 2},
		{"oslo-frankfurt", oslo, frankfurt, 1098, 3},
		{"new york-london", newYork, london, 5570, 10},
		{"tokyo-sydney", tokyo, sydney, 7823, 15},
		{"antipodes", Point{0, 0}, Point{0, 180}, math.Pi * EarthRadiusKm, 1e-6},
		{"across the antimeridian", Point{0, 179.5}, Point{0, -179.5}, 111.2, 0.5},
		{"pole to pole", Point{90, 0}, Point{-90, 0}, math.Pi * EarthRadiusKm, 1e-6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DistanceKm(tt.a, tt.b)
			assert.InDelta(t, tt.wantKm, got, tt.tolKm)
			assert.InDelta(t, got, DistanceKm(tt.b, tt.a), 1e-9, "symmetric")
		})
	}
}

func TestDestinationRoundTrip(t *testing.T) {
	for _, p := range []Point{oslo, tokyo, sydney, newYork, {0, 179.9}, {-89, 10}} {
		for _, brg := range []float64{0, 45, 90, 135, 180, 225, 270, 315} {
			for _, d := range []float64{0, 1, 100, 2500} {
				q := Destination(p, brg, d)
				require.True(t, q.Valid(), "%v %v %v -> %v", p, brg, d, q)
				assert.InDelta(t, d, DistanceKm(p, q), 1e-6*math.Max(d, 1)+1e-6, "%v bearing %v", p, brg)
			}
		}
	}
}

func TestMaxDistanceKm(t *testing.T) {
	tests := []struct {
		rttMs, slackKm, want float64
	}{
		{0, 0, 0},
		{0, 25, 25},
		{-3, 25, 25},
		{math.NaN(), 10, 10},
		{1, 0, 102.095},
		{2.3, 0, 234.8185},
		{10, 50, 1070.95},
		{10, -5, 1020.95},
	}
	for _, tt := range tests {
		assert.InDelta(t, tt.want, MaxDistanceKm(tt.rttMs, tt.slackKm), 1e-9, "rtt %v slack %v", tt.rttMs, tt.slackKm)
	}
}

func TestMinRTTMsInvertsMaxDistance(t *testing.T) {
	for _, rtt := range []float64{0.1, 1, 7.5, 120, 300} {
		for _, slack := range []float64{0, 20, 100} {
			d := MaxDistanceKm(rtt, slack)
			assert.InDelta(t, rtt, MinRTTMs(d, slack), 1e-9)
		}
	}
	assert.Zero(t, MinRTTMs(10, 25), "within the slack needs no time")
}

func TestMinOfRTTs(t *testing.T) {
	tests := []struct {
		in     []float64
		want   float64
		wantOK bool
	}{
		{nil, 0, false},
		{[]float64{0, -1, math.NaN()}, 0, false},
		{[]float64{3.2, 1.1, 2}, 1.1, true},
		{[]float64{0, 4}, 4, true},
	}
	for _, tt := range tests {
		got, ok := MinOfRTTs(tt.in...)
		assert.Equal(t, tt.wantOK, ok, "%v", tt.in)
		assert.InDelta(t, tt.want, got, 1e-12, "%v", tt.in)
	}
}

func TestPairAndDetour(t *testing.T) {
	// Two hops at 2 ms and 3 ms from the same source are at most 510 km apart.
	assert.InDelta(t, 2.5*FibreKmPerMs, PairMaxDistanceKm(2, 3, 0), 1e-9)
	// Frankfurt then Tokyo with a 1 ms rise: a huge detour.
	x := DetourExcessKm(frankfurt, tokyo, 10, 11, 50)
	assert.Greater(t, x, 9000.0)
	// Frankfurt then London with a 10 ms rise: paid for.
	assert.Zero(t, DetourExcessKm(frankfurt, london, 10, 20, 50))
	// RTT falling is treated as no rise.
	assert.InDelta(t, DistanceKm(oslo, frankfurt)-50, DetourExcessKm(oslo, frankfurt, 20, 5, 50), 1e-9)
}

func TestConstraintCheck(t *testing.T) {
	c := Constraint{From: oslo, FromName: "Oslo", RTTMs: 2.3, SlackKm: 25}
	far := c.Check(frankfurt)
	assert.False(t, far.Feasible)
	assert.InDelta(t, MinRTTMs(DistanceKm(oslo, frankfurt), 25), far.NeedMs, 1e-9)
	assert.Equal(t, "needs at least 10.5 ms from Oslo, saw 2.3 ms", far.String())

	near := c.Check(Point{59.95, 10.8})
	assert.True(t, near.Feasible)
	assert.Equal(t, "5 km from Oslo, 2.3 ms allows 260 km", near.String())

	anon := Constraint{From: oslo, RTTMs: 1}.Check(tokyo)
	assert.Contains(t, anon.String(), "from the vantage point")
}

func TestDiscCapRoundTrip(t *testing.T) {
	for _, d := range []Disc{{oslo, 1}, {tokyo, 150}, {sydney, 3000}} {
		got := DiscFromCap(d.Cap())
		assert.InDelta(t, d.RadiusKm, got.RadiusKm, 1e-6)
		assert.InDelta(t, 0, DistanceKm(d.Center, got.Center), 1e-6)
		assert.True(t, d.Cap().ContainsPoint(got.Cap().Center()))
	}
	assert.True(t, Disc{oslo, 30000}.Cap().IsFull())
}

func TestIntersect(t *testing.T) {
	tests := []struct {
		name   string
		discs  []Disc
		wantOK bool
		// when wantOK: a point that must be inside the region's disc, and
		// the largest acceptable radius
		inside  Point
		maxRKm  float64
		outside []Point // points that must not be in any returned region
	}{
		{name: "none", wantOK: false},
		{name: "one disc", discs: []Disc{{oslo, 100}}, wantOK: true, inside: oslo, maxRKm: 100},
		{name: "nested", discs: []Disc{{oslo, 2000}, {frankfurt, 100}}, wantOK: true, inside: frankfurt, maxRKm: 100},
		{name: "disjoint: 2 ms from Oslo and Tokyo", discs: []Disc{DiscFromRTT(oslo, 2, 25), DiscFromRTT(tokyo, 2, 25)}, wantOK: false},
		{name: "negative radius", discs: []Disc{{oslo, -1}}, wantOK: false},
		{
			name: "three vantage points around Frankfurt",
			discs: []Disc{
				{london, DistanceKm(london, frankfurt) + 60},
				{paris, DistanceKm(paris, frankfurt) + 60},
				{oslo, DistanceKm(oslo, frankfurt) + 60},
			},
			wantOK: true, inside: frankfurt, maxRKm: 600,
			outside: []Point{tokyo, newYork},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := Intersect(tt.discs...)
			require.Equal(t, tt.wantOK, ok)
			if !ok {
				return
			}
			assert.LessOrEqual(t, r.RadiusKm, tt.maxRKm)
			assert.LessOrEqual(t, DistanceKm(r.Center, tt.inside), r.RadiusKm+1e-6)
			for _, d := range tt.discs {
				assert.True(t, d.Contains(r.Center) || r.RadiusKm > 0, "centre feasible or region has extent")
			}
			for _, p := range tt.outside {
				assert.Greater(t, DistanceKm(r.Center, p), r.RadiusKm)
			}
		})
	}
}

func TestIntersectCentroidFeasibleForLens(t *testing.T) {
	// A lens between two overlapping discs: the centroid must be in both.
	a := Disc{oslo, 700}
	b := Disc{frankfurt, 700}
	r, ok := Intersect(a, b)
	require.True(t, ok)
	assert.True(t, a.Contains(r.Center))
	assert.True(t, b.Contains(r.Center))
	assert.Less(t, r.RadiusKm, 700.0)
}

func BenchmarkIntersect3(b *testing.B) {
	discs := []Disc{
		{london, DistanceKm(london, frankfurt) + 60},
		{paris, DistanceKm(paris, frankfurt) + 60},
		{oslo, DistanceKm(oslo, frankfurt) + 60},
	}
	for b.Loop() {
		Intersect(discs...)
	}
}

func BenchmarkConstraintCheck(b *testing.B) {
	c := Constraint{From: oslo, RTTMs: 2.3, SlackKm: 25}
	for b.Loop() {
		c.Check(frankfurt)
	}
}

func TestPairwiseIntersect(t *testing.T) {
	assert.True(t, PairwiseIntersect())
	assert.True(t, PairwiseIntersect(Disc{oslo, 10}))
	assert.True(t, PairwiseIntersect(Disc{oslo, 600}, Disc{frankfurt, 600}))
	assert.False(t, PairwiseIntersect(Disc{oslo, 600}, Disc{frankfurt, 600}, Disc{tokyo, 100}))
}

func TestBearingDeg(t *testing.T) {
	oslo := Point{Lat: 59.91, Lon: 10.75}
	for _, brg := range []float64{0, 45, 90, 135, 180, 270, 359} {
		got := BearingDeg(oslo, Destination(oslo, brg, 500))
		diff := math.Mod(got-brg+540, 360) - 180
		if math.Abs(diff) > 1e-6 {
			t.Errorf("bearing %v: got %v", brg, got)
		}
	}
	if b := BearingDeg(oslo, oslo); b != 0 {
		t.Errorf("same point: %v", b)
	}
}

// TestCheckStringAsFmt holds Check's words to the fmt verbs they replaced
// ("%.1f", "%.0f"), for the numbers fmt and strconv could write apart.
func TestCheckStringAsFmt(t *testing.T) {
	for _, v := range []float64{0, -0.0, 0.05, 0.15, 2.25, 38.149999, 1e21, 1e-7, -3.5, math.Inf(1), math.Inf(-1), math.NaN(), 12345.5} {
		for _, from := range []string{"", "Oslo"} {
			name := from
			if name == "" {
				name = "the vantage point"
			}
			bad := Check{NeedMs: v, SawMs: v / 3, From: from}
			assert.Equal(t, fmt.Sprintf("needs at least %.1f ms from %s, saw %.1f ms", v, name, v/3), bad.String())
			ok := Check{Feasible: true, DistanceKm: v, SawMs: v, MaxKm: v * 2, From: from}
			assert.Equal(t, fmt.Sprintf("%.0f km from %s, %.1f ms allows %.0f km", v, name, v, v*2), ok.String())
			assert.Equal(t, "x"+ok.String(), string(ok.AppendTo([]byte("x"))))
		}
	}
}
