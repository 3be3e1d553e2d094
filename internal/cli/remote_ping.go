package cli

import (
	"context"
	"fmt"
	"iter"
	"net/netip"
	"sort"
	"sync"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/remote/active"
	"github.com/geoloc-dev/geoloc/remote/atlas"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// pingBatch is the --ping budget: each address once, from at most N
// probes of the --ping-via service, in two rounds (N/2 near where it may
// be and spread over the world, the rest where their RTTs point; see
// active.Batch.Rounds); --dry-run prints the first round's plans on stdout.
func (a *app) pingBatch(rf *remoteFlags, c *common) *active.Batch {
	var svc active.Service
	if rf.pingVia == "atlas" {
		svc = &active.Atlas{Client: a.atlasClient(c), Wait: atlas.WaitOptions{}}
	} else {
		svc = &active.Globalping{Client: a.globalpingClient(c)}
	}
	b := &active.Batch{Service: svc, N: rf.ping, Rounds: 2}
	if rf.dryRun {
		b.DryRun = a.stdout
	}
	return b
}

// nearOf is where an address may be, to choose probes near: its location,
// else its first candidate (a database's answer, even one the engine did
// not trust), else nowhere in particular (nil).
func nearOf(h geoloc.HopResult) *latency.Point {
	if l := h.Location; l != nil {
		return &latency.Point{Lat: l.Lat, Lon: l.Lon}
	}
	for _, e := range h.Evidence {
		if p := (latency.Point{Lat: e.Lat, Lon: e.Lon}); p.Valid() && (p.Lat != 0 || p.Lon != 0) {
			return &p
		}
	}
	return nil
}

// pingTarget is an address to ping and where to choose probes.
type pingTarget struct {
	addr netip.Addr
	near *latency.Point
}

// pingAll pings the targets (four at a time), feeds every answer to the
// engine as an observation, and returns the traces per address. A target
// that could not be pinged is reported on stderr, one line, and counted.
func (a *app) pingAll(b *active.Batch, eng *geoloc.Engine, targets []pingTarget) (map[netip.Addr][]*traceroute.Trace, int) {
	out := map[netip.Addr][]*traceroute.Trace{}
	var mu sync.Mutex
	failed := 0
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for _, t := range targets {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			traces, err := b.Ping(a.ctx, t.addr, t.near)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if a.ctx.Err() == nil {
					fmt.Fprintf(a.stderr, "%s: ping via %s failed: %v\n", t.addr, b.Service.Name(), err)
				}
				failed++
				return
			}
			for _, tr := range traces {
				eng.Observe(tr)
			}
			out[t.addr] = traces
		}()
	}
	wg.Wait()
	return out, failed
}

// pingEvidence checks the hops of each pinged address against all its
// pings (active.Enforce: the engine keeps only its tightest few) and adds
// the pings to their evidence; the countries crossed follow any change.
func pingEvidence(pinged map[netip.Addr][]*traceroute.Trace) func(*geoloc.TraceResult) {
	return func(r *geoloc.TraceResult) {
		changed := false
		for i := range r.Hops {
			h := &r.Hops[i]
			if traces, ok := pinged[h.Addr]; ok {
				if active.Enforce(h, traces, geoloc.DefaultSlackKm) {
					changed = true
				}
				h.Evidence = append(h.Evidence, active.Evidence(traces, h.Addr, geoloc.DefaultSlackKm)...)
			}
		}
		if changed {
			c := geoloc.Crossed(r.Hops)
			r.Countries, r.CountriesUncertain, r.Networks = c.Countries, c.Uncertain, c.Networks
		}
	}
}

// regeoPingTargets runs the engine over seq once and returns the public
// addresses placed with a radius over --ping-above (or not placed), each
// with where to choose probes: at most --ping-max of them, the least
// certain first. skipped is how many more there were.
func (a *app) regeoPingTargets(rf *remoteFlags, eng *geoloc.Engine, seq iter.Seq2[*traceroute.Trace, error]) (targets []pingTarget, skipped int, err error) {
	type cand struct {
		near   *latency.Point
		radius float64
	}
	seen := map[netip.Addr]*cand{}
	var order []netip.Addr
	for r, err := range eng.Stream(a.ctx, seq, 0) {
		if err != nil {
			if a.ctx.Err() != nil {
				return nil, 0, a.ctx.Err()
			}
			continue // reported when the results are written
		}
		for _, h := range r.Hops {
			if !h.Addr.IsValid() || geoloc.SpecialReason(h.Addr) != "" {
				continue
			}
			radius := 20100.0 // not placed: anywhere on Earth
			if h.Location != nil {
				radius = h.Location.RadiusKm
			}
			if radius <= rf.pingAbove {
				continue
			}
			c := seen[h.Addr]
			if c == nil {
				c = &cand{radius: radius}
				seen[h.Addr] = c
				order = append(order, h.Addr)
			}
			if radius <= c.radius || c.near == nil {
				if n := nearOf(h); n != nil {
					c.near, c.radius = n, radius
				}
			}
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return seen[order[i]].radius > seen[order[j]].radius })
	if len(order) > rf.pingMax {
		skipped = len(order) - rf.pingMax
		order = order[:rf.pingMax]
	}
	for _, ad := range order {
		targets = append(targets, pingTarget{addr: ad, near: seen[ad].near})
	}
	return targets, skipped, nil
}

// locatePinged places one address for locate --ping: first as it is, then,
// with the pings of at most N probes near that place, again; the pings are
// added to the evidence. In a dry run only the plan is printed (ok false).
func (a *app) locatePinged(ctx context.Context, b *active.Batch, eng *geoloc.Engine, addr netip.Addr, name string, rttMs float64, from *geoloc.Vantage) (geoloc.HopResult, bool, error) {
	h, err := eng.LocateAddr(ctx, addr, name, rttMs, from)
	if err != nil || geoloc.SpecialReason(addr) != "" {
		return h, err == nil, err
	}
	traces, err := b.Ping(ctx, addr, nearOf(h))
	if err != nil {
		return h, false, fmt.Errorf("%s: ping via %s failed: %w", addr, b.Service.Name(), err)
	}
	if b.DryRun != nil {
		return h, false, nil
	}
	for _, t := range traces {
		eng.Observe(t)
	}
	h, err = eng.LocateAddr(ctx, addr, name, rttMs, from)
	if err != nil {
		return h, false, err
	}
	active.Enforce(&h, traces, geoloc.DefaultSlackKm)
	h.Evidence = append(h.Evidence, active.Evidence(traces, addr, geoloc.DefaultSlackKm)...)
	return h, true, nil
}
