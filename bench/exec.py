#!/usr/bin/env python3
"""`crossprobe exec` against calling its runner by hand, side by side.

One test binary per target (linux/arm64 under qemu-aarch64, js/wasm under
node, windows/amd64 under wine64) is run --runs times each way, the two
ways interleaved so that a busy machine slows both alike. It prints the
median of each and their ratio: what `go test -exec "crossprobe exec"` costs
per test binary over a hand-written `-exec qemu-aarch64`.

    python3 bench/exec.py [--crossprobe PATH] [--runs N]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEST = 'package p\nimport "testing"\nfunc TestP(t *testing.T) {}\n'


def build(work, goos, goarch, out):
    env = dict(os.environ, GOOS=goos, GOARCH=goarch, CGO_ENABLED="0", GOFLAGS="")
    subprocess.run(["go", "test", "-c", "-o", out, "."], cwd=work, env=env, check=True)


def timed(argv, env=None):
    t = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--crossprobe", default=str(REPO / "target/release/crossprobe"))
    ap.add_argument("--runs", type=int, default=10)
    a = ap.parse_args()
    if not Path(a.crossprobe).is_file():
        sys.exit(f"bench: no {a.crossprobe}: cargo build --release, or pass --crossprobe")
    goroot = subprocess.run(["go", "env", "GOROOT"], check=True, text=True,
                            stdout=subprocess.PIPE).stdout.strip()
    wasm_exec = Path(goroot) / "lib/wasm/wasm_exec_node.js"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "crossprobe"
    wine = shutil.which("wine64") or "/usr/lib/wine/wine64"
    # As crossprobe's own prefix is set up (run::warm_up); exec warms it first.
    wine_env = dict(os.environ, WINEPREFIX=str(cache / "wine"), WINEDEBUG="-all",
                    WINEDLLOVERRIDES="winemenubuilder.exe=d;mscoree,mshtml=;bcryptprimitives=n,b")
    with tempfile.TemporaryDirectory() as work:
        Path(work, "go.mod").write_text("module p\n\ngo 1.22\n")
        Path(work, "p_test.go").write_text(TEST)
        cases = [
            ("linux/arm64", "p.arm64", ["qemu-aarch64"], None),
            ("js/wasm", "p.wasm", ["node", "--stack-size=8192", str(wasm_exec)], None),
            ("windows/amd64", "p.exe", [wine], wine_env),
        ]
        print(f"{'target':<14} {'by hand':>9} {'crossprobe exec':>16} {'ratio':>6}")
        for target, name, runner, env in cases:
            goos, goarch = target.split("/")
            binary = str(Path(work, name))
            build(work, goos, goarch, binary)
            timed([a.crossprobe, "exec", binary])  # warm-up: the wine prefix, page cache
            hand, ours = [], []
            for _ in range(a.runs):
                hand.append(timed(runner + [binary], env))
                ours.append(timed([a.crossprobe, "exec", binary]))
            h, o = statistics.median(hand), statistics.median(ours)
            print(f"{target:<14} {h:>8.3f}s {o:>15.3f}s {o / h:>6.2f}")


if __name__ == "__main__":
    main()
