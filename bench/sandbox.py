#!/usr/bin/env python3
"""The bubblewrap sandbox around every probe run, against none.

A warm matrices/linux-arches.yaml (GOCACHE, build directories and the wine
prefix warmed by one run first), --no-cache so that every cell runs, with
and without --no-sandbox, rounds interleaved; the medians' walls compared.
"""

from pathlib import Path

from benchlib import REPO, interleave, nearest_median, session


def options(ap):
    ap.add_argument("--gocache", metavar="DIR",
                    help="a GOCACHE to use (default: a private one, warmed by a first run)")


def main():
    with session("sandbox", __doc__, options) as b:
        rep = b.report
        mx = REPO / "matrices" / "linux-arches.yaml"
        env = b.env(Path(b.args.gocache) if b.args.gocache else b.work / "gocache",
                    b.work / "xdg")
        # Warms GOCACHE, the build directories and the wine prefix.
        b.crossprobe(mx, env, "--no-cache")
        runs = interleave(b.args.rounds, {
            "off": lambda: b.crossprobe(mx, env, "--no-cache", "--no-sandbox"),
            "on": lambda: b.crossprobe(mx, env, "--no-cache"),
        })
        med = {k: nearest_median(v) for k, v in runs.items()}
        rep.section("sandbox", f"sandbox: warm linux-arches, {med['on']['cells']} cells, "
                    f"--no-cache; median of {b.args.rounds}, rounds interleaved")
        rep.row("crossprobe run --no-sandbox", med["off"], runs=runs["off"])
        rep.row("crossprobe run (bwrap sandbox)", med["on"], med["off"], runs=runs["on"])
        r = med["on"]["wall"] / med["off"]["wall"]
        rep.line("\ntargets:")
        rep.target("sandbox costs <= 10% of the wall time", f"{100 * (r - 1):+.1f}%",
                   r <= 1.10, r - 1)


if __name__ == "__main__":
    main()
