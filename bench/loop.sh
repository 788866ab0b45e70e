#!/usr/bin/env bash
# The plain alternative to crossprobe, as a user would write it: for each
# cell, `go build`, then run the binary under its qemu-user (or natively),
# one cell after the other. Outputs are kept per cell, so a second run finds
# them up to date, as a user's bin/ directory would be.
#
# Reads one cell a line, fields separated by `|` (a tab would merge empty
# fields):
#   SOURCE_DIR  OUTPUT  GOOS  GOARCH  LDFLAGS  RUNNER  [VAR=VALUE ...]
# where RUNNER is `native` or a qemu binary (qemu-aarch64, ...).
set -uo pipefail

failed=0
while IFS='|' read -r src out goos goarch ldflags runner vars; do
  # $vars is unquoted on purpose: zero or more VAR=VALUE words.
  # shellcheck disable=SC2086
  (cd "$src" && env $vars GOOS="$goos" GOARCH="$goarch" CGO_ENABLED=0 \
    go build -ldflags="$ldflags" -o "$out" .) || { failed=1; continue; }
  if [ "$runner" = native ]; then
    "$out"
  else
    "$runner" "$out"
  fi >/dev/null 2>&1
done
exit "$failed"
