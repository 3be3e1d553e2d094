#!/bin/sh
# Regenerates mtu-*.txt: real outputs over a namespace chain h -> r1 -> r2 -> d
# whose r1-r2 link has an MTU of 1400, and whose r2 answers "unreachable" and
# "prohibit" for two other prefixes (documentation addresses only). Needs
# root, traceroute, iputils-tracepath, mtr-tiny.
set -e
P=glm$$
cleanup() { for n in h r1 r2 d; do ip netns del $P$n 2>/dev/null || true; done; }
trap cleanup EXIT
for n in h r1 r2 d; do ip netns add $P$n; ip -n $P$n link set lo up; done
link() { ip link add $1 netns $P$2 type veth peer name $3 netns $P$4; ip -n $P$2 link set $1 up; ip -n $P$4 link set $3 up; }
link h0 h r1a r1; link r1b r1 r2a r2; link r2b r2 d0 d
ip -n ${P}r1 link set r1b mtu 1400; ip -n ${P}r2 link set r2a mtu 1400
ip -n ${P}h addr add 192.0.2.2/30 dev h0;      ip -n ${P}r1 addr add 192.0.2.1/30 dev r1a
ip -n ${P}r1 addr add 198.51.100.1/30 dev r1b; ip -n ${P}r2 addr add 198.51.100.2/30 dev r2a
ip -n ${P}r2 addr add 203.0.113.1/30 dev r2b;  ip -n ${P}d addr add 203.0.113.2/30 dev d0
for r in r1 r2; do ip netns exec $P$r sysctl -qw net.ipv4.ip_forward=1; done
ip -n ${P}h route add default via 192.0.2.1
ip -n ${P}r1 route add default via 198.51.100.2
ip -n ${P}r2 route add 192.0.2.0/30 via 198.51.100.1
ip -n ${P}r2 route add unreachable 203.0.113.128/25
ip -n ${P}r2 route add prohibit 203.0.113.64/26
ip -n ${P}d route add default via 203.0.113.1
sleep 1
X="ip netns exec ${P}h"
{ $X traceroute --mtu -n 203.0.113.2; $X traceroute -n 203.0.113.130; $X traceroute -n -I 203.0.113.70; } > mtu-traceroute.txt
$X tracepath -n 203.0.113.2 > mtu-tracepath.txt
$X mtr -r -n -c 3 -i 0.2 203.0.113.130 > mtu-mtr-report.txt
