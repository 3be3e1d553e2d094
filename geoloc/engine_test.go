package geoloc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/rdns"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// fakeSource answers from a table; it counts lookups.
type fakeSource struct {
	name string
	m    map[netip.Addr]candidates.Answer
	n    atomic.Int64
}

func (s *fakeSource) Name() string { return s.name }
func (s *fakeSource) Lookup(q candidates.Query) (candidates.Answer, error) {
	s.n.Add(1)
	return s.m[q.Addr], nil
}

type errSource struct{}

func (errSource) Name() string { return "broken" }
func (errSource) Lookup(candidates.Query) (candidates.Answer, error) {
	return candidates.Answer{}, errors.New("boom")
}

var places = map[string]rdns.Hint{
	"osl":  {Code: "osl", Kind: rdns.KindIATA, Place: "Oslo", Country: "NO", Lat: 59.9139, Lon: 10.7522, Confidence: 0.9},
	"sto":  {Code: "sto", Kind: rdns.KindIATA, Place: "Stockholm", Country: "SE", Lat: 59.3293, Lon: 18.0686, Confidence: 0.9},
	"cph":  {Code: "cph", Kind: rdns.KindIATA, Place: "Copenhagen", Country: "DK", Lat: 55.6761, Lon: 12.5683, Confidence: 0.9},
	"ham":  {Code: "ham", Kind: rdns.KindIATA, Place: "Hamburg", Country: "DE", Lat: 53.5511, Lon: 9.9937, Confidence: 0.9},
	"fra":  {Code: "fra", Kind: rdns.KindIATA, Place: "Frankfurt am Main", Country: "DE", Lat: 50.1109, Lon: 8.6821, Confidence: 0.9},
	"ffm":  {Code: "ffm", Kind: rdns.KindOperatorSite, Place: "Frankfurt am Main", Country: "DE", Lat: 50.1109, Lon: 8.6821, Confidence: 0.9},
	"lon":  {Code: "lon", Kind: rdns.KindIATA, Place: "London", Country: "GB", Lat: 51.5074, Lon: -0.1278, Confidence: 0.8, Population: 8900000},
	"lon2": {Code: "lon", Kind: rdns.KindPlace, Place: "London", Region: "ON", Country: "CA", Lat: 42.9849, Lon: -81.2453, Confidence: 0.3, Population: 400000},
	"nyc":  {Code: "nyc", Kind: rdns.KindIATA, Place: "New York", Country: "US", Lat: 40.7128, Lon: -74.0060, Confidence: 0.9},
}

// fakeHints reads the third-from-last label as a code ("x.ffm.example.net").
func fakeHints(name string) []rdns.Hint {
	var out []rdns.Hint
	for _, l := range strings.Split(name, ".") {
		if h, ok := places[l]; ok {
			out = append(out, h)
			if l == "lon" {
				out = append(out, places["lon2"])
			}
		}
	}
	return out
}

func geo(source string, lat, lon float64, city, cc string) candidates.Candidate {
	return candidates.Candidate{Lat: lat, Lon: lon, RadiusKm: 20, City: city, Country: cc, Source: source, Kind: candidates.KindGeoIP}
}

func f64(x float64) *float64 { return &x }

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func probe(a, name string, rtts ...float64) []traceroute.Probe {
	var ps []traceroute.Probe
	for _, r := range rtts {
		ps = append(ps, traceroute.Probe{Addr: addr(a), Name: name, RTTMs: r})
	}
	return ps
}

// osloTrace is a trace from Oslo to Frankfurt over Stockholm and Hamburg.
func osloTrace() *traceroute.Trace {
	return &traceroute.Trace{
		Format:      "test",
		Source:      traceroute.Endpoint{Name: "Oslo", Lat: f64(59.9139), Lon: f64(10.7522)},
		Destination: traceroute.Endpoint{Addr: addr("62.115.0.9")},
		Hops: []traceroute.Hop{
			{TTL: 1, Probes: probe("192.168.1.1", "", 0.4, 0.5)},
			{TTL: 2, Probes: probe("62.115.0.1", "ae1.osl.example.net", 1.1, 1.3)},
			{TTL: 3, Probes: probe("62.115.0.2", "ae2.sto.example.net", 8.0, 7.9)},
			{TTL: 4, Probes: probe("62.115.0.3", "ae3.ham.example.net", 17.2)},
			{TTL: 5, Probes: []traceroute.Probe{{Lost: true}}},
			{TTL: 6, Probes: probe("62.115.0.9", "", 21.5, 22)},
		},
	}
}

func osloSources() *fakeSource {
	// The database puts every address at the operator's head office in
	// Stockholm, except the last, which it knows to be in Frankfurt.
	hq := geo("db1", 59.3293, 18.0686, "Stockholm", "SE")
	return &fakeSource{name: "db1", m: map[netip.Addr]candidates.Answer{
		addr("62.115.0.1"): {Candidates: []candidates.Candidate{hq}, AS: &candidates.ASInfo{Number: 1299, Org: "Arelion"}},
		addr("62.115.0.2"): {Candidates: []candidates.Candidate{hq}, AS: &candidates.ASInfo{Number: 1299, Org: "Arelion"}},
		addr("62.115.0.3"): {Candidates: []candidates.Candidate{hq}},
		addr("62.115.0.9"): {Candidates: []candidates.Candidate{geo("db1", 50.1109, 8.6821, "Frankfurt am Main", "DE")}},
	}}
}

func byAddr(t *testing.T, r *TraceResult, a string) HopResult {
	t.Helper()
	for _, h := range r.Hops {
		if h.Addr == addr(a) {
			return h
		}
	}
	t.Fatalf("no hop %s", a)
	return HopResult{}
}

func TestLocateTrace(t *testing.T) {
	src := osloSources()
	e := New(Options{Sources: []candidates.Source{src, errSource{}}, Hints: fakeHints})
	r, err := e.Locate(context.Background(), osloTrace())
	require.NoError(t, err)
	require.Len(t, r.Hops, 5)
	require.NotNil(t, r.Vantage)
	assert.Equal(t, "Oslo", r.Vantage.Name)

	home := byAddr(t, r, "192.168.1.1")
	assert.True(t, home.Inferred)
	require.NotNil(t, home.Location, "a private first hop at 0.4 ms sits at the vantage point")
	assert.Contains(t, home.Why, "private address")
	assert.Empty(t, home.Evidence)

	osl := byAddr(t, r, "62.115.0.1")
	require.NotNil(t, osl.Location)
	assert.Equal(t, "Oslo", osl.Location.City)
	assert.Equal(t, "rdns:iata", osl.Method)
	assert.Equal(t, uint32(1299), osl.ASN)
	assert.Equal(t, "Arelion", osl.ASOrg)
	// The head-office answer is 416 km away; 1.1 ms allows 137 km.
	var ruled *Evidence
	for i := range osl.Evidence {
		if osl.Evidence[i].Source == "db1" {
			ruled = &osl.Evidence[i]
		}
	}
	require.NotNil(t, ruled)
	assert.Equal(t, StatusRuledOut, ruled.Status)
	assert.Equal(t, "needs at least 3.8 ms from Oslo, saw 1.1 ms", ruled.Why)

	sto := byAddr(t, r, "62.115.0.2")
	require.NotNil(t, sto.Location)
	assert.Equal(t, "Stockholm", sto.Location.City)
	assert.Greater(t, sto.Confidence, osl.Confidence, "name and database agree")
	assert.Equal(t, StatusAgrees, sto.Evidence[1].Status)

	ham := byAddr(t, r, "62.115.0.3")
	require.NotNil(t, ham.Location)
	assert.Equal(t, "Hamburg", ham.Location.City)

	dst := byAddr(t, r, "62.115.0.9")
	require.NotNil(t, dst.Location)
	assert.Equal(t, "Frankfurt am Main", dst.Location.City)
	assert.Equal(t, "geoip:db1", dst.Method)

	assert.Equal(t, []string{"NO", "SE", "DE"}, r.Countries)
	for _, h := range r.Hops {
		assert.GreaterOrEqual(t, h.Confidence, 0.0)
		assert.LessOrEqual(t, h.Confidence, 1.0)
	}

	// Each public address was looked up once; a second trace hits the cache.
	n := src.n.Load()
	_, err = e.Locate(context.Background(), osloTrace())
	require.NoError(t, err)
	assert.Equal(t, n, src.n.Load())
}

// A location that breaks a hard bound is never output, even when it is the
// only candidate.
func TestNeverOutputsInfeasible(t *testing.T) {
	src := &fakeSource{name: "db1", m: map[netip.Addr]candidates.Answer{
		addr("8.8.4.1"): {Candidates: []candidates.Candidate{geo("db1", 40.7128, -74.0060, "New York", "US")}},
	}}
	e := New(Options{Sources: []candidates.Source{src}, Hints: fakeHints})
	tr := &traceroute.Trace{
		Source: traceroute.Endpoint{Lat: f64(59.9139), Lon: f64(10.7522), Name: "Oslo"},
		Hops:   []traceroute.Hop{{TTL: 1, Probes: probe("8.8.4.1", "xe-1.nyc.example.net", 30)}},
	}
	r, err := e.Locate(context.Background(), tr)
	require.NoError(t, err)
	h := r.Hops[0]
	assert.Nil(t, h.Location)
	assert.Equal(t, "every candidate breaks a latency bound", h.Why)
	for _, ev := range h.Evidence {
		assert.Equal(t, StatusRuledOut, ev.Status)
		assert.Contains(t, ev.Why, "needs at least")
	}
	assert.Equal(t, []string{}, r.Countries)
}

// With a short RTT and nothing else, the latency disc itself is the answer.
func TestLatencyOnly(t *testing.T) {
	e := New(Options{Hints: fakeHints})
	h, err := e.LocateAddr(context.Background(), addr("8.8.4.2"), "", 1.0, &Vantage{Lat: 59.9139, Lon: 10.7522, Name: "Oslo"})
	require.NoError(t, err)
	require.NotNil(t, h.Location)
	assert.Equal(t, "latency", h.Method)
	assert.InDelta(t, 59.9139, h.Location.Lat, 0.01)
	assert.InDelta(t, latency.MaxDistanceKm(1, DefaultSlackKm), h.Location.RadiusKm, 2)
	assert.Equal(t, "NO", h.Location.Country)
}

func TestAmbiguousNameDecidedByLatency(t *testing.T) {
	e := New(Options{Hints: fakeHints})
	// "lon" is London, England or London, Ontario. From New York at 9 ms
	// only Ontario is possible; without an RTT, the bigger London wins.
	ny := &Vantage{Lat: 40.7128, Lon: -74.0060, Name: "New York"}
	h, err := e.LocateAddr(context.Background(), addr("8.8.4.3"), "ae1.lon.example.net", 9, ny)
	require.NoError(t, err)
	require.NotNil(t, h.Location)
	assert.Equal(t, "CA", h.Location.Country)
	h, err = e.LocateAddr(context.Background(), addr("8.8.4.3"), "ae1.lon.example.net", 0, nil)
	require.NoError(t, err)
	require.NotNil(t, h.Location)
	assert.Equal(t, "GB", h.Location.Country)
	assert.Less(t, h.Confidence, 0.9, "an ambiguous name alone is not certain")
}

func TestSpecialAddresses(t *testing.T) {
	tests := []struct {
		a    string
		want string
	}{
		{"10.1.2.3", "private"},
		{"100.64.0.1", "carrier-grade NAT"},
		{"169.254.1.1", "link-local"},
		{"192.0.2.1", "documentation"},
		{"2001:db8::1", "documentation"},
		{"fe80::1", "link-local"},
		{"fd00::1", "unique local"},
		{"255.255.255.255", "broadcast"},
		{"::ffff:10.0.0.1", "private"},
		{"8.8.8.8", ""},
		{"2a00:1450::1", ""},
	}
	for _, tt := range tests {
		got := SpecialReason(addr(tt.a))
		if tt.want == "" {
			assert.Empty(t, got, tt.a)
		} else {
			assert.Contains(t, got, tt.want, tt.a)
		}
	}
	src := &fakeSource{name: "db1", m: map[netip.Addr]candidates.Answer{}}
	e := New(Options{Sources: []candidates.Source{src}})
	h, err := e.LocateAddr(context.Background(), addr("100.64.3.4"), "", 3, nil)
	require.NoError(t, err)
	assert.Nil(t, h.Location)
	assert.Zero(t, src.n.Load(), "never looked up")
}

type fakeResolver map[netip.Addr]string

func (r fakeResolver) LookupPTR(_ context.Context, a netip.Addr) (string, error) { return r[a], nil }

func TestResolverSuppliesNames(t *testing.T) {
	e := New(Options{Hints: fakeHints, Resolver: fakeResolver{addr("8.8.4.4"): "ae9.fra.example.net"}})
	h, err := e.LocateAddr(context.Background(), addr("8.8.4.4"), "", 0, nil)
	require.NoError(t, err)
	assert.Equal(t, "ae9.fra.example.net", h.Name)
	require.NotNil(t, h.Location)
	assert.Equal(t, "Frankfurt am Main", h.Location.City)
}

// Without a vantage point, the first located hop anchors the rest: a later
// hop 2 ms on cannot be an ocean away. The bound is hard, as from a given
// vantage point, with the inferred point's own radius added.
func TestInferredVantage(t *testing.T) {
	src := &fakeSource{name: "db1", m: map[netip.Addr]candidates.Answer{
		addr("8.8.5.2"): {Candidates: []candidates.Candidate{geo("db1", 40.7128, -74.0060, "New York", "US")}},
		addr("8.8.5.3"): {Candidates: []candidates.Candidate{geo("db1", 50.1109, 8.6821, "Frankfurt am Main", "DE")}},
	}}
	e := New(Options{Sources: []candidates.Source{src}, Hints: fakeHints})
	tr := &traceroute.Trace{Hops: []traceroute.Hop{
		{TTL: 1, Probes: probe("8.8.5.1", "ae1.ham.example.net", 1.0)},
		{TTL: 2, Probes: probe("8.8.5.2", "", 3.0)},
		{TTL: 3, Probes: probe("8.8.5.3", "", 6.0)},
	}}
	r, err := e.Locate(context.Background(), tr)
	require.NoError(t, err)
	require.NotNil(t, r.Vantage)
	assert.True(t, r.Vantage.Inferred)
	assert.Equal(t, "inferred vantage near Hamburg", r.Vantage.Name)
	hamburg := latency.Point{Lat: 53.5511, Lon: 9.9937}
	assert.LessOrEqual(t, latency.DistanceKm(hamburg, latency.Point{Lat: r.Vantage.Lat, Lon: r.Vantage.Lon}), r.Vantage.RadiusKm)
	assert.LessOrEqual(t, r.Vantage.RadiusKm, latency.MaxDistanceKm(1.0, DefaultSlackKm+hintRadiusKm)+1, "hop 1's place, plus its own radius")
	ny := byAddr(t, r, "8.8.5.2")
	require.Len(t, ny.Evidence, 1)
	assert.Equal(t, StatusRuledOut, ny.Evidence[0].Status)
	assert.Contains(t, ny.Evidence[0].Why, "the vantage point of hop 1 at Hamburg, DE (1.0 ms)")
	if ny.Location != nil {
		assert.True(t, ny.Inferred, "only a neighbour's place is left")
		assert.NotEqual(t, "US", ny.Location.Country)
	}
	fra := byAddr(t, r, "8.8.5.3")
	require.NotNil(t, fra.Location)
	assert.Equal(t, "Frankfurt am Main", fra.Location.City)
	assert.Equal(t, []string{"DE"}, r.Countries)
}

func TestFuseFlagsAnycast(t *testing.T) {
	src := &fakeSource{name: "db1", m: map[netip.Addr]candidates.Answer{
		addr("1.1.1.1"): {Candidates: []candidates.Candidate{geo("db1", 37.77, -122.42, "San Francisco", "US")}},
		addr("8.8.6.1"): {Candidates: []candidates.Candidate{geo("db1", 50.1109, 8.6821, "Frankfurt am Main", "DE")}},
	}}
	e := New(Options{Sources: []candidates.Source{src}})
	mk := func(name string, lat, lon, rtt float64) *traceroute.Trace {
		return &traceroute.Trace{
			Source: traceroute.Endpoint{Name: name, Lat: f64(lat), Lon: f64(lon)},
			Hops: []traceroute.Hop{
				{TTL: 1, Probes: probe("8.8.6.1", "", rtt+10)},
				{TTL: 2, Probes: probe("1.1.1.1", "", 2)},
			},
		}
	}
	traces := []*traceroute.Trace{mk("Oslo", 59.9139, 10.7522, 12), mk("Tokyo", 35.6762, 139.6503, 250), mk("Paris", 48.8566, 2.3522, 3)}
	n, err := e.ObserveAll(context.Background(), seqOf(traces, nil), nil)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, 2, e.FusedAddrs())
	r, err := e.Locate(context.Background(), traces[0])
	require.NoError(t, err)
	any := byAddr(t, r, "1.1.1.1")
	assert.True(t, any.Anycast)
	assert.Contains(t, any.Why, "seen at 2.0 ms from ")
	assert.Contains(t, any.Why, "2.0 ms from Tokyo")
	fra := byAddr(t, r, "8.8.6.1")
	assert.False(t, fra.Anycast)
	require.NotNil(t, fra.Location)
	assert.Equal(t, "Frankfurt am Main", fra.Location.City)
}

// Fused constraints from several vantage points rule out what one alone
// cannot.
func TestFuseNarrows(t *testing.T) {
	src := &fakeSource{name: "db1", m: map[netip.Addr]candidates.Answer{
		addr("8.8.7.1"): {Candidates: []candidates.Candidate{geo("db1", 52.52, 13.405, "Berlin", "DE")}},
	}}
	e := New(Options{Sources: []candidates.Source{src}, Hints: fakeHints})
	// Named Frankfurt; the DB says Berlin. Oslo at 12 ms allows both; Paris at 5 ms allows only Frankfurt.
	oslo := &traceroute.Trace{Source: traceroute.Endpoint{Name: "Oslo", Lat: f64(59.9139), Lon: f64(10.7522)},
		Hops: []traceroute.Hop{{TTL: 1, Probes: probe("8.8.7.1", "ae1.fra.example.net", 12)}}}
	paris := &traceroute.Trace{Source: traceroute.Endpoint{Name: "Paris", Lat: f64(48.8566), Lon: f64(2.3522)},
		Hops: []traceroute.Hop{{TTL: 1, Probes: probe("8.8.7.1", "ae1.fra.example.net", 5.5)}}}
	r, err := e.Locate(context.Background(), oslo)
	require.NoError(t, err)
	assert.Equal(t, StatusUnlikely, r.Hops[0].Evidence[1].Status)
	e.Observe(oslo)
	e.Observe(paris)
	r, err = e.Locate(context.Background(), oslo)
	require.NoError(t, err)
	require.Len(t, r.Hops[0].Evidence, 2)
	assert.Equal(t, StatusRuledOut, r.Hops[0].Evidence[1].Status)
	assert.Contains(t, r.Hops[0].Evidence[1].Why, "from Paris")
}

func seqOf(ts []*traceroute.Trace, errAt map[int]error) iter.Seq2[*traceroute.Trace, error] {
	return func(yield func(*traceroute.Trace, error) bool) {
		for i, t := range ts {
			if err, ok := errAt[i]; ok {
				if !yield(nil, err) {
					return
				}
				continue
			}
			if !yield(t, nil) {
				return
			}
		}
	}
}

func TestStreamPreservesOrder(t *testing.T) {
	e := New(Options{Sources: []candidates.Source{osloSources()}, Hints: fakeHints})
	var ts []*traceroute.Trace
	for i := range 200 {
		tr := osloTrace()
		tr.Format = fmt.Sprint(i)
		ts = append(ts, tr)
	}
	bad := errors.New("line 7: bad input")
	i := 0
	for r, err := range e.Stream(context.Background(), seqOf(ts, map[int]error{7: bad}), 4) {
		if i == 7 {
			assert.ErrorIs(t, err, bad)
		} else {
			require.NoError(t, err)
			assert.Equal(t, fmt.Sprint(i), r.Format)
		}
		i++
	}
	assert.Equal(t, 200, i)

	// Breaking out early stops the workers.
	n := 0
	for range e.Stream(context.Background(), seqOf(ts, nil), 2) {
		n++
		if n == 3 {
			break
		}
	}
	assert.Equal(t, 3, n)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var last error
	for _, err := range e.Stream(ctx, seqOf(ts, nil), 2) {
		last = err
	}
	assert.ErrorIs(t, last, context.Canceled)
}

func TestResultJSONNames(t *testing.T) {
	e := New(Options{Sources: []candidates.Source{osloSources()}, Hints: fakeHints})
	r, err := e.Locate(context.Background(), osloTrace())
	require.NoError(t, err)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	s := string(b)
	for _, k := range []string{`"hops":[`, `"ttl":2`, `"addr":"62.115.0.1"`, `"name":"ae1.osl.example.net"`, `"rtt_ms":1.1`,
		`"asn":1299`, `"as_org":"Arelion"`, `"location":{"lat":59.9139`, `"radius_km":25`, `"city":"Oslo"`, `"country":"NO"`,
		`"confidence":`, `"method":"rdns:iata"`, `"inferred":false`, `"anycast":false`, `"evidence":[{"source":"rdns:osl","kind":"hint:iata"`,
		`"status":"chosen"`, `"status":"ruled-out","why":"needs at least 3.8 ms from Oslo, saw 1.1 ms"`, `"countries":["NO","SE","DE"]`} {
		assert.Contains(t, s, k)
	}
}

func TestReliability(t *testing.T) {
	a := &fakeSource{name: "good", m: map[netip.Addr]candidates.Answer{addr("8.8.9.1"): {Candidates: []candidates.Candidate{geo("good", 50.1109, 8.6821, "Frankfurt am Main", "DE")}}}}
	b := &fakeSource{name: "bad", m: map[netip.Addr]candidates.Answer{addr("8.8.9.1"): {Candidates: []candidates.Candidate{geo("bad", 52.52, 13.405, "Berlin", "DE")}}}}
	for _, tt := range []struct {
		rel  map[string]float64
		want string
	}{
		{map[string]float64{"good": 2}, "Frankfurt am Main"},
		{map[string]float64{"bad": 2}, "Berlin"},
	} {
		e := New(Options{Sources: []candidates.Source{b, a}, Reliability: func(s string) float64 { return tt.rel[s] }})
		h, err := e.LocateAddr(context.Background(), addr("8.8.9.1"), "", 0, nil)
		require.NoError(t, err)
		require.NotNil(t, h.Location)
		assert.Equal(t, tt.want, h.Location.City)
	}
}

// A hop with no name whose only database answer is the head office an
// ocean away, 0.2 ms after a hop named Frankfurt, is placed with that hop.
func TestPlacedWithCloseNeighbour(t *testing.T) {
	src := &fakeSource{name: "db1", m: map[netip.Addr]candidates.Answer{
		addr("8.8.8.2"): {Candidates: []candidates.Candidate{geo("db1", 40.7128, -74.0060, "New York", "US")}},
	}}
	e := New(Options{Sources: []candidates.Source{src}, Hints: fakeHints})
	tr := &traceroute.Trace{
		Hops: []traceroute.Hop{
			{TTL: 1, Probes: probe("8.8.8.1", "ae1.fra.example.net", 60.0)},
			{TTL: 2, Probes: probe("8.8.8.2", "", 60.2)},
			{TTL: 3, Probes: probe("8.8.8.3", "ae3.fra.example.net", 60.5)},
		},
	}
	r, err := e.Locate(context.Background(), tr)
	require.NoError(t, err)
	h := byAddr(t, r, "8.8.8.2")
	require.NotNil(t, h.Location)
	assert.Equal(t, "Frankfurt am Main", h.Location.City)
	assert.Equal(t, "neighbour", h.Method)
	assert.True(t, h.Inferred)
	assert.Contains(t, h.Why, "placed with hop")
	require.Len(t, h.Evidence, 1)
	assert.Equal(t, StatusUnlikely, h.Evidence[0].Status)
}

// slowResolver answers after a delay and records how many lookups ran at once.
type slowResolver struct {
	names     map[netip.Addr]string
	mu        sync.Mutex
	now, peak int
	calls     int
}

func (r *slowResolver) LookupPTR(ctx context.Context, a netip.Addr) (string, error) {
	r.mu.Lock()
	r.now++
	r.calls++
	r.peak = max(r.peak, r.now)
	r.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	r.mu.Lock()
	r.now--
	r.mu.Unlock()
	return r.names[a], nil
}

func TestPTRLookupsConcurrentAndCached(t *testing.T) {
	r := &slowResolver{names: map[netip.Addr]string{}}
	tr := &traceroute.Trace{}
	for i := 1; i <= 6; i++ {
		a := netip.AddrFrom4([4]byte{8, 8, 10, byte(i)})
		r.names[a] = fmt.Sprintf("ae%d.fra.example.net", i)
		tr.Hops = append(tr.Hops, traceroute.Hop{TTL: i, Probes: []traceroute.Probe{{Addr: a, RTTMs: float64(i)}}})
	}
	e := New(Options{Hints: fakeHints, Resolver: r})
	res, err := e.Locate(context.Background(), tr)
	require.NoError(t, err)
	assert.Greater(t, r.peak, 1, "lookups run concurrently")
	assert.Equal(t, 6, r.calls)
	for _, h := range res.Hops {
		assert.Equal(t, r.names[h.Addr], h.Name)
		require.NotNil(t, h.Location)
		assert.Equal(t, "Frankfurt am Main", h.Location.City)
	}
	_, err = e.Locate(context.Background(), tr)
	require.NoError(t, err)
	assert.Equal(t, 6, r.calls, "names are cached")
}

// An RTT of zero (printed by some tools for "not measured") constrains
// nothing.
func TestZeroRTTIsNoConstraint(t *testing.T) {
	e := New(Options{Hints: fakeHints})
	tr := &traceroute.Trace{
		Source: traceroute.Endpoint{Name: "Oslo", Lat: f64(59.9139), Lon: f64(10.7522)},
		Hops:   []traceroute.Hop{{TTL: 1, Stats: []traceroute.Stats{{Addr: addr("8.8.11.1"), Name: "ae1.fra.example.net", AvgMs: 12}}}},
	}
	r, err := e.Locate(context.Background(), tr)
	require.NoError(t, err)
	require.NotNil(t, r.Hops[0].Location)
	assert.Equal(t, "Frankfurt am Main", r.Hops[0].Location.City)
	assert.InDelta(t, 12, r.Hops[0].RTTMs, 1e-9, "the average bounds when there is no minimum")
	tr.Hops[0] = traceroute.Hop{TTL: 1, Probes: []traceroute.Probe{{Addr: addr("8.8.11.1"), Name: "ae1.fra.example.net", RTTMs: 0}}}
	r, err = e.Locate(context.Background(), tr)
	require.NoError(t, err)
	require.NotNil(t, r.Hops[0].Location)
	assert.Equal(t, "Frankfurt am Main", r.Hops[0].Location.City)
}

// An address nothing is known about, seen from three vantage points, is
// placed by multilateration alone.
func TestMultilaterationOnly(t *testing.T) {
	e := New(Options{Hints: fakeHints})
	mk := func(name string, lat, lon, rtt float64) *traceroute.Trace {
		return &traceroute.Trace{Source: traceroute.Endpoint{Name: name, Lat: f64(lat), Lon: f64(lon)},
			Hops: []traceroute.Hop{{TTL: 1, Probes: probe("8.8.12.1", "", rtt)}}}
	}
	// Brussels is 320 km from London, 264 km from Paris, 173 km from Amsterdam.
	ts := []*traceroute.Trace{mk("London", 51.5074, -0.1278, 4.0), mk("Paris", 48.8566, 2.3522, 3.5), mk("Amsterdam", 52.3676, 4.9041, 2.5)}
	for _, tr := range ts {
		require.True(t, e.Observe(tr))
	}
	r, err := e.Locate(context.Background(), ts[0])
	require.NoError(t, err)
	h := r.Hops[0]
	require.NotNil(t, h.Location)
	assert.Equal(t, "latency:multilateration", h.Method)
	brussels := latency.Point{Lat: 50.8503, Lon: 4.3517}
	got := latency.Point{Lat: h.Location.Lat, Lon: h.Location.Lon}
	assert.Less(t, latency.DistanceKm(brussels, got), h.Location.RadiusKm)
	assert.Less(t, h.Location.RadiusKm, 300.0)
	for _, tr := range ts {
		v := latency.Point{Lat: *tr.Source.Lat, Lon: *tr.Source.Lon}
		assert.LessOrEqual(t, latency.DistanceKm(v, got), latency.MaxDistanceKm(tr.Hops[0].Probes[0].RTTMs, DefaultSlackKm))
	}
}

func TestLocateNilAndCancelled(t *testing.T) {
	e := New(Options{})
	_, err := e.Locate(context.Background(), nil)
	assert.Error(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = e.Locate(ctx, osloTrace())
	assert.ErrorIs(t, err, context.Canceled)
	_, err = e.LocateAddr(ctx, addr("8.8.8.8"), "", 0, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

// A code no dictionary lists ("tky") is read as an abbreviation of a place
// inside the region the hop may be in: Tokyo, 1.2 ms from a Tokyo probe,
// not Tukuyu or Takayama.
func TestUnknownCodeReadInRegion(t *testing.T) {
	e := New(Options{})
	tokyo := &Vantage{Lat: 35.6762, Lon: 139.6503, Name: "Tokyo"}
	tr := &traceroute.Trace{
		Source: traceroute.Endpoint{Name: "Tokyo", Lat: &tokyo.Lat, Lon: &tokyo.Lon},
		Hops:   []traceroute.Hop{{TTL: 1, Probes: probe("8.8.13.1", "ae1.tky-bb1-link.example-backbone.net", 1.2)}},
	}
	r, err := e.Locate(context.Background(), tr)
	require.NoError(t, err)
	h := r.Hops[0]
	require.NotNil(t, h.Location, h.Why)
	assert.Equal(t, "JP", h.Location.Country)
	assert.Equal(t, "rdns:abbrev", h.Method)
	assert.Contains(t, h.Evidence[0].Why+h.Evidence[0].Source, "tky")
	// Without any bound, the same name invents nothing.
	h2, err := e.LocateAddr(context.Background(), addr("8.8.13.2"), "ae1.tky-bb1-link.example-backbone.net", 0, nil)
	require.NoError(t, err)
	assert.Nil(t, h2.Location)
}

// Learning: an operator no dictionary knows names routers after its
// cities' own abbreviations (win Wien, zgb Zagreb, ljb Ljubljana; "win" is
// also Winton, Australia, to an airport table). Seen from vantage points in
// the three cities, the codes are learned in the first pass and read by
// the convention in the second, also from where the RTT alone would not
// decide.
func TestLearnConventions(t *testing.T) {
	e := New(Options{Learn: true})
	cities := []struct {
		code     string
		lat, lon float64
	}{{"win", 48.2082, 16.3738}, {"zgb", 45.8150, 15.9819}, {"ljb", 46.0569, 14.5058}}
	at := func(name string, lat, lon, rtt float64, host string) *traceroute.Trace {
		return &traceroute.Trace{Source: traceroute.Endpoint{Name: name, Lat: f64(lat), Lon: f64(lon)},
			Hops: []traceroute.Hop{{TTL: 1, Probes: probe("8.8.14.1", host, rtt)}}}
	}
	var ts []*traceroute.Trace
	for i, router := range cities {
		for j := range 3 {
			host := fmt.Sprintf("xe-%d.%s-core%d.example-unknown-carrier.net", j, router.code, j+1)
			for k, v := range cities {
				d := latency.DistanceKm(latency.Point{Lat: router.lat, Lon: router.lon}, latency.Point{Lat: v.lat, Lon: v.lon})
				ts = append(ts, at(fmt.Sprint("probe ", k), v.lat, v.lon, 0.4+float64(i)*0.01+2*d*1.3/200, host))
			}
		}
	}
	_, err := e.ObserveAll(context.Background(), seqOf(ts, nil), nil)
	require.NoError(t, err)
	c := e.Learned()
	require.NotNil(t, c)
	var b strings.Builder
	require.NoError(t, c.WriteJSON(&b))
	assert.Contains(t, b.String(), `"win"`)
	assert.Contains(t, b.String(), "example-unknown-carrier.net")
	// From far away (Tokyo, 250 ms), only the learned convention says Wien.
	r, err := e.Locate(context.Background(), at("Tokyo", 35.68, 139.65, 250, "xe-9.win-core9.example-unknown-carrier.net"))
	require.NoError(t, err)
	h := r.Hops[0]
	require.NotNil(t, h.Location, h.Why)
	assert.Equal(t, "AT", h.Location.Country, "%+v", h.Evidence)
}

// A vantage point the RTTs contradict is reported, with where the trace
// looks measured from.
func TestFromContradicted(t *testing.T) {
	e := New(Options{Hints: fakeHints})
	tr := &traceroute.Trace{Hops: []traceroute.Hop{
		{TTL: 1, Probes: probe("8.8.15.1", "ae1.nyc.example.net", 1.0)},
		{TTL: 2, Probes: probe("8.8.15.2", "ae2.nyc.example.net", 1.5)},
		{TTL: 3, Probes: probe("8.8.15.3", "ae3.nyc.example.net", 2.1)},
	}}
	oslo := Vantage{Lat: 59.9139, Lon: 10.7522, Name: "Oslo"}
	e = New(Options{Hints: fakeHints, From: &oslo})
	r, err := e.Locate(context.Background(), tr)
	require.NoError(t, err)
	require.Len(t, r.Warnings, 1)
	assert.Contains(t, r.Warnings[0], "the RTTs contradict the vantage point Oslo: 3 of 3 hops with a name hint are impossible from there")
	assert.Contains(t, r.Warnings[0], "near New York")
	for _, h := range r.Hops {
		if h.Location != nil {
			assert.Equal(t, "latency", h.Method, "only the region the given vantage point allows")
		}
	}
	assert.Empty(t, r.Countries)
	ny := Vantage{Lat: 40.7128, Lon: -74.0060, Name: "New York"}
	r, err = New(Options{Hints: fakeHints, From: &ny}).Locate(context.Background(), tr)
	require.NoError(t, err)
	assert.Empty(t, r.Warnings)
}

// No two placements of one trace break the bound two hops of a trace obey,
// whatever the vantage point: (rtt_a + rtt_b)/2 × 204.19 km plus slack.
// Here the databases put a 2 ms hop in Sydney between two hops named
// Frankfurt at 1 and 3 ms.
func TestPairwiseBound(t *testing.T) {
	src := &fakeSource{name: "db1", m: map[netip.Addr]candidates.Answer{
		addr("8.8.16.2"): {Candidates: []candidates.Candidate{geo("db1", -33.87, 151.21, "Sydney", "AU")}},
	}}
	e := New(Options{Sources: []candidates.Source{src}, Hints: fakeHints})
	tr := &traceroute.Trace{Hops: []traceroute.Hop{
		{TTL: 1, Probes: probe("8.8.16.1", "ae1.fra.example.net", 1.0)},
		{TTL: 2, Probes: probe("8.8.16.2", "", 2.0)},
		{TTL: 3, Probes: probe("8.8.16.3", "ae3.fra.example.net", 3.0)},
	}}
	r, err := e.Locate(context.Background(), tr)
	require.NoError(t, err)
	requirePairwise(t, r)
	assert.Equal(t, []string{"DE"}, r.Countries)
	syd := byAddr(t, r, "8.8.16.2")
	require.Len(t, syd.Evidence, 1)
	assert.Equal(t, StatusRuledOut, syd.Evidence[0].Status)
}

// requirePairwise checks every pair of placed hops of r against the bound.
func requirePairwise(t *testing.T, r *TraceResult) {
	t.Helper()
	for i, a := range r.Hops {
		for _, b := range r.Hops[i+1:] {
			if a.Location == nil || b.Location == nil || a.RTTMs <= 0 || b.RTTMs <= 0 {
				continue
			}
			d := latency.DistanceKm(latency.Point{Lat: a.Location.Lat, Lon: a.Location.Lon}, latency.Point{Lat: b.Location.Lat, Lon: b.Location.Lon})
			require.LessOrEqual(t, d, latency.PairMaxDistanceKm(a.RTTMs, b.RTTMs, 2*DefaultSlackKm)+1e-6,
				"hops %d (%s, %.1f ms) and %d (%s, %.1f ms) are %.0f km apart", a.TTL, a.Location.City, a.RTTMs, b.TTL, b.Location.City, b.RTTMs, d)
		}
	}
}
