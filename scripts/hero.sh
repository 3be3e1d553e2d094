#!/bin/sh
# Makes the README's hero picture, docs/map.png: geoloc locates six real
# saved traceroutes (from jc's and rich-traceroute's test fixtures, see
# traceroute/testdata/text/SOURCES.md) from their router names and RTTs,
# offline and without any GeoIP database, writes the HTML map, and headless
# Chromium (Debian's chromium) takes a screenshot of it.
set -e
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go run ./cmd/geoloc regeo --no-db -q \
  traceroute/testdata/text/jc/centos-7.7/traceroute.out \
  traceroute/testdata/text/jc/generic/traceroute3.out \
  traceroute/testdata/text/jc/generic/traceroute6.out \
  traceroute/testdata/text/rich/samples/linux_2.txt \
  testdata/sample/ntt-tokyo-ipv6-traceroute.txt \
  -o "$out/map.html"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$out/profile" --hide-scrollbars --window-size=1400,860 \
  --screenshot="$out/map.png" "file://$out/map.html" 2>/dev/null
cp "$out/map.png" docs/map.png
echo "wrote docs/map.png"
