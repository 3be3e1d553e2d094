#!/usr/bin/env bash
# Times `geoloc regeo` (and `regeo --fuse`) side by side with a baseline build
# of an earlier revision, in one run, on a simulated world of the accuracy
# benchmark (internal/accuracy/cmd/worldgen: whole paths, two city databases
# and an ASN table, vantage points withheld). Prints wall time, CPU time and
# peak RSS of each, alternating the two binaries so that load on the machine
# falls on both alike.
#
#   scripts/bench-engine.sh [BASELINE-REV [TRACES [ROUNDS]]]
#
# BASELINE-REV defaults to the last commit before the path solver (the
# engine with an inferred vantage point as a soft preference).
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-76bfeeb~2}
traces=${2:-20000}
rounds=${3:-3}
work=$(mktemp -d)
export GEOLOC_CACHE_DIR="$work/no-cache" GEOLOC_DB=   # only the databases given
trap 'git worktree remove --force "$work/base-src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
echo "== building baseline $(git rev-parse --short "$base") and current $(git rev-parse --short HEAD)"
git worktree add -q --detach "$work/base-src" "$base"
(cd "$work/base-src" && go build -o "$work/geoloc-base" ./cmd/geoloc)
go build -o "$work/geoloc-cur" ./cmd/geoloc
echo "== world: $traces traces"
go run ./internal/accuracy/cmd/worldgen -seed 1 -traces "$traces" -blind -out "$work/world"
dbs=(--db "$work/world/citydb-a.mmdb" --db "$work/world/citydb-b.mmdb" --db "$work/world/asn.mmdb")
hops=$(grep -o '"ttl"' "$work/world/traces.jsonl" | wc -l)
echo "   $hops hops"
measure() { # name binary args...
  local name=$1 bin=$2; shift 2
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$bin" regeo -q "$@" "$work/world/traces.jsonl" >/dev/null
  read -r wall user sys rss <"$work/time"
  awk -v n="$name" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v h="$hops" \
    'BEGIN { printf "%-28s wall %6.2f s  cpu %6.2f s  %8.0f hops/cpu-s  peak RSS %4.0f MB\n", n, w, u+s, h/(u+s), r/1024 }'
}
for r in $(seq "$rounds"); do
  echo "== round $r"
  measure "baseline regeo" "$work/geoloc-base" "${dbs[@]}"
  measure "current  regeo" "$work/geoloc-cur" "${dbs[@]}"
  measure "baseline regeo --fuse" "$work/geoloc-base" --fuse "${dbs[@]}"
  measure "current  regeo --fuse" "$work/geoloc-cur" --fuse "${dbs[@]}"
done
