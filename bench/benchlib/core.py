"""One bench mode's session, and the commands it times."""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from .report import Report

REPO = Path(__file__).resolve().parent.parent.parent


def find_crossprobe():
    """The release build, built now, so that a bench never times a stale
    or a debug binary."""
    out = subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "crossprobe",
         "--message-format=json"],
        cwd=REPO, check=True, stdout=subprocess.PIPE, text=True).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable"):
            return msg["executable"]
    sys.exit("bench: cargo built no crossprobe executable")


def first_line(argv):
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return f"{argv[0]}: not found"


def machine():
    """The machine as one line (printed first) and as fields (the JSON)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        mem_gib = round(int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024)
    except (OSError, ValueError, IndexError):
        pass
    m = {"cpu": cpu, "cores": os.cpu_count(), "mem_gib": mem_gib,
         "os": f"{platform.system()} {platform.release()}",
         "go": first_line(["go", "version"]), "qemu": first_line(["qemu-aarch64", "--version"])}
    mem = f", {mem_gib} GiB" if mem_gib else ""
    text = f"{cpu}, {m['cores']} cores{mem}; {m['os']}; {m['go']}; {m['qemu']}"
    return text, m


def loadavg():
    return [round(x, 2) for x in os.getloadavg()]


def show_load(load):
    return " ".join(f"{x:.2f}" for x in load)


class Bench:
    """One mode's run: its arguments, the binary, a private work directory
    (every cache the bench uses lives there, so the user's are never
    touched), and the report it prints and writes."""

    def __init__(self, crossprobe, work, args, report):
        self.cp = crossprobe
        self.work = work
        self.args = args
        self.report = report
        self.jobs = os.cpu_count() or 2
        self._go_minor = None

    @property
    def go_minor(self):
        if self._go_minor is None:
            self._go_minor = ".".join(subprocess.run(
                ["go", "env", "GOVERSION"], check=True, stdout=subprocess.PIPE,
                text=True).stdout.strip().removeprefix("go").split(".")[:2])
        return self._go_minor

    def env(self, gocache, xdg):
        env = dict(os.environ)
        env.pop("CROSSPROBE_NO_CACHE", None)
        env.update(GOCACHE=str(gocache), XDG_CACHE_HOME=str(xdg), GOFLAGS="",
                   GOTOOLCHAIN="local", GOWORK="off", NO_COLOR="1")
        return env

    def timed(self, argv, env, stdin=None, cwd=None):
        """Runs argv to its end; its wall time, and the CPU time of it and
        every descendant it waited for (wait4's rusage: crossprobe's own
        CPU and its children's, go's and its compilers').

        Dirty pages are written back first (`sync`), so that a run never
        shares the disk with the writeback of what came before it."""
        os.sync()
        load = os.getloadavg()[0]
        with tempfile.TemporaryFile() as err:
            t0 = time.perf_counter()
            p = subprocess.Popen(argv, env=env, stdin=stdin, cwd=cwd,
                                 stdout=subprocess.DEVNULL, stderr=err)
            _, status, ru = os.wait4(p.pid, 0)
            wall = time.perf_counter() - t0
            p.returncode = os.waitstatus_to_exitcode(status)
            err.seek(0)
            stderr = err.read().decode(errors="replace")
        return {"returncode": p.returncode, "stderr": stderr, "wall": wall,
                "cpu": ru.ru_utime + ru.ru_stime,
                "load": [round(load, 2), round(os.getloadavg()[0], 2)]}

    def write_matrix(self, name, text):
        path = self.work / f"{name}.yaml"
        path.write_text(text)
        return path

    def crossprobe(self, mx, env, *args):
        """`crossprobe run` on one matrix file or a list of them. Every cell
        must meet its expectation: a bench of failing cells measures
        nothing."""
        mxs = mx if isinstance(mx, list) else [mx]
        out = self.work / "reports"
        t = self.timed([self.cp, "run", *map(str, mxs), "--out", str(out), *args], env)
        if t["returncode"] not in (0, 1):
            sys.exit(f"bench: crossprobe run {mxs[0].name} {' '.join(args)} exited "
                     f"{t['returncode']}:\n{t['stderr'][-3000:]}")
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
        return {"wall": t["wall"], "cpu": t["cpu"], "load": t["load"], "perf": perf,
                "cells": len(cells), "estimate": estimate}

    def plan(self, mx, *args, env=None, cwd=None):
        """The cells of a matrix with their runners, as `crossprobe plan
        --json` gives them: the one source of a bench's targets. Planned
        with caches of its own unless told, so that a cold run after it
        is still cold (a module's `go list` is kept between runs)."""
        if env is None:
            env = self.env(self.work / "plan" / "gocache", self.work / "plan" / "xdg")
        p = subprocess.run([self.cp, "plan", str(mx), "--json", *args], env=env, cwd=cwd,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            sys.exit(f"bench: crossprobe plan {mx} exited {p.returncode}:\n{p.stderr[-3000:]}")
        return json.loads(p.stdout)


def parser(mode, doc, rounds):
    ap = argparse.ArgumentParser(prog=f"bench/{mode}.py", description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--crossprobe", metavar="PATH",
                    help="the binary (default: cargo build --release)")
    ap.add_argument("--rounds", type=int, default=rounds, metavar="N",
                    help=f"rounds, interleaved; the median counts (default {rounds})")
    ap.add_argument("--json", metavar="FILE", type=Path,
                    default=REPO / "reports" / "bench" / f"{mode}.json",
                    help="where the figures go, machine-readable (default: "
                    f"reports/bench/{mode}.json)")
    ap.add_argument("--record", action="store_true",
                    help="also record the run for the book: bench/results/" f"{mode}.json, "
                    "and docs/src/performance.md made again (refused when tracked files "
                    "have uncommitted changes, since the run names its commit)")
    return ap


@contextmanager
def session(mode, doc, options=None, rounds=3):
    """Parses a mode's arguments (the common ones and what `options(ap)`
    adds), builds crossprobe, and prints the machine and its load. At the
    end: the load again, the JSON file (only for a run that finished), and
    the work directory removed."""
    ap = parser(mode, doc, rounds)
    if options:
        options(ap)
    args = ap.parse_args()
    cp = args.crossprobe or find_crossprobe()
    work = Path(tempfile.mkdtemp(prefix=f"crossprobe-bench-{mode}-"))
    text, fields = machine()
    rep = Report(mode, sys.argv[1:], fields, cp)
    if args.record and rep.data["repo"]["dirty"]:
        sys.exit("bench: --record: tracked files have uncommitted changes, so the run's "
                 "commit would not be what it measured: commit first")
    b = Bench(cp, work, args, rep)
    try:
        rep.line(f"machine: {text}")
        rep.data["load"]["start"] = loadavg()
        rep.line(f"load average at start: {show_load(rep.data['load']['start'])}")
        rep.line(f"crossprobe: {cp}\n")
        yield b
        rep.data["load"]["end"] = loadavg()
        rep.line(f"\nload average at end: {show_load(rep.data['load']['end'])}")
        rep.write(args.json)
        print(f"figures: {args.json}")
        if args.record:
            from .book import PageError, record
            try:
                record([mode], source=args.json)
            except PageError as e:
                sys.exit(f"bench: {e}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
