package active_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/remotetest"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/remote/active"
	"github.com/geoloc-dev/geoloc/remote/atlas"
	"github.com/geoloc-dev/geoloc/remote/globalping"
	"github.com/geoloc-dev/geoloc/traceroute"
)

type city struct {
	name, cc string
	lat, lon float64
}

// Real cities; the probes of the stand-ins sit there.
var cities = []city{
	{"Frankfurt", "DE", 50.1109, 8.6821}, {"Amsterdam", "NL", 52.3676, 4.9041}, {"Paris", "FR", 48.8566, 2.3522},
	{"London", "GB", 51.5074, -0.1278}, {"Zurich", "CH", 47.3769, 8.5417}, {"Madrid", "ES", 40.4168, -3.7038},
	{"Warsaw", "PL", 52.2297, 21.0122}, {"Milan", "IT", 45.4642, 9.19}, {"Vienna", "AT", 48.2082, 16.3738},
	{"Stockholm", "SE", 59.3293, 18.0686}, {"Lille", "FR", 50.6292, 3.0573}, {"Cologne", "DE", 50.9375, 6.9603},
	{"New York", "US", 40.7128, -74.006}, {"Tokyo", "JP", 35.6762, 139.6503},
}

// brussels is where the target really is.
var brussels = latency.Point{Lat: 50.8503, Lon: 4.3517}

// rttTo is a realistic RTT from a city to Brussels: fibre 40% longer than
// the great circle, plus a millisecond of access and queueing.
func rttTo(c city) float64 {
	km := latency.DistanceKm(latency.Point{Lat: c.lat, Lon: c.lon}, brussels)
	return 2*1.4*km/200 + 1
}

func findCity(name string) city {
	for _, c := range cities {
		if c.name == name {
			return c
		}
	}
	panic(name)
}

func globalpingStandIn(t *testing.T) (*remotetest.Globalping, *globalping.Client) {
	g := &remotetest.Globalping{}
	var probes []map[string]any
	for i, c := range cities {
		for range 2 {
			probes = append(probes, map[string]any{"version": "0.30.0", "location": map[string]any{"continent": "EU", "country": c.cc, "city": c.name,
				"asn": 64500 + i, "latitude": c.lat, "longitude": c.lon, "network": "Example"}, "tags": []string{}})
		}
	}
	g.Probes, _ = json.Marshal(probes)
	g.OnCreate = func(req map[string]any) (json.RawMessage, error) {
		var results []any
		locs, _ := req["locations"].([]any)
		for _, l := range locs {
			loc := l.(map[string]any)
			c := findCity(loc["city"].(string))
			for range int(loc["limit"].(float64)) {
				r := rttTo(c)
				results = append(results, map[string]any{
					"probe":  map[string]any{"country": c.cc, "city": c.name, "latitude": c.lat, "longitude": c.lon, "asn": 64500},
					"result": map[string]any{"status": "finished", "rawOutput": "", "resolvedAddress": req["target"], "timings": []any{map[string]any{"ttl": 55, "rtt": r}, map[string]any{"ttl": 55, "rtt": r + 0.2}}},
				})
			}
		}
		return json.Marshal(results)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	s := &remotetest.Sleeps{}
	return g, globalping.New(globalping.Options{BaseURL: srv.URL + "/v1", Sleep: s.Sleep})
}

// TestGlobalpingLocates pings an address from the probes nearest its
// (wrong) database location and lets the engine place it from the RTTs.
func TestGlobalpingLocates(t *testing.T) {
	g, c := globalpingStandIn(t)
	b := &active.Batch{Service: &active.Globalping{Client: c}, N: 10}
	// A public address (the engine does not look up documentation ranges);
	// it is only a string sent to the local stand-in, never contacted.
	addr := netip.MustParseAddr("151.101.129.229")
	amsterdam := latency.Point{Lat: 52.3676, Lon: 4.9041} // what a database says
	traces, err := b.Ping(context.Background(), addr, &amsterdam)
	require.NoError(t, err)
	require.Len(t, traces, 10, "N probes")

	var req map[string]any
	for _, r := range g.Requests() {
		if r.Method == "POST" {
			require.NoError(t, json.Unmarshal([]byte(r.Body), &req))
		}
	}
	assert.Equal(t, "ping", req["type"])
	assert.Equal(t, "151.101.129.229", req["target"])
	total := 0
	for _, l := range req["locations"].([]any) {
		total += int(l.(map[string]any)["limit"].(float64))
	}
	assert.Equal(t, 10, total, "never more than N probes")
	assert.NotContains(t, g.Requests()[len(g.Requests())-1].Body, "Tokyo")

	eng := geoloc.New(geoloc.Options{})
	for _, tr := range traces {
		assert.True(t, eng.Observe(tr), "each ping is an observation from a known place")
	}
	h, err := eng.LocateAddr(context.Background(), addr, "", 0, nil)
	require.NoError(t, err)
	require.NotNil(t, h.Location, h.Why)
	km := latency.DistanceKm(latency.Point{Lat: h.Location.Lat, Lon: h.Location.Lon}, brussels)
	t.Logf("placed %.0f km from Brussels by %s, radius %.0f km", km, h.Method, h.Location.RadiusKm)
	assert.Less(t, km, 150.0)
	assert.Regexp(t, `^latency:(multilateration|shortest-ping)$`, h.Method, "placed by the pings alone")

	ev := active.Evidence(traces, addr, geoloc.DefaultSlackKm)
	require.Len(t, ev, 10)
	assert.Equal(t, "ping", ev[0].Kind)
	assert.Contains(t, ev[0].Source, "globalping:Lille, FR", "nearest first")
	assert.Regexp(t, `^\d+\.\d ms: within \d+ km$`, ev[0].Why)

	// Asked again in the same batch: no new measurement.
	again, err := b.Ping(context.Background(), addr, &amsterdam)
	require.NoError(t, err)
	assert.Len(t, again, 10)
	assert.Equal(t, 1, g.Count("POST", "/measurements"))
	assert.Equal(t, 1, b.Measured())
}

func TestDryRunSendsNothing(t *testing.T) {
	g, c := globalpingStandIn(t)
	var out bytes.Buffer
	b := &active.Batch{Service: &active.Globalping{Client: c}, N: 3, DryRun: &out}
	near := latency.Point{Lat: 50.85, Lon: 4.35}
	traces, err := b.Ping(context.Background(), netip.MustParseAddr("192.0.2.8"), &near)
	require.NoError(t, err)
	assert.Empty(t, traces)
	assert.Zero(t, g.Count("POST", ""), "a dry run creates nothing")
	assert.Equal(t, `would ping 192.0.2.8 from at most 3 globalping probes near 50.8500,4.3500:
  Lille, FR: 2 probes, 94 km away
  Amsterdam, NL: 1 probe, 173 km away
  request: {
    "type": "ping",
    "target": "192.0.2.8",
    "locations": [
      {
        "country": "FR",
        "city": "Lille",
        "limit": 2
      },
      {
        "country": "NL",
        "city": "Amsterdam",
        "limit": 1
      }
    ],
    "measurementOptions": {
      "packets": 3
    }
  }
`, out.String())
	for _, r := range g.Requests() {
		assert.NotContains(t, r.Query+r.Body, "192.0.2.8", "the target is not sent in a dry run")
	}
}

func TestAtlasPinger(t *testing.T) {
	a := &remotetest.Atlas{Key: "k"}
	for i, c := range cities {
		a.AddProbe(int64(6000+i), c.lat, c.lon, c.cc)
	}
	a.OnCreate = func(def map[string]any, probes []map[string]any) *remotetest.AtlasMeasurement {
		var results []json.RawMessage
		for _, id := range strings.Split(probes[0]["value"].(string), ",") {
			var n int
			fmt.Sscan(id, &n)
			r := rttTo(cities[n-6000])
			results = append(results, json.RawMessage(fmt.Sprintf(`{"fw":5080,"af":4,"dst_addr":%q,"from":"198.51.100.%d","prb_id":%d,"result":[{"rtt":%.3f},{"rtt":%.3f}],"sent":2,"rcvd":2,"ttl":52,"timestamp":1714564800,"type":"ping"}`,
				def["target"], n-5990, n, r, r+0.3)))
		}
		return &remotetest.AtlasMeasurement{Type: "ping", Statuses: []string{"Ongoing", "Stopped"}, Results: results}
	}
	srv := httptest.NewServer(a)
	defer srv.Close()
	s := &remotetest.Sleeps{}
	c := atlas.New(atlas.Options{BaseURL: srv.URL + "/api/v2", Key: "k", Sleep: s.Sleep})
	b := &active.Batch{Service: &active.Atlas{Client: c}, N: 4}
	addr := netip.MustParseAddr("192.0.2.99")
	near := latency.Point{Lat: 50.6, Lon: 4.0}
	traces, err := b.Ping(context.Background(), addr, &near)
	require.NoError(t, err)
	require.Len(t, traces, 4)
	var body struct {
		Definitions []map[string]any `json:"definitions"`
		Probes      []map[string]any `json:"probes"`
	}
	for _, r := range a.Requests() {
		if r.Method == "POST" {
			require.NoError(t, json.Unmarshal([]byte(r.Body), &body))
		}
	}
	assert.Equal(t, "ping", body.Definitions[0]["type"])
	assert.Equal(t, "probes", body.Probes[0]["type"])
	assert.Equal(t, float64(4), body.Probes[0]["requested"])
	assert.Len(t, strings.Split(body.Probes[0]["value"].(string), ","), 4)
	for _, tr := range traces {
		require.True(t, tr.Source.HasLocation(), "probe %s got its position", tr.Source.ProbeID)
	}
	assert.Positive(t, a.Count("GET", "/probes/"), "radius search and positions")

	// Without a key nothing is created.
	b2 := &active.Batch{Service: &active.Atlas{Client: atlas.New(atlas.Options{BaseURL: srv.URL + "/api/v2"}),
		Pool: []atlas.Probe{{ID: 6000, Lat: 50.11, Lon: 8.68, Located: true, Status: "Connected"}}}}
	_, err = b2.Ping(context.Background(), addr, &near)
	require.ErrorIs(t, err, atlas.ErrNoKey)
}

func TestNearest(t *testing.T) {
	var cands []active.Candidate
	for _, c := range cities {
		cands = append(cands, active.Candidate{Point: latency.Point{Lat: c.lat, Lon: c.lon}, Key: c.name, Label: c.name})
	}
	got, km := active.Nearest(cands, brussels, 3)
	var names []string
	for _, c := range got {
		names = append(names, c.Key)
	}
	assert.Equal(t, []string{"Lille", "Amsterdam", "Cologne"}, names)
	assert.InDelta(t, 90, km[0], 20)
	all, _ := active.Nearest(cands, brussels, 100)
	assert.Len(t, all, len(cands))
}

// TestTwoRounds: the database puts the address on another continent; the
// first round (the probe nearest that, the others spread over the world)
// says where it is, the second pins it down. Never more than N probes.
func TestTwoRounds(t *testing.T) {
	g, c := globalpingStandIn(t)
	b := &active.Batch{Service: &active.Globalping{Client: c}, N: 8, Rounds: 2}
	addr := netip.MustParseAddr("151.101.129.229")
	tokyo := latency.Point{Lat: 35.6762, Lon: 139.6503}
	traces, err := b.Ping(context.Background(), addr, &tokyo)
	require.NoError(t, err)
	assert.Equal(t, 2, g.Count("POST", "/measurements"))
	assert.LessOrEqual(t, len(traces), 8)
	total := 0
	var second []string
	for i, r := range g.Requests() {
		if r.Method != "POST" {
			continue
		}
		var req struct {
			Locations []struct {
				City  string `json:"city"`
				Limit int    `json:"limit"`
			} `json:"locations"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.Body), &req))
		for _, l := range req.Locations {
			total += l.Limit
			if i > 1 {
				second = append(second, l.City)
			}
		}
	}
	assert.Equal(t, 8, total, "N probes over both rounds")
	require.NotEmpty(t, second)
	for _, name := range second {
		c := findCity(name)
		assert.True(t, c.lon > -10 && c.lon < 30 && c.lat > 35, "the second round looks where the first round's RTTs point (Europe), not near the database's Tokyo: %s", name)
	}
}

func TestChooseSpread(t *testing.T) {
	var cands []active.Candidate
	for _, c := range cities {
		cands = append(cands, active.Candidate{Point: latency.Point{Lat: c.lat, Lon: c.lon}, Key: c.name})
	}
	got, _ := active.Choose(cands, active.Selection{Near: &brussels, N: 3, Spread: true})
	var names []string
	for _, c := range got {
		names = append(names, c.Key)
	}
	assert.Equal(t, []string{"Lille", "Tokyo", "New York"}, names, "the nearest, then the farthest from those chosen")
	near, _ := active.Choose(cands, active.Selection{Near: &brussels, N: 3})
	assert.Equal(t, "Lille", near[0].Key)
}

// TestEnforce: a placement that breaks a ping's bound is replaced by the
// region every ping allows.
func TestEnforce(t *testing.T) {
	addr := netip.MustParseAddr("151.101.129.229")
	var traces []*traceroute.Trace
	for _, c := range cities[:5] {
		lat, lon := c.lat, c.lon
		traces = append(traces, &traceroute.Trace{Source: traceroute.Endpoint{Name: c.name, Lat: &lat, Lon: &lon},
			Hops: []traceroute.Hop{{TTL: 1, Probes: []traceroute.Probe{{Addr: addr, RTTMs: rttTo(c)}}}}})
	}
	h := geoloc.HopResult{Addr: addr, Location: &geoloc.Location{Lat: 40.4168, Lon: -3.7038, RadiusKm: 50, City: "Madrid"}, Method: "geoip:x"}
	require.True(t, active.Enforce(&h, traces, geoloc.DefaultSlackKm))
	require.NotNil(t, h.Location)
	assert.Regexp(t, `^latency:(multilateration|shortest-ping)$`, h.Method, "placed by the pings alone")
	assert.Contains(t, h.Why, "the first place broke a bound")
	ok := geoloc.HopResult{Addr: addr, Location: &geoloc.Location{Lat: brussels.Lat, Lon: brussels.Lon, RadiusKm: 20}}
	assert.False(t, active.Enforce(&ok, traces, geoloc.DefaultSlackKm), "a place within every bound stays")
}
