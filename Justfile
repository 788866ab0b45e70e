# crossprobe's tasks. `just --list` shows them.

set shell := ["bash", "-euo", "pipefail", "-c"]

crossprobe := "cargo run -q -p crossprobe --"

default:
    @just --list

# Run a shipped matrix: just matrix linux-arches [-j N] [--filter PATTERN] ...
matrix NAME *ARGS:
    {{crossprobe}} run matrices/{{NAME}}.yaml {{ARGS}}

# Show a shipped matrix's cells and runners without building anything
plan NAME *ARGS:
    {{crossprobe}} plan matrices/{{NAME}}.yaml {{ARGS}}

# The whole test suite (what CI runs)
test:
    cargo test --workspace -- --test-threads 2

# Formatting and lints, as CI checks them
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo check -p crossprobe --target aarch64-apple-darwin

# Does a reported failure reproduce? just repro matrices/repro/go599-atomic64.yaml [--go 1.21..1.26] [--bisect]
repro SNIPPET *ARGS:
    {{crossprobe}} repro {{SNIPPET}} {{ARGS}}

# crossprobe against the plain alternative, with ratios: just bench [MODE] [ARGS], MODE a script in bench/ (default cold_warm, ~15 minutes on 2 cores)
bench *ARGS:
    #!/usr/bin/env bash
    set -euo pipefail
    set -- {{ARGS}}
    mode=cold_warm
    case "${1:-}" in ""|-*) ;; *) mode=$1; shift ;; esac
    if [ ! -f "bench/$mode.py" ]; then
        echo "just bench: no mode '$mode'; the modes: $(cd bench && ls *.py | sed 's/[.]py$//' | tr '\n' ' ')" >&2
        exit 2
    fi
    exec python3 "bench/$mode.py" "$@"

# `crossprobe exec` against calling qemu, node and wine by hand
bench-exec *ARGS:
    just bench exec {{ARGS}}

# Record the last run of each MODE for the book (reports/bench/MODE.json -> bench/results/), and make docs/src/performance.md again
bench-record +MODES:
    cd bench && python3 -m benchlib.book record {{MODES}}

# Build the book into target/book (mdBook, installed by scripts/setup)
book:
    mdbook build docs --dest-dir ../target/book

# Regenerate what crossprobe generates about itself (docs/src/reference/*.md, docs/src/crossprobe.schema.json) and the performance page (from bench/results/)
docs-gen:
    CROSSPROBE_BLESS=1 cargo test -q -p crossprobe --test it -- docs::

# Release archives with cargo-zigbuild into dist/: just release [TRIPLE...] (all four by default)
release *TARGETS:
    scripts/release --out dist {{TARGETS}}
