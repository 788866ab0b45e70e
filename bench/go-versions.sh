#!/bin/sh
# Measures a Go-version sweep: first with an empty module cache and GOCACHE
# (each release downloaded, its standard library compiled), then again with
# both warm. Caches live in a temporary directory, so the user's are
# neither used nor touched.
#
#   sh bench/go-versions.sh [VERSIONS]     default: 1.21..1.23
#
# Measured here (2 cores shared with other jobs, load average 15-25), with
# --go 1.21..1.23 (go1.21.13, go1.22.12, go1.23.12):
#   first (3 x ~70 MB fetched side by side, std built for each): 213 s
#     (user 58 s: the wall time is mostly the shared CPU)
#   cached rerun: 6.7 s (2.1 s with the machine less loaded)
#   one release alone, `GOTOOLCHAIN=go1.X.Y go env GOROOT`: 9-20 s
#   module cache: 894 MB for the three (zip + unpacked tree each)
set -eu
versions=${1:-1.21..1.23}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build -q --manifest-path "$root/Cargo.toml" -p crossprobe
bin="${CARGO_TARGET_DIR:-$root/target}/debug/crossprobe"
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
run() {
    start=$(date +%s.%N)
    GOMODCACHE="$tmp/mod" GOCACHE="$tmp/build" "$bin" repro \
        "$root/matrices/repro/go60078-loopvar.yaml" --go "$versions" --out "$tmp/reports" >/dev/null 2>&1 || true
    end=$(date +%s.%N)
    echo "$1: $(echo "$end - $start" | bc) s"
}
run "first (download + std build)"
run "cached rerun"
du -sh "$tmp/mod" | sed 's/^/module cache: /'
