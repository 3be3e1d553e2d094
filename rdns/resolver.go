package rdns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Resolver looks up PTR names. The zero value is ready to use: it asks the
// system's first name server with a 2 s timeout and 16 lookups at a time.
// Results are cached per Resolver (successful answers and "no name"; failures
// are not cached; at most 65,536 addresses), so a Resolver must not be copied
// after first use.
type Resolver struct {
	// Server is the DNS server as "host:port" ("127.0.0.1:5353"); a bare
	// host gets port 53. Empty means the first nameserver of
	// /etc/resolv.conf, or 127.0.0.1:53 when there is none.
	Server string
	// Timeout bounds one query; a query that times out is sent once more
	// (UDP loses packets), with a timeout of its own. 0 means 2 s.
	Timeout time.Duration
	// Concurrency bounds the queries in flight in LookupPTRs; 0 means 16.
	Concurrency int
	// Logger receives one debug line per failed lookup; nil is silent.
	Logger *slog.Logger

	mu         sync.Mutex
	cache      map[netip.Addr]*ptrEntry
	serverOnce sync.Once
	serverAddr string
}

type ptrEntry struct {
	done chan struct{} // closed when name/err are set
	name string
	err  error
}

// ErrServerFailure is wrapped by lookups the server answered with an error
// code other than NXDOMAIN (SERVFAIL, REFUSED...).
var ErrServerFailure = errors.New("server failure")

const (
	defaultTimeout     = 2 * time.Second
	defaultConcurrency = 16
	// maxCacheEntries bounds a Resolver's cache; past it the finished
	// answers are dropped and lookups start caching afresh.
	maxCacheEntries = 1 << 16
)

// server returns the server address, read once per Resolver.
func (r *Resolver) server() string {
	r.serverOnce.Do(func() { r.serverAddr = r.pickServer() })
	return r.serverAddr
}

func (r *Resolver) pickServer() string {
	if r.Server != "" {
		if _, _, err := net.SplitHostPort(r.Server); err != nil {
			return net.JoinHostPort(strings.Trim(r.Server, "[]"), "53")
		}
		return r.Server
	}
	if cfg, err := dns.ClientConfigFromFile("/etc/resolv.conf"); err == nil && len(cfg.Servers) > 0 {
		return net.JoinHostPort(cfg.Servers[0], cfg.Port)
	}
	return "127.0.0.1:53"
}

func (r *Resolver) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return defaultTimeout
}

// LookupPTR returns the first usable PTR name of addr, without the trailing
// dot, or "" when the address has none (NXDOMAIN, no PTR record, or only
// names that fail CleanName). Errors are timeouts, server failures
// (wrapping ErrServerFailure) and malformed answers.
func (r *Resolver) LookupPTR(ctx context.Context, addr netip.Addr) (string, error) {
	addr = addr.Unmap()
	if !addr.IsValid() {
		return "", fmt.Errorf("rdns: PTR lookup of an invalid address")
	}
	r.mu.Lock()
	if r.cache == nil {
		r.cache = map[netip.Addr]*ptrEntry{}
	}
	if e, ok := r.cache[addr]; ok {
		// Cached, or in flight: share the answer (a failure is shared by
		// the callers that waited for it, then forgotten).
		r.mu.Unlock()
		select {
		case <-e.done:
			return e.name, e.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	if len(r.cache) >= maxCacheEntries {
		// Bound the memory of long runs: forget the answers, keep the
		// lookups in flight.
		for a, old := range r.cache {
			select {
			case <-old.done:
				delete(r.cache, a)
			default:
			}
		}
	}
	e := &ptrEntry{done: make(chan struct{})}
	r.cache[addr] = e
	r.mu.Unlock()

	e.name, e.err = r.query(ctx, addr)
	if e.err != nil {
		r.mu.Lock()
		if r.cache[addr] == e {
			delete(r.cache, addr)
		}
		r.mu.Unlock()
		if r.Logger != nil {
			r.Logger.Debug("PTR lookup failed", "addr", addr, "err", e.err)
		}
	}
	close(e.done)
	return e.name, e.err
}

// LookupPTRs looks up many addresses, at most Concurrency at a time, and
// returns the names found (addresses without a name or whose lookup failed
// are absent). It returns early, with what it has, when ctx ends.
func (r *Resolver) LookupPTRs(ctx context.Context, addrs []netip.Addr) map[netip.Addr]string {
	n := r.Concurrency
	if n <= 0 {
		n = defaultConcurrency
	}
	out := make(map[netip.Addr]string, len(addrs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, n)
	seen := make(map[netip.Addr]bool, len(addrs))
	for _, a := range addrs {
		if !a.IsValid() || seen[a] {
			continue
		}
		seen[a] = true
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return out
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			name, err := r.LookupPTR(ctx, a)
			if err == nil && name != "" {
				mu.Lock()
				out[a] = name
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

func (r *Resolver) query(ctx context.Context, addr netip.Addr) (string, error) {
	qname, err := dns.ReverseAddr(addr.String())
	if err != nil {
		return "", fmt.Errorf("rdns: PTR %s: %w", addr, err)
	}
	server := r.server()
	m := new(dns.Msg)
	m.SetQuestion(qname, dns.TypePTR)
	m.RecursionDesired = true
	c := &dns.Client{Net: "udp", Timeout: r.timeout(), UDPSize: dns.DefaultMsgSize}
	m.SetEdns0(dns.DefaultMsgSize, false)
	resp, err := r.exchange(ctx, c, m, server)
	if isTimeout(err) && ctx.Err() == nil {
		m.Id = dns.Id()
		resp, err = r.exchange(ctx, c, m, server)
	}
	if err == nil && resp.Truncated {
		c.Net = "tcp"
		resp, err = r.exchange(ctx, c, m, server)
	}
	if err != nil {
		return "", fmt.Errorf("rdns: PTR %s via %s: %w", addr, server, err)
	}
	if resp.Id != m.Id {
		return "", fmt.Errorf("rdns: PTR %s via %s: reply id mismatch", addr, server)
	}
	switch resp.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return "", nil
	default:
		return "", fmt.Errorf("rdns: PTR %s via %s: %s: %w", addr, server, dns.RcodeToString[resp.Rcode], ErrServerFailure)
	}
	return firstPTR(resp, qname), nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return err != nil && (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout())
}

func (r *Resolver) exchange(ctx context.Context, c *dns.Client, m *dns.Msg, server string) (*dns.Msg, error) {
	qctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	resp, _, err := c.ExchangeContext(qctx, m, server)
	return resp, err
}

// firstPTR returns the first PTR target in the answer that CleanName accepts.
// Records for other owner names are ignored, except along a CNAME chain from
// qname (RFC 2317 classless delegation).
func firstPTR(resp *dns.Msg, qname string) string {
	owners := map[string]bool{strings.ToLower(qname): true}
	for range 8 { // follow CNAMEs, bounded
		grown := false
		for _, rr := range resp.Answer {
			if cn, ok := rr.(*dns.CNAME); ok && owners[strings.ToLower(cn.Hdr.Name)] && !owners[strings.ToLower(cn.Target)] {
				owners[strings.ToLower(cn.Target)] = true
				grown = true
			}
		}
		if !grown {
			break
		}
	}
	for _, rr := range resp.Answer {
		p, ok := rr.(*dns.PTR)
		if !ok || !owners[strings.ToLower(p.Hdr.Name)] {
			continue
		}
		if name, ok := CleanName(p.Ptr); ok {
			return name
		}
	}
	return ""
}

// CleanName checks a host name received from the network and returns it
// without the trailing dot. It accepts only what a host name may hold, plus
// the '/' that real PTR records carry in interface names: ASCII letters,
// digits, '-', '_', '/' and dots, labels of 1 to 63 characters, 253
// characters in all. Anything else (control characters, escaped bytes,
// spaces, quotes, HTML, non-ASCII) is refused, so callers never pass on
// unsafe text. Every name CleanName accepts is one [Hints] reads, and the
// other way round.
func CleanName(name string) (string, bool) {
	name, _, ok := checkName(name)
	return name, ok
}
