package geoloc

import (
	"iter"
	"math"
	"slices"

	"github.com/golang/geo/s2"

	"github.com/geoloc-dev/geoloc/latency"
)

// The path solver chooses every hop's placement jointly: a hop is not
// placed on its own evidence alone but as one step of a path that must be
// physically possible and is most likely as a whole.
//
// Each public hop with candidates has states: its candidates, plus
// "elsewhere" (none of them is right). A state's node score is the log of
// how likely the hop is there on its own evidence: the candidate's support
// (prior weight plus agreeing independent sources, capped below 1), or for
// "elsewhere" a share of what the evidence leaves over. Consecutive hops are
// linked by edge scores: -∞ where the two places break the bound any two
// hops of one trace obey ((rtt_a + rtt_b)/2 × 204.19 km plus slack, whatever
// the vantage point), a penalty for a detour the RTT rise cannot pay for,
// and a bonus for two hops within a millisecond of each other standing in
// the same place (routers of one PoP). Max-product dynamic programming
// (Viterbi, forward and backward) gives the best joint assignment and, per
// hop, the best score of every state (max-marginals), which become the
// confidences.
//
// A vantage point, known or hypothesised, adds a hard disc per hop; states
// outside it are masked. With no vantage point the solver tries
// hypotheses (see vantage.go) and keeps the best-scoring one.

const (
	// pCap caps a candidate's probability-like score: no evidence is
	// certain, and the rest is what "elsewhere" may have.
	pCap = 0.97
	// elseShare is the share of the left-over probability that "elsewhere"
	// scores at: the left-over is spread over the whole feasible region,
	// so any one place of it is less likely than a named candidate.
	elseShare = 0.5
	// colocBonus rewards two hops within nearMs of each other placed
	// within agreeMinKm of each other.
	colocBonus = 0.6
	// maxStates bounds a hop's candidate states (the strongest are kept).
	maxStates = 12
)

var negInf = math.Inf(-1)

// pnode is the solver's view of one hop.
type pnode struct {
	h *hop
	// cands are indexes into h.f.cands (strongest first, at most maxStates)
	// of the candidates that survive h.hard.
	cands []int
	// extra are places offered to a hop the solver found "elsewhere": a
	// close neighbour's chosen place (extraFrom), as a state of its own.
	extra     []cand
	extraFrom []*hop
	// p and logp score every state but "elsewhere": own, then extra.
	p    []float64
	logp []float64
	// logElse is the node score of "elsewhere".
	logElse float64
	// mask marks, per state but "elsewhere", whether the current
	// hypothesis allows it.
	mask []bool
	// hypFast is the fast form of the last vantage hypothesis's bound on
	// the hop, whose radius was hypMaxKm (its centre changes with the
	// hypothesis; its cosines do not).
	hypFast  fastBound
	hypMaxKm float64
}

// states is the number of states including "elsewhere" (the last).
func (n *pnode) states() int { return len(n.cands) + len(n.extra) + 1 }

// elseState is the index of "elsewhere".
func (n *pnode) elseState() int { return len(n.cands) + len(n.extra) }

// cand is the candidate of state st (not "elsewhere").
func (n *pnode) cand(st int) *cand {
	if st < len(n.cands) {
		return &n.h.f.cands[n.cands[st]]
	}
	return &n.extra[st-len(n.cands)]
}

// agrees reports whether states a and b stand in the same place.
func (n *pnode) agrees(a, b int) bool {
	if a == b {
		return true
	}
	if a < len(n.cands) && b < len(n.cands) {
		return n.h.f.agrees(n.cands[a], n.cands[b])
	}
	return agrees(n.cand(a), n.cand(b))
}

func (n *pnode) node(s int) float64 {
	if s == n.elseState() {
		return n.logElse
	}
	if !n.mask[s] {
		return negInf
	}
	return n.logp[s]
}

// solver holds one trace's path problem.
type solver struct {
	e     *Engine
	hops  []*hop
	nodes []*pnode // per hop of the trace; nil for hops not solved jointly
	// chain lists, in path order, the indexes of hops linked by edges (a
	// response time, not anycast, at least one candidate).
	chain []int
	// edges[k] links chain[k] and chain[k+1]: edges[k][a*(nb)+b] for
	// states a of the first and b of the second (nb = its state count).
	edges [][]float64
	// the hypothesis the masks stand for (nil: the hops' own bounds)
	hyp   *vhyp
	hypKm float64
	// hypMasks are the masks of every hypothesis the last scoring tried,
	// those of hypothesis i at hypMasks[hypAt[i]:hypAt[i+1]] (the buffer
	// is reused by the next scoring)
	hypMasks []bool
	hypAt    []int
	// results of the last run
	best  float64
	path  []int       // chosen state per hop (index into nodes), -1 none
	marg  [][]float64 // max-marginals per hop and state
	fwd   [][]float64
	bwd   [][]float64
	backp [][]int
	// the solver's own memory: its nodes and their slices come from here
	nodeSlab  []pnode
	floatSlab slab[float64]
	intSlab   slab[int]
	boolSlab  slab[bool]
	hopSlab   slab[*hop]
}

// slab hands out slices of a few large allocations, zeroed: a solver's
// many small slices (one or a few per hop and link) cost a handful of
// allocations per trace. A slice handed out has no room to grow into its
// neighbour (append copies it elsewhere).
type slab[T any] struct {
	free  []T
	chunk int // the last allocation's size
}

// slabFirst and slabMax bound how many elements a slab allocates at once:
// the first time slabFirst, then twice the last time up to slabMax (more
// when one slice needs more), so that the solver of a short trace, or of
// one hop, allocates little.
const (
	slabFirst = 32
	slabMax   = 1024
)

func (b *slab[T]) take(n int) []T {
	if len(b.free) < n {
		b.chunk = min(max(2*b.chunk, slabFirst), slabMax)
		b.free = make([]T, max(n, b.chunk))
	}
	out := b.free[:n:n]
	b.free = b.free[n:]
	return out
}

// grow is b resliced to n, or a slice of n taken from sl when b is too
// small (its contents are not kept).
func grow[T any](sl *slab[T], b []T, n int) []T {
	if cap(b) < n {
		return sl.take(n)
	}
	return b[:n]
}

// solvable reports whether h gets a node: a public address with candidates.
func solvable(h *hop) bool { return h.special == "" && h.f != nil && len(h.f.cands) > 0 }

// newSolver builds the node scores of every public hop with candidates and
// the edges between consecutive ones. hops are the trace's working hops.
func (e *Engine) newSolver(hops []*hop) *solver {
	s := &solver{e: e, hops: hops, nodes: make([]*pnode, len(hops)), path: make([]int, len(hops)), marg: make([][]float64, len(hops))}
	nodes, cands := 0, 0
	for _, h := range hops {
		if solvable(h) {
			nodes++
			cands += len(h.f.cands)
		}
	}
	s.nodeSlab = make([]pnode, 0, nodes)
	var seen repeats
	seen.seen = make([]repeatSeen, 0, cands) // at most one entry per candidate
	for i, h := range hops {
		if !solvable(h) {
			continue
		}
		n := s.nodeOf(h, &seen)
		if n == nil {
			continue
		}
		s.nodes[i] = n
		if h.hasRTT && !h.res.Anycast {
			s.chain = append(s.chain, i)
		}
	}
	s.offerColocated()
	s.edges = make([][]float64, max(0, len(s.chain)-1))
	s.rebuildEdges()
	return s
}

// offerColocated gives every chained hop the strongest places of its chain
// neighbours that answered within nearMs of it as states of its own:
// routers that close in time mostly stand in one PoP, so a hop whose own
// evidence is weak (a head-office database answer) may be where its
// neighbour's name says.
func (s *solver) offerColocated() {
	const perNeighbour = 2
	for k, i := range s.chain {
		n := s.nodes[i]
		for _, j := range []int{k - 1, k + 1, k - 2, k + 2} {
			if j < 0 || j >= len(s.chain) {
				continue
			}
			nb := s.nodes[s.chain[j]]
			gap := math.Abs(nb.h.res.RTTMs - n.h.res.RTTMs)
			if gap > nearMs {
				continue
			}
			for _, st := range nb.strongest(perNeighbour) {
				c := nb.cand(st)
				if c.countryLevel || n.covers(c) || !n.h.feasiblePt(c.pt) {
					continue
				}
				s.addExtra(n, *c, nb.h, colocProb*nb.p[st]/(1+gap))
			}
		}
	}
}

// colocProb is how likely a hop is where a neighbour answering within nearMs
// of it is.
const colocProb = 0.7

// strongest are the indexes of n's k strongest own states, strongest
// first (the earlier on ties).
func (n *pnode) strongest(k int) []int {
	out := make([]int, 0, k)
	for range k {
		best := -1
		for st := range n.cands {
			if slices.Contains(out, st) {
				continue
			}
			if best < 0 || n.p[st] > n.p[best] {
				best = st
			}
		}
		if best < 0 {
			break
		}
		out = append(out, best)
	}
	return out
}

// covers reports whether one of n's states already stands where c does.
func (n *pnode) covers(c *cand) bool {
	for st := range n.elseState() {
		if o := n.cand(st); !o.countryLevel && agrees(o, c) {
			return true
		}
	}
	return false
}

// addExtra adds a neighbour's place as a state of n.
func (s *solver) addExtra(n *pnode, c cand, from *hop, p float64) {
	c.group = "neighbour"
	if n.extra == nil {
		n.extra = make([]cand, 0, 4) // cands are large: not from a slab chunk
	}
	n.extra = append(n.extra, c)
	n.extraFrom = appendSlab(&s.hopSlab, n.extraFrom, from)
	n.p = appendSlab(&s.floatSlab, n.p, p)
	n.logp = appendSlab(&s.floatSlab, n.logp, math.Log(math.Max(p, 1e-9)))
	n.mask = appendSlab(&s.boolSlab, n.mask, true)
}

// appendSlab is append(b, v), growing b into room taken from sl.
func appendSlab[T any](sl *slab[T], b []T, v T) []T {
	if len(b) == cap(b) {
		nb := sl.take(max(2, 2*cap(b)))[:len(b)]
		copy(nb, b)
		b = nb
	}
	return append(b, v)
}

// dbRepeatFactor discounts a database answer that an earlier hop of the
// same trace, answering more than repeatGapMs sooner or later, got from
// the same database: databases put many of an operator's prefixes at its
// head office, so one place for routers that far apart in time is one
// piece of evidence, not several. Routers of one PoP (close in time)
// sharing an answer are not discounted.
const (
	dbRepeatFactor = 0.5
	repeatGapMs    = 2
)

// repeatKey is a database and the S2 cell (about 70 km) of its answer.
type repeatKey struct {
	group string
	cell  s2.CellID
}

// nodeOf scores h's candidates that survive its hard constraints. seen
// counts the database answers of the hops before h in the trace (nil: none);
// h's are added.
func (s *solver) nodeOf(h *hop, seen *repeats) *pnode {
	cs := h.f.cands
	var ruledBuf [16]bool
	ruled := ruledBuf[:0]
	if len(cs) > len(ruledBuf) {
		ruled = make([]bool, 0, len(cs))
	}
	for i := range cs {
		ruled = append(ruled, !h.feasible(i))
	}
	// The node and its ints, floats and bools from the solver's slabs.
	s.nodeSlab = append(s.nodeSlab, pnode{h: h, cands: s.intSlab.take(len(cs))[:0]})
	n := &s.nodeSlab[len(s.nodeSlab)-1]
	floats := s.floatSlab.take(2 * len(cs))
	n.p = floats[:0:len(cs)]
	sup := supportOf(h.f, ruled, s.floatSlab.take(len(cs)))
	maxP := 0.0
	for i := range cs {
		if ruled[i] {
			continue
		}
		p := math.Min(pCap, sup[i])
		if cs[i].countryLevel {
			p *= 0.5
		}
		if seen != nil && h.hasRTT && cs[i].group != hintGroup && !cs[i].countryLevel {
			if seen.anyApart(repeatKeyOf(&cs[i]), h.res.RTTMs) {
				p *= dbRepeatFactor
			}
		}
		n.cands = append(n.cands, i)
		n.p = append(n.p, p)
		maxP = math.Max(maxP, p)
	}
	// Keep the strongest maxStates (stable: candidates come ranked).
	if len(n.cands) > maxStates {
		idx := make([]int, len(n.cands))
		for i := range idx {
			idx[i] = i
		}
		for i := 1; i < len(idx); i++ { // insertion sort by p, descending
			for j := i; j > 0 && n.p[idx[j]] > n.p[idx[j-1]]; j-- {
				idx[j], idx[j-1] = idx[j-1], idx[j]
			}
		}
		idx = idx[:maxStates]
		cands, p := make([]int, 0, maxStates), make([]float64, 0, maxStates)
		for i := range n.cands {
			for _, k := range idx {
				if k == i {
					cands, p = append(cands, n.cands[i]), append(p, n.p[i])
				}
			}
		}
		n.cands, n.p = cands, p
	}
	if seen != nil && h.hasRTT {
		for i := range cs {
			if cs[i].group != hintGroup && !cs[i].countryLevel {
				seen.add(repeatKeyOf(&cs[i]), h.res.RTTMs)
			}
		}
	}
	n.logp = floats[len(cs) : len(cs)+len(n.p) : len(cs)+len(n.p)]
	for i, p := range n.p {
		n.logp[i] = math.Log(math.Max(p, 1e-9))
	}
	n.logElse = math.Log(elseShare * math.Max(1-maxP, 1-pCap))
	n.mask = s.boolSlab.take(len(n.cands))
	for i := range n.mask {
		n.mask[i] = true
	}
	return n
}

func repeatKeyOf(c *cand) repeatKey { return repeatKey{c.group, c.cell} }

// repeats are the response times at which a trace's hops met each database
// place so far. A trace's few dozen are searched in a list; past
// repeatsLinear of them an index threads each place's entries together.
type repeats struct {
	seen []repeatSeen
	last map[repeatKey]int32 // newest entry of a place, once indexed
}

type repeatSeen struct {
	k    repeatKey
	rtt  float64
	prev int32 // the place's entry before this one, -1 none (indexed only)
}

// repeatsLinear is how many entries are searched one by one.
const repeatsLinear = 64

func (r *repeats) add(k repeatKey, rtt float64) {
	prev := int32(-1)
	if r.last != nil {
		if p, ok := r.last[k]; ok {
			prev = p
		}
		r.last[k] = int32(len(r.seen))
	}
	r.seen = append(r.seen, repeatSeen{k: k, rtt: rtt, prev: prev})
	if r.last == nil && len(r.seen) > repeatsLinear {
		r.last = make(map[repeatKey]int32, 2*len(r.seen))
		for i := range r.seen {
			e := &r.seen[i]
			e.prev = -1
			if p, ok := r.last[e.k]; ok {
				e.prev = p
			}
			r.last[e.k] = int32(i)
		}
	}
}

// anyApart reports whether place k was met more than repeatGapMs from rtt.
func (r *repeats) anyApart(k repeatKey, rtt float64) bool {
	if r.last == nil {
		for i := range r.seen {
			if e := &r.seen[i]; e.k.cell == k.cell && e.k.group == k.group && math.Abs(e.rtt-rtt) > repeatGapMs {
				return true
			}
		}
		return false
	}
	i, ok := r.last[k]
	for ok && i >= 0 {
		if math.Abs(r.seen[i].rtt-rtt) > repeatGapMs {
			return true
		}
		i = r.seen[i].prev
	}
	return false
}

// supportOf is, per candidate not ruled out, its support: for each
// independent group of evidence, the best candidate agreeing with it (all
// hints of a name are one group, each database another; databases after the
// first count for half, since they copy each other and the registries).
// out holds the answer when it has room.
func supportOf(f *facts, ruled []bool, out []float64) []float64 {
	cs := f.cands
	if cap(out) < len(cs) {
		out = make([]float64, len(cs))
	}
	out = out[:len(cs)]
	clear(out)
	type gmax struct {
		g string
		w float64
	}
	var gsBuf [8]gmax
	for i := range cs {
		if ruled[i] {
			continue
		}
		gs := gsBuf[:0]
	next:
		for j := range cs {
			if ruled[j] || !f.agrees(i, j) {
				continue
			}
			w := cs[j].weight
			for k := range gs {
				if gs[k].g == cs[j].group {
					gs[k].w = math.Max(gs[k].w, w)
					continue next
				}
			}
			gs = append(gs, gmax{cs[j].group, w})
		}
		// Largest first, so that the discount falls on the weaker copies.
		for a := 1; a < len(gs); a++ {
			for b := a; b > 0 && gs[b].w > gs[b-1].w; b-- {
				gs[b], gs[b-1] = gs[b-1], gs[b]
			}
		}
		dbs := 0
		for _, g := range gs {
			if g.g != hintGroup {
				dbs++
				if dbs > 1 {
					out[i] += g.w * dbCopyFactor
					continue
				}
			}
			out[i] += g.w
		}
	}
	return out
}

// edgeScores links hop a (earlier) and hop b (later).
// out is where to write them, when it has room.
func (e *Engine) edgeScores(a, b *pnode, out []float64, sl *slab[float64]) []float64 {
	na, nb := a.states(), b.states()
	out = grow(sl, out, na*nb)
	clear(out) // "elsewhere" rows and columns stay 0
	ha, hb := a.h, b.h
	pairKm := latency.PairMaxDistanceKm(ha.res.RTTMs, hb.res.RTTMs, 2*e.slack)
	sameTTL := ha.res.TTL == hb.res.TTL
	near := math.Abs(hb.res.RTTMs-ha.res.RTTMs) <= nearMs
	rise := math.Max(hb.res.RTTMs-ha.res.RTTMs, 0)
	// Pairs surely closer than fastKm need no distance: they are within
	// the pair bound and, since a detour's slack is at least e.slack,
	// make no detour; and when fastKm ≤ agreeMinKm they stand together.
	fastKm := pairKm
	if !sameTTL {
		fastKm = math.Min(fastKm, rise/2*latency.FibreKmPerMs+e.slack)
	}
	cosFast := 2.0 // no pair passes
	if r := fastKm/latency.EarthRadiusKm - metreRad; r > 0 && r < math.Pi {
		cosFast = math.Cos(r)
	}
	for i := range na - 1 {
		ca := a.cand(i)
		for j := range nb - 1 {
			cb := b.cand(j)
			if ca.v.Dot(cb.v) >= cosFast {
				if !ca.countryLevel && !cb.countryLevel && near && (fastKm <= agreeMinKm || candKm(ca, cb) <= agreeMinKm) {
					out[i*nb+j] = math.Log1p(colocBonus)
				}
				continue
			}
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
				// latency.DetourExcessKm, with the distance at hand.
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

// narrow makes the current masks final: "elsewhere" is scored from what
// they leave possible, as if the hypothesis had been a given vantage point.
func (s *solver) narrow() {
	for _, n := range s.nodes {
		if n == nil {
			continue
		}
		maxP := 0.0
		for k := range n.cands {
			if n.mask[k] {
				maxP = math.Max(maxP, n.p[k])
			}
		}
		n.logElse = math.Log(elseShare * math.Max(1-maxP, 1-pCap))
	}
}

// rebuildEdges recomputes every edge (after states were added).
func (s *solver) rebuildEdges() {
	for k := 0; k+1 < len(s.chain); k++ {
		s.edges[k] = s.e.edgeScores(s.nodes[s.chain[k]], s.nodes[s.chain[k+1]], s.edges[k], &s.floatSlab)
	}
}

// offerNeighbours gives every chained hop the solver put "elsewhere" the
// place of its closest placed neighbour on the chain (within
// maxNeighbourGapMs) as a state of its own, so that the path through it
// keeps its detour evidence. It reports whether it added any.
func (s *solver) offerNeighbours() bool {
	added := false
	var changedBuf [16]int
	changed := changedBuf[:0] // chain positions of the nodes given a state
	for k, i := range s.chain {
		n := s.nodes[i]
		if s.path[i] != n.elseState() {
			continue
		}
		var best *pnode
		var bestSt, bestI int
		bestGap := math.Inf(1)
		for _, j := range []int{k - 1, k + 1, k - 2, k + 2} {
			if j < 0 || j >= len(s.chain) {
				continue
			}
			ni := s.chain[j]
			nb := s.nodes[ni]
			st := s.path[ni]
			if st < 0 || st >= len(nb.cands) {
				continue
			}
			if gap := math.Abs(nb.h.res.RTTMs - n.h.res.RTTMs); gap <= maxNeighbourGapMs && gap < bestGap {
				best, bestSt, bestI, bestGap = nb, st, ni, gap
			}
		}
		if best == nil {
			continue
		}
		c := *best.cand(bestSt)
		if n.covers(&c) || !n.h.feasiblePt(c.pt) {
			continue
		}
		c.RadiusKm = c.RadiusKm + latency.MaxDistanceKm(bestGap, 0)
		s.addExtra(n, c, best.h, colocProb*math.Max(s.share(bestI, bestSt), best.p[bestSt])/(1+bestGap))
		added = true
		changed = append(changed, k)
	}
	if added {
		// Only the links of the nodes that changed score anew: an edge
		// depends on its two nodes' states alone.
		last := -1
		for _, k := range changed {
			for e := max(k-1, last+1); e <= k && e+1 < len(s.chain); e++ {
				s.edges[e] = s.e.edgeScores(s.nodes[s.chain[e]], s.nodes[s.chain[e+1]], s.edges[e], &s.floatSlab)
				last = e
			}
		}
		if s.hyp != nil {
			s.e.maskFor(s, *s.hyp, s.hypKm)
		}
	}
	return added
}

// detourRadiusCapKm caps the placement radius that widens a detour's slack.
const detourRadiusCapKm = 100

// run solves the chain under the current masks and scores every solved hop
// that is not on the chain on its own. It returns the total score.
func (s *solver) run() float64 {
	total := 0.0
	for i, n := range s.nodes {
		s.path[i] = -1
		if n == nil {
			continue
		}
		if s.onChain(i) {
			continue
		}
		m := grow(&s.floatSlab, s.marg[i], n.states())
		best := 0
		for st := range m {
			m[st] = n.node(st)
			if m[st] > m[best] {
				best = st
			}
		}
		s.marg[i] = m
		s.path[i] = best
		total += m[best]
	}
	L := len(s.chain)
	if L == 0 {
		s.best = total
		return total
	}
	if cap(s.fwd) < L {
		s.fwd, s.bwd, s.backp = make([][]float64, L), make([][]float64, L), make([][]int, L)
	}
	s.fwd, s.bwd, s.backp = s.fwd[:L], s.bwd[:L], s.backp[:L]
	for k, hi := range s.chain {
		n := s.nodes[hi]
		ns := n.states()
		s.fwd[k] = grow(&s.floatSlab, s.fwd[k], ns)
		s.bwd[k] = grow(&s.floatSlab, s.bwd[k], ns)
		s.backp[k] = grow(&s.intSlab, s.backp[k], ns)
		for st := range ns {
			v := n.node(st)
			bp := -1
			if k > 0 && v > negInf {
				pn := s.nodes[s.chain[k-1]]
				pns := pn.states()
				bestv := negInf
				for ps := range pns {
					x := s.fwd[k-1][ps] + s.edges[k-1][ps*ns+st]
					if x > bestv {
						bestv, bp = x, ps
					}
				}
				v += bestv
			}
			s.fwd[k][st] = v
			s.backp[k][st] = bp
		}
	}
	for k := L - 1; k >= 0; k-- {
		n := s.nodes[s.chain[k]]
		ns := n.states()
		for st := range ns {
			if k == L-1 {
				s.bwd[k][st] = 0
				continue
			}
			nn := s.nodes[s.chain[k+1]]
			nns := nn.states()
			bestv := negInf
			for ts := range nns {
				x := s.edges[k][st*nns+ts] + nn.node(ts) + s.bwd[k+1][ts]
				if x > bestv {
					bestv = x
				}
			}
			s.bwd[k][st] = bestv
		}
	}
	last := s.fwd[L-1]
	end := 0
	for st := range last {
		if last[st] > last[end] {
			end = st
		}
	}
	chainBest := last[end]
	for k := L - 1; k >= 0; k-- {
		hi := s.chain[k]
		s.path[hi] = end
		m := grow(&s.floatSlab, s.marg[hi], len(s.fwd[k]))
		for st := range m {
			m[st] = s.fwd[k][st] + s.bwd[k][st]
		}
		s.marg[hi] = m
		if k > 0 {
			end = s.backp[k][end]
			if end < 0 {
				end = s.nodes[s.chain[k-1]].states() - 1 // unreachable: fall back to "elsewhere"
			}
		}
	}
	s.best = total + chainBest
	return s.best
}

// independentBound is the score of the path if every solved hop took its
// best state on its own: edges ignored, co-location bonuses added as if
// every link earned one.
func (s *solver) independentBound() float64 {
	var total float64
	for _, n := range s.nodes {
		if n == nil {
			continue
		}
		best := negInf
		for st := range n.states() {
			best = math.Max(best, n.node(st))
		}
		total += best
	}
	return total + float64(max(0, len(s.chain)-1))*math.Log1p(colocBonus)
}

// confident yields the hops with an RTT that the solved path places on a
// candidate of their own (not a country-level one) with a share of at least
// MinCountryConfidence, and that candidate.
func (s *solver) confident() iter.Seq2[*hop, *cand] {
	return func(yield func(*hop, *cand) bool) {
		for i, n := range s.nodes {
			st := s.path[i]
			if n == nil || !n.h.hasRTT || st < 0 || st >= len(n.cands) || s.share(i, st) < MinCountryConfidence {
				continue
			}
			if c := n.cand(st); !c.countryLevel && !yield(n.h, c) {
				return
			}
		}
	}
}

func (s *solver) onChain(i int) bool {
	for _, c := range s.chain {
		if c == i {
			return true
		}
	}
	return false
}

// share is, for hop i's state st, its max-marginal's share of all its
// states': the solver's confidence that the hop is there, given the whole
// path. Candidates that agree with st count with it.
func (s *solver) share(i, st int) float64 {
	n, m := s.nodes[i], s.marg[i]
	if n == nil || m == nil || m[st] == negInf {
		return 0
	}
	top := m[st]
	for _, v := range m {
		top = math.Max(top, v)
	}
	var in, all float64
	for k, v := range m {
		if v == negInf {
			continue
		}
		x := math.Exp(v - top)
		all += x
		if k == st || (k != n.elseState() && st != n.elseState() && n.agrees(k, st)) {
			in += x
		}
	}
	if all == 0 {
		return 0
	}
	return in / all
}

// countryShare is, for hop i, the share of its max-marginals that stands in
// country cc: how sure the solver is of the country, which may be more
// than of the place (two databases naming two cities of one country).
func (s *solver) countryShare(i int, cc string) float64 {
	n, m := s.nodes[i], s.marg[i]
	if n == nil || m == nil || cc == "" {
		return 0
	}
	top := negInf
	for _, v := range m {
		top = math.Max(top, v)
	}
	if top == negInf {
		return 0
	}
	var in, all float64
	for k, v := range m {
		if v == negInf {
			continue
		}
		x := math.Exp(v - top)
		all += x
		if k != n.elseState() && n.cand(k).at == cc {
			in += x
		}
	}
	return in / all
}
