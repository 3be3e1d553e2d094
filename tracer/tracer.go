package tracer

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/geoloc-dev/geoloc/tracer/internal/engine"
	"github.com/geoloc-dev/geoloc/tracer/internal/probe"
	"github.com/geoloc-dev/geoloc/tracer/internal/rawsock"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// ErrPrivilege is returned (wrapped) when the tracer may not open the
// sockets it needs; its text says what to do.
var ErrPrivilege = rawsock.ErrPrivilege

// Tracer defaults.
const (
	DefaultRatePPS = engine.DefaultRate    // packets per second over all traces
	DefaultMaxTTL  = engine.DefaultMaxTTL  // hops
	DefaultQueries = engine.DefaultQueries // probes per hop and flow
	DefaultTimeout = engine.DefaultTimeout // per probe
	DefaultUDPPort = engine.DefaultUDPPort // as traceroute
	DefaultTCPPort = engine.DefaultTCPPort // as tcptraceroute
	DefaultMinWait = engine.DefaultMinWait // adaptive give-up floor
)

// Options configures a [Tracer]. The zero value is ready to use.
type Options struct {
	// RatePPS bounds the probes per second sent by all traces together;
	// 0 means DefaultRatePPS. Bursts of a tenth of a second's worth pass
	// at once.
	RatePPS float64
	// Unprivileged forces Linux ICMP datagram ("ping") sockets even when
	// raw sockets are allowed. Without it they are used only when raw
	// sockets are refused and net.ipv4.ping_group_range admits the
	// process. Ping sockets send ICMP echo probes only, and router
	// replies come without MPLS labels or reply TTL.
	Unprivileged bool
	Logger       *slog.Logger // nil: silent
}

// Tracer runs live traces: ICMP echo, UDP or TCP SYN probes over IPv4 and
// IPv6, all TTLs at once, one constant flow per path (Paris traceroute:
// the fields load balancers hash stay fixed, the probe's identity travels
// in the ICMP sequence, UDP checksum or TCP sequence number) or several
// flows to enumerate load-balanced branches. One socket set per address
// family is shared by every trace in flight and paced by one rate limit;
// replies are matched to probes through the datagram they quote (flow
// fields, source and destination must match, the destination's own
// answers must come from it, and the ICMP checksum must verify), so
// unrelated or forged ICMP messages are ignored. Ping sockets show no
// quoted IP header: there the kernel matches errors by echo identifier
// and the source goes unchecked. RTTs use kernel receive timestamps
// (SO_TIMESTAMPNS).
//
// A trace ends when every probe up to the destination is answered or given
// up: after the timeout, or earlier once a farther hop has answered in x
// and the probe has waited max(2x + 10 ms, MinWait) (a tighter form of
// traceroute's "near" wait), so silent hops cost about one path RTT, not
// a timeout. Answers arriving later, while the trace still runs, count.
//
// Probing needs root or CAP_NET_RAW (or, ICMP only, ping sockets); see
// [ErrPrivilege]. A Tracer is safe for concurrent use.
type Tracer struct {
	eng  *engine.Engine
	errs map[int]error
	log  *slog.Logger
}

// New opens the sockets of both address families, in the network
// namespace of the calling OS thread. It fails when neither family can be
// opened; a family that failed alone fails the traces that need it.
func New(opts Options) (*Tracer, error) {
	mode := rawsock.Auto
	if opts.Unprivileged {
		mode = rawsock.Unprivileged
	}
	conns := map[int]engine.Conn{}
	errs := map[int]error{}
	for _, fam := range []int{4, 6} {
		c, err := rawsock.Open(fam, mode)
		if err != nil {
			errs[fam] = err
			continue
		}
		conns[fam] = c
	}
	if len(conns) == 0 {
		if errors.Is(errs[4], ErrPrivilege) {
			return nil, errs[4]
		}
		return nil, fmt.Errorf("tracer: %w", errors.Join(errs[4], errs[6]))
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for fam, err := range errs {
		log.Warn("tracer: address family unavailable", "family", fmt.Sprintf("IPv%d", fam), "err", err)
	}
	for fam, c := range conns {
		if c.Unprivileged() {
			log.Info("tracer: using unprivileged ping sockets (ICMP probes only)", "family", fmt.Sprintf("IPv%d", fam))
		}
	}
	return &Tracer{eng: engine.New(conns, errs, opts.RatePPS, log), errs: errs, log: log}, nil
}

// Close releases the sockets. Traces in flight fail.
func (t *Tracer) Close() error { return t.eng.Close() }

// Unprivileged reports whether the tracer fell back to ping sockets (ICMP
// probes only) for IPv4.
func (t *Tracer) Unprivileged() bool { return t.eng.Unprivileged(4) }

// TraceOptions configures one trace. The zero value traces with ICMP echo,
// 3 probes per hop, TTLs 1 to 30, a 1 s timeout and one flow.
type TraceOptions struct {
	// Protocol is "icmp" (default), "udp" or "tcp".
	Protocol string
	// Port is the destination port of UDP and TCP probes: 33434 and 80 by
	// default, as traceroute and tcptraceroute use. Every probe of a flow
	// goes to the same port: the flow stays on one path.
	Port int
	// Source is the source address; default the kernel's choice. It must
	// be an address assigned to this host (in the tracer's network
	// namespace) of the destination's family, or the trace fails before
	// sending: raw probes carry it as given, so another host's address
	// would spoof probes whose replies go there.
	Source   netip.Addr
	FirstTTL int // default 1
	MaxTTL   int // default 30
	// Queries is the number of probes per hop and flow (default 3).
	Queries int
	// Flows is the number of flow identifiers (default 1): with more,
	// per-flow load balancers split them over their branches, and every
	// hop shows the addresses of all branches. Hop.Probes then holds
	// Queries probes per flow, flow after flow, and each probe's
	// Probe.Flow names the flow (0..Flows-1) it used.
	Flows int
	// Timeout is the longest a probe waits for its reply (default 1 s);
	// see Tracer for the earlier, adaptive give-up. A trace takes about
	// one path RTT plus, when hops are silent, the adaptive wait; at most
	// about one timeout (UDP: two, as its later rounds wait for the first
	// to find the destination, which hosts rate-limit port unreachables
	// for).
	Timeout time.Duration
	// PayloadBytes is the ICMP or UDP payload size (default 24).
	PayloadBytes int
	// MinWait is the least a probe waits before the adaptive give-up
	// described on Tracer (default 100 ms). Raise it for slow routers;
	// MinWait >= Timeout turns the adaptive give-up off.
	MinWait time.Duration
	// Progress, if set, is called each time a probe is answered or given
	// up, from the trace's goroutine (TraceAll: several traces at once).
	// Since all TTLs are in flight together, the destination may answer
	// at a TTL beyond its distance first: a hop reported with a
	// destination answer may later be dropped when a nearer one arrives.
	// The returned Trace is authoritative.
	Progress func(HopProgress)
}

// HopProgress is a snapshot of one hop while tracing, for live displays.
type HopProgress struct {
	Destination netip.Addr
	Hop         traceroute.Hop // Probes not yet answered nor given up are Lost
	Pending     int            // probes of the hop still waiting
}

// ParseProtocol normalises a protocol name ("icmp", "udp", "tcp", any
// case; "" is icmp).
func ParseProtocol(s string) (string, error) {
	switch p := strings.ToLower(s); p {
	case "", "icmp":
		return "icmp", nil
	case "udp", "tcp":
		return p, nil
	}
	return "", fmt.Errorf("protocol %q: want icmp, udp or tcp", s)
}

func (o TraceOptions) config() (engine.Config, error) {
	proto, err := ParseProtocol(o.Protocol)
	if err != nil {
		return engine.Config{}, err
	}
	if o.Port < 0 || o.Port > 65535 {
		return engine.Config{}, fmt.Errorf("port %d: want 1..65535", o.Port)
	}
	c := engine.Config{
		Port: uint16(o.Port), Src: o.Source, FirstTTL: o.FirstTTL, MaxTTL: o.MaxTTL,
		Queries: o.Queries, Flows: o.Flows, Timeout: o.Timeout, Payload: o.PayloadBytes,
		MinWait: o.MinWait,
	}
	switch proto {
	case "icmp":
		c.Proto = probe.ICMP
	case "udp":
		c.Proto = probe.UDP
	case "tcp":
		c.Proto = probe.TCP
	}
	if o.Progress != nil {
		c.OnProbe = func(dst netip.Addr, h engine.Hop) {
			hp := HopProgress{Destination: dst, Hop: convertHop(h)}
			for _, p := range h.Probes {
				if p.Pending {
					hp.Pending++
				}
			}
			o.Progress(hp)
		}
	}
	return c, nil
}

// Trace traces dst. Cancelling ctx returns the hops so far with ctx's
// error.
func (t *Tracer) Trace(ctx context.Context, dst netip.Addr, opts TraceOptions) (*traceroute.Trace, error) {
	cfg, err := opts.config()
	if err != nil {
		return nil, err
	}
	r, err := t.eng.Trace(ctx, dst, cfg)
	if r == nil {
		t.log.Debug("trace failed", "dst", dst, "err", err)
		return nil, err
	}
	tr := convertTrace(r)
	if err != nil {
		tr.Error = err.Error()
	}
	t.log.Debug("trace done", "dst", dst, "protocol", tr.Protocol, "hops", len(tr.Hops), "reached", r.Reached,
		"duration", time.Since(r.Started).Round(time.Millisecond), "err", err)
	return tr, err
}

// maxConcurrent bounds the traces in flight in TraceAll; the rate limit
// paces them anyway.
const maxConcurrent = 256

// TraceAll traces every address concurrently and yields each trace when it
// is done, in completion order. A failed trace yields a Trace carrying
// the destination and Error, with the error. Stopping the iteration
// cancels the traces still running.
func (t *Tracer) TraceAll(ctx context.Context, dsts []netip.Addr, opts TraceOptions) iter.Seq2[*traceroute.Trace, error] {
	return func(yield func(*traceroute.Trace, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type res struct {
			t   *traceroute.Trace
			err error
		}
		out := make(chan res, len(dsts))
		sem := make(chan struct{}, maxConcurrent)
		var wg sync.WaitGroup
		go func() {
			for _, d := range dsts {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					out <- res{&traceroute.Trace{Format: traceroute.FormatGeoloc, Destination: traceroute.Endpoint{Addr: d}, Error: ctx.Err().Error()}, ctx.Err()}
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					tr, err := t.Trace(ctx, d, opts)
					if tr == nil {
						tr = &traceroute.Trace{Format: traceroute.FormatGeoloc, Destination: traceroute.Endpoint{Addr: d}, Error: err.Error()}
					}
					out <- res{tr, err}
				}()
			}
		}()
		for range dsts {
			r := <-out
			if !yield(r.t, r.err) {
				cancel()
				// Let the remaining traces end; their results go to the buffer.
				go wg.Wait()
				return
			}
		}
	}
}

// Resolve returns every address of name (A and AAAA records) through r
// (net.DefaultResolver when nil), IPv4 first, without duplicates.
// network is "ip" (both), "ip4" or "ip6". A literal address resolves to
// itself.
func Resolve(ctx context.Context, r *net.Resolver, network, name string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(name); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	if r == nil {
		r = net.DefaultResolver
	}
	if network == "" {
		network = "ip"
	}
	addrs, err := r.LookupNetIP(ctx, network, name)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", name, err)
	}
	var v4, v6 []netip.Addr
	seen := map[netip.Addr]bool{}
	for _, a := range addrs {
		a = a.Unmap()
		if seen[a] {
			continue
		}
		seen[a] = true
		if a.Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	if len(v4)+len(v6) == 0 {
		return nil, fmt.Errorf("resolve %s: no %s addresses", name, network)
	}
	return append(v4, v6...), nil
}

// TraceName resolves name (see [Resolve]) and traces every address
// concurrently, naming the destination of each trace.
func (t *Tracer) TraceName(ctx context.Context, r *net.Resolver, network, name string, opts TraceOptions) iter.Seq2[*traceroute.Trace, error] {
	return func(yield func(*traceroute.Trace, error) bool) {
		addrs, err := Resolve(ctx, r, network, name)
		if err != nil {
			yield(&traceroute.Trace{Format: traceroute.FormatGeoloc, Destination: traceroute.Endpoint{Name: name}, Error: err.Error()}, err)
			return
		}
		for tr, err := range t.TraceAll(ctx, addrs, opts) {
			if _, perr := netip.ParseAddr(name); perr != nil {
				tr.Destination.Name = name
			}
			if !yield(tr, err) {
				return
			}
		}
	}
}

func convertTrace(r *engine.Trace) *traceroute.Trace {
	t := &traceroute.Trace{
		Format:      traceroute.FormatGeoloc,
		Source:      traceroute.Endpoint{Addr: r.Src},
		Destination: traceroute.Endpoint{Addr: r.Dst},
		Protocol:    r.Proto.String(),
		Started:     r.Started.UTC(),
		Hops:        make([]traceroute.Hop, 0, len(r.Hops)),
	}
	for _, h := range r.Hops {
		t.Hops = append(t.Hops, convertHop(h))
	}
	return t
}

func convertHop(h engine.Hop) traceroute.Hop {
	out := traceroute.Hop{TTL: h.TTL, Probes: make([]traceroute.Probe, 0, len(h.Probes))}
	for _, p := range h.Probes {
		if p.Lost {
			out.Probes = append(out.Probes, traceroute.Probe{Lost: true, Flow: p.Flow})
			continue
		}
		q := traceroute.Probe{
			Addr:     p.From,
			RTTMs:    float64(p.RTT.Microseconds()) / 1000,
			Flags:    p.Flags,
			MTU:      p.MTU,
			ReplyTTL: p.ReplyTTL,
			Flow:     p.Flow,
		}
		for _, l := range p.MPLS {
			q.MPLS = append(q.MPLS, traceroute.MPLSLabel{Label: l.Label, TC: l.TC, S: l.S, TTL: l.TTL})
		}
		out.Probes = append(out.Probes, q)
	}
	return out
}
