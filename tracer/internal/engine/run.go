package engine

import (
	"context"
	"net/netip"
	"time"

	"github.com/geoloc-dev/geoloc/tracer/internal/probe"
	"github.com/geoloc-dev/geoloc/tracer/internal/rawsock"
)

type event struct {
	idx int
	pkt rawsock.Packet
}

type probeState struct {
	ttl, flow, attempt int
	sent, done         bool
	dropped            bool // beyond the destination: not part of the result
	skipped            bool // not sent: answers beyond the destination stand in
	sentAt             time.Time
	deadline           time.Time
	tag                uint16
	tagHeld            bool // the tag stays ours until the trace ends
	adaptive           bool // deadline shortened by a farther hop's answer
	w                  *waiting
	res                Result
}

// Adaptive give-up, after traceroute's NEAR heuristic but tighter: once a
// farther hop has answered in x, a probe still unanswered after
// nearFactor*x + nearSlack (never less than Config.MinWait) from its sending will
// most likely never be: its router is silent or rate-limited.
const (
	nearFactor = 2
	nearSlack  = 10 * time.Millisecond
)

// run is one trace in flight. Everything but events is owned by loop.
type run struct {
	e        *Engine
	f        *family
	cfg      Config
	src, dst netip.Addr
	flows    []probe.Flow
	probes   []probeState
	order    []int // send order: rounds of all TTLs and flows
	next     int   // index into order
	inflight []int // sent and not done (compacted lazily)
	active   int   // inflight entries not yet done
	limit    int   // highest TTL of interest: MaxTTL, then the destination's
	final    bool  // a reply ended the path: limit is the destination's TTL
	// gate holds later rounds until the first has found the destination:
	// for UDP, whose port unreachable answers hosts rate-limit (Linux: a
	// burst of 6, then 1/s), so that probes beyond the destination do not
	// use up the answers that count. ICMP echo replies and TCP resets are
	// not limited that way, so all rounds leave at once for them, unless
	// the rate limit is backlogged (many traces): then probes are scarce.
	gate bool
	// release is when later rounds may start after the first final reply:
	// the destination's answers to all first-round TTLs beyond it arrive
	// within the first round's send spread, and the nearest should be in.
	release             time.Time
	firstSent, lastSent time.Time // first round's send times
	first               int       // first-round probes not yet resolved
	reached             bool
	// maxLag is the longest a reply waited between its arrival (kernel
	// timestamp) and its handling: on a loaded machine the adaptive
	// give-up waits that much longer, twice.
	maxLag time.Duration
	events chan event
}

func newRun(e *Engine, f *family, cfg Config, src, dst netip.Addr, ids []uint16) *run {
	r := &run{e: e, f: f, cfg: cfg, src: src, dst: dst, limit: cfg.MaxTTL, gate: cfg.Proto == probe.UDP}
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
		if dst.Is6() {
			fl.FlowLabel = (uint32(ids[i])*2654435761 + uint32(i)) & 0xfffff
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

// nextEligible returns the next probe to send, or -1 when none may go now.
// It skips probes beyond the destination, and later-round probes at the
// destination's TTL that answers to first-round probes beyond it (which
// the destination answered too) already stand in for.
func (r *run) nextEligible(now time.Time) int {
	for r.next < len(r.order) {
		i := r.order[r.next]
		p := &r.probes[i]
		if p.ttl > r.limit {
			r.next++
			continue
		}
		if p.attempt > 0 && r.first > 0 && (!r.final || now.Before(r.release)) && (r.gate || r.e.limiter.backlogged(now)) {
			return -1
		}
		if p.attempt > 0 && r.final && p.ttl == r.limit && len(r.standIns(p.flow)) >= p.attempt {
			p.skipped = true
			r.next++
			continue
		}
		return i
	}
	return -1
}

// pendingSends reports whether probes remain to be sent, now or later.
func (r *run) pendingSends() bool {
	for j := r.next; j < len(r.order); j++ {
		if r.probes[r.order[j]].ttl <= r.limit {
			return true
		}
	}
	return false
}

// standIns returns the destination's answers, in flow fl, to probes
// beyond its TTL, nearest first.
func (r *run) standIns(fl int) []int {
	var out []int
	for ttl := r.limit + 1; ttl <= r.cfg.MaxTTL; ttl++ {
		for a := range r.cfg.Queries {
			i := r.index(ttl, fl, a)
			p := &r.probes[i]
			if p.done && !p.res.Lost && p.res.Final && p.res.From == r.dst {
				out = append(out, i)
			}
		}
	}
	return out
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
		wake := r.expire(now)
		if r.active == 0 && !r.pendingSends() {
			return r.result(started), nil
		}
		if i := r.nextEligible(now); i >= 0 {
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
		if !sendAt.IsZero() && (wake.IsZero() || sendAt.Before(wake)) {
			wake = sendAt
		}
		if r.final && r.first > 0 && now.Before(r.release) && (wake.IsZero() || r.release.Before(wake)) {
			wake = r.release
		}
		if wake.IsZero() {
			wake = now.Add(r.cfg.Timeout)
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
	p.tag, p.tagHeld = tag, true
	at, err := r.f.conn.Send(rawsock.Probe{Flow: r.flows[p.flow], Tag: tag, TTL: p.ttl, Payload: r.cfg.Payload})
	if err != nil {
		r.f.freeTag(tag, p.w)
		p.tagHeld = false
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

// expire gives up probes past their deadline and returns the earliest
// deadline still pending (zero if none).
func (r *run) expire(now time.Time) time.Time {
	var next time.Time
	keep := r.inflight[:0]
	idle := -1 // unknown until needed
	for _, i := range r.inflight {
		p := &r.probes[i]
		if p.done {
			continue
		}
		if !now.Before(p.deadline) && p.adaptive && now.Before(p.sentAt.Add(r.cfg.Timeout)) {
			// An adaptive give-up needs the sockets drained: on a loaded
			// machine the answer may have arrived and wait to be read.
			if idle < 0 {
				idle = 0
				if len(r.events) == 0 && r.f.conn.Idle() {
					idle = 1
				}
			}
			if idle == 0 {
				keep = append(keep, i)
				if d := now.Add(time.Millisecond); next.IsZero() || d.Before(next) {
					next = d
				}
				continue
			}
		}
		if !now.Before(p.deadline) {
			// Given up, but the tag stays reserved: a late answer (one the
			// kernel stamped in time but that waited in a queue, or a slow
			// router's) still counts while the trace runs.
			p.res = Result{Flow: p.flow, Attempt: p.attempt, Sent: true, Lost: true}
			r.finish(i, false)
			continue
		}
		keep = append(keep, i)
		if next.IsZero() || p.deadline.Before(next) {
			next = p.deadline
		}
	}
	r.inflight = keep
	return next
}

func (r *run) finish(i int, free bool) {
	p := &r.probes[i]
	p.done = true
	r.active--
	if p.attempt == 0 {
		r.first--
	}
	if free && p.tagHeld {
		r.f.freeTag(p.tag, p.w)
		p.tagHeld = false
	}
	if r.cfg.OnProbe != nil && !p.dropped {
		r.cfg.OnProbe(r.dst, r.hop(p.ttl))
	}
}

// handle records a reply. The reader already checked that it answers the
// probe its tag names (see matches).
func (r *run) handle(ev event) {
	p := &r.probes[ev.idx]
	rep := &ev.pkt.Reply
	if !p.sent || p.dropped || (p.done && !p.res.Lost) || !matches(r.flows[p.flow], rep) {
		return
	}
	late := p.done // given up already: revive it
	rtt := max(ev.pkt.At.Sub(p.sentAt), 0)
	r.maxLag = max(r.maxLag, time.Since(ev.pkt.At))
	p.res = Result{
		Flow: p.flow, Attempt: p.attempt, Sent: true,
		From: rep.From, RTT: rtt, Flags: rep.Flags(), MTU: rep.MTU,
		ReplyTTL: rep.ReplyTTL, MPLS: rep.MPLS, Final: rep.Final(),
	}
	if late {
		if p.tagHeld {
			r.f.freeTag(p.tag, p.w)
			p.tagHeld = false
		}
		if r.cfg.OnProbe != nil {
			r.cfg.OnProbe(r.dst, r.hop(p.ttl))
		}
	} else {
		r.finish(ev.idx, true)
	}
	r.shortenNearer(p.ttl, rtt)
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

// shortenNearer applies the adaptive give-up to probes nearer than ttl.
func (r *run) shortenNearer(ttl int, rtt time.Duration) {
	wait := max(nearFactor*rtt+nearSlack, r.cfg.MinWait) + 2*r.maxLag
	for _, i := range r.inflight {
		p := &r.probes[i]
		if !p.done && p.ttl < ttl {
			if d := p.sentAt.Add(wait); d.Before(p.deadline) {
				p.deadline, p.adaptive = d, true
			}
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
			r.finish(i, true)
		}
	}
}

// matches reports whether rep answers a probe of flow fl: same protocol,
// destination and flow fields, and from the destination when it claims to
// be its answer. The probe's source must be fl.Src too: the quoted
// datagram's source for an ICMP error, the reply's destination for an echo
// reply or a TCP answer. A reply that does not tell (rep.Src invalid) is
// let through: only ping sockets give such replies, and for those the
// kernel has matched the error to the socket by its echo identifier, but
// shows no quoted IP header to check (an off-path forger who guesses the
// identifier and a live tag can still pass there).
func matches(fl probe.Flow, rep *probe.Reply) bool {
	if rep.Proto != fl.Proto || rep.Dst != fl.Dst {
		return false
	}
	if rep.Src.IsValid() && rep.Src != fl.Src {
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
	for i := range r.probes {
		if p := &r.probes[i]; p.tagHeld {
			r.f.freeTag(p.tag, p.w)
			p.tagHeld = false
		}
	}
}

// hop returns the results of one TTL, flow-major. At the destination's
// TTL, probes that were skipped or lost take the destination's answers to
// first-round probes beyond it: the same measurement of the same host.
func (r *run) hop(ttl int) Hop {
	h := Hop{TTL: ttl, Probes: make([]Result, 0, r.cfg.Flows*r.cfg.Queries)}
	for fl := range r.cfg.Flows {
		var stand []int
		if r.final && ttl == r.limit {
			stand = r.standIns(fl)
		}
		for a := range r.cfg.Queries {
			p := &r.probes[r.index(ttl, fl, a)]
			res := p.res
			if !p.done {
				res = Result{Flow: fl, Attempt: a, Sent: p.sent, Lost: true, Pending: p.sent || !p.skipped}
			}
			if res.Lost && a > 0 && len(stand) > 0 && (p.skipped || p.done) {
				res = r.probes[stand[0]].res
				res.Attempt = a
				stand = stand[1:]
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
