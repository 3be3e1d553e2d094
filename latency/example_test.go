package latency_test

import (
	"fmt"

	"github.com/geoloc-dev/geoloc/latency"
)

func ExampleMaxDistanceKm() {
	// A router answering after 2.3 ms is within 235 km of the prober, plus slack.
	fmt.Printf("%.1f km\n", latency.MaxDistanceKm(2.3, 0))
	fmt.Printf("%.1f km\n", latency.MaxDistanceKm(2.3, 25))
	// Output:
	// 234.8 km
	// 259.8 km
}

func ExampleConstraint_Check() {
	oslo := latency.Point{Lat: 59.9139, Lon: 10.7522}
	frankfurt := latency.Point{Lat: 50.1109, Lon: 8.6821}
	c := latency.Constraint{From: oslo, FromName: "Oslo", RTTMs: 2.3, SlackKm: 25}
	fmt.Println(c.Check(frankfurt))
	fmt.Println(c.Check(oslo))
	// Output:
	// needs at least 10.5 ms from Oslo, saw 2.3 ms
	// 0 km from Oslo, 2.3 ms allows 260 km
}

func ExampleIntersect() {
	london := latency.Point{Lat: 51.5074, Lon: -0.1278}
	paris := latency.Point{Lat: 48.8566, Lon: 2.3522}
	amsterdam := latency.Point{Lat: 52.3676, Lon: 4.9041}
	tokyo := latency.Point{Lat: 35.6762, Lon: 139.6503}
	// A router seen at 4 ms from London, 4 ms from Paris and 3 ms from Amsterdam.
	r, ok := latency.Intersect(
		latency.DiscFromRTT(london, 4, 25),
		latency.DiscFromRTT(paris, 4, 25),
		latency.DiscFromRTT(amsterdam, 3, 25),
	)
	fmt.Println(ok, r.RadiusKm < 400)
	// Seen at 2 ms from both London and Tokyo: no single place can do that (anycast).
	_, ok = latency.Intersect(latency.DiscFromRTT(london, 2, 25), latency.DiscFromRTT(tokyo, 2, 25))
	fmt.Println(ok)
	// Output:
	// true true
	// false
}

func ExampleDistanceKm() {
	london := latency.Point{Lat: 51.5074, Lon: -0.1278}
	paris := latency.Point{Lat: 48.8566, Lon: 2.3522}
	fmt.Printf("%.0f km\n", latency.DistanceKm(london, paris))
	// Output: 344 km
}
