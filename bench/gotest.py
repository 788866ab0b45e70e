#!/usr/bin/env python3
"""go test on a module: crossprobe against the loop a Go developer writes.

`test: ./...` on the example module (examples/portable) over linux amd64,
386, arm64 and s390x, beside `GOOS=… GOARCH=… go test -exec qemu-… ./...`
per target, the targets and their runners taken from `crossprobe plan
--json` of the same matrix. Cold: an empty GOCACHE for each. Warm, the
loop runs twice: as typed, where go test answers passing packages from
its own test cache (the counterpart of crossprobe's result cache), and
with -count=1, which runs every test binary again (the counterpart of
--no-cache). Rounds are interleaved.
"""

import shutil

from benchlib import REPO, session
from benchlib.loop import go_test_loop, go_test_tables, go_test_targets

GOARCHES = ["amd64", "386", "arm64", "s390x"]

MATRIX = f"""name: bench-gotest
probes:
  - name: unit
    test: ./...
matrix:
  goos: [linux]
  goarch: [{", ".join(f'"{a}"' for a in GOARCHES)}]
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


def options(ap):
    ap.add_argument("--quick", action="store_true",
                    help="no cold part: warmed untimed first, then --rounds rounds")
    ap.add_argument("--gocache", metavar="DIR",
                    help="a GOCACHE to use (default: a private one, emptied for the cold part)")


def main():
    with session("gotest", __doc__, options) as b:
        rep, work = b.report, b.work
        module = work / "portable"
        shutil.copytree(REPO / "examples" / "portable", module)
        (module / "crossprobe.yaml").unlink()
        mx = module / "bench-gotest.yaml"
        mx.write_text(MATRIX)
        targets = go_test_targets(b.plan(mx))
        gocache = b.args.gocache or work / "gocache"
        xdg = work / "xdg"
        private = [xdg] if b.args.gocache else [gocache, xdg]

        def loop(env, *flags):
            return go_test_loop(b, module, targets, env, *flags)

        for d in private:
            shutil.rmtree(d, ignore_errors=True)
        env = b.env(gocache, xdg)
        cold_loop = cold_cp = None
        if b.args.quick:
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
        rep.line(f"go test: the example module, {cells} cells "
                 f"({len(targets)} linux targets x packages with tests)")
        med = go_test_tables(b, rep, mx, env, loop, (cold_loop, cold_cp))
        r = med["loop"]["wall"] / med["nocache"]["wall"]
        rep.record("nocache_vs_loop_with_test_cache", round(r, 4))
        rep.line(f"  (--no-cache against the loop with go's test cache: {r:.2f}x)")
        rep.line("targets:")
        if not b.args.quick:
            r = cold_loop["wall"] / cold_cp["wall"]
            rep.target("cold no slower than the loop", f"{r:.2f}x",
                       cold_cp["wall"] <= cold_loop["wall"], r)
        r = med["loop"]["wall"] / med["cached"]["wall"]
        rep.target("warm rerun from the result cache >= 10x faster", f"{r:.1f}x", r >= 10, r)
        r = med["loop1"]["wall"] / med["nocache"]["wall"]
        rep.target("warm --no-cache >= 1.3x faster than the loop -count=1", f"{r:.2f}x",
                   r >= 1.3, r)


if __name__ == "__main__":
    main()
