#!/usr/bin/env python3
"""crossprobe against the plain alternative, side by side on the same cells.

Run with `just bench` (a release build). In one run it measures:

  cold  (empty GOCACHE), hello on 11 linux targets:
        a sequential shell loop (bench/loop.sh), `crossprobe run -j1`,
        `crossprobe run` with the default -j;
  warm  (GOCACHE warm), 110 cells: the loop again (its outputs kept),
        `run -j1 --no-cache`, `run --no-cache`, and a rerun of the unchanged
        matrix that the result cache answers;
  and   crossprobe's own CPU time against its children's (getrusage, from
        results.json `perf`), its peak memory on 500 cells, and the time of
        `crossprobe plan` on 10,000 cells.

`--shards` measures, alone, what sharding linux-arches costs a fleet: the
unsharded run, then 2 and 4 shards, each shard on an empty GOCACHE and
crossprobe cache as on a fresh CI runner, one after the other (each shard
is a runner of its own; two shards at once on this machine would share its
cores), with the cost model's error from results.json's `estimate`; and a
second nightly whose caches are restored as `ci github` restores them,
against a warm local rerun (`--nightly`: that part alone).

Everything runs with private caches (GOCACHE, XDG_CACHE_HOME) in a
temporary directory, removed at the end; the user's caches are not touched.
Warm numbers are the median of --rounds rounds.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGETS = ["amd64", "386", "arm64", "arm", "riscv64", "ppc64le", "s390x",
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


def matrix(name, probes, ldflags, tags=("",), targets=TARGETS):
    return (f"name: {name}\nprobes: {yaml_list(probes)}\nmatrix:\n"
            f"  goos: [linux]\n  goarch: {yaml_list(targets)}\n  cgo: [0]\n"
            f"  ldflags: {yaml_list(ldflags)}\n  tags: {yaml_list(tags)}\n"
            f"run:\n  timeout: 300s\n{EXPECT_599 if 'atomic64' in probes else ''}")


def find_crossprobe():
    out = subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "crossprobe",
         "--message-format=json"],
        cwd=REPO, check=True, stdout=subprocess.PIPE, text=True).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable"):
            return msg["executable"]
    sys.exit("bench: cargo built no crossprobe executable")


class Bench:
    def __init__(self, crossprobe, work, jobs):
        self.cp = crossprobe
        self.work = work
        self.jobs = jobs
        self.go_minor = ".".join(subprocess.run(
            ["go", "env", "GOVERSION"], check=True, stdout=subprocess.PIPE,
            text=True).stdout.strip().removeprefix("go").split(".")[:2])

    def env(self, gocache, xdg):
        env = dict(os.environ)
        env.pop("CROSSPROBE_NO_CACHE", None)
        env.update(GOCACHE=str(gocache), XDG_CACHE_HOME=str(xdg), GOFLAGS="",
                   GOTOOLCHAIN="local", GOWORK="off", NO_COLOR="1")
        return env

    def timed(self, argv, env, stdin=None):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(argv, env=env, stdin=stdin, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return p, wall, cpu

    def write_matrix(self, name, text):
        path = self.work / f"{name}.yaml"
        path.write_text(text)
        return path

    def crossprobe(self, mx, env, *args):
        """`crossprobe run` on one matrix file or a list of them."""
        mxs = mx if isinstance(mx, list) else [mx]
        out = self.work / "reports"
        p, wall, cpu = self.timed(
            [self.cp, "run", *map(str, mxs), "--out", str(out), *args], env)
        if p.returncode not in (0, 1):
            sys.exit(f"bench: crossprobe run {mxs[0].name} {' '.join(args)} exited "
                     f"{p.returncode}:\n{p.stderr[-3000:]}")
        cells, perf, estimate = [], {}, {}
        for m in mxs:
            res = json.loads((out / m.stem / "results.json").read_text())
            cells += res["cells"]
            perf = res.get("perf") or {}
            estimate = res.get("estimate") or {}
        unmet = [f'{c["cell"]["id"]}: {c["outcome"]} {c.get("reason") or c["verdict"]["message"]}'
                 for c in cells if not c["verdict"]["met"]]
        if unmet:
            sys.exit(f"bench: cells did not meet their expectations: {unmet[:5]}")
        return {"wall": wall, "cpu": cpu, "perf": perf, "cells": len(cells),
                "estimate": estimate}

    def loop_input(self, mx):
        """The loop's cells, from `crossprobe plan --json`: the same cells."""
        cells = json.loads(subprocess.run(
            [self.cp, "plan", str(mx), "--json"], check=True,
            stdout=subprocess.PIPE, text=True).stdout)
        src_root = self.work / "loop-src"
        lines = []
        for c in cells:
            src = src_root / c["probe"]
            if not src.exists():
                src.mkdir(parents=True)
                probes = REPO / "harness" / "templates" / "probes"
                for f in [*(probes / c["probe"]).glob("*.go"), *(probes / "_common").glob("*.go")]:
                    shutil.copy(f, src / f.name)
                (src / "go.mod").write_text(
                    f"module crossprobe.probe/{c['probe']}\n\ngo {self.go_minor}\n")
            runner = c["runner"]
            run = "native" if runner["kind"] == "native" else runner["binary"]
            env = " ".join(f"{k}={v}" for k, v in c["env"].items())
            out = self.work / "loop-out" / c["slug"]
            lines.append("|".join([str(src), str(out), c["goos"], c["goarch"],
                                    c["ldflags"], run, env]))
        path = self.work / f"{mx.stem}.tsv"
        path.write_text("\n".join(lines) + "\n")
        return path, len(cells)

    def loop(self, tsv, env):
        with open(tsv) as f:
            p, wall, cpu = self.timed(["bash", str(REPO / "bench" / "loop.sh")], env, stdin=f)
        if p.returncode != 0:
            sys.exit(f"bench: loop.sh exited {p.returncode}:\n{p.stderr[-3000:]}")
        return {"wall": wall, "cpu": cpu}


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    first = lambda argv: subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True).stdout.splitlines()[0]
    return (f"{cpu}, {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; "
            f"{first(['go', 'version'])}; {first(['qemu-aarch64', '--version'])}")


def row(label, r, base=None, extra=""):
    ratio = f"{base['wall'] / r['wall']:6.2f}x" if base else "     - "
    cpu = f"{r['cpu']:7.1f} s"
    cores = f"{r['cpu'] / r['wall']:5.2f}"
    return f"  {label:<34} {r['wall']:7.2f} s  {cpu}  {cores}  {ratio}{extra}"


def share(r):
    p = r.get("perf", {})
    if not p.get("children_cpu_ms"):
        return ""
    return f"  own CPU {100 * p['self_cpu_ms'] / p['children_cpu_ms']:.1f}% of children's"


def verdict(ok):
    return "met   " if ok else "MISSED"


# What `ci github` and `ci gitlab` cache (crossprobe's ci::cache_paths):
# under the cache root, beside the wine prefix that `doctor --fix` makes.
CACHED = ["go-build", "go-mod", "xdg/crossprobe/builds", "xdg/crossprobe/zig"]


class Runner:
    """A fresh CI runner: its own cache root, empty but for the wine prefix
    that `crossprobe doctor --fix` makes before a nightly's run."""

    def __init__(self, b, root, wine, fresh=True):
        self.b, self.root = b, root
        if not fresh:
            # The runner that ran there last, with everything it kept.
            return
        shutil.rmtree(root, ignore_errors=True)
        (root / "xdg" / "crossprobe").mkdir(parents=True)
        if wine:
            os.symlink(wine, root / "xdg" / "crossprobe" / "wine")

    def env(self):
        env = self.b.env(self.root / "go-build", self.root / "xdg")
        env["GOMODCACHE"] = str(self.root / "go-mod")
        return env

    def run(self, mx, *args):
        # A restore's writes are flushed before the timing starts, as the
        # cache step's are by the time a runner's nightly starts; else the
        # run shares the disk with hundreds of MB of writeback.
        os.sync()
        return self.b.crossprobe(mx, self.env(), "--no-cache", *args)

    def save(self, to):
        """What actions/cache saves at the end of the job."""
        shutil.rmtree(to, ignore_errors=True)
        for p in CACHED:
            if (self.root / p).exists():
                shutil.copytree(self.root / p, to / p, symlinks=True)

    def restore(self, saved, wine):
        """A new runner at this runner's path whose cache step restored
        `saved`. copytree copies with copy2, so mtimes are kept, as
        actions/cache's tar keeps them."""
        self.__init__(self.b, self.root, wine)
        for p in CACHED:
            if (saved / p).exists():
                shutil.rmtree(self.root / p, ignore_errors=True)
                shutil.copytree(saved / p, self.root / p, symlinks=True)


def model_error(r):
    e = r.get("estimate") or {}
    if not e.get("expected_ms"):
        return None
    return (e["actual_ms"] - e["expected_ms"]) / e["expected_ms"]


def wine_prefix(b, work, mx):
    """The wine prefix, made once: CI makes it with `doctor --fix` before
    the run, so it is no part of a shard's time."""
    setup = Runner(b, work / "setup", None)
    b.crossprobe(mx, setup.env(), "--no-cache", "--filter", "windows/*")
    return setup.root / "xdg" / "crossprobe" / "wine"


def linux_arches(work, timeout):
    """matrices/linux-arches.yaml, or a copy whose cells time out after
    `timeout` instead: the same cells, for a machine so loaded that a cold
    build takes longer than the matrix allows."""
    mx = REPO / "matrices" / "linux-arches.yaml"
    if not timeout:
        return mx
    text = mx.read_text()
    if "\n  timeout: 120s\n" not in text:
        sys.exit("bench: linux-arches.yaml's run.timeout moved; --timeout no longer finds it")
    copy = work / "arches" / mx.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(text.replace("\n  timeout: 120s\n", f"\n  timeout: {timeout}\n"))
    return copy


def shards_bench(b, work, rounds, mx):
    n = len(json.loads(subprocess.run([b.cp, "plan", str(mx), "--json"], check=True,
                                      stdout=subprocess.PIPE, text=True).stdout))
    wine = wine_prefix(b, work, mx)
    print(f"shards: {mx.name}, {n} cells; each run on an empty GOCACHE and crossprobe "
          f"cache, one shard after another as separate runners would")
    print(f"  {'':<22} {'wall':>9}  {'CPU':>9}  {'expected':>9}  {'actual':>9}  model error")

    def line(label, r):
        e = r.get("estimate") or {}
        err = model_error(r)
        return (f"  {label:<22} {r['wall']:7.1f} s  {r['cpu']:7.1f} s  "
                f"{e.get('expected_ms', 0) / 1000:7.1f} s  {e.get('actual_ms', 0) / 1000:7.1f} s  "
                f"{'-' if err is None else f'{100 * err:+.0f}%'}")

    whole = Runner(b, work / "whole", wine).run(mx)
    print(line("unsharded", whole), flush=True)
    fleets = {}
    for count in (2, 4):
        runs = []
        for i in range(1, count + 1):
            r = Runner(b, work / f"shard-{i}-of-{count}", wine).run(mx, "--shard", f"{i}/{count}")
            runs.append(r)
            print(line(f"shard {i}/{count} ({r['cells']} cells)", r), flush=True)
        if sum(r["cells"] for r in runs) != whole["cells"]:
            sys.exit(f"bench: {count} shards ran {sum(r['cells'] for r in runs)} cells, "
                     f"the unsharded run {whole['cells']}")
        cpu = sum(r["cpu"] for r in runs) / whole["cpu"]
        wall = max(r["wall"] for r in runs) / whole["wall"]
        fleets[count] = (cpu, wall)
        print(f"  {count} shards: CPU together {cpu:.2f}x the unsharded run's, "
              f"slowest shard's wall {wall:.2f}x", flush=True)

    print()
    nightly = second_nightly(b, work, mx, wine, rounds,
                             Runner(b, work / "shard-1-of-2", wine, fresh=False))

    print("targets:")
    for count, (cpu_max, wall_max) in [(2, (1.15, 0.6)), (4, (1.3, 0.4))]:
        cpu, wall = fleets[count]
        print(f"  {verdict(cpu <= cpu_max)} {count} shards: CPU <= {cpu_max}x: {cpu:.2f}x")
        print(f"  {verdict(wall <= wall_max)} {count} shards: slowest shard's wall <= {wall_max}x: {wall:.2f}x")
    nightly_verdict(nightly)


def second_nightly(b, work, mx, wine, rounds, first=None):
    """A second nightly of shard 1/2 on an unchanged matrix: a fresh runner
    whose cache step restored what the first nightly saved, against a warm
    rerun on the runner that kept everything, rounds interleaved.

    actions/cache restores to the paths it saved from, and `ci github`'s
    cache root is $RUNNER_TEMP/crossprobe-cache, the same path on every
    runner of a label: so the fresh runner is at the first one's path (the
    first one is moved aside meanwhile). Restored at another path, every
    build compiles its main package and links again, since Go keys those
    on the package's directory (and the build directories are under the
    root): that is measured too, and so is `ci gitlab`'s answer to a
    checkout whose path names another concurrent slot, a restore elsewhere
    used through a link at the first path."""
    if first is None:
        first = Runner(b, work / "shard-1-of-2", wine)
        first.run(mx, "--shard", "1/2")
    saved, kept = work / "saved", work / "kept"
    first.save(saved)
    slot = Runner(b, work / "slot", wine)
    elsewhere = Runner(b, work / "elsewhere", wine)
    runs = {"warm": [], "same": [], "link": [], "other": []}
    for _ in range(rounds):
        runs["warm"].append(first.run(mx, "--shard", "1/2"))
        os.rename(first.root, kept)
        first.restore(saved, wine)
        runs["same"].append(first.run(mx, "--shard", "1/2"))
        shutil.rmtree(first.root)
        # ci gitlab's way: the restore is elsewhere, the root a link to it.
        slot.restore(saved, wine)
        os.symlink(slot.root, first.root)
        runs["link"].append(first.run(mx, "--shard", "1/2"))
        os.unlink(first.root)
        os.rename(kept, first.root)
        elsewhere.restore(saved, wine)
        runs["other"].append(elsewhere.run(mx, "--shard", "1/2"))
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("wall", "cpu")}
           for k, v in runs.items()}
    med = {k: dict(v, walls=[r["wall"] for r in runs[k]]) for k, v in med.items()}
    w = med["warm"]
    print(f"second nightly of shard 1/2 ({runs['warm'][0]['cells']} cells), median of "
          f"{rounds}, rounds interleaved:")
    for k, label in [("warm", "warm local rerun"),
                     ("same", "fresh runner, caches restored"),
                     ("link", "restored elsewhere, same link"),
                     ("other", "restored at another path")]:
        r = med[k]
        print(f"  {label:<32} {r['wall']:6.1f} s wall {r['wall'] / w['wall']:5.2f}x  "
              f"{r['cpu']:6.1f} s CPU {r['cpu'] / w['cpu']:5.2f}x  "
              f"(walls {' '.join(f'{x:.1f}' for x in r['walls'])})")
    print()
    return med


def nightly_verdict(med):
    for k, what in [("same", ""), ("link", ", restored elsewhere through a link")]:
        r = med[k]["wall"] / med["warm"]["wall"]
        print(f"  {verdict(r <= 1.2)} second nightly{what} within 1.2x of a warm rerun: {r:.2f}x")


GOTEST_TARGETS = ["amd64", "386", "arm64", "s390x"]
GOTEST_QEMU = {"arm64": ("qemu-aarch64", "/usr/aarch64-linux-gnu"),
               "s390x": ("qemu-s390x", "/usr/s390x-linux-gnu")}

GOTEST_MATRIX = f"""name: bench-gotest
probes:
  - name: unit
    test: ./...
matrix:
  goos: [linux]
  goarch: {yaml_list(GOTEST_TARGETS)}
run:
  timeout: 300s
expect:
  - when: {{goarch: "386", probe: unit, test: "TestIntIs64Bits|TestOffset/large"}}
    outcome: run-fail
    reason: int is 32 bits
  - when: {{goarch: s390x, probe: unit, test: TestLengthIsLittleEndian}}
    outcome: run-fail
    reason: big-endian
  - when: {{goarch: "386", probe: unit, package: limits}}
    outcome: build-fail
    reason: overflows on 32-bit
"""


def gotest_bench(b, work, rounds, quick=False, given_gocache=None):
    """`test: ./...` on the example module over the linux targets, beside
    the loop a user writes: GOARCH=t go test -exec qemu-... ./... per target.

    Warm, the loop runs twice: as typed, where go test answers passing
    packages from its own test cache (the counterpart of crossprobe's
    result cache), and with -count=1, which runs every test binary again
    (the counterpart of --no-cache)."""
    module = work / "portable"
    shutil.copytree(REPO / "examples" / "portable", module)
    (module / "crossprobe.yaml").unlink()
    mx = module / "bench-gotest.yaml"
    mx.write_text(GOTEST_MATRIX)
    gocache, xdg = Path(given_gocache or work / "gocache"), work / "xdg"
    private = [xdg] if given_gocache else [gocache, xdg]

    def loop(env, *flags):
        t0 = time.perf_counter()
        cpu = 0.0
        for t in GOTEST_TARGETS:
            e = dict(env, GOOS="linux", GOARCH=t, CGO_ENABLED="0")
            argv = ["go", "test", *flags]
            if t in GOTEST_QEMU:
                q, prefix = GOTEST_QEMU[t]
                e["QEMU_LD_PREFIX"] = prefix
                argv += ["-exec", q]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(argv + ["./..."], cwd=module, env=e,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return {"wall": time.perf_counter() - t0, "cpu": cpu}

    header = f"  {'':<34} {'wall':>9}  {'CPU':>9}  {'cores':>5}  vs loop"
    for d in private:
        shutil.rmtree(d, ignore_errors=True)
    env = b.env(gocache, xdg)
    cold_loop = cold_cp = None
    if quick:
        # Warm, untimed: GOCACHE, go's test cache and the result cache.
        loop(env)
        cells = b.crossprobe(mx, env)["cells"]
    else:
        cold_loop = loop(env)
        for d in private:
            shutil.rmtree(d, ignore_errors=True)
        env = b.env(gocache, xdg)
        cold_cp = b.crossprobe(mx, env)
        cells = cold_cp["cells"]
    print(f"go test: the example module, {cells} cells "
          f"({len(GOTEST_TARGETS)} linux targets x packages with tests)")
    if not quick:
        print("cold: empty GOCACHE")
        print(header)
        print(row("loop: GOARCH=t go test -exec qemu", cold_loop))
        print(row("crossprobe run", cold_cp, cold_loop, share(cold_cp)))
    res = {k: [] for k in ["loop", "loop1", "nocache", "cached"]}
    # Interleaved, so that a change in the machine's load falls on all.
    for _ in range(rounds):
        res["loop"].append(loop(env))
        res["loop1"].append(loop(env, "-count=1"))
        res["nocache"].append(b.crossprobe(mx, env, "--no-cache"))
        res["cached"].append(b.crossprobe(mx, env))
    med = {k: min(v, key=lambda r, v=v: abs(r["wall"] - statistics.median(x["wall"] for x in v)))
           for k, v in res.items()}
    print(f"warm: GOCACHE warm; median of {rounds}")
    print(header)
    print(row("loop (go test's own cache)", med["loop"]))
    print(row("crossprobe run, result cache", med["cached"], med["loop"]))
    print(row("loop -count=1 (every test runs)", med["loop1"]))
    print(row("crossprobe run --no-cache", med["nocache"], med["loop1"], share(med["nocache"])))
    print(f"  (--no-cache against the loop with go's test cache: "
          f"{med['loop']['wall'] / med['nocache']['wall']:.2f}x)")
    print("targets:")
    if not quick:
        print(f"  {verdict(cold_cp['wall'] <= cold_loop['wall'])} cold no slower than the loop: "
              f"{cold_loop['wall'] / cold_cp['wall']:.2f}x")
    r = med["loop"]["wall"] / med["cached"]["wall"]
    print(f"  {verdict(r >= 10)} warm rerun from the result cache >= 10x faster: {r:.1f}x")
    r = med["loop1"]["wall"] / med["nocache"]["wall"]
    print(f"  {verdict(r >= 1.3)} warm --no-cache >= 1.3x faster than the loop -count=1: {r:.2f}x")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--crossprobe", help="the binary (default: cargo build --release)")
    ap.add_argument("--rounds", type=int, default=3, help="warm rounds; the median counts")
    ap.add_argument("--quick", action="store_true",
                    help="warm part only, one round: to try the script (with --gotest: "
                    "warmed untimed first, --rounds rounds)")
    ap.add_argument("--gocache", help="a GOCACHE to use for the warm part (default: a private "
                    "one, warmed by the cold part)")
    ap.add_argument("--sandbox", action="store_true",
                    help="only the sandbox's cost: a warm matrices/linux-arches.yaml run with "
                    "and without --no-sandbox, rounds interleaved")
    ap.add_argument("--shards", action="store_true",
                    help="only what sharding linux-arches costs (see above)")
    ap.add_argument("--nightly", action="store_true",
                    help="only --shards' second nightly: shard 1/2 of linux-arches restored "
                    "from a first nightly's caches, against a warm rerun")
    ap.add_argument("--timeout", metavar="DURATION",
                    help="with --shards or --nightly: linux-arches' cells time out after this "
                    "(e.g. 600s) instead of 120s, for a heavily loaded machine")
    ap.add_argument("--gotest", action="store_true",
                    help="only the go test case: the example module's tests over the "
                    "linux targets, beside a GOARCH=t go test -exec loop")
    args = ap.parse_args()
    cp = args.crossprobe or find_crossprobe()
    jobs = os.cpu_count() or 2
    work = Path(tempfile.mkdtemp(prefix="crossprobe-bench-"))
    b = Bench(cp, work, jobs)
    print(f"machine: {machine()}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"crossprobe: {cp}\n")
    # cores: CPU time / wall time, how much of the machine the run got.
    header = f"  {'':<34} {'wall':>9}  {'CPU':>9}  {'cores':>5}  vs loop"
    try:
        if args.gotest:
            gotest_bench(b, work, args.rounds, args.quick, args.gocache)
            print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            return
        if args.sandbox:
            sandbox_cost(b, args, work, header)
            print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            return
        if args.nightly:
            mx = linux_arches(work, args.timeout)
            nightly = second_nightly(b, work, mx, wine_prefix(b, work, mx), args.rounds)
            print("targets:")
            nightly_verdict(nightly)
            print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            return
        if args.shards:
            shards_bench(b, work, args.rounds, linux_arches(work, args.timeout))
            print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            return
        gocache = work / "gocache"
        xdg = work / "xdg"
        cold = {}
        if not args.quick:
            mx = b.write_matrix("bench-cold", matrix("bench-cold", ["hello"], [""]))
            tsv, n = b.loop_input(mx)
            print(f"cold: empty GOCACHE, {n} cells (hello on {len(TARGETS)} linux targets)")
            print(header)
            for key in ["loop", "j1", "jN"]:
                for d in [gocache, xdg, work / "loop-out"]:
                    shutil.rmtree(d, ignore_errors=True)
                env = b.env(gocache, xdg)
                if key == "loop":
                    cold[key] = b.loop(tsv, env)
                    print(row("shell loop (go build; qemu)", cold[key]), flush=True)
                else:
                    j = ["-j1"] if key == "j1" else []
                    cold[key] = b.crossprobe(mx, env, *j)
                    label = f"crossprobe run {'-j1' if j else f'(-j{jobs})'}"
                    print(row(label, cold[key], cold["loop"], share(cold[key])), flush=True)
            jn = cold["jN"]
            limit = jn["perf"]["children_cpu_ms"] / 1000 / jobs
            print(f"  physical limit (children's CPU / {jobs} cores): {limit:.2f} s; "
                  f"crossprobe -j{jobs} is {jn['wall'] / limit:.2f}x of it, having had "
                  f"{jn['cpu'] / jn['wall']:.2f} of {jobs} cores on average\n")

        mx = b.write_matrix("bench-warm", matrix("bench-warm", ["hello", "atomic64"], WARM_LDFLAGS))
        tsv, n = b.loop_input(mx)
        env = b.env(args.gocache or gocache, xdg)
        # Warm everything up once: GOCACHE, the loop's outputs, crossprobe's
        # build directories and result cache.
        b.loop(tsv, env)
        b.crossprobe(mx, env)
        rounds = {k: [] for k in ["loop", "j1", "jN", "cached"]}
        for _ in range(1 if args.quick else args.rounds):
            rounds["loop"].append(b.loop(tsv, env))
            rounds["j1"].append(b.crossprobe(mx, env, "-j1", "--no-cache"))
            rounds["jN"].append(b.crossprobe(mx, env, "--no-cache"))
            rounds["cached"].append(b.crossprobe(mx, env))
        med = {k: min(v, key=lambda r, v=v: abs(r["wall"] - statistics.median(x["wall"] for x in v)))
               for k, v in rounds.items()}
        print(f"warm: GOCACHE warm, {n} cells (hello and atomic64, {len(WARM_LDFLAGS)} ldflags, "
              f"{len(TARGETS)} targets); median of {len(rounds['loop'])}")
        print(header)
        print(row("shell loop (outputs kept)", med["loop"]))
        print(row("crossprobe run -j1 --no-cache", med["j1"], med["loop"], share(med["j1"])))
        print(row(f"crossprobe run --no-cache (-j{jobs})", med["jN"], med["loop"], share(med["jN"])))
        print(row("crossprobe run, result cache", med["cached"], med["loop"],
                  f"  {med['cached']['perf'].get('cached_cells', 0)} cells cached"))
        per100 = med["cached"]["wall"] * 100 / n
        print(f"  rerun from the result cache: {per100:.2f} s per 100 cells\n")

        mem = {}
        if not args.quick:
            # 500 cells in one run: five copies of a 100-cell matrix under
            # other names. Copies share their build plans, so this also
            # measures build dedupe: 100 builds (up to date since the warm
            # part) for 500 runs.
            mxs = [b.write_matrix(f"bench-500-{i}", matrix(
                f"bench-500-{i}", ["hello", "atomic64"], WARM_LDFLAGS, targets=TARGETS[:10]))
                for i in range(5)]
            mem = b.crossprobe(mxs, env, "--no-cache")
            rss = mem["perf"]["self_max_rss_kib"] / 1024
            print(f"memory: {mem['cells']} cells ({mem['perf']['builds']} builds, "
                  f"{mem['perf']['builds_shared']} shared) in one run: crossprobe's own peak "
                  f"RSS {rss:.1f} MiB; the run took {mem['wall']:.1f} s{share(mem)}\n")

        # 10 targets x 2 probes x 2 ldflags x 250 tags: 10,000 cells.
        tags = [f"t{i}" for i in range(250)]
        mx = b.write_matrix("bench-plan", matrix(
            "bench-plan", ["hello", "atomic64"], ["", "-s -w"], tags, TARGETS[:10]))
        plans = []
        for _ in range(3):
            p, wall, _ = b.timed([cp, "plan", str(mx)], env)
            if p.returncode != 0:
                sys.exit(f"bench: plan exited {p.returncode}:\n{p.stderr[-2000:]}")
            plans.append(wall)
        cells = p.stderr.strip().splitlines()[-1]
        plan_s = statistics.median(plans)
        print(f"plan: {cells}, {plan_s:.2f} s (median of 3)\n")

        print("targets:")
        if cold:
            jn, loop = cold["jN"], cold["loop"]
            limit = jn["perf"]["children_cpu_ms"] / 1000 / jobs
            print(f"  {verdict(jn['wall'] <= 1.15 * limit)} cold within 1.15x of the physical limit: "
                  f"{jn['wall'] / limit:.2f}x")
            print(f"  {verdict(jn['wall'] <= loop['wall'])} cold no slower than the loop: "
                  f"{loop['wall'] / jn['wall']:.2f}x faster")
        c, loop = med["cached"], med["loop"]
        print(f"  {verdict(per100 <= 1.0)} warm rerun, 100 cells in <= 1 s: {per100:.2f} s")
        print(f"  {verdict(loop['wall'] / c['wall'] >= 10)} warm rerun >= 10x faster than the loop: "
              f"{loop['wall'] / c['wall']:.1f}x")
        r = loop["wall"] / med["jN"]["wall"]
        print(f"  {verdict(r >= 1.4)} warm rebuild >= 1.4x faster than the loop: {r:.2f}x")
        shares = [(k, x) for k, x in [("cold", cold.get("jN")), ("warm", med["jN"]), ("500", mem or None)] if x]
        for k, x in shares:
            p = x["perf"]
            s = p["self_cpu_ms"] / max(p["children_cpu_ms"], 1)
            print(f"  {verdict(s <= 0.05)} own CPU <= 5% of the children's ({k}): {100 * s:.1f}%")
        if mem:
            rss = mem["perf"]["self_max_rss_kib"] / 1024
            print(f"  {verdict(rss <= 100)} peak memory <= 100 MiB at {mem['cells']} cells: {rss:.1f} MiB")
        print(f"  {verdict(plan_s < 1)} plan on 10,000 cells < 1 s: {plan_s:.2f} s")
        print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def sandbox_cost(b, args, work, header):
    """The bubblewrap sandbox around every probe run, against none: warm
    (GOCACHE, build directories), no result cache, so every cell runs."""
    mx = REPO / "matrices" / "linux-arches.yaml"
    env = b.env(Path(args.gocache) if args.gocache else work / "gocache", work / "xdg")
    # Warms GOCACHE, the build directories and the wine prefix.
    b.crossprobe(mx, env, "--no-cache")
    rounds = {"on": [], "off": []}
    for _ in range(args.rounds):
        rounds["off"].append(b.crossprobe(mx, env, "--no-cache", "--no-sandbox"))
        rounds["on"].append(b.crossprobe(mx, env, "--no-cache"))
    med = {k: min(v, key=lambda r, v=v: abs(r["wall"] - statistics.median(x["wall"] for x in v)))
           for k, v in rounds.items()}
    print(f"sandbox: warm linux-arches, {med['on']['cells']} cells, --no-cache; "
          f"median of {args.rounds}, rounds interleaved")
    print(header)
    print(row("crossprobe run --no-sandbox", med["off"]))
    print(row("crossprobe run (bwrap sandbox)", med["on"], med["off"]))
    r = med["on"]["wall"] / med["off"]["wall"]
    print("\ntargets:")
    print(f"  {verdict(r <= 1.10)} sandbox costs <= 10% of the wall time: {100 * (r - 1):+.1f}%")


if __name__ == "__main__":
    main()
