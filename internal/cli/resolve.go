package cli

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"time"
)

// newResolver returns the resolver for A and AAAA lookups: the system's, or
// one that asks only server (--dns host or host:port) when given.
func newResolver(server string) (*net.Resolver, error) {
	if server == "" {
		return net.DefaultResolver, nil
	}
	addr, err := dnsServerAddr(server)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}, nil
}

// dnsServerAddr turns a --dns value into host:port (port 53 by default).
func dnsServerAddr(s string) (string, error) {
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s, nil
	}
	h := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if h == "" {
		return "", usagef("--dns %q: want HOST or HOST:PORT", s)
	}
	return net.JoinHostPort(h, "53"), nil
}

// lookupAddrs resolves every A and AAAA record of host; the trailing dot
// keeps the resolver's search list out of it.
func lookupAddrs(ctx context.Context, r *net.Resolver, host string, timeout time.Duration) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	fqdn := host
	if !strings.HasSuffix(fqdn, ".") {
		fqdn += "."
	}
	addrs, err := r.LookupNetIP(ctx, "ip", fqdn)
	if err != nil {
		return nil, err
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, nil
}
