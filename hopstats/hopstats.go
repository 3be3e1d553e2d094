// Package hopstats keeps the rolling per-hop statistics of repeated traces
// to one destination, as mtr and Trippy show them: for every TTL the probes
// sent and answered (loss), and for the hop and each address that answered
// at it (ECMP branches) the last, mean, best and worst RTT, the standard
// deviation and the jitter between consecutive replies, the ICMP flags seen
// (!H, !N, ...) and the MPLS label stack last quoted.
//
// A [Path] takes whole rounds (one [traceroute.Trace] each, as the live
// tracer returns them) and costs O(1) memory per hop and address however
// long it runs: means and deviations are kept with Welford's update, not
// as lists of samples. It is what `geoloc trace` shows live and prints with
// --report; a library user drives it the same way:
//
//	var p hopstats.Path
//	for range rounds {
//		t, _ := tr.Trace(ctx, dst, traceroute.TraceOptions{Queries: 1})
//		p.Add(t)
//	}
//	for _, h := range p.Hops() { fmt.Println(h.TTL, h.LossPct(), h.RTT.AvgMs) }
package hopstats

import (
	"math"
	"net/netip"
	"slices"

	"github.com/geoloc-dev/geoloc/traceroute"
)

// RTT is running statistics of round-trip times in milliseconds. The zero
// value holds no sample; fields other than Count mean nothing until Count >
// 0 (jitter fields until Count > 1).
type RTT struct {
	Count   int     `json:"count"`
	LastMs  float64 `json:"last_ms"`
	BestMs  float64 `json:"best_ms"`
	WorstMs float64 `json:"worst_ms"`
	AvgMs   float64 `json:"avg_ms"` // running mean
	// JitterMs is |last - previous| (mtr's "Jttr"), JitterAvgMs its mean
	// over the samples so far and JitterMaxMs its largest value.
	JitterMs    float64 `json:"jitter_ms"`
	JitterAvgMs float64 `json:"jitter_avg_ms"`
	JitterMaxMs float64 `json:"jitter_max_ms"`
	// m2 is Welford's running sum of squared deviations from the mean.
	m2 float64
}

// Add records one sample.
func (r *RTT) Add(ms float64) {
	if r.Count > 0 {
		j := math.Abs(ms - r.LastMs)
		r.JitterMs = j
		r.JitterMaxMs = max(r.JitterMaxMs, j)
		// Count-1 jitter samples so far, this one makes Count of them.
		r.JitterAvgMs += (j - r.JitterAvgMs) / float64(r.Count)
	}
	r.Count++
	if r.Count == 1 || ms < r.BestMs {
		r.BestMs = ms
	}
	if r.Count == 1 || ms > r.WorstMs {
		r.WorstMs = ms
	}
	r.LastMs = ms
	d := ms - r.AvgMs
	r.AvgMs += d / float64(r.Count)
	r.m2 += d * (ms - r.AvgMs)
}

// StdevMs returns the population standard deviation of the samples (mtr's
// "StDev"); 0 with fewer than two.
func (r RTT) StdevMs() float64 {
	if r.Count < 2 {
		return 0
	}
	return math.Sqrt(r.m2 / float64(r.Count))
}

// Responder is one address that answered at a hop, with its statistics.
// Several responders at one TTL are ECMP branches (or a path change).
type Responder struct {
	Addr netip.Addr `json:"addr"`
	Name string     `json:"name,omitempty"` // PTR name if a round carried one
	RTT  RTT        `json:"rtt"`
	// Flags counts the ICMP annotations of this address's replies ("!H",
	// "!N", ...), in order of first appearance.
	Flags []FlagCount `json:"flags,omitempty"`
	// MPLS is the label stack the last reply quoted (RFC 4950), nil if it
	// quoted none.
	MPLS []traceroute.MPLSLabel `json:"mpls,omitempty"`
	// Destination is set when this address is the trace's destination.
	Destination bool `json:"destination,omitempty"`
}

// FlagCount is how many replies carried one ICMP annotation.
type FlagCount struct {
	Flag  string `json:"flag"`
	Count int    `json:"count"`
}

// Hop is the statistics of one TTL.
type Hop struct {
	TTL      int `json:"ttl"`
	Sent     int `json:"sent"`     // probes sent
	Received int `json:"received"` // probes answered, by any address
	// RTT is over every answer at this TTL, whoever sent it.
	RTT        RTT         `json:"rtt"`
	Responders []Responder `json:"responders"` // in order of first answer
}

// LossPct is the share of probes sent at this TTL that no one answered, in
// percent; 0 when none was sent.
func (h Hop) LossPct() float64 {
	if h.Sent == 0 {
		return 0
	}
	return 100 * float64(h.Sent-h.Received) / float64(h.Sent)
}

// Flags returns the ICMP annotations of every responder of the hop, each
// once, in order of first appearance.
func (h Hop) Flags() []string {
	var out []string
	for _, r := range h.Responders {
		for _, f := range r.Flags {
			if !slices.Contains(out, f.Flag) {
				out = append(out, f.Flag)
			}
		}
	}
	return out
}

// Path accumulates the rounds of one destination. The zero value is an
// empty path ready to use. A Path is not safe for concurrent use.
type Path struct {
	// Rounds is the number of traces added since the start or the last
	// Reset.
	Rounds int
	// Source, Destination and Protocol are those of the last round added.
	Source      traceroute.Endpoint
	Destination traceroute.Endpoint
	Protocol    string
	hops        []Hop // index TTL-1
	// shown is the number of TTLs the last round reported: the path's
	// current length (a round stops at the destination).
	shown int
}

// Add adds one round: every probe of every hop of t counts once. Hops
// beyond t's last (the destination answered earlier) are not probed in this
// round and keep their counts.
func (p *Path) Add(t *traceroute.Trace) {
	if t == nil {
		return
	}
	p.Rounds++
	p.Source, p.Destination, p.Protocol = t.Source, t.Destination, t.Protocol
	last := 0
	for i := range t.Hops {
		th := &t.Hops[i]
		if th.TTL < 1 {
			continue
		}
		for len(p.hops) < th.TTL {
			p.hops = append(p.hops, Hop{TTL: len(p.hops) + 1})
		}
		h := &p.hops[th.TTL-1]
		for _, pr := range th.Probes {
			h.Sent++
			if pr.Lost || !pr.Addr.IsValid() {
				continue
			}
			h.Received++
			h.RTT.Add(pr.RTTMs)
			r := h.responder(pr.Addr)
			r.RTT.Add(pr.RTTMs)
			if pr.Name != "" {
				r.Name = pr.Name
			}
			if t.Destination.Addr.IsValid() && pr.Addr == t.Destination.Addr {
				r.Destination = true
			}
			for _, f := range pr.Flags {
				r.addFlag(f)
			}
			if len(pr.MPLS) > 0 {
				r.MPLS = slices.Clone(pr.MPLS)
			} else {
				r.MPLS = nil
			}
		}
		last = max(last, th.TTL)
	}
	if last > 0 {
		p.shown = last
	}
}

func (h *Hop) responder(a netip.Addr) *Responder {
	for i := range h.Responders {
		if h.Responders[i].Addr == a {
			return &h.Responders[i]
		}
	}
	h.Responders = append(h.Responders, Responder{Addr: a})
	return &h.Responders[len(h.Responders)-1]
}

func (r *Responder) addFlag(f string) {
	for i := range r.Flags {
		if r.Flags[i].Flag == f {
			r.Flags[i].Count++
			return
		}
	}
	r.Flags = append(r.Flags, FlagCount{Flag: f, Count: 1})
}

// Hops returns the statistics of TTLs 1 up to the last round's length (the
// current distance to the destination), TTLs no one ever answered
// included. The slice is a copy the caller may keep.
func (p *Path) Hops() []Hop {
	n := min(p.shown, len(p.hops))
	out := make([]Hop, n)
	for i := range n {
		h := p.hops[i]
		h.Responders = slices.Clone(h.Responders)
		out[i] = h
	}
	return out
}

// Answered returns the number of TTLs up to the path's current length at
// which anyone answered — the "hops answered" count, which never exceeds
// the path's length whatever the ECMP fan-out.
func (p *Path) Answered() int {
	n := 0
	for i := range min(p.shown, len(p.hops)) {
		if p.hops[i].Received > 0 {
			n++
		}
	}
	return n
}

// Reset forgets every round; the next Add starts afresh.
func (p *Path) Reset() {
	*p = Path{Source: p.Source, Destination: p.Destination, Protocol: p.Protocol}
}

// Trace returns the path as one trace, for locating and for the writers:
// per TTL up to the current length, one probe per responder carrying its
// best RTT (what the engine's physics bound wants), its name, flags and
// last MPLS stack, and one lost probe for a TTL no one answered.
func (p *Path) Trace() *traceroute.Trace {
	t := &traceroute.Trace{Format: traceroute.FormatGeoloc, Source: p.Source, Destination: p.Destination, Protocol: p.Protocol}
	for _, h := range p.Hops() {
		th := traceroute.Hop{TTL: h.TTL}
		for _, r := range h.Responders {
			pr := traceroute.Probe{Addr: r.Addr, Name: r.Name, RTTMs: r.RTT.BestMs, MPLS: r.MPLS}
			for _, f := range r.Flags {
				pr.Flags = append(pr.Flags, f.Flag)
			}
			th.Probes = append(th.Probes, pr)
		}
		if len(th.Probes) == 0 {
			th.Probes = []traceroute.Probe{{Lost: true}}
		}
		t.Hops = append(t.Hops, th)
	}
	return t
}
