package pipeline

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/rdns"
)

func init() {
	register.DoFn4x1[context.Context, string, func(*geoloc.NameObservation) bool, func(string), error](&learnFn{})
	register.Iter1[geoloc.NameObservation]()
}

// Learn is the learn stage: the router names of the first pass grouped by
// domain suffix, each domain learned by its own rdns.Learner (the
// algorithm of `geoloc learn` and of regeo --fuse's first pass; learning
// is per domain, see rdns.Learner.Domain). The output holds one element
// per domain that taught something: that domain's conventions as JSON, a
// side input for the locate stage (MergeLearned joins them). A learner
// keeps at most rdns.LearnOptions.MaxObservations names: here per domain,
// where regeo's one learner keeps that many over all domains.
func Learn(s beam.Scope, c Config, names beam.PCollection) beam.PCollection {
	s = s.Scope("learn")
	return beam.ParDo(s, &learnFn{Config: c}, beam.GroupByKey(s, names))
}

type learnFn struct {
	Config Config `json:"config"`
	w      *worker
}

func (f *learnFn) Setup(ctx context.Context) error {
	w, err := workerFor(ctx, f.Config)
	f.w = w
	return err
}

func (f *learnFn) ProcessElement(ctx context.Context, domain string, names func(*geoloc.NameObservation) bool, emit func(string)) error {
	l := rdns.NewLearner(rdns.LearnOptions{Reader: f.w.reader})
	var n geoloc.NameObservation
	for names(&n) {
		l.Observe(n.Name, n.Where)
	}
	c := l.Conventions()
	if len(c.Domains) == 0 && len(c.Entries) == 0 {
		return nil
	}
	b, err := json.Marshal(learnedPart{Observed: l.Stats().Observed, Conventions: c})
	if err != nil {
		return fmt.Errorf("learn %s: %w", domain, err)
	}
	emit(string(b))
	return nil
}

// learnedPart is one element of Learn's output: one domain's conventions
// and the observations they were learned from.
type learnedPart struct {
	Observed    int               `json:"observed"`
	Conventions *rdns.Conventions `json:"conventions"`
}

// MergeLearned joins the per-domain conventions of Learn into one set,
// sorted by domain as one learner sorts its own, and returns it with a key
// that names its content. JSON round-trips the conventions exactly (float64
// coordinates included), so the set reads names as regeo's learned set
// does.
func MergeLearned(parts []string) (*rdns.Conventions, string, error) {
	slices.Sort(parts)
	h := sha256.New()
	type part struct {
		domain string
		c      rdns.Conventions
	}
	ps := make([]part, 0, len(parts))
	observed := 0
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
		var lp learnedPart
		if err := json.Unmarshal([]byte(p), &lp); err != nil || lp.Conventions == nil {
			return nil, "", fmt.Errorf("learned conventions: not a learned part (%v)", err)
		}
		c := *lp.Conventions
		observed += lp.Observed
		d := ""
		switch {
		case len(c.Domains) > 0:
			d = c.Domains[0].Domain
		case len(c.Entries) > 0:
			d = c.Entries[0].Domain
		}
		ps = append(ps, part{d, c})
	}
	slices.SortFunc(ps, func(a, b part) int { return cmp.Compare(a.domain, b.domain) })
	out := &rdns.Conventions{Sources: map[string]string{}}
	for _, p := range ps {
		out.Domains = append(out.Domains, p.c.Domains...)
		out.Entries = append(out.Entries, p.c.Entries...)
		maps.Copy(out.Sources, p.c.Sources)
	}
	if len(out.Sources) == 0 {
		out.Sources = map[string]string{"learned": "learned from observations: see about"}
	}
	out.About = fmt.Sprintf("Naming conventions learned by geoloc-beam from %d observations of router names with the RTT bounds of where they were measured from, one learner per domain (see geoloc learn). Review before use.", observed)
	return out, hex.EncodeToString(h.Sum(nil)[:12]), nil
}
