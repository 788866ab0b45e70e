"""Rounds, interleaved, and their median."""

import statistics


def interleave(rounds, cases):
    """Runs each case once per round, in the order given, round after
    round, so that a change in the machine's load falls on every case
    alike. `cases` maps a name to a function that returns a measurement
    (a dict with at least `wall`); returns each name's measurements."""
    runs = {k: [] for k in cases}
    for _ in range(rounds):
        for k, measure in cases.items():
            runs[k].append(measure())
    return runs


def nearest_median(runs):
    """The run whose wall is nearest the median wall: a real run, so its
    CPU, perf and cell count belong to the same run as its wall."""
    mid = statistics.median(r["wall"] for r in runs)
    return min(runs, key=lambda r: abs(r["wall"] - mid))


def median_of(runs, keys=("wall", "cpu")):
    """The median of each figure on its own, with every round's wall."""
    out = {k: statistics.median(r[k] for r in runs) for k in keys}
    out["walls"] = [r["wall"] for r in runs]
    return out
