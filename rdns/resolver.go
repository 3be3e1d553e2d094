package rdns

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"
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
	if ns := firstNameserver("/etc/resolv.conf"); ns != "" {
		return net.JoinHostPort(ns, "53")
	}
	return "127.0.0.1:53"
}

// firstNameserver returns the address of the first "nameserver" line of a
// resolv.conf file, or "" when there is none or the file cannot be read.
func firstNameserver(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "nameserver" {
			return fields[1]
		}
	}
	return ""
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

// ednsUDPBytes is the UDP payload size advertised in EDNS0: the largest
// answer that still fits an unfragmented packet on most paths (RFC 9715).
const ednsUDPBytes = 1232

func (r *Resolver) query(ctx context.Context, addr netip.Addr) (string, error) {
	qname, err := dnsmessage.NewName(reverseName(addr))
	if err != nil {
		return "", fmt.Errorf("rdns: PTR %s: %w", addr, err)
	}
	server := r.server()
	id := uint16(rand.Uint32())
	resp, err := r.exchange(ctx, "udp", id, qname, server)
	if isTimeout(err) && ctx.Err() == nil {
		id = uint16(rand.Uint32())
		resp, err = r.exchange(ctx, "udp", id, qname, server)
	}
	if err == nil && resp.hdr.Truncated {
		resp, err = r.exchange(ctx, "tcp", id, qname, server)
	}
	if err != nil {
		return "", fmt.Errorf("rdns: PTR %s via %s: %w", addr, server, err)
	}
	if resp.hdr.ID != id {
		return "", fmt.Errorf("rdns: PTR %s via %s: reply id mismatch", addr, server)
	}
	switch resp.hdr.RCode {
	case dnsmessage.RCodeSuccess:
	case dnsmessage.RCodeNameError:
		return "", nil
	default:
		return "", fmt.Errorf("rdns: PTR %s via %s: %s: %w", addr, server, rcodeName(resp.hdr.RCode), ErrServerFailure)
	}
	return firstPTR(resp.answers, qname.String()), nil
}

// reverseName is addr's name under in-addr.arpa or ip6.arpa, with the
// trailing dot.
func reverseName(addr netip.Addr) string {
	var b strings.Builder
	if addr.Is4() {
		a := addr.As4()
		for i := 3; i >= 0; i-- {
			b.WriteString(strconv.Itoa(int(a[i])))
			b.WriteByte('.')
		}
		b.WriteString("in-addr.arpa.")
		return b.String()
	}
	const hex = "0123456789abcdef"
	a := addr.As16()
	for i := 15; i >= 0; i-- {
		b.WriteByte(hex[a[i]&0xf])
		b.WriteByte('.')
		b.WriteByte(hex[a[i]>>4])
		b.WriteByte('.')
	}
	b.WriteString("ip6.arpa.")
	return b.String()
}

// rcodeName names the response codes a PTR query meets, as dig prints them.
func rcodeName(c dnsmessage.RCode) string {
	switch c {
	case dnsmessage.RCodeFormatError:
		return "FORMERR"
	case dnsmessage.RCodeServerFailure:
		return "SERVFAIL"
	case dnsmessage.RCodeNotImplemented:
		return "NOTIMP"
	case dnsmessage.RCodeRefused:
		return "REFUSED"
	}
	return "RCODE" + strconv.Itoa(int(c))
}

func isTimeout(err error) bool {
	var ne net.Error
	return err != nil && (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout())
}

// ptrReply is what a PTR lookup needs of a reply: its header and the
// CNAME and PTR records of its answer section.
type ptrReply struct {
	hdr     dnsmessage.Header
	answers []record
}

type record struct {
	owner, target string // lower case, with the trailing dot
	ptr           bool   // PTR, else CNAME
}

// exchange sends one recursive PTR query for qname with EDNS0 over network
// ("udp" or "tcp") and reads one reply, within the Resolver's timeout.
func (r *Resolver) exchange(ctx context.Context, network string, id uint16, qname dnsmessage.Name, server string) (*ptrReply, error) {
	qctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
	b.EnableCompression()
	var opt dnsmessage.ResourceHeader
	err := errors.Join(
		b.StartQuestions(),
		b.Question(dnsmessage.Question{Name: qname, Type: dnsmessage.TypePTR, Class: dnsmessage.ClassINET}),
		b.StartAdditionals(),
		opt.SetEDNS0(ednsUDPBytes, dnsmessage.RCodeSuccess, false),
		b.OPTResource(opt, dnsmessage.OPTResource{}),
	)
	if err != nil {
		return nil, err
	}
	query, err := b.Finish()
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(qctx, network, server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(qctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if deadline, ok := qctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	var reply []byte
	if network == "tcp" {
		reply, err = exchangeTCP(conn, query)
	} else {
		reply, err = exchangeUDP(conn, query)
	}
	if err != nil {
		if qctx.Err() != nil {
			return nil, qctx.Err()
		}
		return nil, err
	}
	return parseAnswer(reply)
}

func exchangeUDP(conn net.Conn, query []byte) ([]byte, error) {
	if _, err := conn.Write(query); err != nil {
		return nil, err
	}
	buf := make([]byte, 65535)
	n, err := conn.Read(buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

func exchangeTCP(conn net.Conn, query []byte) ([]byte, error) {
	msg := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(query)), uint16(len(query)))
	if _, err := conn.Write(append(msg, query...)); err != nil {
		return nil, err
	}
	var n [2]byte
	if _, err := io.ReadFull(conn, n[:]); err != nil {
		return nil, err
	}
	reply := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(conn, reply); err != nil {
		return nil, err
	}
	return reply, nil
}

// parseAnswer reads the header and the CNAME and PTR records of a reply's
// answer section. A record whose data does not parse (a name with a dot
// inside a label, a pointer loop) is skipped with the rest of the section:
// the records before it still count.
func parseAnswer(msg []byte) (*ptrReply, error) {
	var p dnsmessage.Parser
	hdr, err := p.Start(msg)
	if err != nil {
		return nil, fmt.Errorf("malformed reply: %w", err)
	}
	a := &ptrReply{hdr: hdr}
	if err := p.SkipAllQuestions(); err != nil {
		return nil, fmt.Errorf("malformed reply: %w", err)
	}
	for {
		h, err := p.AnswerHeader()
		if err != nil {
			// ErrSectionDone, or a header that does not parse: keep what
			// was read.
			return a, nil
		}
		owner := strings.ToLower(h.Name.String())
		switch h.Type {
		case dnsmessage.TypePTR:
			rr, err := p.PTRResource()
			if err != nil {
				return a, nil
			}
			a.answers = append(a.answers, record{owner: owner, target: rr.PTR.String(), ptr: true})
		case dnsmessage.TypeCNAME:
			rr, err := p.CNAMEResource()
			if err != nil {
				return a, nil
			}
			a.answers = append(a.answers, record{owner: owner, target: strings.ToLower(rr.CNAME.String())})
		default:
			if err := p.SkipAnswer(); err != nil {
				return a, nil
			}
		}
	}
}

// firstPTR returns the first PTR target in the answer that CleanName accepts.
// Records for other owner names are ignored, except along a CNAME chain from
// qname (RFC 2317 classless delegation).
func firstPTR(answers []record, qname string) string {
	owners := map[string]bool{strings.ToLower(qname): true}
	for range 8 { // follow CNAMEs, bounded
		grown := false
		for _, rr := range answers {
			if !rr.ptr && owners[rr.owner] && !owners[rr.target] {
				owners[rr.target] = true
				grown = true
			}
		}
		if !grown {
			break
		}
	}
	for _, rr := range answers {
		if !rr.ptr || !owners[rr.owner] {
			continue
		}
		if name, ok := CleanName(rr.target); ok {
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
