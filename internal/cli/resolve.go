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

// lookupAddrs resolves every A and AAAA record of host, as ping and
// traceroute do: /etc/hosts first, then DNS with the resolver's search
// list. The name is passed as given: Go's resolver skips /etc/hosts for a
// name with a trailing dot, so "localhost." fails where "localhost" works.
func lookupAddrs(ctx context.Context, r *net.Resolver, host string, timeout time.Duration) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, nil
}
