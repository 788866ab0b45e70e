#!/usr/bin/env python3
"""The wine jail (each sandboxed run's own wineserver, services and prefix,
in bubblewrap) against wine unsandboxed (--no-sandbox: crossprobe's shared
prefix and its server, outside any sandbox).

A warm windows/amd64 matrix (GOCACHE, the build directories and the wine
prefix warmed by one run first), --no-cache so that every cell runs, with
and without --no-sandbox, rounds interleaved; the medians' walls and CPU
compared.
"""

from benchlib import interleave, nearest_median, session

MATRIX = """\
name: winebench
probes: [hello, atomic64, dualstack, time]
matrix:
  goos: [windows]
  goarch: [amd64]
run:
  timeout: 180s
"""


def main():
    with session("wine", __doc__) as b:
        rep = b.report
        mx = b.write_matrix("winebench", MATRIX)
        env = b.env(b.work / "gocache", b.work / "xdg")
        # Warms GOCACHE, the build directories and the wine prefix
        # (wineboot --init, ~20 s, once).
        b.crossprobe(mx, env, "--no-cache")
        runs = interleave(b.args.rounds, {
            "off": lambda: b.crossprobe(mx, env, "--no-cache", "--no-sandbox"),
            "on": lambda: b.crossprobe(mx, env, "--no-cache"),
        })
        med = {k: nearest_median(v) for k, v in runs.items()}
        rep.section("wine", f"wine jail: warm windows/amd64, {med['on']['cells']} cells, "
                    f"--no-cache; median of {b.args.rounds}, rounds interleaved")
        rep.row("crossprobe run --no-sandbox", med["off"], runs=runs["off"])
        rep.row("crossprobe run (wine jail)", med["on"], med["off"], runs=runs["on"])
        r = med["on"]["wall"] / med["off"]["wall"]
        c = med["on"]["cpu"] / med["off"]["cpu"]
        rep.line("\ntargets:")
        rep.target("the wine jail costs <= 10% of the wall time", f"{100 * (r - 1):+.1f}%",
                   r <= 1.10, r - 1)
        rep.line(f"  (CPU: {100 * (c - 1):+.1f}%)")


if __name__ == "__main__":
    main()
