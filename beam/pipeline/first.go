package pipeline

import (
	"context"
	"encoding/json"
	"net/netip"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/rdns"
)

func init() {
	register.DoFn5x1[context.Context, Record, func(string, geoloc.Fused), func(string, geoloc.Votes), func(string, geoloc.NameObservation), error](&firstFn{})
	register.Emitter2[string, geoloc.Fused]()
	register.Emitter2[string, geoloc.Votes]()
	register.Emitter2[string, geoloc.NameObservation]()
	register.DoFn4x0[Record, func(string, string), func(string, string), func(string, Record)](&keysFn{})
	register.Emitter2[string, string]()
	register.Emitter2[string, Record]()
}

// FirstPass is the first stage of fused locating: what
// geoloc.Engine.FirstPassOf takes from every trace, with the base
// conventions only (regeo --fuse's first pass reads names before anything
// is learned). obs is keyed by address (one observation each, for the fuse
// combiner), votes by source key, names by domain suffix
// (rdns.Learner.Domain; names no learner would learn from are left out).
func FirstPass(s beam.Scope, c Config, traces beam.PCollection) (obs, votes, names beam.PCollection) {
	s = s.Scope("first")
	return beam.ParDo3(s, &firstFn{Config: c}, traces)
}

type firstFn struct {
	Config Config `json:"config"`

	w     *worker
	learn *rdns.Learner // for Domain only
	batch []Record
	out   []geoloc.FirstPass

	nObs, shuffleBytes beam.Counter
}

func (f *firstFn) Setup(ctx context.Context) error {
	w, err := workerFor(ctx, f.Config)
	if err != nil {
		return err
	}
	f.w = w
	f.learn = rdns.NewLearner(rdns.LearnOptions{Reader: w.reader})
	f.nObs = beam.NewCounter(counterNS, "fuse_observations")
	f.shuffleBytes = beam.NewCounter(counterNS, "fuse_shuffle_bytes")
	return nil
}

func (f *firstFn) ProcessElement(ctx context.Context, r Record, obs func(string, geoloc.Fused), votes func(string, geoloc.Votes), names func(string, geoloc.NameObservation)) error {
	f.batch = append(f.batch, r)
	if len(f.batch) < batchSize {
		return nil
	}
	return f.flush(ctx, obs, votes, names)
}

func (f *firstFn) FinishBundle(ctx context.Context, obs func(string, geoloc.Fused), votes func(string, geoloc.Votes), names func(string, geoloc.NameObservation)) error {
	return f.flush(ctx, obs, votes, names)
}

func (f *firstFn) flush(ctx context.Context, obs func(string, geoloc.Fused), votes func(string, geoloc.Votes), names func(string, geoloc.NameObservation)) error {
	f.out = append(f.out[:0], make([]geoloc.FirstPass, len(f.batch))...)
	runAll(len(f.batch), func(i int) { f.out[i] = f.w.first.FirstPassOf(ctx, f.batch[i].Trace) })
	for _, fp := range f.out {
		for _, o := range fp.Observations {
			var fu geoloc.Fused
			fu.Add(o.Vantage, o.RTTMs)
			if len(fu.Obs) == 0 {
				continue
			}
			key := o.Addr.Unmap().String()
			f.nObs.Inc(ctx, 1)
			f.shuffleBytes.Inc(ctx, shuffleSize(key, fu))
			obs(key, fu)
		}
		if fp.Vote != nil {
			votes(fp.VoteKey, *fp.Vote)
		}
		for _, n := range fp.Names {
			if d := f.learn.Domain(n.Name); d != "" {
				names(d, n)
			}
		}
	}
	clear(f.batch)
	f.batch = f.batch[:0]
	clear(f.out)
	return ctx.Err()
}

// shuffleSize is the size of an observation as the shuffle carries it:
// its key and its value in the element coder's encoding.
func shuffleSize(key string, v any) int64 {
	b, _ := json.Marshal(v)
	return int64(len(key) + len(b))
}

// Keys keys what the join needs by trace: the trace itself by its ID, the
// ID by every public address the trace shows (to meet that address's fused
// summary) and by its source key (to meet its source's votes).
func Keys(s beam.Scope, traces beam.PCollection) (byID, addrNeeds, voteNeeds beam.PCollection) {
	s = s.Scope("keys")
	addrNeeds, voteNeeds, byID = beam.ParDo3(s, &keysFn{}, traces)
	return byID, addrNeeds, voteNeeds
}

type keysFn struct{}

func (keysFn) ProcessElement(r Record, addrNeed, voteNeed func(string, string), byID func(string, Record)) {
	byID(r.ID, r)
	if k := geoloc.SourceKey(r.Trace); k != "" {
		voteNeed(k, r.ID)
	}
	seen := map[netip.Addr]bool{}
	for i := range r.Trace.Hops {
		for _, a := range r.Trace.Hops[i].Addrs() {
			a = a.Unmap()
			if seen[a] || geoloc.SpecialReason(a) != "" {
				continue
			}
			seen[a] = true
			addrNeed(a.String(), r.ID)
		}
	}
}
