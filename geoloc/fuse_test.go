package geoloc_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/accuracy"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// What the first pass keeps must not depend on the order of the input, so
// that a distributed first pass gives the same answers as one machine.
func TestFusedOrderIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vs := []geoloc.Vantage{{Lat: 59.91, Lon: 10.75, Name: "Oslo"}, {Lat: 35.68, Lon: 139.65, Name: "Tokyo"},
		{Lat: 48.86, Lon: 2.35, Name: "Paris"}, {Lat: 40.71, Lon: -74.01, Name: "New York"}, {Lat: 51.51, Lon: -0.13, Name: "London"},
		{Lat: 51.51, Lon: -0.13, Name: "London 2"}}
	type ob struct {
		v   geoloc.Vantage
		rtt float32
	}
	var obs []ob
	for range 40 {
		obs = append(obs, ob{vs[rng.IntN(len(vs))], float32(1 + rng.IntN(6))}) // many ties
	}
	var want geoloc.Fused
	for _, o := range obs {
		want.Add(o.v, o.rtt)
	}
	require.Len(t, want.Obs, 4)
	for range 20 {
		rng.Shuffle(len(obs), func(i, j int) { obs[i], obs[j] = obs[j], obs[i] })
		cut := rng.IntN(len(obs))
		var a, b geoloc.Fused
		for _, o := range obs[:cut] {
			a.Add(o.v, o.rtt)
		}
		for _, o := range obs[cut:] {
			b.Add(o.v, o.rtt)
		}
		b.Merge(a)
		assert.Equal(t, want, b)
	}
}

// A first pass built outside the engine from Observations and VoteOf, in
// another order and merged in pieces, gives LocateFused the same answers as
// Observe and Locate: whole paths with and without vantage points.
func TestLocateFusedMatchesObserve(t *testing.T) {
	w, err := accuracy.Build(accuracy.Config{Seed: 4, Traces: 60, Access: true})
	require.NoError(t, err)
	var srcs []candidates.Source
	for _, d := range w.DBs {
		s, err := candidates.OpenMMDBBytes(d.Image, d.Name+".mmdb")
		require.NoError(t, err)
		srcs = append(srcs, s)
	}
	var traces []*traceroute.Trace
	for i, tr := range w.Traces {
		c := *tr
		if i%2 == 0 { // half without their vantage point
			c.Source.Lat, c.Source.Lon = nil, nil
		}
		traces = append(traces, &c)
	}
	ctx := context.Background()
	one := geoloc.New(geoloc.Options{Sources: srcs})
	seq := func(yield func(*traceroute.Trace, error) bool) {
		for _, t := range traces {
			if !yield(t, nil) {
				return
			}
		}
	}
	_, err = one.ObserveAll(ctx, seq, nil)
	require.NoError(t, err)

	other := geoloc.New(geoloc.Options{Sources: srcs})
	d := mapData{fused: map[netip.Addr]*geoloc.Fused{}, votes: map[string]*geoloc.Votes{}}
	for i := len(traces) - 1; i >= 0; i-- {
		for _, o := range other.Observations(traces[i]) {
			f := d.fused[o.Addr]
			if f == nil {
				f = &geoloc.Fused{}
				d.fused[o.Addr] = f
			}
			var piece geoloc.Fused
			piece.Add(o.Vantage, o.RTTMs)
			f.Merge(piece)
		}
		if key, v, ok := other.VoteOf(ctx, traces[i]); ok {
			if d.votes[key] == nil {
				d.votes[key] = &geoloc.Votes{}
			}
			d.votes[key].Merge(v)
		}
	}
	require.NotEmpty(t, d.votes)
	for i, tr := range traces {
		a, err := one.Locate(ctx, tr)
		require.NoError(t, err)
		b, err := other.LocateFused(ctx, tr, d)
		require.NoError(t, err)
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		require.JSONEq(t, string(ja), string(jb), "trace %d", i)
	}
}

// mapData is a first pass held in maps.
type mapData struct {
	fused map[netip.Addr]*geoloc.Fused
	votes map[string]*geoloc.Votes
}

func (m mapData) Fused(a netip.Addr) (geoloc.Fused, bool) {
	f := m.fused[a]
	if f == nil {
		return geoloc.Fused{}, false
	}
	return *f, true
}

func (m mapData) Votes(key string) (geoloc.Votes, bool) {
	v := m.votes[key]
	if v == nil {
		return geoloc.Votes{}, false
	}
	return *v, true
}
