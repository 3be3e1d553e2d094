package geoloc

import (
	"context"
	"fmt"
	"iter"
	"math"
	"net/netip"
	"sync"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s2"

	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// fusion holds, per distinct public address, the tightest (vantage point,
// minimum RTT) constraints seen over many traces: the first pass of fused
// locating. Memory per address is fixed: a map slot of a 16-byte key and up
// to maxFuseK observations of 8 bytes, stored inline (no pointer per
// address, so the garbage collector has nothing to scan); vantage points are
// interned once.
type fusion struct {
	k int

	vmu   sync.RWMutex
	vidx  map[Vantage]int32
	vlist []Vantage

	shards [fuseShards]fuseShard

	// votes are, per source (probe id or public source address), the
	// vantage hypotheses of its traces that had no vantage point: traces of
	// one source share one.
	votesMu sync.Mutex
	votes   map[string]*voteSet
}

// voteSet is the soft votes of one source's traces for where it is.
type voteSet struct {
	clusters []voteCluster
	total    float64
	traces   int
}

type voteCluster struct {
	at   latency.Point
	city string
	w    float64
}

const (
	// voteMergeKm merges votes closer than this into one point.
	voteMergeKm = 50
	// voteSupportKm: a vote supports every place this close to it (about
	// the radius a vantage hypothesis has on its own).
	voteSupportKm = 400
	// maxVoteClusters bounds the points kept per source.
	maxVoteClusters = 64
	// consensusBonus is the path score a trace's own hypotheses must beat
	// to disagree with a source whose every other trace agrees: about the
	// weight of two named hops.
	consensusBonus = 6
	// minConsensusShare is the share of the votes a place needs to be
	// offered to the source's traces.
	minConsensusShare = 0.3
)

// vote adds one trace's hypotheses (hs, scored sc) to key's votes: each
// weighs exp(score - best), normalised, so a trace that cannot tell two
// places apart splits its vote.
func (f *fusion) vote(key string, hs []vhyp, sc []float64) {
	if len(hs) == 0 {
		return
	}
	best := sc[0]
	for _, x := range sc {
		best = math.Max(best, x)
	}
	ws := make([]float64, len(sc))
	var sum float64
	for i, x := range sc {
		ws[i] = math.Exp(x - best)
		sum += ws[i]
	}
	f.votesMu.Lock()
	defer f.votesMu.Unlock()
	if f.votes == nil {
		f.votes = map[string]*voteSet{}
	}
	vs := f.votes[key]
	if vs == nil {
		vs = &voteSet{}
		f.votes[key] = vs
	}
	vs.traces++
	for i, h := range hs {
		w := ws[i] / sum
		if w < 1e-3 {
			continue
		}
		vs.total += w
		merged := false
		for k := range vs.clusters {
			if latency.DistanceKm(vs.clusters[k].at, h.at) <= voteMergeKm {
				vs.clusters[k].w += w
				merged = true
				break
			}
		}
		if merged {
			continue
		}
		if len(vs.clusters) >= maxVoteClusters {
			low := 0
			for k := range vs.clusters {
				if vs.clusters[k].w < vs.clusters[low].w {
					low = k
				}
			}
			if vs.clusters[low].w >= w {
				continue
			}
			vs.clusters[low] = voteCluster{at: h.at, city: h.city, w: w}
			continue
		}
		vs.clusters = append(vs.clusters, voteCluster{at: h.at, city: h.city, w: w})
	}
}

// consensus is the place most of key's traces vote for, as a hypothesis
// with a bonus by its share of the votes; nil without one.
func (f *fusion) consensus(key string) []vhyp {
	f.votesMu.Lock()
	defer f.votesMu.Unlock()
	vs := f.votes[key]
	if vs == nil || vs.traces < 2 || len(vs.clusters) == 0 {
		return nil
	}
	// The place with the most votes within voteSupportKm of it, and the
	// weighted centre of those votes.
	best, bestW := 0, 0.0
	for i := range vs.clusters {
		w := 0.0
		for j := range vs.clusters {
			if latency.DistanceKm(vs.clusters[i].at, vs.clusters[j].at) <= voteSupportKm {
				w += vs.clusters[j].w
			}
		}
		if w > bestW {
			best, bestW = i, w
		}
	}
	var sum r3.Vector
	city, cityW := "", 0.0
	for j := range vs.clusters {
		c := vs.clusters[j]
		if latency.DistanceKm(vs.clusters[best].at, c.at) <= voteSupportKm {
			sum = sum.Add(unitVector(c.at).Mul(c.w))
			if c.w > cityW {
				city, cityW = c.city, c.w
			}
		}
	}
	c := voteCluster{at: vs.clusters[best].at, city: city}
	if sum.Norm() > 0 {
		c.at = latency.PointFromLatLng(s2.LatLngFromPoint(s2.Point{Vector: sum.Normalize()}))
	}
	share := bestW / vs.total
	return []vhyp{{at: c.at, city: c.city, bonus: consensusBonus * share,
		name: fmt.Sprintf("the vantage point %.0f%% of this source's %d traces agree on (%s)", 100*share, vs.traces, c.city)}}
}

const fuseShards = 64

type fuseShard struct {
	mu sync.Mutex
	m  map[[16]byte]fuseEntry
}

// obs is one constraint: vantage index and minimum RTT.
type obs struct {
	v   int32
	rtt float32
}

type fuseEntry struct {
	n   uint8
	obs [maxFuseK]obs
}

// maxFuseK caps Options.MaxConstraintsPerAddr.
const maxFuseK = 4

func newFusion(k int) *fusion {
	f := &fusion{k: min(k, maxFuseK), vidx: map[Vantage]int32{}}
	for i := range f.shards {
		f.shards[i].m = map[[16]byte]fuseEntry{}
	}
	return f
}

func (f *fusion) shard(a netip.Addr) *fuseShard {
	b := a.Unmap().As16()
	h := uint32(2166136261)
	for _, x := range b[8:] {
		h = (h ^ uint32(x)) * 16777619
	}
	return &f.shards[h%fuseShards]
}

// vantageIndex interns v. Inferred vantage points are never interned (-1).
func (f *fusion) vantageIndex(v Vantage, _ bool) int32 {
	if v.Inferred {
		return -1
	}
	f.vmu.RLock()
	i, ok := f.vidx[v]
	f.vmu.RUnlock()
	if ok {
		return i
	}
	f.vmu.Lock()
	defer f.vmu.Unlock()
	if i, ok := f.vidx[v]; ok {
		return i
	}
	i = int32(len(f.vlist))
	f.vlist = append(f.vlist, v)
	f.vidx[v] = i
	return i
}

func (f *fusion) add(a netip.Addr, v int32, rttMs float64) {
	if v < 0 || !(rttMs > 0) {
		return
	}
	r := float32(rttMs)
	key := a.Unmap().As16()
	s := f.shard(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[key]
	defer func() { s.m[key] = e }()
	worst := -1
	for i := 0; i < int(e.n); i++ {
		if e.obs[i].v == v {
			if r < e.obs[i].rtt {
				e.obs[i].rtt = r
			}
			return
		}
		if worst < 0 || e.obs[i].rtt > e.obs[worst].rtt {
			worst = i
		}
	}
	if int(e.n) < f.k {
		e.obs[e.n] = obs{v, r}
		e.n++
		return
	}
	// Full: a tighter constraint replaces the loosest one.
	if r < e.obs[worst].rtt {
		e.obs[worst] = obs{v, r}
	}
}

// constraints returns the fused constraints of a, leaving out vantage skip
// (the trace's own, which the caller has already).
func (f *fusion) constraints(a netip.Addr, skip int32, slackKm float64) []latency.Constraint {
	s := f.shard(a)
	s.mu.Lock()
	e, ok := s.m[a.Unmap().As16()]
	s.mu.Unlock()
	var os []obs
	if ok {
		os = e.obs[:e.n]
	}
	if len(os) == 0 {
		return nil
	}
	f.vmu.RLock()
	defer f.vmu.RUnlock()
	out := make([]latency.Constraint, 0, len(os))
	for _, o := range os {
		if o.v == skip {
			continue
		}
		v := f.vlist[o.v]
		out = append(out, latency.Constraint{From: latency.Point{Lat: v.Lat, Lon: v.Lon}, FromName: v.Name, RTTMs: float64(o.rtt), SlackKm: slackKm})
	}
	return out
}

func (f *fusion) len() int {
	n := 0
	for i := range f.shards {
		f.shards[i].mu.Lock()
		n += len(f.shards[i].m)
		f.shards[i].mu.Unlock()
	}
	return n
}

// Observe records, for fused locating, the constraint every public address
// of t gives: its minimum RTT from t's vantage point (when known, and not
// inferred). Run Observe over all traces first, then Locate or Stream them:
// each address is then constrained by every vantage point that saw it (the
// tightest Options.MaxConstraintsPerAddr of them), and an address whose
// constraints cannot all hold is flagged anycast. Observe is safe for
// concurrent use and reports whether t had a usable vantage point.
func (e *Engine) Observe(t *traceroute.Trace) bool {
	v, ok := e.vantageOf(t)
	if !ok || v.Inferred {
		if !e.opts.NoInferVantage {
			e.observeVantage(t)
		}
		return false
	}
	vi := e.fuse.vantageIndex(v, false)
	e.observeNames(t, latency.Point{Lat: v.Lat, Lon: v.Lon}, 0)
	for i := range t.Hops {
		th := &t.Hops[i]
		for _, a := range th.Addrs() {
			if SpecialReason(a) != "" {
				continue
			}
			if rtt, ok := minRTT(th, a); ok {
				e.fuse.add(a, vi, rtt)
			}
		}
	}
	return true
}

// observeVantage votes, for a trace without a vantage point whose source
// is known by probe id or public address, for where that source is; with
// Options.Learn, the trace's names are learned from under its best
// hypothesis.
func (e *Engine) observeVantage(t *traceroute.Trace) {
	key := sourceKey(t)
	if key == "" && e.learn == nil {
		return
	}
	ctx := context.Background()
	hops, err := e.buildHops(ctx, t, Vantage{}, false, -1)
	if err != nil {
		return
	}
	s := e.newSolver(hops)
	var src *facts
	if a := t.Source.Addr; a.IsValid() && SpecialReason(a) == "" {
		src = e.factsFor(ctx, a, t.Source.Name)
	}
	hs, rKm := e.hypotheses(s, src, nil)
	sc := e.scoreHypotheses(s, hs, rKm)
	if key != "" {
		e.fuse.vote(key, hs, sc)
	}
	if e.learn != nil && len(hs) > 0 {
		best := 0
		for i := range sc {
			if sc[i] > sc[best] {
				best = i
			}
		}
		e.observeNames(t, hs[best].at, rKm)
	}
}

// sourceKey names the machine a trace was measured from, "" when unknown:
// its RIPE Atlas probe id, else its public source address (private ones
// are shared by many machines).
func sourceKey(t *traceroute.Trace) string {
	switch {
	case t.Source.ProbeID != "":
		return "probe:" + t.Source.ProbeID
	case t.Source.Addr.IsValid() && SpecialReason(t.Source.Addr) == "":
		return "addr:" + t.Source.Addr.Unmap().String()
	}
	return ""
}

// ObserveAll runs Observe over every trace of seq (the first pass of
// `regeo --fuse`). Input errors are handed to onErr (nil = skip them
// silently); it stops early when onErr returns false or ctx is done. It
// returns the number of traces observed.
func (e *Engine) ObserveAll(ctx context.Context, seq iter.Seq2[*traceroute.Trace, error], onErr func(error) bool) (int, error) {
	n := 0
	for t, err := range seq {
		if cerr := ctx.Err(); cerr != nil {
			return n, cerr
		}
		if err != nil {
			if onErr != nil && !onErr(err) {
				return n, err
			}
			continue
		}
		if t != nil {
			e.Observe(t)
			n++
		}
	}
	e.Learned()
	return n, nil
}

// FusedAddrs is the number of distinct addresses Observe holds constraints
// for.
func (e *Engine) FusedAddrs() int { return e.fuse.len() }
