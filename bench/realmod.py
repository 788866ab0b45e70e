#!/usr/bin/env python3
"""go test on a real module: crossprobe against the loop, on code nobody
here wrote.

github.com/cespare/xxhash/v2 v2.3.0 from the module proxy (amd64 and
arm64 assembly; TestInlining runs `go test -gcflags=-m` for its target;
./dynamic's TestMain builds a plugin), copied out of the module cache as
a checkout, `test: ./...` over linux amd64, 386, arm64 and s390x, beside
`GOOS=… GOARCH=… CGO_ENABLED=0 go test -exec qemu-… ./...` per target,
the targets and runners from `crossprobe plan --json`. The module's own
failures are expectations (TestInlining on arm64 and s390x, which inline
otherwise; ./dynamic, whose plugin needs cgo), so every cell is met.
Cold: an empty GOCACHE for each side. Warm: the loop as typed (go test's
own test cache) and with -count=1; crossprobe from the result cache and
with --no-cache. Rounds are interleaved.
"""

import json
import shutil
import subprocess

from benchlib import session
from benchlib.loop import go_test_loop, go_test_tables, go_test_targets

MODULE = "github.com/cespare/xxhash/v2@v2.3.0"
GOARCHES = ["amd64", "386", "arm64", "s390x"]


def matrix(root):
    return f"""name: bench-realmod
probes:
  - name: unit
    test: ./...
    module: {root}
matrix:
  goos: [linux]
  goarch: [{", ".join(f'"{a}"' for a in GOARCHES)}]
  cgo: ["0"]
run:
  timeout: 600s
expect:
  - when: {{probe: unit, package: dynamic}}
    outcome: run-fail
    reason: TestMain builds a plugin, which needs cgo
  - when: {{goarch: arm64, probe: unit, test: TestInlining}}
    outcome: run-fail
    reason: arm64 inlines otherwise
  - when: {{goarch: s390x, probe: unit, test: TestInlining}}
    outcome: run-fail
    reason: s390x inlines otherwise
"""


def options(ap):
    ap.add_argument("--quick", action="store_true",
                    help="no cold part: warmed untimed first, then --rounds rounds")


def main():
    with session("realmod", __doc__, options) as b:
        rep, work = b.report, b.work
        got = subprocess.run(["go", "mod", "download", "-json", MODULE],
                             check=True, stdout=subprocess.PIPE, text=True)
        module = work / "xxhash"
        shutil.copytree(json.loads(got.stdout)["Dir"], module)
        for p in [module, *module.rglob("*")]:
            p.chmod(p.stat().st_mode | 0o200)
        mx = work / "bench-realmod.yaml"
        mx.write_text(matrix(module))
        targets = go_test_targets(b.plan(mx))
        gocache, xdg = work / "gocache", work / "xdg"

        def loop(env, *flags):
            return go_test_loop(b, module, targets, env, *flags)

        def fresh():
            for d in (gocache, xdg):
                shutil.rmtree(d, ignore_errors=True)
            return b.env(gocache, xdg)

        env = fresh()
        cold_loop = cold_cp = None
        if b.args.quick:
            loop(env)
            cells = b.crossprobe(mx, env)["cells"]
        else:
            cold_loop = loop(env)
            env = fresh()
            cold_cp = b.crossprobe(mx, env)
            cells = cold_cp["cells"]
        rep.line(f"go test: {MODULE}, {cells} cells ({len(targets)} linux targets x packages)")
        med = go_test_tables(b, rep, mx, env, loop, (cold_loop, cold_cp))
        rep.line("targets:")
        if not b.args.quick:
            r = cold_loop["wall"] / cold_cp["wall"]
            rep.target("cold no slower than the loop", f"{r:.2f}x",
                       cold_cp["wall"] <= cold_loop["wall"], r)
        r = med["loop1"]["wall"] / med["nocache"]["wall"]
        rep.target("warm --no-cache >= 1.3x faster than the loop -count=1", f"{r:.2f}x",
                   r >= 1.3, r)
        r = med["loop1"]["wall"] / med["cached"]["wall"]
        rep.target("rerun from the result cache >= 50x faster than the loop -count=1",
                   f"{r:.1f}x", r >= 50, r)


if __name__ == "__main__":
    main()
