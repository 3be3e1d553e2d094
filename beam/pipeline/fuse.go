package pipeline

import (
	"context"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/geoloc-dev/geoloc/geoloc"
)

func init() {
	register.Combiner1[geoloc.Fused](&fusedCombineFn{})
	register.Combiner1[geoloc.Votes](&votesCombineFn{})
	register.DoFn5x0[context.Context, string, func(*geoloc.Fused) bool, func(*string) bool, func(string, AddrFused)](&joinAddrFn{})
	register.DoFn4x0[string, func(*geoloc.Votes) bool, func(*string) bool, func(string, geoloc.Votes)](&joinVotesFn{})
	register.Iter1[geoloc.Fused]()
	register.Iter1[geoloc.Votes]()
	register.Iter1[string]()
	register.Emitter2[string, AddrFused]()
}

// Fuse is the fuse stage: the observations of every address combined into
// its bounded summary (geoloc.Fused: the tightest four vantage points),
// the votes of every source summed (geoloc.Votes). Both combine in any
// order, so the runner may combine on the workers before the shuffle.
func Fuse(s beam.Scope, obs, votes beam.PCollection) (fused, summed beam.PCollection) {
	s = s.Scope("fuse")
	return beam.CombinePerKey(s, &fusedCombineFn{}, obs), beam.CombinePerKey(s, &votesCombineFn{}, votes)
}

type fusedCombineFn struct{}

func (fusedCombineFn) CreateAccumulator() geoloc.Fused { return geoloc.Fused{} }

func (fusedCombineFn) AddInput(a, v geoloc.Fused) geoloc.Fused {
	a.Merge(v)
	return a
}

func (fusedCombineFn) MergeAccumulators(a, b geoloc.Fused) geoloc.Fused {
	a.Merge(b)
	return a
}

type votesCombineFn struct{}

func (votesCombineFn) CreateAccumulator() geoloc.Votes { return geoloc.Votes{} }

func (votesCombineFn) AddInput(a, v geoloc.Votes) geoloc.Votes {
	a.Merge(v)
	return a
}

func (votesCombineFn) MergeAccumulators(a, b geoloc.Votes) geoloc.Votes {
	a.Merge(b)
	return a
}

// Join sends every trace the fused summaries of its own addresses and the
// votes of its own source: a CoGroupByKey per address and per source, so
// that no worker ever holds more than one address's or source's group (a
// side input of every address would grow with the input).
func Join(s beam.Scope, fused, summed, addrNeeds, voteNeeds beam.PCollection) (addrFused, votesByTrace beam.PCollection) {
	s = s.Scope("join")
	addrFused = beam.ParDo(s, &joinAddrFn{}, beam.CoGroupByKey(s, fused, addrNeeds))
	votesByTrace = beam.ParDo(s, &joinVotesFn{}, beam.CoGroupByKey(s, summed, voteNeeds))
	return addrFused, votesByTrace
}

type joinAddrFn struct {
	addrs beam.Counter
}

func (f *joinAddrFn) Setup() { f.addrs = beam.NewCounter(counterNS, "fuse_addresses") }

func (f *joinAddrFn) ProcessElement(ctx context.Context, addr string, fused func(*geoloc.Fused) bool, ids func(*string) bool, emit func(string, AddrFused)) {
	var fu geoloc.Fused
	if !fused(&fu) {
		return // no trace with a known vantage point saw addr
	}
	f.addrs.Inc(ctx, 1)
	var id string
	for ids(&id) {
		emit(id, AddrFused{Addr: addr, Fused: fu})
	}
}

type joinVotesFn struct{}

func (joinVotesFn) ProcessElement(key string, votes func(*geoloc.Votes) bool, ids func(*string) bool, emit func(string, geoloc.Votes)) {
	var v geoloc.Votes
	if !votes(&v) {
		return
	}
	var id string
	for ids(&id) {
		emit(id, v)
	}
}
