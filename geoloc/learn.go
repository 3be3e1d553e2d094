package geoloc

import (
	"sync"

	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/rdns"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// learning is the state of Options.Learn.
type learning struct {
	l *rdns.Learner

	mu      sync.Mutex
	applied *rdns.Conventions
}

// maxLearnRadiusKm: an observation whose vantage point is only known to
// within more than this teaches nothing worth keeping.
const maxLearnRadiusKm = 500

// NameObservation is a router name and where its RTT bounds it: what the
// first pass of fused locating learns naming conventions from
// (Options.Learn; rdns.Learner.Observe).
type NameObservation struct {
	Name  string         `json:"name"`
	Where []latency.Disc `json:"where"`
}

// nameObservations lists, for every public hop of t with a name and an
// RTT, the disc its RTT allows around the vantage point at (known, or a
// hypothesis with its radius); none when the radius is too wide to teach.
func (e *Engine) nameObservations(t *traceroute.Trace, at latency.Point, radiusKm float64) []NameObservation {
	if radiusKm > maxLearnRadiusKm {
		return nil
	}
	var out []NameObservation
	for i := range t.Hops {
		th := &t.Hops[i]
		for _, a := range th.Addrs() {
			name := nameOf(th, a)
			if name == "" || SpecialReason(a) != "" {
				continue
			}
			rtt, ok := minRTT(th, a)
			if !ok {
				continue
			}
			out = append(out, NameObservation{Name: name, Where: []latency.Disc{latency.DiscFromRTT(at, rtt, e.slack+radiusKm)}})
		}
	}
	return out
}

// Learned returns the naming conventions learned so far (Options.Learn;
// nil without it) and makes every later Locate read names with them: the
// fact cache is emptied, since it holds names read before. ObserveAll calls
// it when it is done; call it yourself after Observe.
func (e *Engine) Learned() *rdns.Conventions {
	if e.learn == nil {
		return nil
	}
	c := e.learn.l.Conventions()
	e.learn.mu.Lock()
	defer e.learn.mu.Unlock()
	e.learn.applied = c
	sets := append(append([]*rdns.Conventions(nil), e.opts.Conventions...), c)
	e.names.Store(rdns.NewReader(sets...))
	e.cache.clear()
	return c
}
