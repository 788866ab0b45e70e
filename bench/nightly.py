#!/usr/bin/env python3
"""A second nightly, alone: shard 1/2 of linux-arches on a fresh CI runner
whose cache step restored what a first nightly saved, against a warm
rerun on the runner that kept everything (see benchlib/ci.py's
second_nightly; shards.py runs it after the shards)."""

from benchlib import session
from benchlib.ci import linux_arches, nightly_targets, second_nightly, timeout_option, wine_prefix


def main():
    with session("nightly", __doc__, timeout_option) as b:
        mx = linux_arches(b, b.args.timeout)
        med = second_nightly(b, mx, wine_prefix(b, mx), b.args.rounds)
        b.report.line("targets:")
        nightly_targets(b, med)


if __name__ == "__main__":
    main()
