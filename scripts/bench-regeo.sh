#!/usr/bin/env bash
# Side-by-side timing of `geoloc regeo` against the floor program
# (internal/cmd/floor: encoding/json decode of RIPE Atlas JSON Lines and one
# MaxMind DB lookup per hop, on one core), in one run on the same input:
# MiB of generated RIPE Atlas results (internal/atlasgen, default 90: about
# 390,000 hops, the size issue 13 measured the floor on) and
# generated databases (internal/cmd/benchdb: two city layouts and an ASN
# database). Both programs are built here from this checkout.
#
#   scripts/bench-regeo.sh [MiB [ROUNDS [ROUTERS]]]
#
# With ROUTERS, hop addresses are drawn from that many router addresses
# (atlasgen -routers: they repeat across traces as in real data, so the
# engine's cache hits); without, every hop address is new (its worst case).
#
# Prints wall time, CPU time (user+sys), peak RSS and hops per CPU-second
# for each, and geoloc's CPU as a multiple of the floor's; with several
# rounds, the ratio of the least CPU times and the median ratio. On a loaded
# machine compare CPU, not wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-90}
rounds=${2:-2}
routers=${3:-0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/geoloc" ./cmd/geoloc
go build -o "$tmp/floor" ./internal/cmd/floor
go build -o "$tmp/atlasgen" ./internal/cmd/atlasgen
go run ./internal/cmd/benchdb "$tmp"
"$tmp/atlasgen" -mb "$mb" -routers "$routers" > "$tmp/atlas.jsonl"
hops=$("$tmp/floor" "$tmp/bench-city.mmdb" < "$tmp/atlas.jsonl" | sed -E 's/.* ([0-9]+) hops.*/\1/')
echo "input: ${mb} MiB of generated RIPE Atlas results (routers: $routers), $(wc -l < "$tmp/atlas.jsonl") traces, $hops hops; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"

# run NAME CMD...: wall, CPU and peak RSS of one command (GNU time).
run() {
  local name=$1
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$tmp/time" "$@" > /dev/null
  read -r wall user sys rss < "$tmp/time"
  cpu=$(echo "$user + $sys" | bc)
  printf '%-8s wall %6.2f s  cpu %6.2f s  peak RSS %5d MB  %8.0f hops per CPU-second\n' \
    "$name" "$wall" "$cpu" $((rss / 1024)) "$(echo "$hops / $cpu" | bc -l)"
  eval "${name}_cpu=$cpu"
}

# Alternate the two, so that load on the machine falls on both alike.
for r in $(seq "$rounds"); do
  run floor "$tmp/floor" "$tmp/bench-city.mmdb" < "$tmp/atlas.jsonl"
  run geoloc "$tmp/geoloc" regeo -q --ptr=false --db "$tmp/bench-city.mmdb" --db "$tmp/bench-dbip.mmdb" --db "$tmp/bench-asn.mmdb" "$tmp/atlas.jsonl"
  ratio=$(echo "$geoloc_cpu / $floor_cpu" | bc -l)
  printf 'round %d: geoloc/floor CPU %.2f (goal: 3 or less)\n' "$r" "$ratio"
  echo "$floor_cpu $geoloc_cpu $ratio" >> "$tmp/rounds"
done

# Other work on the machine only ever adds CPU time (a slower clock, a busy
# sibling core): over several rounds, each program's least CPU time is its
# best estimate, and the median ratio the most typical round.
if [ "$rounds" -gt 1 ]; then
  floor_min=$(sort -n -k1 "$tmp/rounds" | head -1 | cut -d' ' -f1)
  geoloc_min=$(sort -n -k2 "$tmp/rounds" | head -1 | cut -d' ' -f2)
  median=$(cut -d' ' -f3 "$tmp/rounds" | sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}')
  printf 'over %d rounds: least CPU floor %.2f s, geoloc %.2f s: ratio %.2f; median of the rounds'"'"' ratios %.2f\n' \
    "$rounds" "$floor_min" "$geoloc_min" "$(echo "$geoloc_min / $floor_min" | bc -l)" "$median"
fi
