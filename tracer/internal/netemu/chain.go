//go:build linux

package netemu

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"testing"
)

// Chain is a line of namespaces: Host, Routers..., Dest, joined by veth
// pairs, with IPv4 and IPv6 forwarding on in the routers and ICMP rate
// limits off. Link i (0-based, between node i and i+1) uses
// 198.51.100.4i/30 and 2001:db8:100:i::/64; node i+1 is .4i+2 / ::2 on it.
type Chain struct {
	Host, Dest *NS
	Routers    []*NS
	// RouterAddrs4/6[i] is router i's address on its link towards the
	// host: what a traceroute from Host shows at TTL i+1.
	RouterAddrs4, RouterAddrs6 []netip.Addr
	Dest4, Dest6               netip.Addr
}

// NewChain builds a chain with n kernel routers. It skips the test when
// namespaces are unavailable.
func NewChain(tb testing.TB, n int) *Chain {
	tb.Helper()
	if n < 1 || n > 60 {
		tb.Fatalf("chain of %d routers: want 1..60", n)
	}
	c := &Chain{Host: NewNS(tb)}
	nodes := []*NS{c.Host}
	for range n {
		r := NewNS(tb)
		c.Routers = append(c.Routers, r)
		nodes = append(nodes, r)
	}
	c.Dest = NewNS(tb)
	nodes = append(nodes, c.Dest)
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	for _, node := range nodes {
		// No duplicate address detection: link-local addresses would stay
		// tentative for a second and stall neighbour discovery.
		must(node.Sysctl("net.ipv6.conf.all.accept_dad", "0"))
		must(node.Sysctl("net.ipv6.conf.default.accept_dad", "0"))
	}
	a4 := func(link, host int) netip.Addr {
		return netip.AddrFrom4([4]byte{198, 51, 100, byte(4*link + host)})
	}
	a6 := func(link, host int) netip.Addr {
		return netip.MustParseAddr(fmt.Sprintf("2001:db8:100:%x::%d", link, host))
	}
	for i := 0; i+1 < len(nodes); i++ {
		left, right := nodes[i], nodes[i+1]
		l, r := fmt.Sprintf("vr%d", i), fmt.Sprintf("vl%d", i)
		// Create in the left namespace, move the peer to the right one.
		lmac, rmac := fmt.Sprintf("02:00:00:00:%02x:01", i), fmt.Sprintf("02:00:00:00:%02x:02", i)
		must(left.IP("link", "add", l, "address", lmac, "type", "veth", "peer", "name", r, "address", rmac, "netns", right.Name))
		must(left.IP("addr", "add", a4(i, 1).String()+"/30", "dev", l))
		must(right.IP("addr", "add", a4(i, 2).String()+"/30", "dev", r))
		must(left.IP("-6", "addr", "add", a6(i, 1).String()+"/64", "dev", l, "nodad"))
		must(right.IP("-6", "addr", "add", a6(i, 2).String()+"/64", "dev", r, "nodad"))
		must(left.IP("link", "set", l, "up"))
		must(right.IP("link", "set", r, "up"))
		// Static neighbours: the first probes must not wait for (or lose
		// a race with) address resolution.
		must(left.IP("neigh", "replace", a4(i, 2).String(), "lladdr", rmac, "dev", l, "nud", "permanent"))
		must(right.IP("neigh", "replace", a4(i, 1).String(), "lladdr", lmac, "dev", r, "nud", "permanent"))
		must(left.IP("-6", "neigh", "replace", a6(i, 2).String(), "lladdr", rmac, "dev", l, "nud", "permanent"))
		must(right.IP("-6", "neigh", "replace", a6(i, 1).String(), "lladdr", lmac, "dev", r, "nud", "permanent"))
	}
	last := len(nodes) - 2 // index of the last link
	for i, node := range nodes {
		// Towards the destination: via the next node; back: via the previous.
		if i < len(nodes)-1 {
			must(node.IP("route", "add", "203.0.113.0/24", "via", a4(i, 2).String()))
			must(node.IP("-6", "route", "add", "2001:db8:200::/48", "via", a6(i, 2).String()))
		}
		if i > 0 {
			must(node.IP("route", "add", "192.0.2.0/24", "via", a4(i-1, 1).String()))
			must(node.IP("-6", "route", "add", "2001:db8:ffff::/48", "via", a6(i-1, 1).String()))
			for j := 0; j < i-1; j++ {
				must(node.IP("route", "add", a4(j, 0).String()+"/30", "via", a4(i-1, 1).String()))
				must(node.IP("-6", "route", "add", a6(j, 0).String()+"/64", "via", a6(i-1, 1).String()))
			}
		}
		if i < len(nodes)-1 {
			for j := i + 1; j <= last; j++ {
				must(node.IP("route", "add", a4(j, 0).String()+"/30", "via", a4(i, 2).String()))
				must(node.IP("-6", "route", "add", a6(j, 0).String()+"/64", "via", a6(i, 2).String()))
			}
		}
		if i > 0 {
			// Linux limits ICMP errors to each peer to a burst of 6, then one
			// a second; a tracer sending all TTLs at once would see most
			// answers of a router (or the destination's port unreachable)
			// suppressed. Off in the test network, as the emulator tests
			// cover rate-limited hops.
			must(node.Sysctl("net.ipv4.icmp_ratelimit", "0"))
			must(node.Sysctl("net.ipv6.icmp.ratelimit", "0"))
			// And the namespace's global ICMP budget (ICMPv4 and ICMPv6
			// errors alike: 1000 a second, bursts of 50, randomised): a
			// tracer that sends TTLs beyond the destination before its
			// first answer is read gets more port unreachables from the
			// destination than that, and which of them the kernel drops
			// is chance (seen as TestTracerKernelRouters/v6/udp losing
			// the destination's answers in full test runs). Kernels that
			// keep these two system-wide have no such files here.
			for _, kv := range [][2]string{{"net.ipv4.icmp_msgs_per_sec", "1000000"}, {"net.ipv4.icmp_msgs_burst", "1000000"}} {
				if err := node.Sysctl(kv[0], kv[1]); err != nil && !errors.Is(err, fs.ErrNotExist) {
					must(err)
				}
			}
		}
		if i > 0 && i < len(nodes)-1 {
			must(node.Sysctl("net.ipv4.ip_forward", "1"))
			must(node.Sysctl("net.ipv6.conf.all.forwarding", "1"))
		}
	}
	// Host and destination get addresses in the ranges the routes name.
	c.Dest4 = netip.MustParseAddr("203.0.113.10")
	c.Dest6 = netip.MustParseAddr("2001:db8:200::10")
	must(c.Dest.IP("addr", "add", c.Dest4.String()+"/32", "dev", "lo"))
	must(c.Dest.IP("-6", "addr", "add", c.Dest6.String()+"/128", "dev", "lo", "nodad"))
	must(c.Host.IP("addr", "add", "192.0.2.1/32", "dev", "lo"))
	must(c.Host.IP("-6", "addr", "add", "2001:db8:ffff::1/128", "dev", "lo", "nodad"))
	// Make the host use those addresses as sources.
	must(c.Host.IP("route", "replace", "203.0.113.0/24", "via", a4(0, 2).String(), "src", "192.0.2.1"))
	must(c.Host.IP("-6", "route", "replace", "2001:db8:200::/48", "via", a6(0, 2).String(), "src", "2001:db8:ffff::1"))
	for i := range c.Routers {
		c.RouterAddrs4 = append(c.RouterAddrs4, a4(i, 2))
		c.RouterAddrs6 = append(c.RouterAddrs6, a6(i, 2))
	}
	return c
}
