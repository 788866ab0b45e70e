"""What every bench mode shares; each mode is one script in bench/.

- `core`: the session of one mode (arguments, the release binary, private
  caches in a temporary directory, the machine and its load), timing a
  command with its children's CPU, `crossprobe run` and `plan --json`;
- `measure`: interleaved rounds and the run at their median;
- `report`: the printed table and the JSON file the docs are made from;
- `loop`: the plain alternative a user writes, built from `plan --json`;
- `ci`: fresh CI runners with restored caches (shards, second nightly).

A mode is `with session("name", __doc__) as b:` and then its own cases;
see bench/README.md.
"""

from .core import REPO, Bench, session
from .measure import interleave, median_of, nearest_median
from .report import share

__all__ = ["REPO", "Bench", "session", "interleave", "median_of", "nearest_median",
           "share"]
