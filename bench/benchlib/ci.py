"""CI runners as a nightly meets them: fresh, or with the caches the last
night saved restored; shards; linux-arches with room for a loaded machine."""

import os
import shutil
import sys

from .core import REPO
from .measure import interleave, median_of

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
        # Timed after a sync (Bench.timed): a restore's writes are flushed,
        # as the cache step's are by the time a runner's nightly starts.
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
    """The cost model's error: the cells' durations summed against what
    it expected (results.json `estimate`)."""
    e = r.get("estimate") or {}
    if not e.get("expected_ms"):
        return None
    return (e["actual_ms"] - e["expected_ms"]) / e["expected_ms"]


def wine_prefix(b, mx):
    """The wine prefix, made once: CI makes it with `doctor --fix` before
    the run, so it is no part of a shard's time."""
    setup = Runner(b, b.work / "setup", None)
    b.crossprobe(mx, setup.env(), "--no-cache", "--filter", "windows/*")
    return setup.root / "xdg" / "crossprobe" / "wine"


def linux_arches(b, timeout):
    """matrices/linux-arches.yaml, or a copy whose cells time out after
    `timeout` instead: the same cells, for a machine so loaded that a cold
    build takes longer than the matrix allows."""
    mx = REPO / "matrices" / "linux-arches.yaml"
    if not timeout:
        return mx
    text = mx.read_text()
    if "\n  timeout: 120s\n" not in text:
        sys.exit("bench: linux-arches.yaml's run.timeout moved; --timeout no longer finds it")
    copy = b.work / "arches" / mx.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(text.replace("\n  timeout: 120s\n", f"\n  timeout: {timeout}\n"))
    return copy


def timeout_option(ap):
    ap.add_argument("--timeout", metavar="DURATION",
                    help="linux-arches' cells time out after this (e.g. 600s) instead of "
                    "120s, for a heavily loaded machine")


def second_nightly(b, mx, wine, rounds, first=None):
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
    work, rep = b.work, b.report
    if first is None:
        first = Runner(b, work / "shard-1-of-2", wine)
        first.run(mx, "--shard", "1/2")
    saved, kept = work / "saved", work / "kept"
    first.save(saved)
    slot = Runner(b, work / "slot", wine)
    elsewhere = Runner(b, work / "elsewhere", wine)
    shard = ("--shard", "1/2")

    def same():
        os.rename(first.root, kept)
        first.restore(saved, wine)
        r = first.run(mx, *shard)
        shutil.rmtree(first.root)
        return r

    def link():
        # ci gitlab's way: the restore is elsewhere, the root a link to it.
        slot.restore(saved, wine)
        os.symlink(slot.root, first.root)
        r = first.run(mx, *shard)
        os.unlink(first.root)
        os.rename(kept, first.root)
        return r

    def other():
        elsewhere.restore(saved, wine)
        return elsewhere.run(mx, *shard)

    runs = interleave(rounds, {"warm": lambda: first.run(mx, *shard), "same": same,
                               "link": link, "other": other})
    med = {k: median_of(v) for k, v in runs.items()}
    w = med["warm"]
    rep.section("nightly", f"second nightly of shard 1/2 ({runs['warm'][0]['cells']} cells), "
                f"median of {rounds}, rounds interleaved:", header=None)
    for k, label in [("warm", "warm local rerun"),
                     ("same", "fresh runner, caches restored"),
                     ("link", "restored elsewhere, same link"),
                     ("other", "restored at another path")]:
        r = med[k]
        rep.line(f"  {label:<32} {r['wall']:6.1f} s wall {r['wall'] / w['wall']:5.2f}x  "
                 f"{r['cpu']:6.1f} s CPU {r['cpu'] / w['cpu']:5.2f}x  "
                 f"(walls {' '.join(f'{x:.1f}' for x in r['walls'])})")
        rep.add(label, r, runs=runs[k], key=k, wall_vs_warm=round(r["wall"] / w["wall"], 4),
                cpu_vs_warm=round(r["cpu"] / w["cpu"], 4))
    rep.line()
    return med


def nightly_targets(b, med):
    for k, what in [("same", ""), ("link", ", restored elsewhere through a link")]:
        r = med[k]["wall"] / med["warm"]["wall"]
        b.report.target(f"second nightly{what} within 1.2x of a warm rerun", f"{r:.2f}x",
                        r <= 1.2, r)
