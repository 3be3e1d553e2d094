package tracer_test

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/tracer"
)

// localResolver starts a DNS server on 127.0.0.1 answering from records
// (name -> addresses) and returns a resolver that asks only it.
func localResolver(t *testing.T, records map[string][]string) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		for _, question := range q.Question {
			for _, s := range records[question.Name] {
				a := netip.MustParseAddr(s)
				hdr := dns.RR_Header{Name: question.Name, Class: dns.ClassINET, Ttl: 60}
				switch {
				case a.Is4() && question.Qtype == dns.TypeA:
					hdr.Rrtype = dns.TypeA
					m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: a.AsSlice()})
				case a.Is6() && question.Qtype == dns.TypeAAAA:
					hdr.Rrtype = dns.TypeAAAA
					m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: a.AsSlice()})
				}
			}
		}
		if len(records[q.Question[0].Name]) == 0 {
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

func TestResolve(t *testing.T) {
	r := localResolver(t, map[string][]string{
		"multi.example.": {"2001:db8::5", "203.0.113.5", "203.0.113.6", "2001:db8::6"},
	})
	ctx := context.Background()
	got, err := tracer.Resolve(ctx, r, "ip", "multi.example")
	require.NoError(t, err)
	assert.Equal(t, []netip.Addr{
		netip.MustParseAddr("203.0.113.5"), netip.MustParseAddr("203.0.113.6"),
		netip.MustParseAddr("2001:db8::5"), netip.MustParseAddr("2001:db8::6"),
	}, sorted4first(got))
	got, err = tracer.Resolve(ctx, r, "ip6", "multi.example")
	require.NoError(t, err)
	assert.Len(t, got, 2)
	for _, a := range got {
		assert.True(t, a.Is6())
	}
	_, err = tracer.Resolve(ctx, r, "ip", "missing.example")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing.example")
}

// sorted4first sorts within each family (the resolver's order within a
// family is its own) but keeps IPv4 before IPv6 as Resolve returns them.
func sorted4first(a []netip.Addr) []netip.Addr {
	out := append([]netip.Addr(nil), a...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[i].Is4() == out[j].Is4() && out[j].Less(out[i]) {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
