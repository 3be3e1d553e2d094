//go:build linux

package netemu

import (
	"fmt"
	"net/netip"
	"testing"
)

// Diamond is a kernel-router network with per-flow load balancing:
//
//	Host - R1 =< R2a, R2b >= R3 - Dest
//
// R1 spreads traffic to 203.0.113.0/24 over R2a and R2b with an ECMP
// route hashing the 5-tuple (fib_multipath_hash_policy 1). Linux hashes
// ICMP on addresses only, so only UDP and TCP flows split. IPv4 only.
type Diamond struct {
	Host, R1, R2a, R2b, R3, Dest *NS
	// Hop addresses as a trace from Host shows them (the router's address
	// on its link towards the host).
	R1Addr, R2aAddr, R2bAddr, R3Addr netip.Addr
	Dest4                            netip.Addr
}

// NewDiamond builds the network; it skips the test when namespaces are
// unavailable.
func NewDiamond(tb testing.TB) *Diamond {
	tb.Helper()
	d := &Diamond{Host: NewNS(tb), R1: NewNS(tb), R2a: NewNS(tb), R2b: NewNS(tb), R3: NewNS(tb), Dest: NewNS(tb)}
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	n := 0
	link := func(a, b *NS, aAddr, bAddr string) {
		ai, bi := fmt.Sprintf("d%da", n), fmt.Sprintf("d%db", n)
		n++
		must(a.IP("link", "add", ai, "type", "veth", "peer", "name", bi, "netns", b.Name))
		must(a.IP("addr", "add", aAddr+"/30", "dev", ai))
		must(b.IP("addr", "add", bAddr+"/30", "dev", bi))
		must(a.IP("link", "set", ai, "up"))
		must(b.IP("link", "set", bi, "up"))
	}
	link(d.Host, d.R1, "198.51.100.1", "198.51.100.2")
	link(d.R1, d.R2a, "198.51.100.5", "198.51.100.6")
	link(d.R1, d.R2b, "198.51.100.9", "198.51.100.10")
	link(d.R2a, d.R3, "198.51.100.13", "198.51.100.14")
	link(d.R2b, d.R3, "198.51.100.17", "198.51.100.18")
	link(d.R3, d.Dest, "198.51.100.21", "198.51.100.22")
	d.Dest4 = netip.MustParseAddr("203.0.113.10")
	must(d.Host.IP("addr", "add", "192.0.2.1/32", "dev", "lo"))
	must(d.Dest.IP("addr", "add", d.Dest4.String()+"/32", "dev", "lo"))
	routes := []struct {
		ns   *NS
		args []string
	}{
		{d.Host, []string{"route", "add", "203.0.113.0/24", "via", "198.51.100.2", "src", "192.0.2.1"}},
		{d.R1, []string{"route", "add", "203.0.113.0/24", "nexthop", "via", "198.51.100.6", "nexthop", "via", "198.51.100.10"}},
		{d.R1, []string{"route", "add", "192.0.2.0/24", "via", "198.51.100.1"}},
		{d.R2a, []string{"route", "add", "203.0.113.0/24", "via", "198.51.100.14"}},
		{d.R2a, []string{"route", "add", "192.0.2.0/24", "via", "198.51.100.5"}},
		{d.R2b, []string{"route", "add", "203.0.113.0/24", "via", "198.51.100.18"}},
		{d.R2b, []string{"route", "add", "192.0.2.0/24", "via", "198.51.100.9"}},
		{d.R3, []string{"route", "add", "203.0.113.0/24", "via", "198.51.100.22"}},
		{d.R3, []string{"route", "add", "192.0.2.0/24", "via", "198.51.100.13"}},
		{d.Dest, []string{"route", "add", "192.0.2.0/24", "via", "198.51.100.21"}},
	}
	for _, r := range routes {
		must(r.ns.IP(r.args...))
	}
	for _, ns := range []*NS{d.R1, d.R2a, d.R2b, d.R3, d.Dest} {
		must(ns.Sysctl("net.ipv4.icmp_ratelimit", "0"))
		if ns != d.Dest {
			must(ns.Sysctl("net.ipv4.ip_forward", "1"))
		}
	}
	must(d.R1.Sysctl("net.ipv4.fib_multipath_hash_policy", "1"))
	d.R1Addr = netip.MustParseAddr("198.51.100.2")
	d.R2aAddr = netip.MustParseAddr("198.51.100.6")
	d.R2bAddr = netip.MustParseAddr("198.51.100.10")
	d.R3Addr = netip.MustParseAddr("198.51.100.14")
	return d
}
