#!/usr/bin/env python3
"""What sharding linux-arches costs a fleet, and a second nightly.

The unsharded run, then 2 and 4 shards, each run on an empty GOCACHE and
crossprobe cache as on a fresh CI runner, one after the other (each shard
is a runner of its own; two shards at once on this machine would share
its cores), with the cost model's error from results.json's `estimate`;
then a second nightly whose caches are restored as `ci github` restores
them, against a warm local rerun (nightly.py: that part alone).
"""

import sys

from benchlib import session
from benchlib.ci import (Runner, linux_arches, model_error, nightly_targets, second_nightly,
                         timeout_option, wine_prefix)


def line(label, r):
    e = r.get("estimate") or {}
    err = model_error(r)
    return (f"  {label:<22} {r['wall']:7.1f} s  {r['cpu']:7.1f} s  "
            f"{e.get('expected_ms', 0) / 1000:7.1f} s  {e.get('actual_ms', 0) / 1000:7.1f} s  "
            f"{'-' if err is None else f'{100 * err:+.0f}%'}")


def main():
    with session("shards", __doc__, timeout_option) as b:
        rep, work = b.report, b.work
        mx = linux_arches(b, b.args.timeout)
        n = len(b.plan(mx))
        wine = wine_prefix(b, mx)
        rep.section("shards", f"shards: {mx.name}, {n} cells; each run on an empty GOCACHE and "
                    f"crossprobe cache, one shard after another as separate runners would",
                    header=f"  {'':<22} {'wall':>9}  {'CPU':>9}  {'expected':>9}  "
                    f"{'actual':>9}  model error")

        def show(label, r, **extra):
            rep.line(line(label, r))
            rep.add(label, r, model_error=model_error(r), **extra)

        whole = Runner(b, work / "whole", wine).run(mx)
        show("unsharded", whole, shards=1)
        fleets = {}
        for count in (2, 4):
            runs = []
            for i in range(1, count + 1):
                r = Runner(b, work / f"shard-{i}-of-{count}", wine).run(
                    mx, "--shard", f"{i}/{count}")
                runs.append(r)
                show(f"shard {i}/{count} ({r['cells']} cells)", r, shards=count, shard=i)
            if sum(r["cells"] for r in runs) != whole["cells"]:
                sys.exit(f"bench: {count} shards ran {sum(r['cells'] for r in runs)} cells, "
                         f"the unsharded run {whole['cells']}")
            cpu = sum(r["cpu"] for r in runs) / whole["cpu"]
            wall = max(r["wall"] for r in runs) / whole["wall"]
            fleets[count] = (cpu, wall)
            rep.record(f"fleet_{count}", {"cpu_vs_unsharded": round(cpu, 4),
                                          "slowest_wall_vs_unsharded": round(wall, 4)})
            rep.line(f"  {count} shards: CPU together {cpu:.2f}x the unsharded run's, "
                     f"slowest shard's wall {wall:.2f}x")

        rep.line()
        med = second_nightly(b, mx, wine, b.args.rounds,
                             Runner(b, work / "shard-1-of-2", wine, fresh=False))

        rep.line("targets:")
        for count, (cpu_max, wall_max) in [(2, (1.15, 0.6)), (4, (1.3, 0.4))]:
            cpu, wall = fleets[count]
            rep.target(f"{count} shards: CPU <= {cpu_max}x", f"{cpu:.2f}x", cpu <= cpu_max, cpu)
            rep.target(f"{count} shards: slowest shard's wall <= {wall_max}x", f"{wall:.2f}x",
                       wall <= wall_max, wall)
        nightly_targets(b, med)


if __name__ == "__main__":
    main()
