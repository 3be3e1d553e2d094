#!/usr/bin/env bash
# bench-trace.sh: geoloc's tracer against Debian traceroute and mtr, side by
# side in one emulated network (a TUN device inside a network namespace made
# here: 20 hops, 100 ms path RTT, hops 7 and 13 silent). Nothing leaves the
# namespace. Needs root, iproute2, traceroute, mtr-tiny:
#   apt-get install -y iproute2 traceroute mtr-tiny
# Usage: sudo scripts/bench-trace.sh [runs]   (default 3 runs, median shown)
# The geoloc rows run `geoloc trace --raw` (built from ./cmd/geoloc, or
# GEOLOC=path/to/geoloc); if the CLI does not build, the tracer harness
# tracer/internal/netemu/cmd/emubench does the same through the library.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
dst=203.0.113.1
[ "$(id -u)" = 0 ] || { echo "bench-trace.sh: needs root (network namespace, TUN)" >&2; exit 1; }
for c in ip traceroute mtr go; do
	command -v "$c" >/dev/null || { echo "bench-trace.sh: needs $c (apt-get install -y iproute2 traceroute mtr-tiny)" >&2; exit 1; }
done

tmp=$(mktemp -d)
bin=$tmp/emubench
go build -o "$bin" ./tracer/internal/netemu/cmd/emubench
if [ -z "${GEOLOC:-}" ] && go build -o "$tmp/geoloc" ./cmd/geoloc 2>/dev/null; then
	GEOLOC=$tmp/geoloc
fi
if [ -n "${GEOLOC:-}" ]; then echo "geoloc rows: $GEOLOC trace --raw"; else echo "geoloc rows: emubench trace (library harness)"; fi
ns=geoloc-bench-$$
mkfifo "$tmp/ctl"
"$bin" serve -ns "$ns" <"$tmp/ctl" >"$tmp/serve.out" 2>"$tmp/serve.err" &
serve=$!
exec 3>"$tmp/ctl" # holding the fifo open keeps the emulator running
cleanup() { exec 3>&-; wait "$serve" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
for _ in $(seq 100); do grep -q ready "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$tmp/serve.out" || { cat "$tmp/serve.err" >&2; exit 1; }

in_ns() { ip netns exec "$ns" "$@"; }
# seconds: median wall time of $runs runs of the command
seconds() {
	local t=()
	for _ in $(seq "$runs"); do
		local s e
		s=$(date +%s.%N)
		"$@" >/dev/null 2>&1 || true
		e=$(date +%s.%N)
		t+=("$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')")
	done
	printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'
}
geoloc_one() {
	if [ -n "${GEOLOC:-}" ]; then in_ns "$GEOLOC" trace --raw "$dst"; else in_ns "$bin" trace -n 1; fi
}
geoloc_one_udp() {
	if [ -n "${GEOLOC:-}" ]; then in_ns "$GEOLOC" trace --raw -U "$dst"; else in_ns "$bin" trace -n 1 -proto udp; fi
}
geoloc_many() {
	if [ -n "${GEOLOC:-}" ]; then
		in_ns "$GEOLOC" trace --raw "$@" $(seq -f '203.0.113.%g' 1 100)
	else in_ns "$bin" trace -n 100 "$@"; fi
}
geoloc_many_fast() { geoloc_many --rate 10000; }
geoloc_many_faster() { geoloc_many --rate 40000; }

printf '%-52s %8s\n' "tool (20 hops, 100 ms RTT, 2 silent hops)" "seconds"
row() { printf '%-52s %8s\n' "$1" "$(seconds "${@:2}")"; }
one=$(seconds geoloc_one)
printf '%-52s %8s\n' "geoloc tracer, 1 target (ICMP, 3 probes/hop)" "$one"
row "geoloc tracer, 1 target (UDP, 3 probes/hop)" geoloc_one_udp
row "traceroute -n (defaults: UDP, -N 16, -w 5)" in_ns traceroute -n "$dst"
row "traceroute -n -N 32" in_ns traceroute -n -N 32 "$dst"
row "mtr --report -c 3 -n" in_ns mtr --report -c 3 -n "$dst"
many=$(seconds geoloc_many)
printf '%-52s %8s\n' "geoloc tracer, 100 targets (default rate 1000 pps)" "$many"
row "geoloc tracer, 100 targets (--rate 10000)" geoloc_many_fast
row "geoloc tracer, 100 targets (--rate 40000)" geoloc_many_faster
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
in_ns "$bin" trace -n 1 2>&1 >/dev/null | sed 's/^/library harness, one trace: /'
