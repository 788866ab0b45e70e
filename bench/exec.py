#!/usr/bin/env python3
"""`crossprobe exec` against calling its runner by hand, side by side.

One trivial test binary per target (linux/arm64, js/wasm, windows/amd64;
the runner of each from `crossprobe plan --json`: qemu-user, node with
Go's wasm_exec_node.js, wine) is run --rounds times each way, the two
ways interleaved so that a busy machine slows both alike. It prints the
median of each and their ratio: what `go test -exec "crossprobe exec"`
costs per test binary over a hand-written `-exec qemu-aarch64`.

`just bench-exec` (or `just bench exec`) runs it. The runners use the
user's crossprobe cache, as `crossprobe exec` does (its wine prefix).
"""

import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from benchlib import interleave, session

TEST = 'package p\nimport "testing"\nfunc TestP(t *testing.T) {}\n'
MATRIX = """name: bench-exec
probes: [hello]
matrix:
  goos: [linux]
  goarch: [arm64]
  include:
    - {goos: js, goarch: wasm}
    - {goos: windows, goarch: amd64}
"""


def by_hand(runner, env):
    """The argv and environment a user gives go test's -exec for a runner,
    as crossprobe's own wine prefix is set up (run::warm_up)."""
    kind = runner["kind"]
    if kind == "qemu":
        return [runner["binary"], *(["-cpu", runner["cpu"]] if runner.get("cpu") else [])], None
    if kind == "node":
        goroot = subprocess.run(["go", "env", "GOROOT"], check=True, text=True,
                                stdout=subprocess.PIPE).stdout.strip()
        return ["node", "--stack-size=8192", str(Path(goroot) / "lib/wasm/wasm_exec_node.js")], None
    if kind == "wine":
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "crossprobe"
        loader = shutil.which(runner["binary"]) or f"/usr/lib/wine/{runner['binary']}"
        return [loader], dict(env, WINEPREFIX=str(cache / "wine"), WINEDEBUG="-all",
                              WINEDLLOVERRIDES="winemenubuilder.exe=d;mscoree,mshtml=;"
                              "bcryptprimitives=n,b")
    sys.exit(f"bench: no by-hand call for runner {kind}; add it to bench/exec.py")


def main():
    with session("exec", __doc__, rounds=10) as b:
        rep, work = b.report, b.work / "module"
        work.mkdir()
        (work / "go.mod").write_text("module p\n\ngo 1.22\n")
        (work / "p_test.go").write_text(TEST)
        cells = b.plan(b.write_matrix("bench-exec", MATRIX))
        env = dict(os.environ)
        rep.section("exec", f"crossprobe exec against the runner by hand; median of "
                    f"{b.args.rounds}, interleaved",
                    header=f"{'target':<14} {'by hand':>9} {'crossprobe exec':>16} {'ratio':>6}")

        def run(argv, e):
            t = b.timed(argv, e)
            if t["returncode"] != 0:
                sys.exit(f"bench: {' '.join(argv)} exited {t['returncode']}:\n"
                         f"{t['stderr'][-2000:]}")
            return t

        for c in cells:
            target = f"{c['goos']}/{c['goarch']}"
            binary = str(work / f"p.{c['goos']}-{c['goarch']}")
            subprocess.run(["go", "test", "-c", "-o", binary, "."], cwd=work, check=True,
                           env=dict(env, GOOS=c["goos"], GOARCH=c["goarch"], CGO_ENABLED="0",
                                    GOFLAGS="", **c["env"]))
            runner, runner_env = by_hand(c["runner"], env)
            run([b.cp, "exec", binary], env)  # warm-up: the wine prefix, page cache
            runs = interleave(b.args.rounds, {
                "hand": lambda: run(runner + [binary], runner_env or env),
                "ours": lambda: run([b.cp, "exec", binary], env),
            })
            h = statistics.median(r["wall"] for r in runs["hand"])
            o = statistics.median(r["wall"] for r in runs["ours"])
            rep.line(f"{target:<14} {h:>8.3f}s {o:>15.3f}s {o / h:>6.2f}")
            rep.add(target, {"wall": o}, runner=c["runner"]["kind"], by_hand_wall=round(h, 4),
                    cost_ratio=round(o / h, 4),
                    rounds={k: [round(r["wall"], 4) for r in v] for k, v in runs.items()})


if __name__ == "__main__":
    main()
