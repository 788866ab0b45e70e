#!/usr/bin/env python3
"""The confinement of every cell, against none, and in its parts.

A warm matrices/linux-arches.yaml (GOCACHE, build directories and the wine
prefix warmed by one run first), --no-cache so that every cell builds and
runs, rounds interleaved, four ways:

  none      --no-sandbox, run.memory and run.processes none: the engine
            alone;
  cgroup    --no-sandbox: the memory and pids cgroups around each build
            and run;
  bwrap     run.memory and run.processes none: bubblewrap around each
            build and run;
  both      as a user runs it.

The medians' walls and CPU (crossprobe's and every child's, bwrap's
namespaces included) are compared with `none`. With --base-crossprobe, a
crossprobe of an earlier commit (one from before the sandbox, such as
50a8ebe) runs the plain matrix with --no-sandbox in the same rounds: the
engine against the engine, each with nothing around its cells.
"""

from pathlib import Path

from benchlib import REPO, interleave, nearest_median, session


def options(ap):
    ap.add_argument("--gocache", metavar="DIR",
                    help="a GOCACHE to use (default: a private one, warmed by a first run)")
    ap.add_argument("--base-crossprobe", metavar="PATH",
                    help="a crossprobe of an earlier commit to run unconfined beside "
                    "`none` (its matrix without run.memory, which it may not know)")


def main():
    with session("sandbox", __doc__, options) as b:
        rep = b.report
        mx = REPO / "matrices" / "linux-arches.yaml"
        # The same matrix, its cells' memory and process bounds lifted (no
        # cgroup then; another name, so that its reports go elsewhere; the
        # build directories are shared).
        text = mx.read_text().replace("name: linux-arches", "name: linux-arches-nomem", 1)
        nomem = b.work / "linux-arches-nomem.yaml"
        nomem.write_text(text.replace("\nrun:\n", "\nrun:\n  memory: none\n  processes: none\n", 1))
        env = b.env(Path(b.args.gocache) if b.args.gocache else b.work / "gocache",
                    b.work / "xdg")
        # Warms GOCACHE, the build directories and the wine prefix.
        b.crossprobe(mx, env, "--no-cache")
        ways = {
            "none": lambda: b.crossprobe(nomem, env, "--no-cache", "--no-sandbox"),
            "cgroup": lambda: b.crossprobe(mx, env, "--no-cache", "--no-sandbox"),
            "bwrap": lambda: b.crossprobe(nomem, env, "--no-cache"),
            "both": lambda: b.crossprobe(mx, env, "--no-cache"),
        }
        base = b.args.base_crossprobe
        if base:
            def base_run():
                ours, b.cp = b.cp, base
                try:
                    return b.crossprobe(mx, env, "--no-cache", "--no-sandbox")
                finally:
                    b.cp = ours
            base_run()  # its own build directories and result keys
            ways["base"] = base_run
        runs = interleave(b.args.rounds, ways)
        med = {k: nearest_median(v) for k, v in runs.items()}
        rep.section("sandbox", f"sandbox: warm linux-arches, {med['both']['cells']} cells, "
                    f"--no-cache; median of {b.args.rounds}, rounds interleaved")
        none = med["none"]
        rep.row("--no-sandbox, no cgroup", none, runs=runs["none"])
        rep.row("cgroups only (--no-sandbox)", med["cgroup"], none, runs=runs["cgroup"])
        rep.row("bwrap only (no cgroup)", med["bwrap"], none, runs=runs["bwrap"])
        rep.row("bwrap and cgroup (as run)", med["both"], none, runs=runs["both"])
        if base:
            rep.row("base commit, --no-sandbox", med["base"], none, runs=runs["base"])
        rep.line("\ncost over none (wall, CPU):")
        for k in ("cgroup", "bwrap", "both"):
            w = med[k]["wall"] / none["wall"] - 1
            c = med[k]["cpu"] / none["cpu"] - 1
            rep.line(f"  {k:<8} {100 * w:+6.1f}%  {100 * c:+6.1f}%")
            rep.record(f"{k}_cost", {"wall": round(w, 4), "cpu": round(c, 4)})
        if base:
            c = med["base"]["cpu"] / none["cpu"] - 1
            rep.line(f"  base engine against this one, both unconfined: CPU {100 * c:+.1f}%")
            rep.record("base_cpu_over_head", round(c, 4))
        r = med["both"]["wall"] / none["wall"]
        rep.line("\ntargets:")
        rep.target("sandbox and cgroups cost <= 10% of the wall time",
                   f"{100 * (r - 1):+.1f}%", r <= 1.10, r - 1)


if __name__ == "__main__":
    main()
