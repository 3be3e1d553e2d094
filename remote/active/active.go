// Package active geolocates addresses by pinging them from remote probes
// (RIPE Atlas or Globalping) chosen near where the address may be: each
// RTT from a probe at a known place bounds the distance to the address
// (light in fibre, about 100 km per millisecond of RTT), and a handful of
// nearby probes pin it down where databases disagree or are wrong.
//
// A Service plans a measurement (choosing at most n probes near a point;
// it may read the service's public probe list, and sends nothing about the
// target) and runs it, returning one trace per answering probe: a one-hop
// observation of the target whose Source is the probe's position. Feed
// those to geoloc.Engine.Observe, then locate the address again: the
// engine takes each as a hard bound (its tightest few per address).
//
//	b := &active.Batch{Service: &active.Globalping{Client: c}, N: 10}
//	traces, err := b.Ping(ctx, addr, near)
//	for _, t := range traces { eng.Observe(t) }
//	h, err := eng.LocateAddr(ctx, addr, "", 0, nil)
//	h.Evidence = append(h.Evidence, active.Evidence(traces, addr, geoloc.DefaultSlackKm)...)
//
// Pinging publishes the target to the service: Globalping measurements
// can be read by anyone with their id, RIPE Atlas results are public.
// Batch never measures an address twice and never uses more than N
// probes for one; with DryRun set it prints each plan and sends nothing.
package active

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"sync"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// Service pings addresses from remote probes.
type Service interface {
	// Name is the service's name ("globalping", "atlas").
	Name() string
	// Plan chooses at most n probes near a point (nil: anywhere) to ping
	// target from, and says what Ping would send. It sends nothing about
	// the target.
	Plan(ctx context.Context, target netip.Addr, near *latency.Point, n int) (*Plan, error)
	// Ping runs a plan: one trace per probe that answered, each a one-hop
	// observation of the target with the probe's position as its source.
	Ping(ctx context.Context, p *Plan) ([]*traceroute.Trace, error)
}

// Plan is a measurement a Service would run.
type Plan struct {
	Service string
	Target  netip.Addr
	// Probes is the most probes the plan uses.
	Probes int
	// Near is the point the probes were chosen near (nil: anywhere).
	Near *latency.Point
	// Chosen describes the chosen probes, nearest first ("Frankfurt, DE:
	// 2 probes, 12 km away").
	Chosen []string
	// Request is the body the service's API would be sent.
	Request any
}

// WriteTo prints the plan for a dry run: one line, then the request as
// indented JSON.
func (p *Plan) WriteTo(w io.Writer) (int64, error) {
	near := "anywhere"
	if p.Near != nil {
		near = "near " + p.Near.String()
	}
	body, err := json.MarshalIndent(p.Request, "  ", "  ")
	if err != nil {
		return 0, err
	}
	n, err := fmt.Fprintf(w, "would ping %s from at most %d %s probes %s:\n", p.Target, p.Probes, p.Service, near)
	total := int64(n)
	for _, c := range p.Chosen {
		if err != nil {
			break
		}
		n, err = fmt.Fprintf(w, "  %s\n", c)
		total += int64(n)
	}
	if err == nil {
		n, err = fmt.Fprintf(w, "  request: %s\n", body)
		total += int64(n)
	}
	return total, err
}

// Batch pings addresses through a Service within a budget: each address at
// most once, from at most N probes. It is safe for concurrent use.
type Batch struct {
	Service Service
	// N is the most probes per address; 0 means 10.
	N int
	// DryRun, when set, receives each plan (Plan.WriteTo) and nothing is
	// sent: Ping returns no traces.
	DryRun io.Writer

	mu   sync.Mutex
	done map[netip.Addr]*result
}

type result struct {
	once   sync.Once
	traces []*traceroute.Trace
	err    error
}

// Ping pings addr from probes near a point (nil: anywhere), or returns the
// traces of the batch's earlier measurement of addr.
func (b *Batch) Ping(ctx context.Context, addr netip.Addr, near *latency.Point) ([]*traceroute.Trace, error) {
	addr = addr.Unmap()
	b.mu.Lock()
	if b.done == nil {
		b.done = map[netip.Addr]*result{}
	}
	r := b.done[addr]
	if r == nil {
		r = &result{}
		b.done[addr] = r
	}
	b.mu.Unlock()
	r.once.Do(func() {
		n := b.N
		if n <= 0 {
			n = 10
		}
		p, err := b.Service.Plan(ctx, addr, near, n)
		if err != nil {
			r.err = err
			return
		}
		if p.Probes > n {
			r.err = fmt.Errorf("%s: plan for %s uses %d probes, over the budget of %d", b.Service.Name(), addr, p.Probes, n)
			return
		}
		if b.DryRun != nil {
			b.mu.Lock()
			_, r.err = p.WriteTo(b.DryRun)
			b.mu.Unlock()
			return
		}
		r.traces, r.err = b.Service.Ping(ctx, p)
	})
	return r.traces, r.err
}

// Measured is the number of distinct addresses the batch was asked about.
func (b *Batch) Measured() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.done)
}

// Candidate is a probe a service could ping from.
type Candidate struct {
	Point latency.Point
	// Key groups probes a service selects together (a city); Label
	// describes the group.
	Key, Label string
	// ID is the probe's id where the service has ids ("" otherwise).
	ID string
}

// Nearest returns the n candidates nearest to near, nearest first, with
// their distances in km. Ties keep the input order.
func Nearest(cands []Candidate, near latency.Point, n int) ([]Candidate, []float64) {
	idx := make([]int, len(cands))
	dist := make([]float64, len(cands))
	for i, c := range cands {
		idx[i] = i
		dist[i] = latency.DistanceKm(near, c.Point)
	}
	sort.SliceStable(idx, func(a, b int) bool { return dist[idx[a]] < dist[idx[b]] })
	n = min(n, len(cands))
	out, km := make([]Candidate, n), make([]float64, n)
	for i := range n {
		out[i], km[i] = cands[idx[i]], dist[idx[i]]
	}
	return out, km
}

// group is chosen probes of one Key, in order of their nearest.
type group struct {
	key, label string
	n          int
	km         float64
	ids        []string
}

func groups(cands []Candidate, km []float64) []group {
	var out []group
	at := map[string]int{}
	for i, c := range cands {
		j, ok := at[c.Key]
		if !ok {
			j = len(out)
			at[c.Key] = j
			out = append(out, group{key: c.Key, label: c.Label, km: km[i]})
		}
		out[j].n++
		if c.ID != "" {
			out[j].ids = append(out[j].ids, c.ID)
		}
	}
	return out
}

func describe(gs []group) []string {
	var out []string
	for _, g := range gs {
		probes := "1 probe"
		if g.n > 1 {
			probes = strconv.Itoa(g.n) + " probes"
		}
		out = append(out, fmt.Sprintf("%s: %s, %.0f km away", g.label, probes, g.km))
	}
	return out
}

// Evidence describes ping observations of addr as evidence rows, one per
// probe that answered: Kind "ping", the probe's position, Status
// "measured", and Why the RTT and the distance it allows.
func Evidence(traces []*traceroute.Trace, addr netip.Addr, slackKm float64) []geoloc.Evidence {
	type row struct {
		rtt float64
		ev  geoloc.Evidence
	}
	var rows []row
	for _, t := range traces {
		if !t.Source.HasLocation() {
			continue
		}
		best := math.Inf(1)
		for i := range t.Hops {
			if r, ok := t.Hops[i].MinRTTMs(addr.Unmap()); ok && r < best {
				best = r
			}
		}
		if math.IsInf(best, 1) {
			continue
		}
		name := t.Source.Name
		if t.Source.ProbeID != "" {
			name = "probe " + t.Source.ProbeID
		}
		src := t.Format
		if src == "" {
			src = "ping"
		}
		rows = append(rows, row{best, geoloc.Evidence{Source: src + ":" + name, Kind: "ping", Lat: *t.Source.Lat, Lon: *t.Source.Lon,
			Status: "measured", Why: fmt.Sprintf("%.1f ms: within %.0f km", best, latency.MaxDistanceKm(best, slackKm))}})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].rtt < rows[j].rtt })
	out := make([]geoloc.Evidence, len(rows))
	for i, r := range rows {
		out[i] = r.ev
	}
	return out
}
