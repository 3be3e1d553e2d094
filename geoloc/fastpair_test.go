package geoloc

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/golang/geo/s2"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/rdns"
)

// testCand is a city-level candidate at p with radius r.
func testCand(p latency.Point, r float64) cand {
	return cand{Candidate: candidates.Candidate{Lat: p.Lat, Lon: p.Lon, RadiusKm: r, City: "x"}, pt: p, v: unitVector(p)}
}

// agreesExact is agrees without its dot-product shortcuts.
func agreesExact(a, b *cand) bool {
	if a.countryLevel || b.countryLevel {
		return a.Country != "" && a.Country == b.Country
	}
	lim := math.Max(agreeMinKm, math.Min(math.Min(a.RadiusKm, b.RadiusKm), agreeMaxKm))
	return candKm(a, b) <= lim
}

// edgeScoresExact is edgeScores computing every pair's distance.
func (e *Engine) edgeScoresExact(a, b *pnode) []float64 {
	na, nb := a.states(), b.states()
	out := make([]float64, na*nb)
	ha, hb := a.h, b.h
	pairKm := latency.PairMaxDistanceKm(ha.res.RTTMs, hb.res.RTTMs, 2*e.slack)
	sameTTL := ha.res.TTL == hb.res.TTL
	near := math.Abs(hb.res.RTTMs-ha.res.RTTMs) <= nearMs
	rise := math.Max(hb.res.RTTMs-ha.res.RTTMs, 0)
	for i := range na - 1 {
		ca := a.cand(i)
		for j := range nb - 1 {
			cb := b.cand(j)
			d := candKm(ca, cb)
			if d > pairKm {
				out[i*nb+j] = negInf
				continue
			}
			if ca.countryLevel || cb.countryLevel {
				continue
			}
			var sc float64
			if !sameTTL {
				slack := e.slack + math.Min(math.Min(ca.RadiusKm, cb.RadiusKm), detourRadiusCapKm)
				if x := d - rise/2*latency.FibreKmPerMs - slack; x > 0 {
					sc -= math.Log1p(x / detourScaleKm)
				}
			}
			if near && d <= agreeMinKm {
				sc += math.Log1p(colocBonus)
			}
			out[i*nb+j] = sc
		}
	}
	return out
}

// TestAgreesIsExact holds agrees to the rule it shortcuts: random pairs,
// and pairs within millimetres of both distance bounds.
func TestAgreesIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for range 20000 {
		p := latency.Point{Lat: rng.Float64()*170 - 85, Lon: rng.Float64()*360 - 180}
		r := []float64{0, 10, 60, 100, 149.999, 150, 400}[rng.IntN(7)]
		kms := []float64{rng.Float64() * 20000, rng.Float64() * 300}
		for _, edge := range []float64{agreeMinKm, agreeMaxKm, r} {
			for _, off := range []float64{0, 1e-6, -1e-6, 1e-3, -1e-3, 2e-3, -2e-3} {
				kms = append(kms, edge+off)
			}
		}
		for _, km := range kms {
			if km < 0 {
				continue
			}
			a, b := testCand(p, r), testCand(destination(p, km, rng.Float64()*360), 400)
			require.Equal(t, agreesExact(&a, &b), agrees(&a, &b), "%+v and %+v, %.9f km apart", a.pt, b.pt, candKm(&a, &b))
		}
	}
}

// TestEdgeScoresFastIsExact holds edgeScores, which skips the distance of
// pairs surely close, to the same scores with every distance computed:
// random hops (RTTs, TTLs, candidates near and far, country-level ones)
// and pairs near the bounds the shortcut uses.
func TestEdgeScoresFastIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 13))
	e := New(Options{})
	for range 5000 {
		base := latency.Point{Lat: rng.Float64()*140 - 70, Lon: rng.Float64()*360 - 180}
		node := func(ttl int, rtt float64) *pnode {
			h := &hop{res: HopResult{TTL: ttl, RTTMs: rtt}, hasRTT: true}
			n := &pnode{h: h}
			for range 1 + rng.IntN(4) {
				km := []float64{0, rng.Float64() * 60, rng.Float64() * 3000, agreeMinKm + (rng.Float64()-0.5)*1e-2}[rng.IntN(4)]
				c := testCand(destination(base, km, rng.Float64()*360), []float64{0, 25, 80, 500}[rng.IntN(4)])
				c.countryLevel = rng.IntN(8) == 0
				n.extra = append(n.extra, c)
			}
			return n
		}
		ttl := 1 + rng.IntN(20)
		rttA := rng.Float64() * 80
		a := node(ttl, rttA)
		b := node(ttl+rng.IntN(2), rttA+(rng.Float64()-0.3)*6)
		want := e.edgeScoresExact(a, b)
		got := e.edgeScores(a, b, nil, &slab[float64]{})
		require.Equal(t, want, got, "hops %+v and %+v", a.h.res, b.h.res)
	}
}

// TestPlaceMemo checks that the memo answers what it stands for, for points
// met once and again, and for distinct points sharing a slot.
func TestPlaceMemo(t *testing.T) {
	var m placeMemo
	rng := rand.New(rand.NewPCG(5, 8))
	pts := make([]latency.Point, 20000) // more points than slots
	for i := range pts {
		pts[i] = latency.Point{Lat: math.Round((rng.Float64()*180-90)*1e4) / 1e4, Lon: math.Round((rng.Float64()*360-180)*1e4) / 1e4}
	}
	for range 3 {
		for _, p := range pts {
			v, cell := m.of(p)
			require.Equal(t, unitVector(p), v, "%+v", p)
			require.Equal(t, s2.CellIDFromLatLng(p.LatLng()).Parent(7), cell, "%+v", p)
		}
	}
}

// TestPairOKIsExact holds pairOK, which skips the distance of placements
// surely within twice the slack, to the bound measured for every pair.
func TestPairOKIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 34))
	for _, slack := range []float64{-1, 1, 25, 300} { // -1: no slack
		e := New(Options{SlackKm: slack})
		exact := func(h *hop, acc []*hop) bool {
			for _, a := range acc {
				if latency.DistanceKm(*h.loc, *a.loc) > latency.PairMaxDistanceKm(h.res.RTTMs, a.res.RTTMs, 2*e.slack) {
					return false
				}
			}
			return true
		}
		for range 3000 {
			base := latency.Point{Lat: rng.Float64()*160 - 80, Lon: rng.Float64()*360 - 180}
			mk := func() *hop {
				km := []float64{0, rng.Float64() * 2 * e.slack, 2*e.slack + (rng.Float64()-0.5)*1e-2, rng.Float64() * 5000}[rng.IntN(4)]
				p := destination(base, km, rng.Float64()*360)
				return &hop{res: HopResult{RTTMs: []float64{0, rng.Float64() * 3, rng.Float64() * 100}[rng.IntN(3)]}, loc: &p}
			}
			h := mk()
			var acc []*hop
			for range rng.IntN(6) {
				acc = append(acc, mk())
			}
			require.Equal(t, exact(h, acc), e.pairOK(h, acc), "slack %v", slack)
		}
	}
}

// TestRepeatsModes holds repeats, searched in a list and then through its
// index, to the plain rule: any earlier entry of the same place more than
// repeatGapMs away.
func TestRepeatsModes(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 71))
	groups := []string{"db:a", "db:b", "hint"}
	for range 300 {
		var r repeats
		var all []repeatSeen
		for range rng.IntN(3 * repeatsLinear) {
			k := repeatKey{group: groups[rng.IntN(len(groups))], cell: s2.CellID(1 + rng.IntN(6))}
			rtt := rng.Float64() * 40
			want := false
			for _, e := range all {
				if e.k == k && math.Abs(e.rtt-rtt) > repeatGapMs {
					want = true
				}
			}
			require.Equal(t, want, r.anyApart(k, rtt), "after %d entries", len(all))
			r.add(k, rtt)
			all = append(all, repeatSeen{k: k, rtt: rtt})
		}
	}
}

// TestOfferNeighboursEdges checks that after offerNeighbours, which scores
// anew only the links of the nodes it gave a state, every link's scores are
// what scoring the whole chain again gives.
func TestOfferNeighboursEdges(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 4))
	e := New(Options{})
	offered := 0
	for range 400 {
		base := latency.Point{Lat: rng.Float64()*120 - 60, Lon: rng.Float64()*360 - 180}
		var hops []*hop
		rtt := 1 + rng.Float64()*5
		for ttl := 1; ttl <= 4+rng.IntN(10); ttl++ {
			rtt += rng.Float64() * 8
			f := &facts{}
			for range 1 + rng.IntN(3) {
				p := destination(base, rng.Float64()*[]float64{30, 800, 6000}[rng.IntN(3)], rng.Float64()*360)
				c := testCand(p, []float64{10, 50, 200}[rng.IntN(3)])
				c.group, c.weight = []string{"db:a", "db:b"}[rng.IntN(2)], 0.2+rng.Float64()
				f.cands = append(f.cands, c)
			}
			f.finish()
			hops = append(hops, &hop{res: HopResult{TTL: ttl, RTTMs: rtt}, hasRTT: true, f: f, chosen: -1})
		}
		s := e.newSolver(hops)
		s.run()
		if !s.offerNeighbours() {
			continue
		}
		offered++
		for k := 0; k+1 < len(s.chain); k++ {
			want := e.edgeScores(s.nodes[s.chain[k]], s.nodes[s.chain[k+1]], nil, &slab[float64]{})
			require.Equal(t, want, s.edges[k], "link %d of %d", k, len(s.chain)-1)
		}
	}
	require.Positive(t, offered, "some chains were offered neighbours' places")
}

// TestMethodOf checks the method of placements from each kind of candidate,
// and that those of the engine's own sources and of name hints cost no
// allocation.
func TestMethodOf(t *testing.T) {
	e := New(Options{Sources: []candidates.Source{&fakeSource{name: "city-db"}}})
	hint := &rdns.Hint{Kind: rdns.KindIATA}
	tests := []struct {
		name string
		c    cand
		want string
		free bool
	}{
		{"database", cand{Candidate: candidates.Candidate{Source: "city-db"}}, "geoip:city-db", true},
		{"country level", cand{Candidate: candidates.Candidate{Source: "city-db"}, countryLevel: true}, "country:city-db", true},
		{"geofeed", cand{Candidate: candidates.Candidate{Source: "city-db", Kind: candidates.KindGeofeed}}, "geofeed:city-db", true},
		{"name hint", cand{Candidate: candidates.Candidate{Source: "rdns", Kind: candidates.KindHint, Hint: hint}}, "rdns:iata", true},
		{"multilateration", cand{Candidate: candidates.Candidate{Source: "multilateration", Kind: candidates.KindLatency}}, "latency:multilateration", true},
		{"source not the engine's", cand{Candidate: candidates.Candidate{Source: "other"}}, "geoip:other", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, e.methodOf(&tt.c))
			if tt.free {
				require.Zero(t, testing.AllocsPerRun(100, func() { _ = e.methodOf(&tt.c) }))
			}
		})
	}
}
