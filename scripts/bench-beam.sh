#!/usr/bin/env bash
# Side-by-side timing of the Beam pipeline (beam/cmd/geoloc-beam) against
# single-process `geoloc regeo --fuse`, in one run on the same input, for
# issue 15's goals: generated RIPE Atlas results (internal/atlasgen) and
# generated databases (internal/cmd/benchdb: two city layouts and an ASN
# database), a position for every probe (--vantage-points), at two input
# sizes. Everything is built here from this checkout. atlasgen draws every
# hop address at random, so an address is seen about once: the fuse stage
# groups one observation per address here, where real data has many.
#
#   scripts/bench-beam.sh [MiB [SMALL_MiB]]
#
# MiB defaults to 232, about one million hops; SMALL_MiB to a quarter of it.
# At each size it runs, one after the other:
#   regeo   geoloc regeo --fuse, one process, all cores;
#   direct  geoloc-beam --runner direct (Beam's in-process runner; it holds
#           every PCollection in memory, so its RSS is the runner's, not a
#           worker's);
#   worker  geoloc-beam --runner universal --environment_type LOOPBACK against
#           a Prism job server in its own process (the portable runner path of
#           Flink, Spark and Dataflow): this process is the SDK worker, whose
#           RSS is the "memory per worker"; Prism's own line follows (the
#           runner: it holds the shuffle, as Dataflow's shuffle service or
#           Flink's network stack would).
# For each: wall time, CPU time (user+sys), peak RSS, hops per wall-second
# and per CPU-second, and the ratio to regeo's. Then whether the answers are
# regeo's, byte for byte (sorted lines), and the fuse stage's shuffle bytes
# per distinct address (geoloc-beam's closing counters, direct runner).
# On a loaded machine compare CPU, not wall time; the load is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-232}
small=${2:-$((mb / 4))}
tmp=$(mktemp -d)
prism_pid=
cleanup() {
  [ -n "$prism_pid" ] && kill "$prism_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/geoloc" ./cmd/geoloc
go build -o "$tmp/floor" ./internal/cmd/floor
go build -o "$tmp/atlasgen" ./internal/cmd/atlasgen
(cd beam && go build -o "$tmp/geoloc-beam" ./cmd/geoloc-beam && go build -o "$tmp/prism" github.com/apache/beam/sdks/v2/go/cmd/prism)
go run ./internal/cmd/benchdb "$tmp"
# Positions for every probe id atlasgen uses (1000-60999), spread over the
# globe by a fixed rule: with them every trace has a known vantage point and
# the fuse stage has observations to group (without, it has none).
awk 'BEGIN { for (id = 1000; id < 61000; id++) printf "%d,%.2f,%.2f\n", id, (id * 7919) % 1400 / 10 - 70, (id * 104729) % 3600 / 10 - 180 }' > "$tmp/probes.csv"
dbs=(--vantage-points "$tmp/probes.csv" --db "$tmp/bench-city.mmdb" --db "$tmp/bench-dbip.mmdb" --db "$tmp/bench-asn.mmdb")
echo "$(nproc) CPUs, $(free -g | awk '/^Mem:/ {print $2}') GiB; times in seconds, RSS in MiB"

# measure NAME CMD...: wall, CPU and peak RSS of one command (GNU time),
# its standard error kept in $tmp/NAME.err.
measure() {
  local name=$1
  shift
  /usr/bin/time -f "%e %U %S %M" -o "$tmp/$name.time" "$@" 2> "$tmp/$name.err" || {
    echo "$name failed:"; tail -5 "$tmp/$name.err"; exit 1
  }
  show "$name"
}

# show NAME: one line from $tmp/NAME.time.
show() {
  local name=$1 wall user sys rss cpu
  read -r wall user sys rss < <(grep -E '^[0-9.]+ [0-9.]+ [0-9.]+ [0-9]+$' "$tmp/$name.time")
  cpu=$(echo "$user + $sys" | bc)
  eval "${name}_wall=$wall ${name}_cpu=$cpu"
  if [ "$name" = prism ]; then # its wall time is its life, idle included
    printf '  %-7s              cpu %7.1f  peak RSS %6d  (the runner)\n' "$name" "$cpu" $((rss / 1024))
    return
  fi
  printf '  %-7s wall %7.1f  cpu %7.1f  peak RSS %6d  %7.0f hops/s  %7.0f hops per CPU-second' \
    "$name" "$wall" "$cpu" $((rss / 1024)) "$(echo "$hops / $wall" | bc -l)" "$(echo "$hops / $cpu" | bc -l)"
  if [ "$name" != regeo ]; then
    printf '  (%.0f%% of regeo per wall-second, %.0f%% per CPU-second)' \
      "$(echo "100 * $regeo_wall / $wall" | bc -l)" "$(echo "100 * $regeo_cpu / $cpu" | bc -l)"
  fi
  echo
}

# same NAME PREFIX: are geoloc-beam's shards regeo's lines?
same() {
  cat "$2"-*-of-*.jsonl | sort > "$tmp/beam.sorted"
  if cmp -s "$tmp/regeo.sorted" "$tmp/beam.sorted"; then
    echo "  $1: the same $(wc -l < "$tmp/beam.sorted") results as regeo --fuse, byte for byte"
  else
    echo "  $1: results DIFFER from regeo --fuse ($(wc -l < "$tmp/beam.sorted") lines against $(wc -l < "$tmp/regeo.sorted"))"
  fi
  rm -f "$2"-*
}

for size in "$small" "$mb"; do
  in="$tmp/atlas.jsonl"
  "$tmp/atlasgen" -mb "$size" > "$in"
  hops=$("$tmp/floor" "$tmp/bench-city.mmdb" < "$in" | sed -E 's/.* ([0-9]+) hops.*/\1/')
  echo "input: $size MiB of generated RIPE Atlas results, $(wc -l < "$in") traces, $hops hops; load $(cut -d' ' -f1-3 /proc/loadavg)"

  measure regeo "$tmp/geoloc" regeo -q --fuse --ptr=false "${dbs[@]}" -o "$tmp/regeo.jsonl" "$in"
  sort "$tmp/regeo.jsonl" > "$tmp/regeo.sorted"
  rm "$tmp/regeo.jsonl"

  measure direct "$tmp/geoloc-beam" --runner direct "${dbs[@]}" --input "$in" --output "$tmp/direct"
  grep '^fuse:' "$tmp/direct.err" | sed 's/^/  direct /'
  same direct "$tmp/direct"

  port=$((20000 + RANDOM % 20000))
  /usr/bin/time -f "%e %U %S %M" -o "$tmp/prism.time" "$tmp/prism" --job_port "$port" --serve_http=false \
    --idle_shutdown_timeout 5s > "$tmp/prism.err" 2>&1 &
  prism_pid=$!
  sleep 1
  measure worker "$tmp/geoloc-beam" --runner universal --endpoint "localhost:$port" --environment_type LOOPBACK \
    "${dbs[@]}" --input "$in" --output "$tmp/worker"
  wait "$prism_pid" || true # exits 5 s after the job
  prism_pid=
  show prism
  printf '  worker+prism cpu %.1f: %.0f%% of regeo per CPU-second\n' "$(echo "$worker_cpu + $prism_cpu" | bc)" \
    "$(echo "100 * $regeo_cpu / ($worker_cpu + $prism_cpu)" | bc -l)"
  same worker "$tmp/worker"
  rm -f "$tmp/regeo.sorted" "$tmp/beam.sorted"
done
