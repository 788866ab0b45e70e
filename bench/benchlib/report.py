"""What a mode prints, and the same figures as JSON.

The JSON file is what the docs' performance pages are made from: the
printed text as it was (`text`), and every figure behind it as data
(`sections` of rows, `targets`, and what a mode `record`s of its own).
"""

import datetime
import json
import subprocess
from pathlib import Path

# Bumped when a field changes meaning or goes away.
SCHEMA = "crossprobe-bench/1"

# cores: CPU time / wall time, how much of the machine the run got.
HEADER = f"  {'':<34} {'wall':>9}  {'CPU':>9}  {'cores':>5}  vs loop"


def own_cpu(r):
    """crossprobe's own CPU as a share of its children's (results.json
    `perf`), or None where the run reported none."""
    p = (r or {}).get("perf") or {}
    if not p.get("children_cpu_ms"):
        return None
    return p["self_cpu_ms"] / p["children_cpu_ms"]


def share(r):
    s = own_cpu(r)
    return "" if s is None else f"  own CPU {100 * s:.1f}% of children's"


def verdict(ok):
    return "met   " if ok else "MISSED"


def git_head(repo):
    def git(*a):
        return subprocess.run(["git", "-C", str(repo), *a], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True).stdout.strip()
    head = git("rev-parse", "HEAD")
    # Changes to what no bench measures (the docs, the recorded runs) do
    # not make a run's commit wrong: recording one run changes both.
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".",
                ":(exclude)docs", ":(exclude)bench/results")
    return {"commit": head or None, "dirty": bool(dirty)}


def figures(r):
    """The JSON form of one measurement: what it took, and its load."""
    out = {k: round(r[k], 3) for k in ("wall", "cpu") if k in r}
    if r.get("wall") and "cpu" in r:
        out["cores"] = round(r["cpu"] / r["wall"], 2)
    for k in ("cells", "load", "perf", "estimate"):
        if r.get(k):
            out[k] = r[k]
    s = own_cpu(r)
    if s is not None:
        out["own_cpu_share"] = round(s, 4)
    return out


class Report:
    def __init__(self, mode, argv, machine, crossprobe):
        from .core import REPO
        self.lines = []
        self.data = {
            "schema": SCHEMA, "mode": mode, "argv": argv,
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine, "crossprobe": crossprobe, "repo": git_head(REPO),
            "load": {}, "sections": [], "targets": [], "records": {},
        }
        self._section = None
        # A row's label by its measurement, so that a ratio names its base.
        self._labels = {}

    def line(self, text=""):
        print(text, flush=True)
        self.lines.extend(text.split("\n"))

    def section(self, name, title, header=HEADER):
        """Starts a table: its title line and column header."""
        self._section = {"name": name, "title": title, "rows": []}
        self.data["sections"].append(self._section)
        if title is not None:
            self.line(title)
        if header:
            self.line(header)

    def add(self, label, r, base=None, runs=None, **extra):
        """Records a measurement of the current section without printing
        it (for a mode that prints its own line): the figures, their ratio
        to `base`'s wall, and each round's."""
        row = {"label": label, **figures(r)}
        if base:
            row["vs"] = self._labels.get(id(base))
            row["ratio"] = round(base["wall"] / r["wall"], 4)
        if runs:
            row["rounds"] = [figures({k: x[k] for k in ("wall", "cpu", "load") if k in x})
                             for x in runs]
        row.update(extra)
        self._section["rows"].append(row)
        self._labels[id(r)] = label

    def row(self, label, r, base=None, extra="", runs=None):
        """One line of the table: wall, CPU, cores, and the speed-up over
        `base` (its wall over this one's)."""
        ratio = f"{base['wall'] / r['wall']:6.2f}x" if base else "     - "
        self.line(f"  {label:<34} {r['wall']:7.2f} s  {r['cpu']:7.1f} s  "
                  f"{r['cpu'] / r['wall']:5.2f}  {ratio}{extra}")
        self.add(label, r, base, runs)

    def target(self, what, shown, ok, value=None):
        """A goal and whether this run met it: `met    what: shown`."""
        self.line(f"  {verdict(ok)} {what}: {shown}")
        self.data["targets"].append({"target": what, "shown": shown, "met": bool(ok),
                                     **({} if value is None else {"value": value})})

    def record(self, key, value):
        """A figure of the mode's own (the physical limit, plan's time, ...)."""
        self.data["records"][key] = value

    def write(self, path):
        self.data["finished"] = datetime.datetime.now(
            datetime.timezone.utc).isoformat(timespec="seconds")
        self.data["text"] = "\n".join(self.lines) + "\n"
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.data, indent=2) + "\n")
        tmp.replace(path)
