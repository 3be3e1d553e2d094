// Package engine is the engine of the live tracer: it schedules probes of
// many traces over shared sockets, paces them with one rate limiter,
// demultiplexes replies by the tag each probe carries and checks them
// against the probe's flow, and assembles hops. The public API is
// tracer.Tracer; this package knows nothing of its types.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/geoloc-dev/geoloc/tracer/internal/probe"
	"github.com/geoloc-dev/geoloc/tracer/internal/rawsock"
)

// Conn is what the engine needs from the sockets of one family;
// *rawsock.Conn implements it, tests use in-process fakes.
type Conn interface {
	Send(p rawsock.Probe) (time.Time, error)
	Source(dst netip.Addr) (netip.Addr, error)
	Start(handle func(rawsock.Packet))
	Close() error
	Unprivileged() bool
	EchoID() uint16
	// Idle reports that every reply that has arrived so far has been
	// handed to Start's handler.
	Idle() bool
}

// Config describes one trace. Zero fields take the defaults noted.
type Config struct {
	Proto    probe.Proto   // default ICMP
	Port     uint16        // destination port: UDP 33434, TCP 80
	Src      netip.Addr    // default: the kernel's choice for the destination; must be local
	FirstTTL int           // default 1
	MaxTTL   int           // default 30
	Queries  int           // probes per hop and flow, default 3
	Flows    int           // flow identifiers, default 1
	Timeout  time.Duration // per probe, default 1s
	Payload  int           // ICMP/UDP payload bytes, default probe.DefaultPayload
	// MinWait is the least a probe waits before the adaptive give-up
	// (default 100 ms); MinWait >= Timeout turns the give-up off.
	MinWait time.Duration
	// OnProbe, if set, is called from the trace's goroutine each time a
	// probe is answered or given up, with a snapshot of its hop.
	OnProbe func(dst netip.Addr, hop Hop)
}

// Defaults.
const (
	DefaultMaxTTL  = 30
	DefaultQueries = 3
	DefaultTimeout = time.Second
	DefaultUDPPort = 33434
	DefaultTCPPort = 80
	DefaultRate    = 1000 // packets per second over all traces
	DefaultMinWait = 100 * time.Millisecond
	maxFlows       = 256
	// tagBudget is how many probe tags traces may hold at once, per
	// family: the 16-bit tag space less a margin.
	tagBudget = 0xfff0
)

func (c Config) withDefaults() (Config, error) {
	if c.Proto == 0 {
		c.Proto = probe.ICMP
	}
	if c.Proto != probe.ICMP && c.Proto != probe.UDP && c.Proto != probe.TCP {
		return c, fmt.Errorf("protocol %d: want icmp, udp or tcp", c.Proto)
	}
	if c.Port == 0 {
		switch c.Proto {
		case probe.UDP:
			c.Port = DefaultUDPPort
		case probe.TCP:
			c.Port = DefaultTCPPort
		}
	}
	if c.FirstTTL <= 0 {
		c.FirstTTL = 1
	}
	if c.MaxTTL <= 0 {
		c.MaxTTL = DefaultMaxTTL
	}
	if c.MaxTTL > 255 || c.FirstTTL > c.MaxTTL {
		return c, fmt.Errorf("ttl range %d..%d: want 1 <= first <= max <= 255", c.FirstTTL, c.MaxTTL)
	}
	if c.Queries <= 0 {
		c.Queries = DefaultQueries
	}
	if c.Flows <= 0 {
		c.Flows = 1
	}
	if c.Flows > maxFlows {
		return c, fmt.Errorf("%d flows: at most %d", c.Flows, maxFlows)
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Payload <= 0 {
		c.Payload = probe.DefaultPayload
	}
	if c.MinWait <= 0 {
		c.MinWait = DefaultMinWait
	}
	return c, nil
}

// Result is one probe's outcome.
type Result struct {
	Flow, Attempt int
	Sent          bool
	Lost          bool
	From          netip.Addr
	RTT           time.Duration
	Flags         []string
	MTU           int
	ReplyTTL      int
	MPLS          []probe.Label
	Final         bool // the reply ends the path (destination or unreachable)
	Pending       bool // still waiting (only in snapshots and cancelled traces)
}

// Hop is the probes of one TTL, flow-major: Probes[flow*Queries+attempt].
type Hop struct {
	TTL    int
	Probes []Result
}

// Trace is a finished (or cancelled) trace.
type Trace struct {
	Src, Dst netip.Addr
	Proto    probe.Proto
	Started  time.Time
	Hops     []Hop
	Reached  bool
}

// Engine runs traces over a shared socket set per family. Its zero value
// is not usable: call New.
type Engine struct {
	log     *slog.Logger
	limiter *limiter
	fams    map[int]*family // 4 and 6; absent when unavailable
	errs    map[int]error   // why a family is unavailable

	idMu    sync.Mutex
	idsUsed map[uint16]bool // ICMP ids and UDP/TCP source ports in use
	rnd     *rand.Rand
}

type family struct {
	conn Conn
	// budget admits a trace only when all its probes can get tags: a
	// trace keeps its tags until it ends, so traces that had to wait for
	// each other's tags could wait forever.
	budget    *semaphore.Weighted
	budgetMax int64
	mu        sync.Mutex
	// pending maps a probe tag to the probe waiting for it.
	pending map[uint16]*waiting
	nextTag uint16
	freed   *sync.Cond
}

type waiting struct {
	run  *run
	idx  int
	flow *probe.Flow // immutable: checked on the reader's goroutine
}

// New starts an engine over the given per-family connections (nil or
// missing entries are families that could not be opened; errs says why).
// ratePPS <= 0 means DefaultRate.
func New(conns map[int]Conn, errs map[int]error, ratePPS float64, log *slog.Logger) *Engine {
	return newEngine(conns, errs, ratePPS, log, tagBudget)
}

func newEngine(conns map[int]Conn, errs map[int]error, ratePPS float64, log *slog.Logger, budget int64) *Engine {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if ratePPS <= 0 {
		ratePPS = DefaultRate
	}
	e := &Engine{
		log:     log,
		limiter: newLimiter(ratePPS),
		fams:    map[int]*family{},
		errs:    errs,
		idsUsed: map[uint16]bool{},
		rnd:     rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
	if e.errs == nil {
		e.errs = map[int]error{}
	}
	for fam, c := range conns {
		if c == nil {
			continue
		}
		f := &family{conn: c, budget: semaphore.NewWeighted(budget), budgetMax: budget, pending: map[uint16]*waiting{}, nextTag: uint16(e.rnd.UintN(0xfff0)) + 1}
		f.freed = sync.NewCond(&f.mu)
		e.fams[fam] = f
		c.Start(f.deliver)
	}
	return e
}

// Close closes every connection.
func (e *Engine) Close() error {
	var errs []error
	for _, f := range e.fams {
		errs = append(errs, f.conn.Close())
	}
	return errors.Join(errs...)
}

// Unprivileged reports whether the family's sockets are ping sockets.
func (e *Engine) Unprivileged(fam int) bool {
	f := e.fams[fam]
	return f != nil && f.conn.Unprivileged()
}

// checkLocal refuses a source address that is not this host's. Raw
// probes carry the source as given (IPv4 and IPv6 header-included
// sockets), so another's address would send probes whose replies go to
// that host: spoofed packets from the user's point of view, and a trace
// that only ever times out. The kernel, asked which source it would use
// to reach src, names src itself exactly when src is assigned here (in
// the sockets' network namespace); an unassigned address of a local
// range, such as 127.0.0.2, is refused as well.
func (f *family) checkLocal(src netip.Addr) error {
	own, err := f.conn.Source(src)
	if err != nil {
		// A local address always has a (local) route.
		return fmt.Errorf("source %s is not an address of this host (%w)", src, err)
	}
	if own != src {
		return fmt.Errorf("source %s is not an address of this host", src)
	}
	return nil
}

func famOf(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

// deliver hands a reply to the trace waiting for its tag, if any. Runs on
// the socket readers' goroutines.
func (f *family) deliver(p rawsock.Packet) {
	f.mu.Lock()
	w := f.pending[p.Reply.Tag]
	f.mu.Unlock()
	// Check here, not in the trace's loop, so that a flood of forged
	// replies cannot crowd real ones out of the trace's queue.
	if w == nil || !matches(*w.flow, &p.Reply) {
		return
	}
	select {
	case w.run.events <- event{idx: w.idx, pkt: p}:
	default: // the trace is gone or flooded; drop
	}
}

// allocTag reserves a free tag for w, waiting while all are taken.
func (f *family) allocTag(ctx context.Context, w *waiting) (uint16, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		for range 0xfffe {
			t := f.nextTag
			f.nextTag++
			if !probe.TagOK(f.nextTag) {
				f.nextTag = 1
			}
			if !probe.TagOK(t) {
				continue
			}
			if f.pending[t] == nil {
				f.pending[t] = w
				return t, nil
			}
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		f.freed.Wait() // every tag in flight: wait for one to come back
	}
}

func (f *family) freeTag(t uint16, w *waiting) {
	f.mu.Lock()
	if f.pending[t] == w {
		delete(f.pending, t)
		f.freed.Signal()
	}
	f.mu.Unlock()
}

// allocIDs reserves n distinct 16-bit flow identifiers (ICMP ids or
// source ports) in 33435..65535, so that concurrent traces never share a
// flow.
func (e *Engine) allocIDs(n int) []uint16 {
	e.idMu.Lock()
	defer e.idMu.Unlock()
	out := make([]uint16, 0, n)
	for len(out) < n {
		id := uint16(33435 + e.rnd.UintN(65535-33435))
		if !e.idsUsed[id] {
			e.idsUsed[id] = true
			out = append(out, id)
		}
	}
	return out
}

func (e *Engine) freeIDs(ids []uint16) {
	e.idMu.Lock()
	for _, id := range ids {
		delete(e.idsUsed, id)
	}
	e.idMu.Unlock()
}

// ErrFamily wraps why a destination's family cannot be traced.
var ErrFamily = errors.New("address family unavailable")

// Trace traces dst. On cancellation it returns what it has with ctx's
// error.
func (e *Engine) Trace(ctx context.Context, dst netip.Addr, cfg Config) (*Trace, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	dst = dst.Unmap()
	if !dst.IsValid() {
		return nil, errors.New("invalid destination address")
	}
	fam := famOf(dst)
	f := e.fams[fam]
	if f == nil {
		if err := e.errs[fam]; err != nil {
			return nil, fmt.Errorf("trace %s: %w", dst, err)
		}
		return nil, fmt.Errorf("trace %s: IPv%d: %w", dst, fam, ErrFamily)
	}
	if f.conn.Unprivileged() && cfg.Proto != probe.ICMP {
		return nil, fmt.Errorf("trace %s: %s probes need raw sockets (only ICMP works with unprivileged ping sockets): %w", dst, cfg.Proto, rawsock.ErrPrivilege)
	}
	src := cfg.Src.Unmap()
	if !src.IsValid() {
		if src, err = f.conn.Source(dst); err != nil {
			return nil, fmt.Errorf("trace %s: %w", dst, err)
		}
	}
	if famOf(src) != fam {
		return nil, fmt.Errorf("trace %s: source %s is of another family", dst, src)
	}
	if cfg.Src.IsValid() {
		if err := f.checkLocal(src); err != nil {
			return nil, fmt.Errorf("trace %s: %w", dst, err)
		}
	}
	n := int64((cfg.MaxTTL - cfg.FirstTTL + 1) * cfg.Flows * cfg.Queries)
	if n > f.budgetMax {
		return nil, fmt.Errorf("trace %s: %d probes: at most %d per trace (fewer flows, queries or TTLs)", dst, n, f.budgetMax)
	}
	if err := f.budget.Acquire(ctx, n); err != nil {
		return nil, fmt.Errorf("trace %s: %w", dst, err)
	}
	defer f.budget.Release(n)
	ids := e.allocIDs(cfg.Flows)
	defer e.freeIDs(ids)
	r := newRun(e, f, cfg, src, dst, ids)
	return r.loop(ctx)
}
