package rdns

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testDNS is a DNS server on 127.0.0.1 (UDP and TCP on one random port)
// answering PTR queries from a table. Nothing is ever sent to the system
// resolver or off the machine.
type testDNS struct {
	addr     string
	queries  atomic.Int64
	inflight atomic.Int64
	maxIn    atomic.Int64
	delay    time.Duration
	dropped  atomic.Int64
}

type countingWriter struct {
	dns.ResponseWriter
	before func()
}

func (w *countingWriter) WriteMsg(m *dns.Msg) error {
	w.before()
	return w.ResponseWriter.WriteMsg(m)
}

// behaviour of one reverse name
type answer struct {
	rcode    int
	ptrs     []string
	drop     bool // never answer (timeout)
	dropOnce bool // ignore the first query, answer the next
	truncate bool // answer with TC over UDP, fully over TCP
	cname    string
}

func startDNS(t *testing.T, table map[string]answer, delay time.Duration) *testDNS {
	t.Helper()
	s := &testDNS{delay: delay}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		s.queries.Add(1)
		n := s.inflight.Add(1)
		// Leave the count before replying: the client may send its next
		// query as soon as it has the reply.
		done := sync.OnceFunc(func() { s.inflight.Add(-1) })
		defer done()
		w = &countingWriter{ResponseWriter: w, before: done}
		for {
			m := s.maxIn.Load()
			if n <= m || s.maxIn.CompareAndSwap(m, n) {
				break
			}
		}
		if s.delay > 0 {
			time.Sleep(s.delay)
		}
		q := req.Question[0]
		a, ok := table[strings.ToLower(q.Name)]
		resp := new(dns.Msg)
		resp.SetReply(req)
		if !ok {
			resp.Rcode = dns.RcodeNameError
			w.WriteMsg(resp)
			return
		}
		if a.drop {
			return
		}
		if a.dropOnce && s.dropped.Add(1) == 1 {
			return
		}
		resp.Rcode = a.rcode
		if a.truncate && w.LocalAddr().Network() == "udp" {
			resp.Truncated = true
			w.WriteMsg(resp)
			return
		}
		owner := q.Name
		if a.cname != "" {
			resp.Answer = append(resp.Answer, &dns.CNAME{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 60}, Target: a.cname})
			owner = a.cname
		}
		for _, p := range a.ptrs {
			resp.Answer = append(resp.Answer, &dns.PTR{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 60}, Ptr: p})
		}
		w.WriteMsg(resp)
	})
	var pc net.PacketConn
	var ln net.Listener
	for range 20 {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		pc = nil
	}
	require.NotNil(t, pc, "no free port for UDP and TCP")
	udp := &dns.Server{PacketConn: pc, Handler: handler}
	tcp := &dns.Server{Listener: ln, Handler: handler}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() {
		udp.Shutdown()
		tcp.Shutdown()
	})
	s.addr = pc.LocalAddr().String()
	return s
}

func rev(t *testing.T, a string) string {
	t.Helper()
	r, err := dns.ReverseAddr(a)
	require.NoError(t, err)
	return r
}

func TestLookupPTR(t *testing.T) {
	long := strings.Repeat("a", 60)
	table := map[string]answer{
		rev(t, "192.0.2.1"):   {ptrs: []string{"ae-1.r21.frnkge13.de.bb.gin.ntt.net."}},
		rev(t, "192.0.2.3"):   {rcode: dns.RcodeServerFailure},
		rev(t, "192.0.2.4"):   {drop: true},
		rev(t, "192.0.2.5"):   {ptrs: []string{"<script>alert(1)</script>.evil.", "good.example.net."}},
		rev(t, "192.0.2.6"):   {ptrs: []string{"bad\\007name.example."}},
		rev(t, "192.0.2.7"):   {ptrs: []string{"m\\195\\188nchen.example."}},
		rev(t, "192.0.2.8"):   {ptrs: []string{"Upper.Example.NET."}},
		rev(t, "192.0.2.9"):   {truncate: true, ptrs: []string{"big.example.net."}},
		rev(t, "192.0.2.10"):  {ptrs: []string{strings.Repeat(long+".", 4) + "example."}},
		rev(t, "192.0.2.11"):  {ptrs: nil}, // NOERROR, no data
		rev(t, "192.0.2.12"):  {cname: "12.0/25.2.0.192.in-addr.arpa.", ptrs: []string{"classless.example.net."}},
		rev(t, "192.0.2.13"):  {rcode: dns.RcodeRefused},
		rev(t, "192.0.2.14"):  {ptrs: []string{"has\\032space.example.", "two\\.dots.example."}},
		rev(t, "192.0.2.15"):  {dropOnce: true, ptrs: []string{"retried.example.net."}},
		rev(t, "2001:db8::1"): {ptrs: []string{"v6.example.net."}},
	}
	srv := startDNS(t, table, 0)
	r := &Resolver{Server: srv.addr, Timeout: 300 * time.Millisecond}
	ctx := context.Background()
	cases := []struct {
		addr    string
		want    string
		wantErr error
		anyErr  bool
	}{
		{addr: "192.0.2.1", want: "ae-1.r21.frnkge13.de.bb.gin.ntt.net"},
		{addr: "192.0.2.2", want: ""}, // NXDOMAIN
		{addr: "192.0.2.3", wantErr: ErrServerFailure},
		{addr: "192.0.2.4", anyErr: true}, // timeout
		{addr: "192.0.2.5", want: "good.example.net"},
		{addr: "192.0.2.6", want: ""},
		{addr: "192.0.2.7", want: ""},
		{addr: "192.0.2.8", want: "Upper.Example.NET"},
		{addr: "192.0.2.9", want: "big.example.net"},
		{addr: "192.0.2.10", want: strings.Repeat(long+".", 4) + "example"}, // long but legal: the wire format cannot carry more
		{addr: "192.0.2.11", want: ""},
		{addr: "192.0.2.12", want: "classless.example.net"},
		{addr: "192.0.2.13", wantErr: ErrServerFailure},
		{addr: "192.0.2.14", want: ""},
		{addr: "192.0.2.15", want: "retried.example.net"}, // first query lost, the retry answered
		{addr: "2001:db8::1", want: "v6.example.net"},
		{addr: "::ffff:192.0.2.1", want: "ae-1.r21.frnkge13.de.bb.gin.ntt.net"},
	}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			got, err := r.LookupPTR(ctx, netip.MustParseAddr(c.addr))
			switch {
			case c.wantErr != nil:
				require.ErrorIs(t, err, c.wantErr)
				assert.Contains(t, err.Error(), c.addr)
			case c.anyErr:
				require.Error(t, err)
			default:
				require.NoError(t, err)
			}
			assert.Equal(t, c.want, got)
		})
	}
	_, err := r.LookupPTR(ctx, netip.Addr{})
	require.Error(t, err)
}

func TestLookupPTRCache(t *testing.T) {
	srv := startDNS(t, map[string]answer{
		rev(t, "192.0.2.1"): {ptrs: []string{"a.example.net."}},
		rev(t, "192.0.2.3"): {rcode: dns.RcodeServerFailure},
	}, 0)
	r := &Resolver{Server: srv.addr, Timeout: time.Second}
	ctx := context.Background()
	for range 3 {
		got, err := r.LookupPTR(ctx, netip.MustParseAddr("192.0.2.1"))
		require.NoError(t, err)
		require.Equal(t, "a.example.net", got)
		_, err = r.LookupPTR(ctx, netip.MustParseAddr("192.0.2.2"))
		require.NoError(t, err)
	}
	assert.Equal(t, int64(2), srv.queries.Load(), "answers and NXDOMAIN are cached")
	for range 2 {
		_, err := r.LookupPTR(ctx, netip.MustParseAddr("192.0.2.3"))
		require.Error(t, err)
	}
	assert.Equal(t, int64(4), srv.queries.Load(), "failures are not cached")

	// A second Resolver has its own cache.
	r2 := &Resolver{Server: srv.addr, Timeout: time.Second}
	_, err := r2.LookupPTR(ctx, netip.MustParseAddr("192.0.2.1"))
	require.NoError(t, err)
	assert.Equal(t, int64(5), srv.queries.Load())
}

func TestLookupPTRs(t *testing.T) {
	table := map[string]answer{}
	var addrs []netip.Addr
	for i := 1; i <= 40; i++ {
		a := netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
		addrs = append(addrs, a, a) // duplicates are looked up once
		if i%4 != 0 {
			table[rev(t, a.String())] = answer{ptrs: []string{"r" + a.String() + ".example.net."}}
		}
	}
	srv := startDNS(t, table, 5*time.Millisecond)
	r := &Resolver{Server: srv.addr, Timeout: time.Second, Concurrency: 4}
	got := r.LookupPTRs(context.Background(), addrs)
	assert.Len(t, got, 30)
	assert.Equal(t, "r198.51.100.1.example.net", got[netip.MustParseAddr("198.51.100.1")])
	assert.Equal(t, int64(40), srv.queries.Load())
	assert.LessOrEqual(t, srv.maxIn.Load(), int64(4), "at most Concurrency queries in flight")

	// A cancelled context returns promptly with what is known.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r2 := &Resolver{Server: srv.addr, Timeout: time.Second, Concurrency: 1}
	assert.Empty(t, r2.LookupPTRs(ctx, addrs[:2]))
}

func TestLookupPTRConcurrentSameAddr(t *testing.T) {
	srv := startDNS(t, map[string]answer{rev(t, "192.0.2.1"): {ptrs: []string{"a.example.net."}}}, 20*time.Millisecond)
	r := &Resolver{Server: srv.addr, Timeout: time.Second}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			got, err := r.LookupPTR(context.Background(), netip.MustParseAddr("192.0.2.1"))
			assert.NoError(t, err)
			assert.Equal(t, "a.example.net", got)
		})
	}
	wg.Wait()
	assert.Equal(t, int64(1), srv.queries.Load(), "one query in flight per address")
}

// rawDNS answers every query with bytes built by reply, for answers a
// well-behaved server library cannot produce (labels over 63 bytes, bad
// compression pointers).
func rawDNS(t *testing.T, reply func(query []byte) []byte) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(reply(buf[:n]), from)
		}
	}()
	return pc.LocalAddr().String()
}

// hostileReply answers with one PTR record whose rdata is rdata.
func hostileReply(rdata []byte) func([]byte) []byte {
	return func(q []byte) []byte {
		if len(q) < 12 {
			return nil
		}
		out := append([]byte{}, q[:2]...)         // id
		out = append(out, 0x81, 0x80, 0, 1, 0, 1) // response, qd=1, an=1
		out = append(out, 0, 0, 0, 0)             // ns=0, ar=0
		// question: copy up to the end of QNAME + type + class
		i := 12
		for i < len(q) && q[i] != 0 {
			i += int(q[i]) + 1
		}
		if i+5 > len(q) {
			return nil
		}
		out = append(out, q[12:i+5]...)
		out = append(out, 0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 60) // ptr to qname, PTR, IN, TTL
		out = binary.BigEndian.AppendUint16(out, uint16(len(rdata)))
		return append(out, rdata...)
	}
}

func TestLookupPTRHostileWire(t *testing.T) {
	label300 := append([]byte{0xff}, []byte(strings.Repeat("a", 300))...)
	for name, rdata := range map[string][]byte{
		"300-byte label":   append(label300, 0),
		"extended label":   {0x7f, 'a', 0},
		"pointer loop":     {0xc0, byte(12 + 0)}, // points back into the question, fine, then
		"pointer past end": {0xc0, 0xff},
		"truncated rdata":  {5, 'a', 'b'},
	} {
		t.Run(name, func(t *testing.T) {
			addr := rawDNS(t, hostileReply(rdata))
			r := &Resolver{Server: addr, Timeout: 300 * time.Millisecond}
			got, err := r.LookupPTR(context.Background(), netip.MustParseAddr("192.0.2.1"))
			if err == nil {
				// Whatever the wire held, only a clean name comes out.
				if got != "" {
					_, ok := CleanName(got)
					assert.True(t, ok, "%q", got)
				}
			}
		})
	}
}

func TestCleanName(t *testing.T) {
	good := map[string]string{
		"a.example.net.":    "a.example.net",
		"A-1_b.Example.NET": "A-1_b.Example.NET",
		// Interface names in real PTR records (Bell Canada).
		"bx6-seattle_et-0/0/13_ae1.net.bell.ca.": "bx6-seattle_et-0/0/13_ae1.net.bell.ca",
	}
	for in, want := range good {
		got, ok := CleanName(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got)
	}
	for _, in := range []string{
		"", ".", "..", "a..b", "a b.example", "a\x00b", "a\nb", "<b>x</b>", "münchen.de",
		strings.Repeat("a", 64) + ".net", strings.Repeat("abcdefghi.", 26) + "net", "a\\007b", "a\"b",
		"a'b.example", "a&b.example", "a;b", "a`b", "a\x1b[31mb", "a\x7fb", "../etc", "a/../b", "a\tb",
	} {
		_, ok := CleanName(in)
		assert.False(t, ok, "%q", in)
		_, ok = normalise(in)
		assert.False(t, ok, "normalise %q", in)
	}
}

func TestResolverServerDefault(t *testing.T) {
	assert.Equal(t, "127.0.0.1:5353", (&Resolver{Server: "127.0.0.1:5353"}).server())
	assert.Equal(t, "192.0.2.53:53", (&Resolver{Server: "192.0.2.53"}).server())
	assert.Equal(t, "[2001:db8::53]:53", (&Resolver{Server: "2001:db8::53"}).server())
	assert.Equal(t, defaultTimeout, (&Resolver{}).timeout())
	assert.True(t, errors.Is(ErrServerFailure, ErrServerFailure))
}

// The reverse names the resolver asks for are the ones miekg/dns (the
// test server's library) derives.
func TestReverseName(t *testing.T) {
	for _, a := range []string{"192.0.2.1", "0.0.0.0", "255.255.255.255", "2001:db8::1", "2001:db8:85a3::8a2e:370:7334", "::"} {
		want, err := dns.ReverseAddr(a)
		require.NoError(t, err)
		assert.Equal(t, want, reverseName(netip.MustParseAddr(a)), a)
	}
}

func TestFirstNameserver(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ conf, want string }{
		"first of two": {"# comment\nsearch example.net\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n", "192.0.2.53"},
		"IPv6":         {"options edns0\nnameserver   2001:db8::53\n", "2001:db8::53"},
		"none":         {"search example.net\n", ""},
		"bare keyword": {"nameserver\n", ""},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
			require.NoError(t, os.WriteFile(p, []byte(tc.conf), 0o644))
			assert.Equal(t, tc.want, firstNameserver(p))
		})
	}
	assert.Empty(t, firstNameserver(filepath.Join(dir, "missing")))
}

func TestLookupPTRCacheBound(t *testing.T) {
	srv := startDNS(t, map[string]answer{rev(t, "192.0.2.1"): {ptrs: []string{"a.example.net."}}}, 0)
	r := &Resolver{Server: srv.addr, Timeout: time.Second}
	r.cache = map[netip.Addr]*ptrEntry{}
	done := make(chan struct{})
	close(done)
	for i := range maxCacheEntries {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		r.cache[a] = &ptrEntry{done: done, name: "x"}
	}
	got, err := r.LookupPTR(context.Background(), netip.MustParseAddr("192.0.2.1"))
	require.NoError(t, err)
	assert.Equal(t, "a.example.net", got)
	assert.Len(t, r.cache, 1, "finished answers are dropped once the cache is full")
}
