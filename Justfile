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

# Does a reported failure reproduce? just repro matrices/repro/go599-atomic64.yaml [--go 1.21..1.26] [--bisect]
repro SNIPPET *ARGS:
    {{crossprobe}} repro {{SNIPPET}} {{ARGS}}

# crossprobe against a plain shell loop, cold and warm, with ratios (a release build; ~15 minutes on 2 cores)
bench *ARGS:
    python3 bench/bench.py {{ARGS}}

# `crossprobe exec` against calling qemu, node and wine by hand
bench-exec *ARGS:
    cargo build --release -q -p crossprobe
    python3 bench/exec.py {{ARGS}}
