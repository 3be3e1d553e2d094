package tracer

import (
	"context"
	"time"

	"github.com/geoloc-dev/geoloc/internal/probe"
	"github.com/geoloc-dev/geoloc/internal/rawsock"
)

type event struct {
	idx int
	pkt rawsock.Packet
}

type probeState struct {
	ttl, flow, attempt int
	sent, done         bool
	dropped            bool // beyond the destination: not part of the result
	sentAt             time.Time
	deadline           time.Time
	tag                uint16
	w                  *waiting
	res                Result
}

// run is one trace in flight. Everything but events is owned by loop.
type run struct {
	e        *Engine
	f        *family
	cfg      Config
	src, dst fromTo
	flows    []probe.Flow
	probes   []probeState
	order    []int // send order: rounds of all TTLs and flows
	next     int   // index into order
	inflight []int // sent and not done, in send order
	active   int   // len of inflight entries not yet done
	limit    int   // highest TTL of interest: MaxTTL, then the destination's
	final    bool  // a reply ended the path: limit is the destination's TTL
	// release is when later rounds may start after the first final reply:
	// the destination's answers to all first-round TTLs beyond it arrive
	// within the first round's send spread, and the nearest should be in.
	release             time.Time
	firstSent, lastSent time.Time // first round's send times
	first               int       // first-round probes not yet resolved
	reached             bool
	events              chan event
}

type fromTo = netipAddr

func newRun(e *Engine, f *family, cfg Config, src, dst netipAddr, ids []uint16) *run {
	r := &run{e: e, f: f, cfg: cfg, src: src, dst: dst, limit: cfg.MaxTTL}
	for i := range cfg.Flows {
		fl := probe.Flow{Proto: cfg.Proto, Src: src, Dst: dst}
		switch cfg.Proto {
		case probe.ICMP:
			fl.ID = ids[i]
			if f.conn.Unprivileged() {
				fl.ID = f.conn.EchoID()
			}
			// The checksum stands where ports would: it names the flow.
			fl.Checksum = uint16((uint32(ids[i])*31+uint32(i)*7919)%0xfffd) + 1
		default:
			fl.SrcPort, fl.DstPort = ids[i], cfg.Port
		}
		r.flows = append(r.flows, fl)
	}
	nTTL := cfg.MaxTTL - cfg.FirstTTL + 1
	r.probes = make([]probeState, nTTL*cfg.Flows*cfg.Queries)
	for ti := range nTTL {
		for fl := range cfg.Flows {
			for a := range cfg.Queries {
				i := r.index(cfg.FirstTTL+ti, fl, a)
				r.probes[i] = probeState{ttl: cfg.FirstTTL + ti, flow: fl, attempt: a}
			}
		}
	}
	for a := range cfg.Queries {
		for ti := range nTTL {
			for fl := range cfg.Flows {
				r.order = append(r.order, r.index(cfg.FirstTTL+ti, fl, a))
			}
		}
	}
	r.events = make(chan event, len(r.probes)+64)
	r.first = nTTL * cfg.Flows
	return r
}

func (r *run) index(ttl, flow, attempt int) int {
	return ((ttl-r.cfg.FirstTTL)*r.cfg.Flows+flow)*r.cfg.Queries + attempt
}

// nextEligible returns the next probe to send, skipping those beyond the
// destination, or -1. Later rounds wait until the first has found the
// destination (or ended without): sending them at once would triple the
// probes beyond the destination, which hosts that rate-limit ICMP errors
// (Linux: a burst of 6, then 1/s) answer by dropping the ones that count.
func (r *run) nextEligible() int {
	for r.next < len(r.order) {
		i := r.order[r.next]
		p := &r.probes[i]
		if p.ttl > r.limit {
			r.next++
			continue
		}
		if p.attempt > 0 && r.first > 0 && (!r.final || time.Now().Before(r.release)) {
			return -1
		}
		return i
	}
	return -1
}

// waiting reports whether probes remain to be sent, now or later.
func (r *run) pendingSends() bool {
	for j := r.next; j < len(r.order); j++ {
		if r.probes[r.order[j]].ttl <= r.limit {
			return true
		}
	}
	return false
}

func (r *run) loop(ctx context.Context) (*Trace, error) {
	started := time.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	defer r.releaseAll()
	var sendAt time.Time // reserved send slot; zero when none
	for {
		// Take in the replies that have arrived before sending more: a
		// destination answer lowers the TTLs still worth probing.
	drain:
		for {
			select {
			case ev := <-r.events:
				r.handle(ev)
			default:
				break drain
			}
		}
		now := time.Now()
		r.expire(now)
		if r.active == 0 && !r.pendingSends() {
			return r.result(started), nil
		}
		if i := r.nextEligible(); i >= 0 {
			if sendAt.IsZero() {
				sendAt = r.e.limiter.reserve(now)
			}
			if !sendAt.After(now) {
				sendAt = time.Time{}
				if err := r.send(ctx, i); err != nil {
					return r.result(started), err
				}
				continue
			}
		}
		wake := sendAt
		if r.final && r.first > 0 && now.Before(r.release) && (wake.IsZero() || r.release.Before(wake)) {
			wake = r.release
		}
		if len(r.inflight) > 0 {
			d := r.probes[r.inflight[0]].deadline
			if wake.IsZero() || d.Before(wake) {
				wake = d
			}
		}
		timer.Reset(max(wake.Sub(now), 0))
		select {
		case ev := <-r.events:
			r.handle(ev)
		case <-timer.C:
		case <-ctx.Done():
			return r.result(started), ctx.Err()
		}
	}
}

func (r *run) send(ctx context.Context, i int) error {
	p := &r.probes[i]
	r.next++
	p.w = &waiting{run: r, idx: i, flow: &r.flows[p.flow]}
	tag, err := r.f.allocTag(ctx, p.w)
	if err != nil {
		return err
	}
	p.tag = tag
	at, err := r.f.conn.Send(rawsock.Probe{Flow: r.flows[p.flow], Tag: tag, TTL: p.ttl, Payload: r.cfg.Payload})
	if err != nil {
		r.f.freeTag(tag, p.w)
		return err
	}
	p.sent, p.sentAt, p.deadline = true, at, at.Add(r.cfg.Timeout)
	if p.attempt == 0 {
		if r.firstSent.IsZero() {
			r.firstSent = at
		}
		r.lastSent = at
	}
	r.inflight = append(r.inflight, i)
	r.active++
	return nil
}

// expire gives up probes past their deadline.
func (r *run) expire(now time.Time) {
	for len(r.inflight) > 0 {
		i := r.inflight[0]
		p := &r.probes[i]
		if !p.done && now.Before(p.deadline) {
			return
		}
		r.inflight = r.inflight[1:]
		if !p.done {
			p.res = Result{Flow: p.flow, Attempt: p.attempt, Sent: true, Lost: true}
			r.finish(i)
		}
	}
}

func (r *run) finish(i int) {
	p := &r.probes[i]
	p.done = true
	r.active--
	if p.attempt == 0 {
		r.first--
	}
	r.f.freeTag(p.tag, p.w)
	if r.cfg.OnProbe != nil && !p.dropped {
		r.cfg.OnProbe(r.dst, r.hop(p.ttl))
	}
}

// handle records a reply after checking it answers the probe its tag
// names: same protocol, destination and flow fields; replies claiming to
// be the destination's must come from it. Anything else (a forged or
// unrelated ICMP message that happens to carry a live tag) is ignored.
func (r *run) handle(ev event) {
	p := &r.probes[ev.idx]
	rep := &ev.pkt.Reply
	if p.done || !p.sent || !matches(r.flows[p.flow], rep) {
		return
	}
	rtt := ev.pkt.At.Sub(p.sentAt)
	if rtt < 0 {
		rtt = 0
	}
	p.res = Result{
		Flow: p.flow, Attempt: p.attempt, Sent: true,
		From: rep.From, RTT: rtt, Flags: rep.Flags(), MTU: rep.MTU,
		ReplyTTL: rep.ReplyTTL, MPLS: rep.MPLS, Final: rep.Final(),
	}
	r.finish(ev.idx)
	if p.res.Final && p.ttl <= r.limit {
		if !r.final {
			r.release = time.Now().Add(r.lastSent.Sub(r.firstSent) + 2*time.Millisecond)
		}
		r.final = true
		if rep.From == r.dst {
			r.reached = true
		}
		if p.ttl < r.limit {
			r.limit = p.ttl
			r.dropBeyond()
		}
	}
}

// dropBeyond forgets in-flight probes beyond the destination: their
// answers would only repeat it.
func (r *run) dropBeyond() {
	for _, i := range r.inflight {
		p := &r.probes[i]
		if !p.done && p.ttl > r.limit {
			p.dropped = true
			r.finish(i)
		}
	}
}

func matches(fl probe.Flow, rep *probe.Reply) bool {
	if rep.Proto != fl.Proto || rep.Dst != fl.Dst {
		return false
	}
	switch fl.Proto {
	case probe.ICMP:
		if rep.ID != fl.ID {
			return false
		}
	default:
		if rep.SrcPort != fl.SrcPort || rep.DstPort != fl.DstPort {
			return false
		}
	}
	if rep.Kind == probe.KindEchoReply || rep.Kind == probe.KindTCP {
		return rep.From == fl.Dst
	}
	return true
}

func (r *run) releaseAll() {
	for _, i := range r.inflight {
		p := &r.probes[i]
		if !p.done {
			r.f.freeTag(p.tag, p.w)
		}
	}
}

func (r *run) hop(ttl int) Hop {
	h := Hop{TTL: ttl, Probes: make([]Result, 0, r.cfg.Flows*r.cfg.Queries)}
	for fl := range r.cfg.Flows {
		for a := range r.cfg.Queries {
			p := &r.probes[r.index(ttl, fl, a)]
			res := p.res
			if !p.done {
				res = Result{Flow: fl, Attempt: a, Sent: p.sent, Lost: true, Pending: true}
			}
			h.Probes = append(h.Probes, res)
		}
	}
	return h
}

func (r *run) result(started time.Time) *Trace {
	t := &Trace{Src: r.src, Dst: r.dst, Proto: r.cfg.Proto, Started: started, Reached: r.reached}
	for ttl := r.cfg.FirstTTL; ttl <= r.limit; ttl++ {
		t.Hops = append(t.Hops, r.hop(ttl))
	}
	return t
}
