#!/bin/sh
# CPU used by the live view of `geoloc trace` with 10 targets of 100 hops,
# one round a second each (the tracer stood in for by instant answers), as a
# share of one core: the real Bubble Tea program, renderer and frame ticker,
# the per-hop statistics and the map, over the given time (default 20 s).
# Goal (issue 14): < 5% of a core.
set -e
cd "$(dirname "$0")/.."
go test -count=1 -v -run '^TestIdleCPU$' ./internal/liveview/ -args -idle "${1:-20s}" | grep '^live view'
