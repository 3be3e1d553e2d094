package active

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/remote/atlas"
	"github.com/geoloc-dev/geoloc/remote/globalping"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// Globalping pings through the Globalping API. Probes are chosen from the
// connected probe list (GET /probes, read once): the n nearest, asked for
// by their city and country ({"country","city","limit"}), since Globalping
// selects probes by location, not by id.
type Globalping struct {
	Client *globalping.Client
	// Packets per probe; 0 means 3.
	Packets int
	// Wait bounds the wait for results (the zero value: 2 minutes).
	Wait globalping.WaitOptions

	mu    sync.Mutex
	cands []Candidate
	locs  map[string]globalping.Location
}

// Name is "globalping".
func (g *Globalping) Name() string { return "globalping" }

func (g *Globalping) candidates(ctx context.Context) ([]Candidate, map[string]globalping.Location, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cands != nil {
		return g.cands, g.locs, nil
	}
	ps, err := g.Client.Probes(ctx)
	if err != nil {
		return nil, nil, err
	}
	g.locs = map[string]globalping.Location{}
	for _, p := range ps {
		l := p.Location
		pt := latency.Point{Lat: l.Latitude, Lon: l.Longitude}
		if !pt.Valid() || l.Country == "" || l.City == "" {
			continue
		}
		key := l.Country + "/" + l.State + "/" + l.City
		g.locs[key] = globalping.Location{Country: l.Country, State: l.State, City: l.City}
		g.cands = append(g.cands, Candidate{Point: pt, Key: key, Label: l.City + ", " + l.Country})
	}
	if len(g.cands) == 0 {
		return nil, nil, errors.New("globalping: no connected probe with a position")
	}
	return g.cands, g.locs, nil
}

// Plan chooses the probes of sel (any sel.N probes without sel.Near).
func (g *Globalping) Plan(ctx context.Context, target netip.Addr, sel Selection) (*Plan, error) {
	near, n := sel.Near, sel.N
	req := globalping.MeasurementRequest{Type: "ping", Target: target.String(), Options: &globalping.MeasurementOptions{Packets: g.packets()}}
	p := &Plan{Service: g.Name(), Target: target, Probes: n, Near: near}
	if near == nil {
		req.Limit = n
		p.Chosen = []string{"anywhere: " + strconv.Itoa(n) + " probes"}
		p.Request = req
		return p, nil
	}
	cands, locs, err := g.candidates(ctx)
	if err != nil {
		return nil, err
	}
	chosen, km := Choose(cands, sel)
	gs := groups(chosen, km)
	for _, gr := range gs {
		l := locs[gr.key]
		l.Limit = gr.n
		req.Locations = append(req.Locations, l)
	}
	p.Probes = len(chosen)
	p.Chosen = describe(gs)
	p.Request = req
	return p, nil
}

func (g *Globalping) packets() int {
	if g.Packets > 0 {
		return g.Packets
	}
	return 3
}

// Ping creates the measurement, waits for it and reads its results.
func (g *Globalping) Ping(ctx context.Context, p *Plan) ([]*traceroute.Trace, error) {
	req, ok := p.Request.(globalping.MeasurementRequest)
	if !ok {
		return nil, fmt.Errorf("globalping: plan for %s is not a Globalping request", p.Target)
	}
	c, err := g.Client.Create(ctx, req)
	if err != nil {
		return nil, err
	}
	m, err := g.Client.Wait(ctx, c.ID, g.Wait)
	if err != nil {
		return nil, err
	}
	return readTraces(m.Raw, "globalping measurement "+m.ID)
}

// readTraces reads a measurement's traces; a bad result is an error only
// when no trace could be read at all.
func readTraces(raw []byte, input string) ([]*traceroute.Trace, error) {
	var out []*traceroute.Trace
	var first error
	for t, err := range traceroute.Read(bytes.NewReader(raw), traceroute.ReadOptions{Input: input}) {
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		out = append(out, t)
	}
	if len(out) == 0 && first != nil {
		return nil, first
	}
	return out, nil
}

// Atlas pings through RIPE Atlas (it needs an API key: creating
// measurements costs credits). Probes are chosen by id: from Pool when set
// (a probe archive read with atlas.ReadProbes; connected ones only), else
// from the API's radius search around the point, widening the radius until
// there are enough.
type Atlas struct {
	Client *atlas.Client
	// Packets per probe; 0 means 3.
	Packets int
	// Pool, when set, is where probes are chosen from.
	Pool []atlas.Probe
	// Wait bounds the wait for results (the zero value: 15 minutes, polls
	// every 15 s).
	Wait atlas.WaitOptions
}

// Name is "atlas".
func (a *Atlas) Name() string { return "atlas" }

// searchRadiiKm are the radius searches tried in turn.
var searchRadiiKm = []float64{250, 1000, 3000, 10000, 20100}

func (a *Atlas) candidates(ctx context.Context, near latency.Point, n int) ([]Candidate, error) {
	toCand := func(p atlas.Probe) Candidate {
		id := strconv.FormatInt(p.ID, 10)
		label := "probe " + id
		if p.CountryCode != "" {
			label += " (" + p.CountryCode + ")"
		}
		return Candidate{Point: latency.Point{Lat: p.Lat, Lon: p.Lon}, Key: id, Label: label, ID: id}
	}
	if a.Pool != nil {
		var out []Candidate
		for _, p := range a.Pool {
			if p.Located && (p.Status == "" || strings.EqualFold(p.Status, "Connected")) {
				out = append(out, toCand(p))
			}
		}
		return out, nil
	}
	var out []Candidate
	for _, r := range searchRadiiKm {
		out = out[:0]
		for p, err := range a.Client.ProbesNear(ctx, near.Lat, near.Lon, r) {
			if err != nil {
				return nil, err
			}
			if p.Located {
				out = append(out, toCand(p))
			}
		}
		if len(out) >= n {
			break
		}
	}
	return out, nil
}

// Plan chooses the probes of sel (sel.N probes anywhere without sel.Near).
func (a *Atlas) Plan(ctx context.Context, target netip.Addr, sel Selection) (*Plan, error) {
	near, n := sel.Near, sel.N
	af := 4
	if target.Is6() {
		af = 6
	}
	req := atlas.CreateRequest{IsOneoff: true, Definitions: []atlas.Definition{{Type: "ping", Target: target.String(), AF: af,
		Description: "geoloc active geolocation of " + target.String(), Packets: a.packets()}}}
	p := &Plan{Service: a.Name(), Target: target, Probes: n, Near: near}
	if near == nil {
		req.Probes = []atlas.ProbeSelection{{Type: "area", Value: "WW", Requested: n}}
		p.Chosen = []string{"anywhere: " + strconv.Itoa(n) + " probes"}
		p.Request = req
		return p, nil
	}
	want := n
	if sel.Spread {
		want = 50 * n // probes in every direction: a wider search
	}
	cands, err := a.candidates(ctx, *near, want)
	if err != nil {
		return nil, err
	}
	if len(cands) == 0 {
		return nil, fmt.Errorf("atlas: no connected probe with a position to ping %s from", target)
	}
	chosen, km := Choose(cands, sel)
	ids := make([]string, len(chosen))
	for i, c := range chosen {
		ids[i] = c.ID
	}
	req.Probes = []atlas.ProbeSelection{{Type: "probes", Value: strings.Join(ids, ","), Requested: len(ids)}}
	p.Probes = len(ids)
	p.Chosen = describe(groups(chosen, km))
	p.Request = req
	return p, nil
}

func (a *Atlas) packets() int {
	if a.Packets > 0 {
		return a.Packets
	}
	return 3
}

// Ping creates the measurement, waits for it, reads its results and
// gives each the position of its probe.
func (a *Atlas) Ping(ctx context.Context, p *Plan) ([]*traceroute.Trace, error) {
	req, ok := p.Request.(atlas.CreateRequest)
	if !ok {
		return nil, fmt.Errorf("atlas: plan for %s is not a RIPE Atlas request", p.Target)
	}
	ids, err := a.Client.Create(ctx, req)
	if err != nil {
		return nil, err
	}
	if _, err := a.Client.Wait(ctx, ids[0], a.Wait); err != nil {
		return nil, err
	}
	rc, err := a.Client.Results(ctx, ids[0], atlas.ResultsQuery{})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var traces []*traceroute.Trace
	var first error
	need := map[int64]bool{}
	for t, err := range traceroute.Read(rc, traceroute.ReadOptions{Input: "RIPE Atlas measurement " + strconv.FormatInt(ids[0], 10)}) {
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		traces = append(traces, t)
		if id, err := strconv.ParseInt(t.Source.ProbeID, 10, 64); err == nil {
			need[id] = true
		}
	}
	if len(traces) == 0 && first != nil {
		return nil, first
	}
	if err := a.locate(ctx, traces, need); err != nil {
		return nil, err
	}
	return traces, nil
}

// locate sets the source position of each trace from its probe.
func (a *Atlas) locate(ctx context.Context, traces []*traceroute.Trace, need map[int64]bool) error {
	pos := map[string]atlas.Probe{}
	for _, p := range a.Pool {
		if need[p.ID] {
			pos[strconv.FormatInt(p.ID, 10)] = p
		}
	}
	var ask []int64
	for id := range need {
		if _, ok := pos[strconv.FormatInt(id, 10)]; !ok {
			ask = append(ask, id)
		}
	}
	if len(ask) > 0 {
		for p, err := range a.Client.Probes(ctx, ask) {
			if err != nil {
				return err
			}
			pos[strconv.FormatInt(p.ID, 10)] = p
		}
	}
	for _, t := range traces {
		if p, ok := pos[t.Source.ProbeID]; ok && p.Located {
			lat, lon := p.Lat, p.Lon
			t.Source.Lat, t.Source.Lon = &lat, &lon
		}
	}
	return nil
}
