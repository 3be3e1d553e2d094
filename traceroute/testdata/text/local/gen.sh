#!/bin/sh
# Regenerates the real outputs in this folder: a chain of network namespaces
# (documentation addresses only, nothing leaves the machine) traced with the
# Debian traceroute, mtr-tiny and iputils-tracepath of the machine it runs on.
# Needs root. Usage: sh gen.sh (all but the two below), sh gen.sh inetutils, sh gen.sh tcp
set -e
P=glt$$
cleanup() { for n in h r1 r2 d; do ip netns del $P$n 2>/dev/null || true; done; }
trap cleanup EXIT
for n in h r1 r2 d; do ip netns add $P$n; ip -n $P$n link set lo up; done
link() { ip link add $1 netns $P$2 type veth peer name $3 netns $P$4; ip -n $P$2 link set $1 up; ip -n $P$4 link set $3 up; }
link h0 h r1a r1; link r1b r1 r2a r2; link r2b r2 d0 d
ip -n ${P}h  addr add 192.0.2.2/30 dev h0;        ip -n ${P}h  addr add 2001:db8:1::2/64 dev h0 nodad
ip -n ${P}r1 addr add 192.0.2.1/30 dev r1a;       ip -n ${P}r1 addr add 2001:db8:1::1/64 dev r1a nodad
ip -n ${P}r1 addr add 198.51.100.1/30 dev r1b;    ip -n ${P}r1 addr add 2001:db8:2::1/64 dev r1b nodad
ip -n ${P}r2 addr add 198.51.100.2/30 dev r2a;    ip -n ${P}r2 addr add 2001:db8:2::2/64 dev r2a nodad
ip -n ${P}r2 addr add 203.0.113.1/30 dev r2b;     ip -n ${P}r2 addr add 2001:db8:3::1/64 dev r2b nodad
ip -n ${P}d  addr add 203.0.113.2/30 dev d0;      ip -n ${P}d  addr add 2001:db8:3::2/64 dev d0 nodad
for r in r1 r2; do ip netns exec $P$r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1; done
ip -n ${P}h route add default via 192.0.2.1;   ip -n ${P}h -6 route add default via 2001:db8:1::1
ip -n ${P}r1 route add default via 198.51.100.2; ip -n ${P}r1 -6 route add default via 2001:db8:2::2
ip -n ${P}r2 route add default via 198.51.100.1
ip -n ${P}r2 -6 route add default via 2001:db8:2::1
ip -n ${P}d route add default via 203.0.113.1;  ip -n ${P}d -6 route add default via 2001:db8:3::1
sleep 1
X="ip netns exec ${P}h"
if [ "$1" = tcp ]; then
	$X traceroute -T -O info -n -p 80 203.0.113.2 > chain-traceroute-tcp.txt
	exit 0
fi
if [ "$1" = inetutils ]; then
	# GNU inetutils traceroute (Debian package inetutils-traceroute).
	{ $X inetutils-traceroute 203.0.113.2; $X inetutils-traceroute -q 2 --resolve-hostnames 203.0.113.2; } > chain-inetutils.txt
	exit 0
fi
{ $X traceroute 203.0.113.2; $X traceroute -n -q 2 2001:db8:3::2; $X traceroute -I -n 203.0.113.2; } > chain-traceroute.txt
{ $X tracepath 203.0.113.2; $X tracepath -n 2001:db8:3::2; } > chain-tracepath.txt
$X mtr -r -n -c 3 -i 0.2 203.0.113.2 > chain-mtr-report.txt
{ $X mtr --csv -n -c 3 -i 0.2 203.0.113.2; $X mtr --csv -n -c 2 -i 0.2 2001:db8:3::2; } > chain-mtr.csv
$X mtr --raw -n -c 2 -i 0.2 203.0.113.2 > chain-mtr-raw.txt
