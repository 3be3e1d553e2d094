package aggregate_test

import (
	"net/netip"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/aggregate"
	"github.com/geoloc-dev/geoloc/traceroute"
)

type place struct {
	lat, lon float64
	cc       string
	asn      uint32
	city     string
}

var (
	osl = place{59.9139, 10.7522, "NO", 2119, "Oslo"}
	cph = place{55.6761, 12.5683, "DK", 1299, "Copenhagen"}
	ham = place{53.5511, 9.9937, "DE", 1299, "Hamburg"}
	ffm = place{50.1109, 8.6821, "DE", 1299, "Frankfurt am Main"}
	// ffm2 is another Frankfurt router of the same AS a few hundred metres
	// away: the same place once rounded.
	ffm2 = place{50.1111, 8.6819, "DE", 1299, "Frankfurt am Main"}
	sto  = place{59.3293, 18.0686, "SE", 1299, "Stockholm"}
)

// trace builds a trace through places, one TTL each; a slice of two at
// one position is ECMP.
func trace(stops ...[]place) *geoloc.TraceResult {
	tr := &geoloc.TraceResult{Destination: traceroute.Endpoint{Name: "dst.example"}}
	for i, ps := range stops {
		for k, p := range ps {
			tr.Hops = append(tr.Hops, geoloc.HopResult{
				TTL: i + 1, Addr: netip.AddrFrom4([4]byte{198, 51, 100, byte(10*i + k + 1)}), ASN: p.asn, ASOrg: "org " + p.city,
				Location:   &geoloc.Location{Lat: p.lat, Lon: p.lon, RadiusKm: 20, City: p.city, Country: p.cc},
				Confidence: 0.9,
			})
		}
	}
	return tr
}

func one(p place) []place { return []place{p} }

type linkCount struct {
	from, to string
	n        int
}

func links(a *aggregate.Aggregate) []linkCount {
	var out []linkCount
	for _, l := range a.Links() {
		out = append(out, linkCount{l.From.City, l.To.City, l.Traces})
	}
	return out
}

func TestAggregate(t *testing.T) {
	tests := []struct {
		name      string
		traces    []*geoloc.TraceResult
		links     []linkCount
		places    map[string]int
		countries map[string]int
	}{
		{
			name:      "two traces sharing their links",
			traces:    []*geoloc.TraceResult{trace(one(osl), one(cph), one(ffm)), trace(one(osl), one(cph), one(ffm))},
			links:     []linkCount{{"Oslo", "Copenhagen", 2}, {"Copenhagen", "Frankfurt am Main", 2}},
			places:    map[string]int{"Oslo": 2, "Copenhagen": 2, "Frankfurt am Main": 2},
			countries: map[string]int{"NO": 2, "DK": 2, "DE": 2},
		},
		{
			name:   "distinct links",
			traces: []*geoloc.TraceResult{trace(one(osl), one(cph)), trace(one(osl), one(sto)), trace(one(cph), one(osl))},
			// Directed: Copenhagen → Oslo is not Oslo → Copenhagen.
			links:     []linkCount{{"Copenhagen", "Oslo", 1}, {"Oslo", "Copenhagen", 1}, {"Oslo", "Stockholm", 1}},
			places:    map[string]int{"Oslo": 3, "Copenhagen": 2, "Stockholm": 1},
			countries: map[string]int{"NO": 3, "DK": 2, "SE": 1},
		},
		{
			name:   "shared prefix, then apart",
			traces: []*geoloc.TraceResult{trace(one(osl), one(cph), one(ham)), trace(one(osl), one(cph), one(ffm)), nil},
			links: []linkCount{
				{"Oslo", "Copenhagen", 2},
				{"Copenhagen", "Frankfurt am Main", 1}, {"Copenhagen", "Hamburg", 1},
			},
			places:    map[string]int{"Oslo": 2, "Copenhagen": 2, "Hamburg": 1, "Frankfurt am Main": 1},
			countries: map[string]int{"NO": 2, "DK": 2, "DE": 2},
		},
		{
			// ECMP inside one place counts once per trace, and a link
			// from a place to itself is not drawn.
			name:      "ECMP in one place, and a stay in one place",
			traces:    []*geoloc.TraceResult{trace(one(cph), []place{ffm, ffm2}, one(ffm))},
			links:     []linkCount{{"Copenhagen", "Frankfurt am Main", 1}},
			places:    map[string]int{"Copenhagen": 1, "Frankfurt am Main": 1},
			countries: map[string]int{"DK": 1, "DE": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := aggregate.New(aggregate.Options{})
			for _, tr := range tt.traces {
				a.Add(tr)
			}
			assert.ElementsMatch(t, tt.links, links(a))
			places := map[string]int{}
			for _, p := range a.Points() {
				places[p.City] = p.Traces
			}
			assert.Equal(t, tt.places, places)
			countries := map[string]int{}
			for _, c := range a.Countries() {
				countries[c.Country] = c.Traces
			}
			assert.Equal(t, tt.countries, countries)
			dl, _, dp := a.Dropped()
			assert.Zero(t, dl+dp)
		})
	}
}

// Links come most-used first, and the start of a trace with a known
// source is a point of its own, linked to the first hop.
func TestAggregateOrderAndStart(t *testing.T) {
	a := aggregate.New(aggregate.Options{})
	lat, lon := 59.91, 10.75
	for range 3 {
		tr := trace(one(cph), one(ffm))
		tr.Source = traceroute.Endpoint{Lat: &lat, Lon: &lon}
		a.Add(tr)
	}
	a.Add(trace(one(osl), one(sto)))
	ls := a.Links()
	require.Len(t, ls, 3)
	assert.Equal(t, 3, ls[0].Traces)
	assert.Equal(t, 1, ls[2].Traces)
	var starts int
	for _, l := range ls {
		if l.From.Start {
			starts++
			assert.Equal(t, "Copenhagen", l.To.City)
			assert.Equal(t, 3, l.Traces)
		}
	}
	assert.Equal(t, 1, starts)
	assert.Equal(t, 4, a.Traces())
	assert.Equal(t, 3, a.MaxTraces())
}

// Beyond the cap the least-used links are dropped, counted, and noted
// once; the busiest survive with their counts.
func TestAggregateCap(t *testing.T) {
	var notes []string
	a := aggregate.New(aggregate.Options{MaxLinks: 8, Note: func(s string) { notes = append(notes, s) }})
	for range 50 {
		a.Add(trace(one(osl), one(cph), one(ffm)))
	}
	for i := range 40 {
		// 40 one-off links from Stockholm to places 1° apart.
		a.Add(trace(one(sto), one(place{10 + float64(i), 20, "", 64500, "p"})))
	}
	assert.LessOrEqual(t, len(a.Links()), 8)
	dl, dt, _ := a.Dropped()
	assert.Positive(t, dl)
	assert.Equal(t, dl, dt, "each dropped link had one trace")
	assert.Equal(t, dl+len(a.Links()), 42)
	assert.Len(t, notes, 1)
	assert.Contains(t, links(a), linkCount{"Oslo", "Copenhagen", 50})
	assert.Contains(t, links(a), linkCount{"Copenhagen", "Frankfurt am Main", 50})
}

func TestWidth(t *testing.T) {
	assert.Equal(t, 1.0, aggregate.Width(1, 1000, 1, 8))
	assert.Equal(t, 8.0, aggregate.Width(1000, 1000, 1, 8))
	assert.InDelta(t, 4.5, aggregate.Width(31, 961, 1, 8), 1e-9) // half the log
	assert.Equal(t, 1.0, aggregate.Width(5, 1, 1, 8))
}

// TestAggregateMemoryCapped adds tens of thousands of traces whose links
// are all different: the heap stays bounded by the cap, not the traces.
func TestAggregateMemoryCapped(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("adds tens of thousands of traces: skipped with -short and under the race detector")
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	a := aggregate.New(aggregate.Options{MaxLinks: 2000})
	var base uint64
	const warm, n = 5000, 50000
	for i := range n {
		// Every trace a new place: a new link from Oslo.
		a.Add(trace(one(osl), one(place{-60 + float64(i%12000)/100, float64(i/12000) * 10, "", uint32(i), "p"})))
		if i == warm {
			base = heap()
		}
	}
	grown := int64(heap()) - int64(base)
	t.Logf("%d traces, %d links kept, heap grew %.2f MB after the first %d", n, len(a.Links()), float64(grown)/(1<<20), warm)
	assert.LessOrEqual(t, len(a.Links()), 2000)
	dl, _, dp := a.Dropped()
	assert.Equal(t, n, dl+len(a.Links()))
	assert.Positive(t, dp)
	assert.Less(t, grown, int64(1<<20), "the heap grows with the traces")
}
