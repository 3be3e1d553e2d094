#!/bin/sh
# Regenerates ecmp-*.txt: real outputs over a chain of network namespaces
# with two equal-cost paths in the middle (h -> r1 -> {r2a|r2b} -> r3 -> d),
# documentation addresses only. Needs root, traceroute, mtr-tiny.
set -e
P=gle$$
cleanup() { for n in h r1 r2a r2b r3 d; do ip netns del $P$n 2>/dev/null || true; done; }
trap cleanup EXIT
for n in h r1 r2a r2b r3 d; do ip netns add $P$n; ip -n $P$n link set lo up; done
link() { ip link add $1 netns $P$2 type veth peer name $3 netns $P$4; ip -n $P$2 link set $1 up; ip -n $P$4 link set $3 up; }
link h0 h r1h r1; link r1a r1 a1 r2a; link r1b r1 b1 r2b; link a3 r2a r3a r3; link b3 r2b r3b r3; link r3d r3 d0 d
A() { ip -n $P$1 addr add $2 dev $3; }
A h 192.0.2.2/30 h0;           A r1 192.0.2.1/30 r1h
A r1 198.51.100.1/30 r1a;      A r2a 198.51.100.2/30 a1
A r1 198.51.100.5/30 r1b;      A r2b 198.51.100.6/30 b1
A r2a 198.51.100.9/30 a3;      A r3 198.51.100.10/30 r3a
A r2b 198.51.100.13/30 b3;     A r3 198.51.100.14/30 r3b
A r3 203.0.113.1/30 r3d;       A d 203.0.113.2/30 d0
for r in r1 r2a r2b r3; do ip netns exec $P$r sysctl -qw net.ipv4.ip_forward=1; done
ip netns exec ${P}r1 sysctl -qw net.ipv4.fib_multipath_hash_policy=1
ip -n ${P}h route add default via 192.0.2.1
ip -n ${P}r1 route add 203.0.113.0/30 nexthop via 198.51.100.2 nexthop via 198.51.100.6
ip -n ${P}r2a route add 203.0.113.0/30 via 198.51.100.10; ip -n ${P}r2a route add 192.0.2.0/30 via 198.51.100.1
ip -n ${P}r2b route add 203.0.113.0/30 via 198.51.100.14; ip -n ${P}r2b route add 192.0.2.0/30 via 198.51.100.5
ip -n ${P}r3 route add 192.0.2.0/30 via 198.51.100.9
ip -n ${P}d route add default via 203.0.113.1
sleep 1
X="ip netns exec ${P}h"
{ $X traceroute -q 4 203.0.113.2; $X traceroute -n -q 6 203.0.113.2; } > ecmp-traceroute.txt
$X mtr -r -u -n -c 20 -i 0.1 203.0.113.2 > ecmp-mtr-report.txt
$X mtr -r -u -b -c 20 -i 0.1 203.0.113.2 >> ecmp-mtr-report.txt
$X mtr --raw -u -n -c 6 -i 0.1 203.0.113.2 > ecmp-mtr-raw.txt
