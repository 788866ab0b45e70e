//! `--shard i/n`: which of the expanded cells this run takes.
//!
//! Shards split the work rather than repeat it. A fresh runner's first
//! build for a target compiles the standard library (8-15 s of CPU here),
//! and cells of one build *family* (the pipeline's key: Go, target, cgo, C
//! compiler, buildmode, tags, flags, build env) share that build. So a
//! family goes to one shard whole and the fleet pays its cold build once;
//! hashing cells one by one had every shard of linux-arches build all 13
//! targets, for 1.9x the CPU and 3% of the wall.
//!
//! - **Cost.** A family costs its cold build plus its cells. When a
//!   previous run timed any of its cells (`--durations`), the family costs
//!   what they did: that run paid whatever cold build it had, and its
//!   cells it did not time cost the median timed cell. Otherwise it costs a
//!   per-target cold build and a warm build and run per cell (the
//!   scheduler's guesses). Units are cell milliseconds summed, the unit
//!   results.json records, so each run's `estimate` holds its error.
//! - **Balance.** Families are dealt largest first, each to the shard with
//!   the least expected cost so far (LPT scheduling); ties go by family
//!   key, then to the lowest shard.
//! - **Oversized families split.** A family bigger than a fair share
//!   (total / shards) would leave one shard with most of the work: it is
//!   split into as many parts as it has fair shares, each part paying the
//!   cold build again, and the parts go to different shards where they can.
//!   `plan --shard` says so.
//! - **Determinism.** Everything above depends on the set of cells and the
//!   durations, never on their order, so every shard computes the same
//!   split, and the shards together hold every cell exactly once.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::axis::family;
use crate::model::{Cell, CellResult, FamilyCost, Results, Runner, ShardCost};
use crate::schedule::{guess_run_ms, GUESS_BUILD_MS};

/// One shard of `count`, numbered from 1 as in `--shard 1/4`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("shard {s:?} is not of the form i/n, e.g. 1/4"))?;
        let num = |part: &str, what: &str| {
            part.trim()
                .parse::<usize>()
                .map_err(|_| format!("shard {s:?}: {what} {part:?} is not a whole number"))
        };
        let (index, count) = (num(i, "the index")?, num(n, "the count")?);
        if count == 0 {
            return Err(format!("shard {s:?}: the count must be at least 1"));
        }
        if index == 0 || index > count {
            return Err(format!(
                "shard {s:?}: the index must be between 1 and {count} (shards are numbered from 1)"
            ));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Expected milliseconds per cell, keyed by matrix and cell id.
#[derive(Clone, Debug, Default)]
pub struct Durations(BTreeMap<(String, String), u64>);

impl Durations {
    /// Durations from a previous run. Merged results hold a cell once per
    /// runner: `runner`'s own entries win, and cells it did not run take
    /// the mean of the others.
    pub fn from_results(results: &Results, runner: &str) -> Durations {
        let mut all: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
        let mut own: BTreeMap<(String, String), u64> = BTreeMap::new();
        for r in &results.cells {
            // A merged id carries an `@runner` suffix that a plain run's id
            // does not: key on the id as expand makes it.
            let id = match &r.ran_on {
                Some(on) => r
                    .cell
                    .id
                    .strip_suffix(&format!("@{on}"))
                    .unwrap_or(&r.cell.id),
                None => &r.cell.id,
            };
            let key = (r.cell.matrix.clone(), id.to_string());
            if r.ran_on.as_deref() == Some(runner) {
                own.insert(key.clone(), r.duration_ms);
            }
            all.entry(key).or_default().push(r.duration_ms);
        }
        let mut d: BTreeMap<_, _> = all
            .into_iter()
            .map(|(k, v)| (k, v.iter().sum::<u64>() / v.len() as u64))
            .collect();
        d.extend(own);
        Durations(d)
    }

    fn get(&self, c: &Cell) -> Option<u64> {
        self.0.get(&(c.matrix.clone(), c.id.clone())).copied()
    }

    fn median(&self) -> Option<u64> {
        let mut v: Vec<u64> = self.0.values().copied().collect();
        v.sort_unstable();
        v.get(v.len() / 2).copied()
    }
}

/// A cold standard-library build, in a cell's wall milliseconds on two
/// cores: what a family's first build adds on an empty GOCACHE. js/wasm
/// and windows build more of std than a Linux port.
fn cold_ms(c: &Cell) -> u64 {
    match c.goos.as_str() {
        "js" | "wasip1" | "windows" | "darwin" => 9000,
        _ => 7000,
    }
}

/// A warm build and a run, for a cell no previous run timed.
fn guess_ms(c: &Cell) -> u64 {
    let run = match &c.runner {
        Runner::None { .. } => 0,
        r => guess_run_ms(r),
    };
    GUESS_BUILD_MS + run
}

/// A part of a family bound for one shard.
struct Part {
    family: String,
    /// Index among the family's parts, and their number.
    part: (usize, usize),
    from_durations: bool,
    cold_ms: u64,
    /// Indexes into the cells, with each one's expected cost.
    cells: Vec<(usize, u64)>,
}

impl Part {
    fn cost(&self) -> u64 {
        self.cold_ms + self.cells.iter().map(|c| c.1).sum::<u64>()
    }
}

/// Every shard's share of `cells`, in shard order.
pub fn plan(cells: &[Cell], count: usize, durations: &Durations) -> Vec<Planned> {
    let typical = durations.median();
    let mut families: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, c) in cells.iter().enumerate() {
        families.entry(family(c)).or_default().push(i);
    }
    let key = |i: usize| (&cells[i].matrix, &cells[i].id);
    let mut whole: Vec<Part> = families
        .into_iter()
        .map(|(family, mut members)| {
            members.sort_by_key(|&i| key(i));
            let timed = members.iter().any(|&i| durations.get(&cells[i]).is_some());
            let cost = |i: usize| {
                let c = &cells[i];
                durations
                    .get(c)
                    .or(typical)
                    .unwrap_or_else(|| guess_ms(c))
                    .max(1)
            };
            Part {
                cold_ms: if timed {
                    0
                } else {
                    cold_ms(&cells[members[0]])
                },
                from_durations: timed,
                cells: members.iter().map(|&i| (i, cost(i))).collect(),
                part: (0, 1),
                family,
            }
        })
        .collect();
    let total: u64 = whole.iter().map(Part::cost).sum();
    let fair = total.div_ceil(count as u64).max(1);
    let mut parts = Vec::new();
    for p in whole.drain(..) {
        let n = (p.cost().div_ceil(fair) as usize)
            .min(count)
            .min(p.cells.len());
        if n <= 1 {
            parts.push(p);
            continue;
        }
        // Each further part compiles std again: a timed family's cold
        // build is in its durations once, so the others add a guess.
        let cold = if p.from_durations {
            cold_ms(&cells[p.cells[0].0])
        } else {
            p.cold_ms
        };
        let mut split: Vec<Part> = (0..n)
            .map(|k| Part {
                family: p.family.clone(),
                part: (k, n),
                from_durations: p.from_durations,
                cold_ms: if p.from_durations && k == 0 { 0 } else { cold },
                cells: Vec::new(),
            })
            .collect();
        let mut members = p.cells;
        members.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| key(a.0).cmp(&key(b.0))));
        for m in members {
            let k = (0..n)
                .min_by_key(|&k| (split[k].cost(), k))
                .expect("n is at least 2");
            split[k].cells.push(m);
        }
        parts.extend(split);
    }
    parts.sort_by(|a, b| {
        b.cost()
            .cmp(&a.cost())
            .then_with(|| (&a.family, a.part).cmp(&(&b.family, b.part)))
    });
    let mut shards: Vec<Vec<Part>> = (0..count).map(|_| Vec::new()).collect();
    for p in parts {
        let load = |s: &Vec<Part>| s.iter().map(Part::cost).sum::<u64>();
        let s = (0..count)
            .min_by_key(|&s| {
                let shared = shards[s].iter().any(|q| q.family == p.family);
                (shared, load(&shards[s]), s)
            })
            .expect("count is at least 1");
        shards[s].push(p);
    }
    shards
        .into_iter()
        .enumerate()
        .map(|(s, mut parts)| {
            parts.sort_by(|a, b| (&a.family, a.part).cmp(&(&b.family, b.part)));
            Planned::new(
                cells,
                Shard {
                    index: s + 1,
                    count,
                },
                parts,
            )
        })
        .collect()
}

/// One shard's cells, and their expected cost.
pub struct Planned {
    /// Indexes into the cells, in their original order.
    pub cells: Vec<usize>,
    pub cost: ShardCost,
}

impl Planned {
    fn new(cells: &[Cell], shard: Shard, parts: Vec<Part>) -> Planned {
        let mut members: Vec<usize> = parts
            .iter()
            .flat_map(|p| p.cells.iter().map(|c| c.0))
            .collect();
        members.sort_unstable();
        let mut split: Vec<String> = parts
            .iter()
            .filter(|p| p.part.1 > 1)
            .map(|p| p.family.clone())
            .collect();
        split.dedup();
        let families: Vec<FamilyCost> = parts
            .iter()
            .map(|p| {
                let mut ids: Vec<String> = p.cells.iter().map(|c| cells[c.0].id.clone()).collect();
                ids.sort();
                FamilyCost {
                    family: p.family.clone(),
                    part: (p.part.1 > 1).then(|| format!("{}/{}", p.part.0 + 1, p.part.1)),
                    source: if p.from_durations {
                        "durations"
                    } else {
                        "estimate"
                    }
                    .into(),
                    cold_ms: p.cold_ms,
                    expected_ms: p.cost(),
                    actual_ms: None,
                    error_ms: None,
                    cells: ids,
                }
            })
            .collect();
        Planned {
            cells: members,
            cost: ShardCost {
                shard: shard.to_string(),
                expected_ms: families.iter().map(|f| f.expected_ms).sum(),
                actual_ms: None,
                error_ms: None,
                split,
                families,
            },
        }
    }
}

/// The cells of `shard`, in their original order, and their expected cost.
pub fn split(cells: Vec<Cell>, shard: Shard, durations: &Durations) -> (Vec<Cell>, ShardCost) {
    let mut plans = plan(&cells, shard.count, durations);
    let mine = plans.swap_remove(shard.index - 1);
    let mut take = vec![false; cells.len()];
    for &i in &mine.cells {
        take[i] = true;
    }
    let cells = cells
        .into_iter()
        .zip(take)
        .filter_map(|(c, t)| t.then_some(c))
        .collect();
    (cells, mine.cost)
}

/// `cost` beside what `results` (one matrix's share of the run) took: the
/// families and cells it ran, with each one's actual and error.
pub fn settle(cost: &ShardCost, results: &[CellResult]) -> ShardCost {
    let took: BTreeMap<&str, u64> = results
        .iter()
        .map(|r| (r.cell.id.as_str(), r.duration_ms))
        .collect();
    let families: Vec<FamilyCost> = cost
        .families
        .iter()
        .filter(|f| f.cells.iter().any(|c| took.contains_key(c.as_str())))
        .map(|f| {
            let actual: u64 = f.cells.iter().filter_map(|c| took.get(c.as_str())).sum();
            FamilyCost {
                actual_ms: Some(actual),
                error_ms: Some(actual as i64 - f.expected_ms as i64),
                ..f.clone()
            }
        })
        .collect();
    let expected: u64 = families.iter().map(|f| f.expected_ms).sum();
    let actual: u64 = families.iter().filter_map(|f| f.actual_ms).sum();
    ShardCost {
        shard: cost.shard.clone(),
        expected_ms: expected,
        actual_ms: Some(actual),
        error_ms: Some(actual as i64 - expected as i64),
        split: cost.split.clone(),
        families,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(id: &str, goarch: &str, runner: Runner) -> Cell {
        Cell {
            id: id.into(),
            slug: id.replace('/', "_"),
            matrix: "m".into(),
            probe: "hello".into(),
            goos: "linux".into(),
            goarch: goarch.into(),
            go: "local".into(),
            cgo: "0".into(),
            runner,
            ..Cell::default()
        }
    }

    /// Ten targets of four cells each, on every kind of runner.
    fn cells() -> Vec<Cell> {
        (0..40)
            .map(|i| {
                let r = match i % 4 {
                    0 => Runner::Native,
                    1 => Runner::Wine {
                        binary: "wine64".into(),
                    },
                    2 => Runner::Node,
                    _ => Runner::None {
                        reason: "no runner".into(),
                        missing: None,
                    },
                };
                cell(&format!("linux/a{}/{i}", i / 4), &format!("a{}", i / 4), r)
            })
            .collect()
    }

    fn ids(cells: &[Cell]) -> Vec<String> {
        let mut v: Vec<String> = cells.iter().map(|c| c.id.clone()).collect();
        v.sort();
        v
    }

    fn take(all: &[Cell], index: usize, count: usize, d: &Durations) -> Vec<Cell> {
        split(all.to_vec(), Shard { index, count }, d).0
    }

    #[test]
    fn parses_and_refuses() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(
            "3/2".parse::<Shard>().unwrap_err(),
            "shard \"3/2\": the index must be between 1 and 2 (shards are numbered from 1)"
        );
        assert!("0/2"
            .parse::<Shard>()
            .unwrap_err()
            .contains("between 1 and 2"));
        assert!("1/0".parse::<Shard>().unwrap_err().contains("at least 1"));
        assert!("2"
            .parse::<Shard>()
            .unwrap_err()
            .contains("of the form i/n"));
        assert!("a/2"
            .parse::<Shard>()
            .unwrap_err()
            .contains("\"a\" is not a whole number"));
    }

    #[test]
    fn shards_cover_every_cell_once_whatever_the_order() {
        let all = cells();
        let mut reversed = all.clone();
        reversed.reverse();
        let mut rotated = all.clone();
        rotated.rotate_left(13);
        let d = Durations::default();
        let mut seen = Vec::new();
        for index in 1..=3 {
            let a = ids(&take(&all, index, 3, &d));
            assert_eq!(a, ids(&take(&reversed, index, 3, &d)));
            assert_eq!(a, ids(&take(&rotated, index, 3, &d)));
            seen.extend(a);
        }
        seen.sort();
        assert_eq!(seen, ids(&all));
    }

    #[test]
    fn a_family_stays_in_one_shard() {
        let all = cells();
        let d = Durations::default();
        for index in 1..=4 {
            let (mine, cost) = split(all.clone(), Shard { index, count: 4 }, &d);
            for c in &mine {
                let fam = family(c);
                assert!(
                    all.iter()
                        .filter(|o| family(o) == fam)
                        .all(|o| mine.iter().any(|m| m.id == o.id)),
                    "{fam} is split"
                );
            }
            assert!(cost.split.is_empty());
            assert_eq!(
                cost.families.iter().map(|f| f.cells.len()).sum::<usize>(),
                mine.len()
            );
            assert!(cost.families.iter().all(|f| f.cold_ms == 7000));
        }
    }

    #[test]
    fn split_is_balanced_by_cost() {
        let all = cells();
        let costs: Vec<u64> = plan(&all, 4, &Durations::default())
            .iter()
            .map(|p| p.cost.expected_ms)
            .collect();
        let (min, max) = (costs.iter().min().unwrap(), costs.iter().max().unwrap());
        // LPT's bound: no shard exceeds another by more than the largest
        // family.
        let family = 7000 + 4 * GUESS_BUILD_MS + 1500 + 700 + 50;
        assert!(max - min <= family, "{costs:?}");
        assert_eq!(
            costs.iter().sum::<u64>(),
            plan(&all, 1, &Durations::default())[0].cost.expected_ms
        );
    }

    #[test]
    fn previous_durations_steer_the_split() {
        let all: Vec<Cell> = (0..4)
            .map(|i| cell(&format!("c{i}"), &format!("a{i}"), Runner::Native))
            .collect();
        let mut d = Durations::default();
        // One slow family should have a shard to itself.
        d.0.insert(("m".into(), "c2".into()), 60_000);
        for (i, c) in all.iter().enumerate().filter(|(i, _)| *i != 2) {
            d.0.insert((c.matrix.clone(), c.id.clone()), 1000 + i as u64);
        }
        let (first, cost) = split(all.clone(), Shard { index: 1, count: 2 }, &d);
        assert_eq!(ids(&first), vec!["c2"]);
        assert_eq!(cost.expected_ms, 60_000);
        assert_eq!(cost.families[0].source, "durations");
        assert_eq!(take(&all, 2, 2, &d).len(), 3);
    }

    #[test]
    fn an_oversized_family_is_split_and_says_so() {
        // One target of twelve cells beside two small ones: kept whole,
        // it would hold most of the work.
        let mut all: Vec<Cell> = (0..12)
            .map(|i| cell(&format!("big/{i:02}"), "big", Runner::Native))
            .collect();
        all.push(cell("s1", "s1", Runner::Native));
        all.push(cell("s2", "s2", Runner::Native));
        let plans = plan(&all, 2, &Durations::default());
        for p in &plans {
            assert_eq!(p.cost.split.len(), 1, "{:?}", p.cost);
            let big: Vec<&FamilyCost> = p
                .cost
                .families
                .iter()
                .filter(|f| f.family.contains("big"))
                .collect();
            assert_eq!(big.len(), 1);
            assert!(big[0].part.is_some());
            assert_eq!(big[0].cold_ms, 7000, "each part pays the cold build");
        }
        let sizes: Vec<usize> = plans.iter().map(|p| p.cells.len()).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 14);
        let costs: Vec<u64> = plans.iter().map(|p| p.cost.expected_ms).collect();
        assert!(
            costs[0].abs_diff(costs[1]) <= 8000 + 2 * GUESS_BUILD_MS,
            "{costs:?}"
        );
    }

    #[test]
    fn settling_records_each_estimate_error() {
        let all = cells();
        let (mine, cost) = split(all, Shard { index: 1, count: 2 }, &Durations::default());
        let results: Vec<CellResult> = mine
            .iter()
            .map(|c| {
                let mut r = crate::pipeline::preflight::skip(c.clone(), "timed".into());
                r.duration_ms = 2000;
                r
            })
            .collect();
        let s = settle(&cost, &results);
        assert_eq!(s.actual_ms, Some(2000 * mine.len() as u64));
        assert_eq!(
            s.error_ms,
            Some(2000 * mine.len() as i64 - cost.expected_ms as i64)
        );
        for f in &s.families {
            assert_eq!(f.actual_ms, Some(2000 * f.cells.len() as u64));
        }
    }

    #[test]
    fn more_shards_than_cells_leaves_some_empty() {
        let all: Vec<Cell> = cells().into_iter().take(2).collect();
        let sizes: Vec<usize> = (1..=5)
            .map(|index| take(&all, index, 5, &Durations::default()).len())
            .collect();
        assert_eq!(sizes.iter().sum::<usize>(), 2);
    }
}
