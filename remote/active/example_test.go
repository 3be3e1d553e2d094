package active_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"

	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/remote/active"
	"github.com/geoloc-dev/geoloc/remote/atlas"
)

// A dry run: choose the RIPE Atlas probes nearest to where a database puts
// an address, from a probe list at hand, and print the measurement that
// would be created. Nothing is sent.
func ExampleBatch_dryRun() {
	pool := []atlas.Probe{
		{ID: 6001, Lat: 50.1109, Lon: 8.6821, Located: true, CountryCode: "DE", Status: "Connected"},
		{ID: 6002, Lat: 52.3676, Lon: 4.9041, Located: true, CountryCode: "NL", Status: "Connected"},
		{ID: 6003, Lat: 35.6762, Lon: 139.6503, Located: true, CountryCode: "JP", Status: "Connected"},
		{ID: 6004, Lat: 50.9375, Lon: 6.9603, Located: true, CountryCode: "DE", Status: "Disconnected"},
	}
	b := &active.Batch{
		Service: &active.Atlas{Client: atlas.New(atlas.Options{}), Pool: pool},
		N:       2,
		DryRun:  os.Stdout,
	}
	near := latency.Point{Lat: 50.85, Lon: 4.35} // Brussels, as a database says
	if _, err := b.Ping(context.Background(), netip.MustParseAddr("192.0.2.7"), &near); err != nil {
		fmt.Println(err)
	}
	// Output:
	// would ping 192.0.2.7 from at most 2 atlas probes near 50.8500,4.3500:
	//   probe 6002 (NL): 1 probe, 173 km away
	//   probe 6001 (DE): 1 probe, 317 km away
	//   request: {
	//     "definitions": [
	//       {
	//         "type": "ping",
	//         "target": "192.0.2.7",
	//         "af": 4,
	//         "description": "geoloc active geolocation of 192.0.2.7",
	//         "packets": 3
	//       }
	//     ],
	//     "probes": [
	//       {
	//         "type": "probes",
	//         "value": "6002,6001",
	//         "requested": 2
	//       }
	//     ],
	//     "is_oneoff": true
	//   }
}

func ExampleNearest() {
	cands := []active.Candidate{
		{Point: latency.Point{Lat: 48.8566, Lon: 2.3522}, Key: "Paris"},
		{Point: latency.Point{Lat: 51.5074, Lon: -0.1278}, Key: "London"},
		{Point: latency.Point{Lat: 50.6292, Lon: 3.0573}, Key: "Lille"},
	}
	near, km := active.Nearest(cands, latency.Point{Lat: 50.85, Lon: 4.35}, 2)
	for i, c := range near {
		fmt.Printf("%s %.0f km\n", c.Key, km[i])
	}
	// Output:
	// Lille 94 km
	// Paris 264 km
}
