package countries

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAtCities(t *testing.T) {
	tests := []struct {
		name     string
		lat, lon float64
		want     string
	}{
		{"Oslo", 59.9139, 10.7522, "NO"},
		{"Frankfurt", 50.1109, 8.6821, "DE"},
		{"New York (coastal, outside 50m outline)", 40.7128, -74.0060, "US"},
		{"Singapore", 1.3521, 103.8198, "SG"},
		{"Sydney", -33.8688, 151.2093, "AU"},
		{"Tokyo", 35.6762, 139.6503, "JP"},
		{"London", 51.5074, -0.1278, "GB"},
		{"Amsterdam", 52.3676, 4.9041, "NL"},
		{"Paris", 48.8566, 2.3522, "FR"},
		{"Ashburn", 39.0438, -77.4874, "US"},
		{"Los Angeles", 34.0522, -118.2437, "US"},
		{"Sao Paulo", -23.5505, -46.6333, "BR"},
		{"Johannesburg", -26.2041, 28.0473, "ZA"},
		{"Maseru (Lesotho, a hole in South Africa)", -29.3151, 27.4869, "LS"},
		{"Vatican-free Rome", 41.8902, 12.4922, "IT"},
		{"Hong Kong", 22.3193, 114.1694, "HK"},
		{"Mumbai", 19.0760, 72.8777, "IN"},
		{"Marseille (landing station)", 43.2965, 5.3698, "FR"},
		{"Anchorage", 61.2181, -149.9003, "US"},
		{"Suva, Fiji (near antimeridian)", -18.1248, 178.4501, "FJ"},
		{"Anadyr, Russia (east of 180 split)", 64.7337, 177.5089, "RU"},
		{"Chukotka east of antimeridian", 66.0, -171.0, "RU"},
		{"Reykjavik", 64.1466, -21.9426, "IS"},
		{"Pristina", 42.6629, 21.1655, "XK"},
		{"Hargeisa (Somaliland)", 9.56, 44.065, "SO"},
		{"Christmas Island", -10.49, 105.62, "CX"},
		{"Honolulu", 21.3069, -157.8583, "US"},
		{"Auckland", -36.8485, 174.7633, "NZ"},
		{"Stockholm", 59.3293, 18.0686, "SE"},
		{"Zurich", 47.3769, 8.5417, "CH"},
		{"Moscow", 55.7558, 37.6173, "RU"},
		{"Istanbul (European side)", 41.0082, 28.9784, "TR"},
		{"Cairo", 30.0444, 31.2357, "EG"},
		{"Seoul", 37.5665, 126.9780, "KR"},
		{"Miami", 25.7617, -80.1918, "US"},
		{"Antarctica, McMurdo area inland", -80.0, 160.0, "AQ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := At(tt.lat, tt.lon)
			require.True(t, ok, "no country at %v,%v", tt.lat, tt.lon)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAtSea(t *testing.T) {
	tests := []struct {
		name     string
		lat, lon float64
	}{
		{"mid Atlantic", 30, -40},
		{"mid Pacific", 0, -140},
		{"southern Indian Ocean", -40, 80},
		{"North Sea, 100 km off the coasts", 56.5, 3.0},
		{"Tasman Sea", -38, 160},
		{"null island", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := At(tt.lat, tt.lon)
			assert.False(t, ok, "got %q", got)
		})
	}
}

func TestAtInvalid(t *testing.T) {
	for _, ll := range [][2]float64{{91, 0}, {0, 181}, {-91, 0}, {0, -180.5}} {
		_, ok := At(ll[0], ll[1])
		assert.False(t, ok, "%v", ll)
	}
}

func TestNearestDistance(t *testing.T) {
	iso, d, ok := Nearest(59.9139, 10.7522, CoastKm)
	require.True(t, ok)
	assert.Equal(t, "NO", iso)
	assert.Zero(t, d)

	// 0.3° of latitude south of the Oslofjord coast near Larvik is in the
	// Skagerrak, within a few tens of km of Norway.
	iso, d, ok = Nearest(58.75, 10.0, 100)
	require.True(t, ok)
	assert.Equal(t, "NO", iso)
	assert.Greater(t, d, 0.0)
	assert.Less(t, d, 100.0)

	_, _, ok = Nearest(58.75, 10.0, 1)
	assert.False(t, ok, "a point at sea is not within 1 km")
}

// Lookup's extents: every outline country has one, city states get the
// 10 km floor.
func TestLookup(t *testing.T) {
	de, ok := Lookup("de")
	require.True(t, ok)
	assert.Equal(t, "DEU", de.ISO3)
	assert.Equal(t, "Germany", de.Name)
	assert.InDelta(t, 357_000, de.AreaKm2, 10_000, "Germany's area")
	assert.InDelta(t, 500, de.RadiusKm, 150)
	mc, ok := Lookup("MC")
	require.True(t, ok)
	assert.Equal(t, 10.0, mc.RadiusKm, "Monaco gets the floor")
	_, ok = Lookup("ZZ")
	assert.False(t, ok)
	n := 0
	for c := range Outlines(Medium) {
		info, ok := Lookup(c.ISO2)
		require.True(t, ok, c.ISO2)
		assert.GreaterOrEqual(t, info.RadiusKm, 10.0, c.ISO2)
		n++
	}
	assert.Greater(t, n, 200)
}

func TestName(t *testing.T) {
	assert.Equal(t, "Norway", Name("NO"))
	assert.Equal(t, "Germany", Name("de"))
	assert.Equal(t, "United States", Name("US"))
	assert.Equal(t, "Kosovo", Name("XK"))
	assert.Equal(t, "", Name("ZZ"))
	assert.Equal(t, "", Name(""))
}

func TestOutlines(t *testing.T) {
	for _, d := range []Detail{Medium, Coarse} {
		t.Run(fmt.Sprint(d), func(t *testing.T) {
			n, points := 0, 0
			seen := map[string]bool{}
			for c := range Outlines(d) {
				n++
				require.Len(t, c.ISO2, 2)
				require.False(t, seen[c.ISO2], "duplicate %s", c.ISO2)
				seen[c.ISO2] = true
				assert.NotEmpty(t, c.Name, c.ISO2)
				require.NotEmpty(t, c.Polygons, c.ISO2)
				for _, p := range c.Polygons {
					for _, r := range p {
						require.GreaterOrEqual(t, len(r), 3, c.ISO2)
						for _, pt := range r {
							require.True(t, pt.Lat >= -90 && pt.Lat <= 90 && pt.Lon >= -180 && pt.Lon <= 180, "%s %v", c.ISO2, pt)
							points++
						}
					}
				}
			}
			assert.Greater(t, n, 170)
			assert.Greater(t, points, 9000)
			for _, iso := range []string{"US", "DE", "NO", "JP", "AU", "BR", "ZA", "RU"} {
				assert.True(t, seen[iso], iso)
			}
		})
	}
	// Stopping early must not panic.
	for range Outlines(Coarse) {
		break
	}
}

func TestDecodeCorrupt(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("GLCO1"), []byte("XXXXX" + string(make([]byte, 40))), outlines110m[:len(outlines110m)-3], append(append([]byte{}, outlines110m...), 0)} {
		_, err := decode(b)
		assert.Error(t, err)
	}
}

// Every country with an outline is found at some point of its own largest
// ring's interior: a check that orientation normalisation and holes work for
// all of them, not just the cities above.
func TestEveryCountryReachable(t *testing.T) {
	missing := 0
	for c := range Outlines(Medium) {
		found := false
		for _, p := range c.Polygons {
			for _, pt := range p[0] {
				// A vertex of the outline is on the border: it must resolve
				// to this country or a neighbour, never to nothing.
				if iso, ok := At(pt.Lat, pt.Lon); ok && iso == c.ISO2 {
					found = true
					break
				}
			}
			if found {
				break
			}
		}
		if !found {
			missing++
			t.Errorf("%s (%s): no vertex resolves to it", c.ISO2, c.Name)
		}
	}
	assert.Zero(t, missing)
}

var benchCities = [][2]float64{
	{59.9139, 10.7522}, {50.1109, 8.6821}, {40.7128, -74.0060}, {1.3521, 103.8198},
	{-33.8688, 151.2093}, {35.6762, 139.6503}, {30, -40}, {51.5074, -0.1278},
}

func BenchmarkAt(b *testing.B) {
	cities := benchCities
	At(0, 0) // build the index outside the timer
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b)()
	for i := 0; b.Loop(); i++ {
		c := cities[i%len(cities)]
		At(c[0], c[1])
	}
}

// BenchmarkIndexBuild is the one-off cost of the first At call.
func BenchmarkIndexBuild(b *testing.B) {
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := newIndex(outlines50m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstAt is what the first At of a run costs: the index made from
// the embedded outlines, then one lookup (here Frankfurt), which prepares the
// polygons it reaches. "reference" is the single shape index over all rings
// that At used before.
func BenchmarkFirstAt(b *testing.B) {
	type nearestFunc = func(lat, lon, km float64) (string, float64, bool)
	for _, impl := range []struct {
		name  string
		build func() (nearestFunc, error)
	}{
		{"lazy", func() (nearestFunc, error) {
			ix, err := newIndex(outlines50m)
			if err != nil {
				return nil, err
			}
			return ix.nearest, nil
		}},
		{"reference", func() (nearestFunc, error) {
			ix, err := newRefIndex(outlines50m)
			if err != nil {
				return nil, err
			}
			return ix.nearest, nil
		}},
	} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				nearest, err := impl.build()
				if err != nil {
					b.Fatal(err)
				}
				if iso, _, _ := nearest(50.1109, 8.6821, CoastKm); iso != "DE" {
					b.Fatal(iso)
				}
			}
		})
	}
}

// BenchmarkAtMix is At on a warm index over points spread like the
// equivalence test's (a global grid, random points, points near coasts and
// borders) and over BenchmarkAt's cities, against the reference.
func BenchmarkAtMix(b *testing.B) {
	ix, err := newIndex(outlines50m)
	require.NoError(b, err)
	ref, err := newRefIndex(outlines50m)
	require.NoError(b, err)
	var cities []Point
	for _, c := range benchCities {
		cities = append(cities, Point{Lat: c[0], Lon: c[1]})
	}
	for _, set := range []struct {
		name string
		pts  []Point
	}{{"cities", cities}, {"spread", equivalencePoints(61, 23)}} {
		for _, q := range set.pts { // warm: prepare every polygon the points reach
			ix.nearest(q.Lat, q.Lon, CoastKm)
		}
		for _, impl := range []struct {
			name    string
			nearest func(lat, lon, km float64) (string, float64, bool)
		}{{"lazy", ix.nearest}, {"reference", ref.nearest}} {
			b.Run(set.name+"/"+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				defer reportCPU(b)()
				for i := 0; b.Loop(); i++ {
					q := set.pts[i%len(set.pts)]
					impl.nearest(q.Lat, q.Lon, CoastKm)
				}
			})
		}
	}
}

// reportCPU adds the process's CPU time (user and system, all threads, so
// including the garbage collector) per operation to a benchmark: on a
// shared machine it varies less than the wall time. Call the result when
// the loop is done.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() {
		b.ReportMetric(float64(cpu()-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkIndexBuildAll is the worst case of the lazy index: every polygon
// prepared, as if a run asked about points near all of them.
func BenchmarkIndexBuildAll(b *testing.B) {
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		ix, err := newIndex(outlines50m)
		if err != nil {
			b.Fatal(err)
		}
		for i := range ix.polys {
			ix.polys[i].prepare()
		}
	}
}

func BenchmarkDecode50m(b *testing.B) {
	for b.Loop() {
		cs, err := decode(outlines50m)
		if err != nil {
			b.Fatal(err)
		}
		_ = cs
	}
}

func ExampleAt() {
	iso, ok := At(50.1109, 8.6821) // Frankfurt
	fmt.Println(iso, Name(iso), ok)
	iso, ok = At(40.7128, -74.0060) // New York: outside the 1:50m outline, within CoastKm
	fmt.Println(iso, ok)
	_, ok = At(30, -40) // mid Atlantic
	fmt.Println(ok)
	// Output:
	// DE Germany true
	// US true
	// false
}
