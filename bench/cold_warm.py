#!/usr/bin/env python3
"""crossprobe against a plain shell loop, side by side on the same cells.

`just bench` runs this mode (a release build). In one run it measures:

  cold  (empty GOCACHE), hello on 11 linux targets:
        a sequential shell loop (bench/loop.sh), `crossprobe run -j1`,
        `crossprobe run` with the default -j;
  warm  (GOCACHE warm), 110 cells: the loop again (its outputs kept),
        `run -j1 --no-cache`, `run --no-cache`, and a rerun of the unchanged
        matrix that the result cache answers;
  and   crossprobe's own CPU time against its children's (wait4's rusage,
        and results.json `perf`), its peak memory on 500 cells, and the
        time of `crossprobe plan` on 10,000 cells.

The loop's cells and runners are the matrix's own, from `crossprobe plan
--json`. Everything runs with private caches (GOCACHE, XDG_CACHE_HOME) in
a temporary directory, removed at the end; the user's caches are not
touched. Warm numbers are the run at the median of --rounds rounds.
"""

import json
import shutil
import statistics
import sys

from benchlib import interleave, nearest_median, session, share
from benchlib.loop import shell_loop, shell_loop_input

# The GOARCH axis of the bench's matrices; their runners come from plan.
GOARCHES = ["amd64", "386", "arm64", "arm", "riscv64", "ppc64le", "s390x",
            "mips", "mipsle", "mips64le", "loong64"]
WARM_LDFLAGS = ["", "-s -w", "-s", "-w", "-X main.bench=1"]
EXPECT_599 = """expect:
  - when: {goarch: ["386", arm, mips, mipsle], probe: atomic64}
    outcome: run-fail
    match: "unaligned 64-bit atomic operation"
    reason: https://github.com/golang/go/issues/599
"""


def yaml_list(xs):
    return "[" + ", ".join(json.dumps(x) for x in xs) + "]"


def matrix(name, probes, ldflags, tags=("",), goarches=GOARCHES):
    return (f"name: {name}\nprobes: {yaml_list(probes)}\nmatrix:\n"
            f"  goos: [linux]\n  goarch: {yaml_list(goarches)}\n  cgo: [0]\n"
            f"  ldflags: {yaml_list(ldflags)}\n  tags: {yaml_list(tags)}\n"
            f"run:\n  timeout: 300s\n{EXPECT_599 if 'atomic64' in probes else ''}")


def options(ap):
    ap.add_argument("--quick", action="store_true",
                    help="the warm part only, one round, and plan: to try the script")
    ap.add_argument("--gocache", metavar="DIR",
                    help="a GOCACHE to use for the warm part (default: a private one, "
                    "warmed by the cold part)")


def cold(b, gocache, xdg):
    rep, jobs = b.report, b.jobs
    mx = b.write_matrix("bench-cold", matrix("bench-cold", ["hello"], [""]))
    tsv, n = shell_loop_input(b, mx)
    rep.section("cold", f"cold: empty GOCACHE, {n} cells (hello on {len(GOARCHES)} linux targets)")
    res = {}
    for key in ["loop", "j1", "jN"]:
        for d in [gocache, xdg, b.work / "loop-out"]:
            shutil.rmtree(d, ignore_errors=True)
        env = b.env(gocache, xdg)
        if key == "loop":
            res[key] = shell_loop(b, tsv, env)
            rep.row("shell loop (go build; qemu)", res[key])
        else:
            j = ["-j1"] if key == "j1" else []
            res[key] = b.crossprobe(mx, env, *j)
            label = f"crossprobe run {'-j1' if j else f'(-j{jobs})'}"
            rep.row(label, res[key], res["loop"], share(res[key]))
    jn = res["jN"]
    limit = jn["perf"]["children_cpu_ms"] / 1000 / jobs
    rep.record("physical_limit_s", round(limit, 3))
    rep.line(f"  physical limit (children's CPU / {jobs} cores): {limit:.2f} s; "
             f"crossprobe -j{jobs} is {jn['wall'] / limit:.2f}x of it, having had "
             f"{jn['cpu'] / jn['wall']:.2f} of {jobs} cores on average\n")
    return res, limit


def warm(b, env, rounds):
    rep, jobs = b.report, b.jobs
    mx = b.write_matrix("bench-warm", matrix("bench-warm", ["hello", "atomic64"], WARM_LDFLAGS))
    tsv, n = shell_loop_input(b, mx)
    # Warm everything up once: GOCACHE, the loop's outputs, crossprobe's
    # build directories and result cache.
    shell_loop(b, tsv, env)
    b.crossprobe(mx, env)
    runs = interleave(rounds, {
        "loop": lambda: shell_loop(b, tsv, env),
        "j1": lambda: b.crossprobe(mx, env, "-j1", "--no-cache"),
        "jN": lambda: b.crossprobe(mx, env, "--no-cache"),
        "cached": lambda: b.crossprobe(mx, env),
    })
    med = {k: nearest_median(v) for k, v in runs.items()}
    rep.section("warm", f"warm: GOCACHE warm, {n} cells (hello and atomic64, "
                f"{len(WARM_LDFLAGS)} ldflags, {len(GOARCHES)} targets); median of {rounds}")
    rep.row("shell loop (outputs kept)", med["loop"], runs=runs["loop"])
    rep.row("crossprobe run -j1 --no-cache", med["j1"], med["loop"], share(med["j1"]), runs["j1"])
    rep.row(f"crossprobe run --no-cache (-j{jobs})", med["jN"], med["loop"], share(med["jN"]),
            runs["jN"])
    rep.row("crossprobe run, result cache", med["cached"], med["loop"],
            f"  {med['cached']['perf'].get('cached_cells', 0)} cells cached", runs["cached"])
    per100 = med["cached"]["wall"] * 100 / n
    rep.record("cached_s_per_100_cells", round(per100, 4))
    rep.line(f"  rerun from the result cache: {per100:.2f} s per 100 cells\n")
    return med, per100


def memory(b, env):
    """500 cells in one run: five copies of a 100-cell matrix under other
    names. Copies share their build plans, so this also measures build
    dedupe: 100 builds (up to date since the warm part) for 500 runs."""
    rep = b.report
    mxs = [b.write_matrix(f"bench-500-{i}", matrix(
        f"bench-500-{i}", ["hello", "atomic64"], WARM_LDFLAGS, goarches=GOARCHES[:10]))
        for i in range(5)]
    mem = b.crossprobe(mxs, env, "--no-cache")
    rss = mem["perf"]["self_max_rss_kib"] / 1024
    rep.section("memory", None, header=None)
    rep.add("500 cells, --no-cache", mem)
    rep.line(f"memory: {mem['cells']} cells ({mem['perf']['builds']} builds, "
             f"{mem['perf']['builds_shared']} shared) in one run: crossprobe's own peak "
             f"RSS {rss:.1f} MiB; the run took {mem['wall']:.1f} s{share(mem)}\n")
    return mem


def plan(b, env):
    """10 targets x 2 probes x 2 ldflags x 250 tags: 10,000 cells."""
    tags = [f"t{i}" for i in range(250)]
    mx = b.write_matrix("bench-plan", matrix(
        "bench-plan", ["hello", "atomic64"], ["", "-s -w"], tags, GOARCHES[:10]))
    walls = []
    for _ in range(3):
        t = b.timed([b.cp, "plan", str(mx)], env)
        if t["returncode"] != 0:
            sys.exit(f"bench: plan exited {t['returncode']}:\n{t['stderr'][-2000:]}")
        walls.append(t["wall"])
    cells = t["stderr"].strip().splitlines()[-1]
    plan_s = statistics.median(walls)
    b.report.record("plan", {"cells": cells, "wall": round(plan_s, 4), "walls": walls})
    b.report.line(f"plan: {cells}, {plan_s:.2f} s (median of 3)\n")
    return plan_s


def targets(b, cold_res, limit, med, per100, mem, plan_s):
    rep = b.report
    rep.line("targets:")
    if cold_res:
        jn, loop = cold_res["jN"], cold_res["loop"]
        rep.target("cold within 1.15x of the physical limit", f"{jn['wall'] / limit:.2f}x",
                   jn["wall"] <= 1.15 * limit, jn["wall"] / limit)
        rep.target("cold no slower than the loop", f"{loop['wall'] / jn['wall']:.2f}x faster",
                   jn["wall"] <= loop["wall"], loop["wall"] / jn["wall"])
    c, loop = med["cached"], med["loop"]
    rep.target("warm rerun, 100 cells in <= 1 s", f"{per100:.2f} s", per100 <= 1.0, per100)
    r = loop["wall"] / c["wall"]
    rep.target("warm rerun >= 10x faster than the loop", f"{r:.1f}x", r >= 10, r)
    r = loop["wall"] / med["jN"]["wall"]
    rep.target("warm rebuild >= 1.4x faster than the loop", f"{r:.2f}x", r >= 1.4, r)
    shares = [(k, x) for k, x in [("cold", cold_res.get("jN")), ("warm", med["jN"]),
                                   ("500", mem or None)] if x]
    for k, x in shares:
        p = x["perf"]
        s = p["self_cpu_ms"] / max(p["children_cpu_ms"], 1)
        rep.target(f"own CPU <= 5% of the children's ({k})", f"{100 * s:.1f}%", s <= 0.05, s)
    if mem:
        rss = mem["perf"]["self_max_rss_kib"] / 1024
        rep.target(f"peak memory <= 100 MiB at {mem['cells']} cells", f"{rss:.1f} MiB",
                   rss <= 100, rss)
    rep.target("plan on 10,000 cells < 1 s", f"{plan_s:.2f} s", plan_s < 1, plan_s)


def main():
    with session("cold_warm", __doc__, options) as b:
        gocache, xdg = b.work / "gocache", b.work / "xdg"
        cold_res, limit = ({}, None) if b.args.quick else cold(b, gocache, xdg)
        env = b.env(b.args.gocache or gocache, xdg)
        med, per100 = warm(b, env, 1 if b.args.quick else b.args.rounds)
        mem = {} if b.args.quick else memory(b, env)
        plan_s = plan(b, env)
        targets(b, cold_res, limit, med, per100, mem, plan_s)


if __name__ == "__main__":
    main()
