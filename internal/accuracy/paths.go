package accuracy

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/rdns"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// PathMetrics are the per-trace figures of one method on whole paths: what
// a user reads as "the countries my traffic crossed".
type PathMetrics struct {
	Metrics // per hop, as Run scores them
	Traces  int
	// CountriesExact is the share of traces whose countries list is the
	// true one (the countries of the responding routers, in order,
	// repeats folded).
	CountriesExact float64
	// NeverCrossed is the share of traces whose list names a country the
	// packets never crossed: the worst failure, worse than "unknown".
	NeverCrossed float64
	// Uncertain is the mean number of hops per trace listed as uncertain.
	Uncertain float64
	// BreakingShare is Breaking over Hops: placements that break the
	// bound from the true (withheld) vantage point.
	BreakingShare float64
}

// RunPaths builds a world of whole paths (Config.Access) and scores, per
// trace and per hop: the engine told where each probe is, the engine not
// told (the traces keep their probe ids and source addresses, as RIPE Atlas
// results and most saved outputs do), the same with --fuse, each database
// alone and names alone. opts, when set, adjusts the engine's options
// (hints, conventions); nil means the defaults.
func RunPaths(ctx context.Context, cfg Config, hints func(string) []rdns.Hint) ([]PathMetrics, error) {
	cfg.Access = true
	w, err := Build(cfg)
	if err != nil {
		return nil, err
	}
	names := hints
	if names == nil {
		names = rdns.Hints // for the "names alone" baseline; the engine reads with its own reader
	}
	dbs, sources, err := w.openDBs()
	if err != nil {
		return nil, err
	}
	truth := make([][]hopTruth, len(w.Traces))
	for i, t := range w.Traces {
		truth[i] = w.truthOf(t)
	}
	blind := make([]*traceroute.Trace, len(w.Traces))
	for i, t := range w.Traces {
		c := *t
		c.Source.Lat, c.Source.Lon = nil, nil
		blind[i] = &c
	}
	var out []PathMetrics
	engine := func(name string, traces []*traceroute.Trace, fuse bool) error {
		e := geoloc.New(geoloc.Options{Sources: sources, Hints: hints})
		if fuse {
			if _, err := e.ObserveAll(ctx, seqOf(traces), nil); err != nil {
				return err
			}
		}
		var res [][]placement
		var ccs [][]string
		unc := 0
		for r, err := range e.Stream(ctx, seqOf(traces), 0) {
			if err != nil {
				return err
			}
			res = append(res, engineAnswers(r))
			ccs = append(ccs, r.Countries)
			unc += len(r.CountriesUncertain)
		}
		m := w.scorePaths(name, truth, res, ccs)
		m.Uncertain = float64(unc) / float64(max(1, len(traces)))
		out = append(out, m)
		return nil
	}
	if err := engine("engine, vantage known", w.Traces, false); err != nil {
		return nil, err
	}
	if err := engine("engine, vantage unknown", blind, false); err != nil {
		return nil, err
	}
	if err := engine("engine --fuse, vantage unknown", blind, true); err != nil {
		return nil, err
	}
	for i, db := range dbs {
		res := baseline(w, dbAlone(db))
		out = append(out, w.scorePaths("database alone: "+w.DBs[i].Name, truth, res, nil))
	}
	res := baseline(w, func(h traceroute.Probe) placement {
		hs := names(h.Name)
		if h.Name == "" || len(hs) == 0 {
			return placement{}
		}
		return placement{ok: true, lat: hs[0].Lat, lon: hs[0].Lon, country: hs[0].Country}
	})
	out = append(out, w.scorePaths("names alone (top hint)", truth, res, nil))
	return out, nil
}

// openDBs opens the world's city databases and its ASN table.
func (w *World) openDBs() (dbs, all []candidates.Source, err error) {
	for _, d := range w.DBs {
		s, err := candidates.OpenMMDBBytes(d.Image, d.Name+".mmdb")
		if err != nil {
			return nil, nil, fmt.Errorf("accuracy: opening %s: %w", d.Name, err)
		}
		dbs = append(dbs, s)
	}
	asn, err := candidates.OpenMMDBBytes(w.ASN, "asn.mmdb")
	if err != nil {
		return nil, nil, fmt.Errorf("accuracy: opening ASN db: %w", err)
	}
	return dbs, append(slices.Clone(dbs), asn), nil
}

// trueCountries is the folded sequence of the countries of t's responding
// routers.
func (w *World) trueCountries(ts []hopTruth) []string {
	var out []string
	for _, th := range ts {
		if th.router < 0 {
			continue
		}
		cc := w.Cities[w.Routers[th.router].City].Country
		if len(out) == 0 || out[len(out)-1] != cc {
			out = append(out, cc)
		}
	}
	return out
}

// scorePaths scores a method per hop and per trace. ccs are the method's
// countries lists; nil means a baseline's, read off its placements (every
// placed hop names its country, as a plain GeoIP lookup does).
func (w *World) scorePaths(method string, truth [][]hopTruth, res [][]placement, ccs [][]string) PathMetrics {
	m := PathMetrics{Metrics: w.score(method, truth, res), Traces: len(truth)}
	exact, never := 0, 0
	for i, ts := range truth {
		var got []string
		if ccs != nil {
			got = ccs[i]
		} else {
			for _, p := range res[i] {
				if p.ok && p.country != "" && (len(got) == 0 || got[len(got)-1] != p.country) {
					got = append(got, p.country)
				}
			}
		}
		want := w.trueCountries(ts)
		if slices.Equal(got, want) {
			exact++
		}
		if slices.ContainsFunc(got, func(cc string) bool { return !slices.Contains(want, cc) }) {
			never++
		}
	}
	n := float64(max(1, len(truth)))
	m.CountriesExact = float64(exact) / n
	m.NeverCrossed = float64(never) / n
	m.BreakingShare = float64(m.Breaking) / float64(max(1, m.Hops))
	return m
}

// WritePathTable prints path metrics as an aligned table.
func WritePathTable(out io.Writer, title string, ms []PathMetrics) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, title)
	fmt.Fprintln(tw, strings.Join([]string{"method", "traces", "countries exact", "names a country never crossed", "uncertain hops/trace", "hops", "≤40km", "country", "bound-breaking", ""}, "\t"))
	for _, m := range ms {
		unc := "-"
		if !math.IsNaN(m.Uncertain) && strings.HasPrefix(m.Method, "engine") {
			unc = fmt.Sprintf("%.2f", m.Uncertain)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%.1f%%\t%s\t%d\t%.1f%%\t%.1f%%\t%d (%.2f%%)\t\n",
			m.Method, m.Traces, 100*m.CountriesExact, 100*m.NeverCrossed, unc, m.Hops, 100*m.Within, 100*m.Country, m.Breaking, 100*m.BreakingShare)
	}
	return tw.Flush()
}
