"""The plain alternative a user writes instead of crossprobe, on the same
cells: their targets and runners come from `crossprobe plan --json`, so
the bench keeps no target table of its own."""

import shutil
import sys

from .core import REPO
from .measure import interleave, nearest_median
from .report import share


def probe_sources():
    """The shipped probes' Go sources, in the crate that embeds them."""
    d = REPO / "harness" / "templates" / "probes"
    if not d.is_dir():
        sys.exit(f"bench: no {d}: the shipped probes moved; fix benchlib/loop.py")
    return d


def shell_loop_input(b, mx, env=None):
    """bench/loop.sh's input for a matrix of shipped probes: one line a
    cell, `src|out|goos|goarch|ldflags|runner|VAR=VALUE ...`. Returns the
    file and the number of cells."""
    cells = b.plan(mx, env=env)
    src_root = b.work / "loop-src"
    probes = probe_sources()
    lines = []
    for c in cells:
        src = src_root / c["probe"]
        if not src.exists():
            src.mkdir(parents=True)
            for f in [*(probes / c["probe"]).glob("*.go"), *(probes / "_common").glob("*.go")]:
                shutil.copy(f, src / f.name)
            (src / "go.mod").write_text(
                f"module crossprobe.probe/{c['probe']}\n\ngo {b.go_minor}\n")
        runner = c["runner"]
        if runner["kind"] not in ("native", "qemu"):
            sys.exit(f"bench: loop.sh runs binaries natively or under qemu; {c['id']} "
                     f"needs {runner['kind']}")
        run = "native" if runner["kind"] == "native" else runner["binary"]
        env_words = " ".join(f"{k}={v}" for k, v in c["env"].items())
        out = b.work / "loop-out" / c["slug"]
        lines.append("|".join([str(src), str(out), c["goos"], c["goarch"],
                               c["ldflags"], run, env_words]))
    path = b.work / f"{mx.stem}.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path, len(cells)


def shell_loop(b, tsv, env):
    """bench/loop.sh over its input: go build, then run, cell after cell."""
    with open(tsv) as f:
        t = b.timed(["bash", str(REPO / "bench" / "loop.sh")], env, stdin=f)
    if t["returncode"] != 0:
        sys.exit(f"bench: loop.sh exited {t['returncode']}:\n{t['stderr'][-3000:]}")
    return t


def go_test_targets(cells):
    """The targets of `test:` cells, in plan order, each once: what the
    user's loop sets (GOOS, GOARCH, CGO_ENABLED and the cell's env axes,
    GOARM=7 and the like) and the -exec it gives go test."""
    seen, targets = set(), []
    for c in cells:
        env = {"GOOS": c["goos"], "GOARCH": c["goarch"],
               "CGO_ENABLED": "1" if c["cgo"] == "1" else "0", **c["env"]}
        runner = c["runner"]
        key = (tuple(sorted(env.items())), repr(sorted(runner.items())))
        if key in seen:
            continue
        seen.add(key)
        exec_ = []
        if runner["kind"] == "qemu":
            exec_ = [runner["binary"], *(["-cpu", runner["cpu"]] if runner.get("cpu") else [])]
            # What a user exports beside -exec qemu-…: the Debian cross
            # sysroot's path, /usr/<qemu's arch>-linux-gnu. A static test
            # binary loads nothing from it, present or not.
            env["QEMU_LD_PREFIX"] = f"/usr/{runner['binary'].removeprefix('qemu-')}-linux-gnu"
        elif runner["kind"] != "native":
            sys.exit(f"bench: the go test loop has no -exec for {runner['kind']} "
                     f"({c['id']}); add it in bench/benchlib/loop.py")
        targets.append((env, exec_))
    return targets


def go_test_loop(b, module, targets, env, *flags):
    """`GOOS=… GOARCH=… go test [-exec runner] FLAGS ./...` per target, in
    the module, one after the other: the loop a Go developer writes. Its
    exit status is not judged (failing tests are expected on some
    targets); the wall and CPU are the sums."""
    total = {"wall": 0.0, "cpu": 0.0, "load": None}
    for t_env, exec_ in targets:
        argv = ["go", "test", *flags]
        if exec_:
            argv += ["-exec", " ".join(exec_)]
        t = b.timed(argv + ["./..."], dict(env, **t_env), cwd=module)
        total["wall"] += t["wall"]
        total["cpu"] += t["cpu"]
        total["load"] = [t["load"][0] if total["load"] is None else total["load"][0], t["load"][1]]
    return total


def go_test_tables(b, rep, mx, env, loop, cold):
    """The tables every go test mode prints, crossprobe beside `loop(env,
    *flags)`: the cold pair `cold` (loop, crossprobe) unless --quick, then
    --rounds interleaved warm rounds of the loop as typed (go's test cache)
    and with -count=1, crossprobe from its result cache and with
    --no-cache. Returns each warm run's median, by name."""
    cold_loop, cold_cp = cold
    if not b.args.quick:
        rep.section("cold", "cold: empty GOCACHE")
        rep.row("loop: GOARCH=t go test -exec qemu", cold_loop)
        rep.row("crossprobe run", cold_cp, cold_loop, share(cold_cp))
    rounds = b.args.rounds
    runs = interleave(rounds, {
        "loop": lambda: loop(env),
        "loop1": lambda: loop(env, "-count=1"),
        "nocache": lambda: b.crossprobe(mx, env, "--no-cache"),
        "cached": lambda: b.crossprobe(mx, env),
    })
    med = {k: nearest_median(v) for k, v in runs.items()}
    rep.section("warm", f"warm: GOCACHE warm; median of {rounds}")
    rep.row("loop (go test's own cache)", med["loop"], runs=runs["loop"])
    rep.row("crossprobe run, result cache", med["cached"], med["loop"], runs=runs["cached"])
    rep.row("loop -count=1 (every test runs)", med["loop1"], runs=runs["loop1"])
    rep.row("crossprobe run --no-cache", med["nocache"], med["loop1"], share(med["nocache"]),
            runs["nocache"])
    return med
