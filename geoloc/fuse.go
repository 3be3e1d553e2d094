package geoloc

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"math"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s2"

	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// Fused locating is two passes over a batch. The first (Observe) keeps,
// per distinct public address, the tightest (vantage point, minimum RTT)
// observations, and, per source whose traces carry no vantage point, the
// votes of those traces for where it is; with Options.Learn it also learns
// naming conventions. The second (Locate) constrains every address by all
// of its observations and gives every trace of a source the place its
// traces agree on as a hypothesis.
//
// What the first pass keeps does not depend on the order of the traces:
// the tightest observations by a total order (RTT, then vantage point) and
// votes summed per S2 cell. So the same summaries can be built elsewhere
// (an Apache Beam pipeline: Observations, VoteOf and the Add and Merge
// methods of Fused and Votes) and handed to LocateFused, with the same
// answers as Observe and Locate on one machine.

// maxFuseK caps Options.MaxConstraintsPerAddr.
const maxFuseK = 4

// Observation is what fused locating keeps of one address in one trace: the
// vantage point it was measured from and its minimum RTT (to float32
// precision, as the first pass stores it).
type Observation struct {
	Addr    netip.Addr `json:"addr"`
	Vantage Vantage    `json:"vantage"`
	RTTMs   float32    `json:"rtt_ms"`
}

// FusedObs is one observation of an address in its Fused summary.
type FusedObs struct {
	Vantage Vantage `json:"vantage"`
	RTTMs   float32 `json:"rtt_ms"`
}

// Fused is the bounded summary of one address's observations: the tightest
// (at most 4) by vantage point, in order. Add and Merge commute and
// associate, so it can be built by a combiner in any order.
type Fused struct {
	Obs []FusedObs `json:"obs"`
}

// obsLess orders observations: tighter first, then by vantage point, so
// that which ones are kept never depends on the input order.
func obsLess(a, b FusedObs) bool { return obsCmp(a, b) < 0 }

func obsCmp(a, b FusedObs) int {
	if c := cmp.Compare(a.RTTMs, b.RTTMs); c != 0 {
		return c
	}
	return vantageCmp(a.Vantage, b.Vantage)
}

func vantageCmp(a, b Vantage) int {
	if c := cmp.Compare(a.Lat, b.Lat); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Lon, b.Lon); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

// Add records an observation from v: the minimum per vantage point, the
// tightest four vantage points kept.
func (f *Fused) Add(v Vantage, rttMs float32) {
	if !(rttMs > 0) || v.Inferred {
		return
	}
	o := FusedObs{Vantage: v, RTTMs: rttMs}
	for i := range f.Obs {
		if f.Obs[i].Vantage == v {
			if rttMs < f.Obs[i].RTTMs {
				f.Obs[i].RTTMs = rttMs
				slices.SortFunc(f.Obs, obsCmp)
			}
			return
		}
	}
	i, _ := slices.BinarySearchFunc(f.Obs, o, obsCmp)
	if i >= maxFuseK {
		return
	}
	f.Obs = slices.Insert(f.Obs, i, o)
	if len(f.Obs) > maxFuseK {
		f.Obs = f.Obs[:maxFuseK]
	}
}

// Merge adds every observation of g.
func (f *Fused) Merge(g Fused) {
	for _, o := range g.Obs {
		f.Add(o.Vantage, o.RTTMs)
	}
}

// Votes are the votes of one source's traces that carry no vantage point
// for where that source is: each trace spreads one vote over its vantage
// hypotheses by how well each explains it, summed per S2 cell. Merge
// commutes and associates.
type Votes struct {
	Traces int        `json:"traces"`
	Cells  []VoteCell `json:"cells"` // by Cell
}

// VoteCell is the votes for one S2 cell (level voteLevel, about 40 km).
type VoteCell struct {
	Cell   uint64  `json:"cell"`
	Weight float64 `json:"weight"`
	// City names the place of the strongest single vote in the cell.
	City       string  `json:"city,omitempty"`
	CityWeight float64 `json:"city_weight,omitempty"`
}

const (
	// voteLevel is the S2 level votes are summed at.
	voteLevel = 8
	// voteSupportKm: a vote supports every place this close to it (about
	// the radius a vantage hypothesis has on its own).
	voteSupportKm = 400
	// maxVoteCells bounds the cells kept per source: the weakest go.
	maxVoteCells = 256
	// consensusBonus is the path score a trace's own hypotheses must beat
	// to disagree with a source whose every other trace agrees: about the
	// weight of two named hops.
	consensusBonus = 6
	// minConsensusShare is the share of the votes a place needs to be
	// offered to the source's traces.
	minConsensusShare = 0.3
)

// Merge adds o's votes.
func (v *Votes) Merge(o Votes) {
	v.Traces += o.Traces
	for _, c := range o.Cells {
		v.addCell(c)
	}
	v.trim()
}

func (v *Votes) addCell(c VoteCell) {
	i, found := slices.BinarySearchFunc(v.Cells, c.Cell, func(a VoteCell, id uint64) int { return cmp.Compare(a.Cell, id) })
	if !found {
		v.Cells = slices.Insert(v.Cells, i, c)
		return
	}
	x := &v.Cells[i]
	x.Weight += c.Weight
	if c.CityWeight > x.CityWeight || c.CityWeight == x.CityWeight && c.City < x.City {
		x.City, x.CityWeight = c.City, c.CityWeight
	}
}

// trim keeps the maxVoteCells strongest cells.
func (v *Votes) trim() {
	if len(v.Cells) <= maxVoteCells {
		return
	}
	byW := slices.Clone(v.Cells)
	slices.SortFunc(byW, func(a, b VoteCell) int {
		if c := cmp.Compare(b.Weight, a.Weight); c != 0 {
			return c
		}
		return cmp.Compare(a.Cell, b.Cell)
	})
	byW = byW[:maxVoteCells]
	slices.SortFunc(byW, func(a, b VoteCell) int { return cmp.Compare(a.Cell, b.Cell) })
	v.Cells = byW
}

// voteOf is one trace's vote: hypotheses hs scored sc, each weighing
// exp(score - best), normalised, so that a trace that cannot tell two
// places apart splits its vote.
func voteOf(hs []vhyp, sc []float64) Votes {
	v := Votes{Traces: 1}
	if len(hs) == 0 {
		return v
	}
	best := slices.Max(sc)
	var sum float64
	ws := make([]float64, len(sc))
	for i, x := range sc {
		ws[i] = math.Exp(x - best)
		sum += ws[i]
	}
	for i, h := range hs {
		w := ws[i] / sum
		if w < 1e-3 {
			continue
		}
		id := s2.CellIDFromLatLng(h.at.LatLng()).Parent(voteLevel)
		v.addCell(VoteCell{Cell: uint64(id), Weight: w, City: h.city, CityWeight: w})
	}
	return v
}

// consensus is the place most of the votes support, as a hypothesis with a
// bonus by its share of the votes; nil without one.
func (v Votes) consensus() []vhyp {
	if v.Traces < 2 || len(v.Cells) == 0 {
		return nil
	}
	pts := make([]latency.Point, len(v.Cells))
	var total float64
	for i, c := range v.Cells {
		pts[i] = latency.PointFromLatLng(s2.CellID(c.Cell).LatLng())
		total += c.Weight
	}
	best, bestW := 0, -1.0
	for i := range v.Cells {
		w := 0.0
		for j := range v.Cells {
			if latency.DistanceKm(pts[i], pts[j]) <= voteSupportKm {
				w += v.Cells[j].Weight
			}
		}
		if w > bestW {
			best, bestW = i, w
		}
	}
	var sum r3.Vector
	city, cityW := "", -1.0
	for j, c := range v.Cells {
		if latency.DistanceKm(pts[best], pts[j]) > voteSupportKm {
			continue
		}
		sum = sum.Add(unitVector(pts[j]).Mul(c.Weight))
		if c.CityWeight > cityW {
			city, cityW = c.City, c.CityWeight
		}
	}
	at := pts[best]
	if sum.Norm() > 0 {
		at = latency.PointFromLatLng(s2.LatLngFromPoint(s2.Point{Vector: sum.Normalize()}))
	}
	share := bestW / total
	if share < minConsensusShare {
		return nil
	}
	return []vhyp{{at: at, city: city, bonus: consensusBonus * share,
		name: fmt.Sprintf("the vantage point %.0f%% of this source's %d traces agree on (%s)", 100*share, v.Traces, city)}}
}

// FusedData is the result of a first pass kept outside the engine (for
// example an Apache Beam pipeline's joins and side inputs), for
// LocateFused.
type FusedData interface {
	// Fused returns the observations of addr.
	Fused(addr netip.Addr) (Fused, bool)
	// Votes returns the votes for where the source named key (SourceKey)
	// is.
	Votes(key string) (Votes, bool)
}

// fusedView is what Locate reads of a first pass.
type fusedView interface {
	fused(addr netip.Addr) []FusedObs
	votes(key string) (Votes, bool)
}

// fusion holds the engine's own first pass. Memory per address is fixed:
// a map slot of a 16-byte key and up to maxFuseK observations of 8 bytes,
// stored inline (no pointer per address, so the garbage collector has
// nothing to scan); vantage points are interned once.
type fusion struct {
	k int

	vmu   sync.RWMutex
	vidx  map[Vantage]int32
	vlist []Vantage

	shards [fuseShards]fuseShard

	votesMu sync.Mutex
	votesBy map[string]*Votes

	// added and voted are set once anything was added or voted: until then
	// fused and votes answer without a lock (most runs fuse nothing).
	added, voted atomic.Bool
}

const fuseShards = 64

type fuseShard struct {
	mu sync.Mutex
	m  map[[16]byte]fuseEntry
}

// obs is one observation: vantage index and minimum RTT.
type obs struct {
	v   int32
	rtt float32
}

type fuseEntry struct {
	n   uint8
	obs [maxFuseK]obs
}

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
func (f *fusion) vantageIndex(v Vantage) int32 {
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

func (f *fusion) vantage(i int32) Vantage {
	f.vmu.RLock()
	defer f.vmu.RUnlock()
	return f.vlist[i]
}

// less orders two stored observations as obsLess does.
func (f *fusion) less(a, b obs) bool {
	if a.rtt != b.rtt {
		return a.rtt < b.rtt
	}
	return vantageCmp(f.vantage(a.v), f.vantage(b.v)) < 0
}

// add keeps, per address, the minimum per vantage point and the tightest k
// vantage points by obsLess: the same set whatever the order of the input.
func (f *fusion) add(a netip.Addr, v int32, rttMs float64) {
	if v < 0 || !(rttMs > 0) {
		return
	}
	f.added.Store(true)
	o := obs{v, float32(rttMs)}
	key := a.Unmap().As16()
	s := f.shard(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[key]
	defer func() { s.m[key] = e }()
	worst := -1
	for i := 0; i < int(e.n); i++ {
		if e.obs[i].v == v {
			e.obs[i].rtt = min(e.obs[i].rtt, o.rtt)
			return
		}
		if worst < 0 || f.less(e.obs[worst], e.obs[i]) {
			worst = i
		}
	}
	if int(e.n) < f.k {
		e.obs[e.n] = o
		e.n++
		return
	}
	if f.less(o, e.obs[worst]) {
		e.obs[worst] = o
	}
}

func (f *fusion) fused(a netip.Addr) []FusedObs {
	if !f.added.Load() {
		return nil
	}
	s := f.shard(a)
	s.mu.Lock()
	e, ok := s.m[a.Unmap().As16()]
	s.mu.Unlock()
	if !ok || e.n == 0 {
		return nil
	}
	out := make([]FusedObs, e.n)
	for i, o := range e.obs[:e.n] {
		out[i] = FusedObs{Vantage: f.vantage(o.v), RTTMs: o.rtt}
	}
	slices.SortFunc(out, obsCmp)
	return out
}

func (f *fusion) vote(key string, v Votes) {
	f.voted.Store(true)
	f.votesMu.Lock()
	defer f.votesMu.Unlock()
	if f.votesBy == nil {
		f.votesBy = map[string]*Votes{}
	}
	if x := f.votesBy[key]; x != nil {
		x.Merge(v)
		return
	}
	f.votesBy[key] = &v
}

func (f *fusion) votes(key string) (Votes, bool) {
	if !f.voted.Load() {
		return Votes{}, false
	}
	f.votesMu.Lock()
	defer f.votesMu.Unlock()
	v := f.votesBy[key]
	if v == nil {
		return Votes{}, false
	}
	return *v, true
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

// external adapts FusedData, keeping the tightest k observations.
type external struct {
	d FusedData
	k int
}

func (x external) fused(a netip.Addr) []FusedObs {
	f, ok := x.d.Fused(a)
	if !ok {
		return nil
	}
	os := slices.Clone(f.Obs)
	slices.SortFunc(os, obsCmp)
	return os[:min(len(os), x.k)]
}

func (x external) votes(key string) (Votes, bool) { return x.d.Votes(key) }

// constraintsOf turns fused observations into constraints, leaving out
// vantage point skip (the trace's own, which the caller has already).
func constraintsOf(os []FusedObs, skip *Vantage, slackKm float64) []latency.Constraint {
	out := make([]latency.Constraint, 0, len(os))
	for _, o := range os {
		if skip != nil && o.Vantage == *skip {
			continue
		}
		v := o.Vantage
		out = append(out, latency.Constraint{From: latency.Point{Lat: v.Lat, Lon: v.Lon}, FromName: v.Name, RTTMs: float64(o.RTTMs), SlackKm: slackKm})
	}
	return out
}

// Observations lists what Observe records of t for its addresses: for
// every public address with an RTT, its minimum RTT from t's vantage point.
// Nil when the engine does not know where t was measured from (it then
// votes, see VoteOf).
func (e *Engine) Observations(t *traceroute.Trace) []Observation {
	v, ok := e.vantageOf(t)
	if !ok || v.Inferred {
		return nil
	}
	var out []Observation
	for i := range t.Hops {
		th := &t.Hops[i]
		for _, a := range th.Addrs() {
			if SpecialReason(a) != "" {
				continue
			}
			if rtt, ok := minRTT(th, a); ok {
				out = append(out, Observation{Addr: a.Unmap(), Vantage: v, RTTMs: float32(rtt)})
			}
		}
	}
	return out
}

// SourceKey names the machine a trace was measured from, "" when unknown:
// its RIPE Atlas probe id, else its public source address (private ones are
// shared by many machines). Traces of one source share one vantage point.
func SourceKey(t *traceroute.Trace) string {
	switch {
	case t.Source.ProbeID != "":
		return "probe:" + t.Source.ProbeID
	case t.Source.Addr.IsValid() && SpecialReason(t.Source.Addr) == "":
		return "addr:" + t.Source.Addr.Unmap().String()
	}
	return ""
}

// VoteOf is the vote of a trace without a vantage point for where its
// source (SourceKey) is: what Observe adds to that source's votes. ok is
// false when t has a vantage point, no source key, or nothing to vote
// with.
func (e *Engine) VoteOf(ctx context.Context, t *traceroute.Trace) (key string, v Votes, ok bool) {
	fp := e.FirstPassOf(ctx, t)
	if fp.Vote == nil {
		return "", Votes{}, false
	}
	return fp.VoteKey, *fp.Vote, true
}

// hypothesesOf scores t's vantage hypotheses on its own evidence.
func (e *Engine) hypothesesOf(ctx context.Context, t *traceroute.Trace) ([]vhyp, []float64, float64) {
	hops, err := e.buildHops(ctx, t, Vantage{}, false, nil)
	if err != nil {
		return nil, nil, 0
	}
	s := e.newSolver(hops)
	var src *facts
	if a := t.Source.Addr; a.IsValid() && SpecialReason(a) == "" {
		src = e.factsFor(ctx, a, t.Source.Name)
	}
	hs, rKm := e.hypotheses(s, src, nil)
	return hs, e.scoreHypotheses(s, hs, rKm), rKm
}

// FirstPass is everything the first pass of fused locating takes from one
// trace: the observations of its addresses (with a known vantage point),
// else its vote for where its source is, and its router names with the
// bounds they come with (for learning naming conventions). Observe keeps
// exactly this; a distributed pipeline emits it per trace, combines
// Observations per address (Fused.Add, Merge), Votes per VoteKey
// (Votes.Merge) and Names into an rdns.Learner, and hands the result to
// LocateFused (and the learned conventions to Options.Conventions).
type FirstPass struct {
	Observations []Observation     `json:"observations,omitempty"`
	VoteKey      string            `json:"vote_key,omitempty"`
	Vote         *Votes            `json:"vote,omitempty"`
	Names        []NameObservation `json:"names,omitempty"`
}

// FirstPassOf is what the first pass takes from t (see FirstPass). Names
// are listed whatever Options.Learn says.
func (e *Engine) FirstPassOf(ctx context.Context, t *traceroute.Trace) FirstPass {
	v, ok := e.vantageOf(t)
	if ok && !v.Inferred {
		return FirstPass{Observations: e.Observations(t), Names: e.nameObservations(t, latency.Point{Lat: v.Lat, Lon: v.Lon}, 0)}
	}
	if e.opts.NoInferVantage {
		return FirstPass{}
	}
	var fp FirstPass
	hs, sc, rKm := e.hypothesesOf(ctx, t)
	if len(hs) == 0 {
		return fp
	}
	if key := SourceKey(t); key != "" {
		vote := voteOf(hs, sc)
		fp.VoteKey, fp.Vote = key, &vote
	}
	best := 0
	for i := range sc {
		if sc[i] > sc[best] {
			best = i
		}
	}
	fp.Names = e.nameObservations(t, hs[best].at, rKm)
	return fp
}

// Observe records, for fused locating, what t says about its addresses:
// their minimum RTTs from t's vantage point (when known, and not
// inferred), or, without one, t's vote for where its source is; with
// Options.Learn, its names for learning. Run Observe over all traces
// first, then Locate or Stream them: each address is then constrained by
// every vantage point that saw it (the tightest Options.MaxConstraintsPerAddr
// of them), an address whose constraints cannot all hold is flagged
// anycast, and the traces of a source share the place its traces agree on.
// Observe is safe for concurrent use and reports whether t had a usable
// vantage point.
func (e *Engine) Observe(t *traceroute.Trace) bool {
	if v, ok := e.vantageOf(t); (!ok || v.Inferred) && SourceKey(t) == "" && e.learn == nil {
		return false // nothing to vote for, nothing to learn
	}
	fp := e.FirstPassOf(context.Background(), t)
	if fp.Vote != nil {
		e.fuse.vote(fp.VoteKey, *fp.Vote)
	}
	if e.learn != nil {
		for _, o := range fp.Names {
			e.learn.l.Observe(o.Name, o.Where)
		}
	}
	if len(fp.Observations) == 0 {
		v, ok := e.vantageOf(t)
		return ok && !v.Inferred
	}
	vi := e.fuse.vantageIndex(fp.Observations[0].Vantage)
	for _, o := range fp.Observations {
		e.fuse.add(o.Addr, vi, float64(o.RTTMs))
	}
	return true
}

// ObserveAll runs Observe over every trace of seq (the first pass of
// `geoloc regeo --fuse`) and, with Options.Learn, applies what was learned
// (see Learned). Input errors are handed to onErr (nil = skip them
// silently); it stops early when onErr returns false or ctx is done. It
// returns the number of traces observed.
func (e *Engine) ObserveAll(ctx context.Context, seq iter.Seq2[*traceroute.Trace, error], onErr func(error) bool) (int, error) {
	// What Observe keeps does not depend on the order of the traces, so
	// they are observed on every core.
	workers := runtime.GOMAXPROCS(0)
	work := make(chan *traceroute.Trace, 4*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				e.Observe(t)
			}
		}()
	}
	n := 0
	var stop error
	for t, err := range seq {
		if cerr := ctx.Err(); cerr != nil {
			stop = cerr
			break
		}
		if err != nil {
			if onErr != nil && !onErr(err) {
				stop = err
				break
			}
			continue
		}
		if t != nil {
			work <- t
			n++
		}
	}
	close(work)
	wg.Wait()
	if stop != nil {
		return n, stop
	}
	e.Learned()
	return n, nil
}

// FusedAddrs is the number of distinct addresses Observe holds constraints
// for.
func (e *Engine) FusedAddrs() int { return e.fuse.len() }

// FusedOf is the summary Observe keeps for a (the tightest
// Options.MaxConstraintsPerAddr observations, in order), ok false when it
// keeps none: what a pipeline that builds the summaries elsewhere (Fused.Add
// and Merge) must arrive at.
func (e *Engine) FusedOf(a netip.Addr) (f Fused, ok bool) {
	os := e.fuse.fused(a)
	return Fused{Obs: os}, len(os) > 0
}

// VotesOf is the sum Observe keeps of the votes of the source key
// (SourceKey), ok false when it keeps none.
func (e *Engine) VotesOf(key string) (Votes, bool) { return e.fuse.votes(key) }

// LocateFused is Locate with a first pass kept outside the engine (see
// FusedData) instead of the engine's own Observe.
func (e *Engine) LocateFused(ctx context.Context, t *traceroute.Trace, d FusedData) (*TraceResult, error) {
	k := e.fuse.k
	return e.locate(ctx, t, external{d: d, k: k})
}
