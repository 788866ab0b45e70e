//! `--shard i/n`: which of the expanded cells this run takes.
//!
//! The split depends only on the set of cells and their expected costs,
//! never on their order, so every shard computes the same split from the
//! same matrix however its YAML is ordered, and the shards together hold
//! every cell exactly once. Cells are dealt longest first, each to the
//! shard with the least expected time so far (LPT scheduling); ties go by
//! matrix and cell id, then to the lowest shard.
//!
//! A cell's cost is its duration in a previous results.json
//! (`--durations`), else an estimate from its runner.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::model::{Cell, Results, Runner};

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

/// A guess, in milliseconds, for a cell no previous run timed. Measured on
/// linux/amd64: a build is most of a cell, emulators add a little, and
/// wine's start-up a lot.
fn estimate(c: &Cell) -> u64 {
    match &c.runner {
        Runner::Native => 1000,
        Runner::Qemu { .. } | Runner::Node | Runner::Wasi { .. } => 1500,
        Runner::Wine { .. } => 5000,
        Runner::None { .. } => 800,
    }
}

/// The cells of `shard`, in their original order.
pub fn split(cells: Vec<Cell>, shard: Shard, durations: &Durations) -> Vec<Cell> {
    let owner = assign(&cells, shard.count, durations);
    cells
        .into_iter()
        .zip(owner)
        .filter(|(_, s)| *s == shard.index - 1)
        .map(|(c, _)| c)
        .collect()
}

/// The 0-based shard of each cell, in the order given.
fn assign(cells: &[Cell], count: usize, durations: &Durations) -> Vec<usize> {
    // Cells no run has timed cost what the timed ones typically cost, so
    // that one new cell is not weighed against seconds with a guess in
    // another unit.
    let typical = durations.median();
    let cost = |c: &Cell| {
        durations
            .get(c)
            .or(typical)
            .unwrap_or_else(|| estimate(c))
            .max(1)
    };
    let mut order: Vec<usize> = (0..cells.len()).collect();
    order.sort_by(|&a, &b| {
        let (ca, cb) = (&cells[a], &cells[b]);
        cost(cb)
            .cmp(&cost(ca))
            .then_with(|| (&ca.matrix, &ca.id).cmp(&(&cb.matrix, &cb.id)))
    });
    let mut load = vec![0u64; count];
    let mut owner = vec![0; cells.len()];
    for i in order {
        let s = (0..count)
            .min_by_key(|&s| (load[s], s))
            .expect("count is at least 1");
        load[s] += cost(&cells[i]);
        owner[i] = s;
    }
    owner
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(id: &str, runner: Runner) -> Cell {
        Cell {
            id: id.into(),
            slug: id.replace('/', "_"),
            matrix: "m".into(),
            probe: "hello".into(),
            goos: "linux".into(),
            goarch: "amd64".into(),
            go: "local".into(),
            cgo: "0".into(),
            runner,
            ..Cell::default()
        }
    }

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
                cell(&format!("linux/a{i}/hello"), r)
            })
            .collect()
    }

    fn ids(cells: &[Cell]) -> Vec<String> {
        let mut v: Vec<String> = cells.iter().map(|c| c.id.clone()).collect();
        v.sort();
        v
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
            let shard = Shard { index, count: 3 };
            let a = ids(&split(all.clone(), shard, &d));
            assert_eq!(a, ids(&split(reversed.clone(), shard, &d)));
            assert_eq!(a, ids(&split(rotated.clone(), shard, &d)));
            seen.extend(a);
        }
        seen.sort();
        assert_eq!(seen, ids(&all));
    }

    #[test]
    fn split_is_balanced_by_cost() {
        let all = cells();
        let load = |cells: &[Cell]| cells.iter().map(estimate).sum::<u64>();
        let loads: Vec<u64> = (1..=4)
            .map(|index| {
                load(&split(
                    all.clone(),
                    Shard { index, count: 4 },
                    &Durations::default(),
                ))
            })
            .collect();
        let (min, max) = (loads.iter().min().unwrap(), loads.iter().max().unwrap());
        // LPT's bound: no shard exceeds another by more than the largest cell.
        assert!(max - min <= 5000, "{loads:?}");
    }

    #[test]
    fn previous_durations_steer_the_split() {
        let all: Vec<Cell> = (0..4)
            .map(|i| cell(&format!("c{i}"), Runner::Native))
            .collect();
        let mut d = Durations::default();
        // One slow cell should have a shard to itself.
        d.0.insert(("m".into(), "c2".into()), 60_000);
        for (i, c) in all.iter().enumerate().filter(|(i, _)| *i != 2) {
            d.0.insert((c.matrix.clone(), c.id.clone()), 1000 + i as u64);
        }
        let first = split(all.clone(), Shard { index: 1, count: 2 }, &d);
        assert_eq!(ids(&first), vec!["c2"]);
        assert_eq!(split(all, Shard { index: 2, count: 2 }, &d).len(), 3);
    }

    #[test]
    fn more_shards_than_cells_leaves_some_empty() {
        let all: Vec<Cell> = cells().into_iter().take(2).collect();
        let sizes: Vec<usize> = (1..=5)
            .map(|index| {
                split(
                    all.clone(),
                    Shard { index, count: 5 },
                    &Durations::default(),
                )
                .len()
            })
            .collect();
        assert_eq!(sizes.iter().sum::<usize>(), 2);
    }
}
