package style

import (
	"image/color"
	"math"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/traceroute"
)

func TestASColor(t *testing.T) {
	assert.Equal(t, ASColor(1299), ASColor(1299), "stable")
	assert.Equal(t, "#888888", Hex(ASColor(0)))
	seen := map[string]uint32{}
	collisions := 0
	for _, asn := range []uint32{174, 701, 1299, 2914, 3257, 3356, 6453, 6461, 6762, 6830, 7018, 12956, 13335, 15169, 16509, 20940} {
		c := ASColor(asn)
		assert.Equal(t, uint8(0xff), c.A)
		// Readable on white: not too light.
		assert.Less(t, int(c.R)+int(c.G)+int(c.B), 3*225, "AS%d %s", asn, Hex(c))
		if _, ok := seen[Hex(c)]; ok {
			collisions++
		}
		seen[Hex(c)] = asn
	}
	assert.Zero(t, collisions, "tier-1 networks get distinct colours")
	assert.NotEqual(t, TraceColor(0), TraceColor(1))
	assert.Equal(t, "#e6194b", Hex(TraceColor(0)), "trace colours are fixed (golden files depend on them)")
}

// TestDistinct: the first PaletteSize colours differ clearly from each
// other (CIE76 distance in Lab of at least 25, where 2.3 is "just
// noticeable") and stay readable on white.
func TestDistinct(t *testing.T) {
	require.GreaterOrEqual(t, PaletteSize, 12)
	lab := func(c color.RGBA) [3]float64 {
		lin := func(v uint8) float64 {
			x := float64(v) / 255
			if x <= 0.04045 {
				return x / 12.92
			}
			return math.Pow((x+0.055)/1.055, 2.4)
		}
		r, g, b := lin(c.R), lin(c.G), lin(c.B)
		X := (0.4124*r + 0.3576*g + 0.1805*b) / 0.95047
		Y := 0.2126*r + 0.7152*g + 0.0722*b
		Z := (0.0193*r + 0.1192*g + 0.9505*b) / 1.08883
		f := func(t float64) float64 {
			if t > 0.008856 {
				return math.Cbrt(t)
			}
			return 7.787*t + 16.0/116
		}
		return [3]float64{116*f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))}
	}
	for i := range PaletteSize {
		a := lab(Distinct(i))
		assert.Less(t, a[0], 90.0, "colour %d %s is too pale for white", i, Hex(Distinct(i)))
		for j := range i {
			b := lab(Distinct(j))
			d := math.Sqrt((a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2]))
			assert.GreaterOrEqual(t, d, 25.0, "colours %d %s and %d %s", i, Hex(Distinct(i)), j, Hex(Distinct(j)))
		}
	}
	assert.NotEqual(t, Distinct(PaletteSize), Distinct(PaletteSize+1))
}

func hop(ttl int, addr string, lat, lon float64) geoloc.HopResult {
	h := geoloc.HopResult{TTL: ttl, Addr: netip.MustParseAddr(addr)}
	if !math.IsNaN(lat) {
		h.Location = &geoloc.Location{Lat: lat, Lon: lon}
	}
	return h
}

func TestLines(t *testing.T) {
	lat, lon := 59.9, 10.7
	tr := &geoloc.TraceResult{Hops: []geoloc.HopResult{
		hop(1, "192.0.2.1", 1, 1),
		hop(3, "192.0.2.3", 3, 3), // out of order on purpose
		hop(2, "192.0.2.2", 2, 2),
		hop(2, "192.0.2.22", 2.2, 2.2), // ECMP
		hop(4, "192.0.2.4", math.NaN(), 0),
		hop(5, "192.0.2.5", 5, 5),
		hop(5, "192.0.2.55", 5.5, 5.5), // ECMP at the last TTL
	}}
	got := Lines(tr)
	require.Len(t, got, 3)
	assert.Equal(t, Line{Hops: []int{0, 2, 1, 5}}, got[0])
	assert.Equal(t, Line{Hops: []int{0, 3, 1}, Branch: true}, got[1])
	assert.Equal(t, Line{Hops: []int{1, 6}, Branch: true}, got[2])

	tr.Source = traceroute.Endpoint{Lat: &lat, Lon: &lon}
	got = Lines(tr)
	assert.True(t, got[0].Source)
	assert.False(t, got[1].Source, "the branch starts at TTL 1, not at the source")

	one := &geoloc.TraceResult{Hops: []geoloc.HopResult{hop(1, "192.0.2.1", 1, 1)}}
	assert.Empty(t, Lines(one), "one point is not a line")
	one.Source = tr.Source
	assert.Len(t, Lines(one), 1, "source and one hop are")

	assert.Len(t, Unlocated(tr), 1)
}

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain.example", "plain.example"},
		{"a\x00b\x1b[31mc\x7f", "a\uFFFDb\uFFFD[31mc\uFFFD"},
		{"\u202eevil\u2066", "\uFFFDevil\uFFFD"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{"K\u00f8benhavn \u65e5\u672c", "K\u00f8benhavn \u65e5\u672c"},
		{"<script>", "<script>"}, // markup is each writer's job
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Sanitize(tt.in, 100), "%q", tt.in)
	}
	assert.Equal(t, "abc…", Sanitize("abcdef", 3))
}

func TestCircle(t *testing.T) {
	ring := Circle(50, 8, 100, 36)
	require.Len(t, ring, 37)
	assert.Equal(t, ring[0], ring[36], "closed")
	for _, p := range ring[:36] {
		d := latency.DistanceKm(latency.Point{Lat: 50, Lon: 8}, latency.Point{Lat: p[1], Lon: p[0]})
		assert.InDelta(t, 100, d, 0.01)
	}
	// Counter-clockwise (RFC 7946): positive shoelace area.
	area := 0.0
	for i := range 36 {
		area += ring[i][0]*ring[i+1][1] - ring[i+1][0]*ring[i][1]
	}
	assert.Positive(t, area)
	// Across the antimeridian longitudes stay in range.
	for _, p := range Circle(0, 179.9, 50, 12) {
		assert.True(t, p[0] >= -180 && p[0] <= 180, "%v", p)
	}
}

func TestEvidenceSummary(t *testing.T) {
	h := &geoloc.HopResult{Evidence: []geoloc.Evidence{
		{Source: "rdns:iata", Kind: "hint", City: "Frankfurt", Status: geoloc.StatusChosen},
		{Source: "geoip:a", Status: geoloc.StatusAgrees},
		{Source: "geoip:b", Status: geoloc.StatusAgrees},
		{Source: "geoip:c", Status: geoloc.StatusRuledOut, Why: "needs at least 38.1 ms from Oslo, saw 2.3 ms"},
	}}
	assert.Equal(t, "chosen rdns:iata/hint (Frankfurt); 2 agree; 1 ruled out (geoip:c: needs at least 38.1 ms from Oslo, saw 2.3 ms)", EvidenceSummary(h))
	assert.Equal(t, "", EvidenceSummary(&geoloc.HopResult{}))
}

func TestTitles(t *testing.T) {
	tr := &geoloc.TraceResult{}
	assert.Equal(t, "trace 3", TraceTitle(tr, 2))
	tr.Destination.Addr = netip.MustParseAddr("192.0.2.1")
	assert.Equal(t, "192.0.2.1", TraceTitle(tr, 0))
	tr.Destination.Name = "x.example"
	assert.Equal(t, "x.example (192.0.2.1)", TraceTitle(tr, 0))
	assert.Equal(t, "7 *", HopTitle(&geoloc.HopResult{TTL: 7}))
	assert.Equal(t, "AS3356 Level 3", ASLabel(3356, "Level 3"))
	assert.Equal(t, "Org", ASLabel(0, "Org"))
	assert.Equal(t, "Oslo, Norway", Place(&geoloc.Location{City: "Oslo", Country: "NO"}))
	assert.Equal(t, "Japan", Place(&geoloc.Location{Region: "13", Country: "JP"}), "no numeric region codes")
	assert.Equal(t, "Bavaria, Germany", Place(&geoloc.Location{Region: "Bavaria", Country: "DE"}))
}
