//! Expand: turn a loaded [`Matrix`] into the list of [`Cell`]s to run.
//!
//! The rules, in order (the README states the same):
//! 1. The product of go × probes × goos × goarch × cgo × cc × buildmode ×
//!    ldflags × tags × flags × env axes. An architecture-specific variable (GOARM, GOAMD64,
//!    GOMIPS, ...) is multiplied in only for the architectures that read it.
//! 2. `exclude` removes every combination that matches all of an entry's keys.
//! 3. `include` works as in a GitHub Actions matrix: an entry extends every
//!    combination whose axes it does not contradict; an entry that extends
//!    none adds a new combination (built-in defaults for the axes it omits,
//!    and every probe and Go version unless it names them).
//! 4. Every cell's GOOS/GOARCH is checked against `go tool dist list` of its
//!    Go version.
//! 5. `expect` entries are applied in order; a later match overrides.

use std::collections::{BTreeMap, HashSet};

use miette::SourceSpan;

use crate::axis;
use crate::errors::{Error, InputError};
use crate::load::Matrix;
use crate::model::{Cell, Expectation, ListTarget, Runner, RunnerKind};
use crate::toolchain::go::GoToolchain;

pub mod shard;

mod combine;
mod expect;
mod validate;

use combine::{contradicts, matches_all, new_from_include, product};
use expect::{apply, apply_test, expect_matches, per_package, target_matches};
use validate::{check_buildmode, check_target, idle_cc};

pub const DEFAULT_MAX_CELLS: usize = 10_000;

pub use crate::target::env_applies;

type Combo = BTreeMap<String, String>;

/// Where a combination's values came from, to point at them in errors.
#[derive(Default, Clone)]
struct Spans(BTreeMap<String, SourceSpan>);

pub struct Expanded {
    pub cells: Vec<Cell>,
    /// Non-fatal findings, e.g. an expect entry that matches no cell.
    pub warnings: Vec<String>,
}

pub struct Options<'a> {
    pub max_cells: usize,
    /// Chooses the runner for a cell; `override_` is the matrix's `run.runners`
    /// value for the cell's target, if any.
    pub choose_runner: &'a dyn Fn(&Cell, Option<RunnerKind>) -> Runner,
}

pub fn expand(
    m: &Matrix,
    gos: &BTreeMap<String, GoToolchain>,
    opts: &Options,
) -> miette::Result<Expanded> {
    let (combos, spans_of, spans) = combos(m, opts.max_cells)?;

    let mut seen = HashSet::new();
    let mut cells = Vec::new();
    let mut used = vec![false; m.expect.len()];
    for (combo, combo_spans) in combos.iter().zip(&spans_of) {
        // Only an include can name a Go version that `go:` does not list.
        let go = gos.get(&combo["go"]).ok_or_else(|| {
            Error::from(InputError::new(
                &m.source,
                combo_spans
                    .0
                    .get("go")
                    .copied()
                    .unwrap_or(SourceSpan::new(0.into(), 0)),
                format!("Go version {:?} is not one of `go:`", combo["go"]),
                "here",
                Some(format!(
                    "add it to `go:` ({}); an include picks among the listed versions",
                    m.values("go")
                        .iter()
                        .map(|g| g.value.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            ))
        })?;
        check_target(m, gos, go, combo, combo_spans)?;
        check_buildmode(m, go, combo, combo_spans)?;
        for mut cell in per_package(m, to_cell(m, combo)) {
            if !seen.insert(cell.id.clone()) {
                continue;
            }
            for (i, e) in m.expect.iter().enumerate() {
                if expect_matches(e, &cell) {
                    used[i] = true;
                    match &e.test {
                        None => apply(&mut cell.expect, e),
                        Some(_) if cell.package.is_empty() => used[i] = false,
                        Some(re) => apply_test(&mut cell.expect, e, re),
                    }
                }
            }
            let target = cell.target();
            let override_ = m
                .runners
                .iter()
                .rev()
                .find(|r| target_matches(&r.pattern, &target))
                .map(|r| r.runner);
            cell.runner = (opts.choose_runner)(&cell, override_);
            cells.push(cell);
        }
    }

    let mut warnings: Vec<String> = m
        .expect
        .iter()
        .zip(used)
        .filter(|(_, u)| !u)
        .map(|(e, _)| format!("{}: this expect entry matches no cell", e.position))
        .collect();
    warnings.extend(idle_cc(m, &cells, &spans));
    Ok(Expanded { cells, warnings })
}

/// Steps 1 to 3: the combinations of axis values the matrix asks for, and
/// where each value was written.
fn combos(m: &Matrix, max_cells: usize) -> miette::Result<(Vec<Combo>, Vec<Spans>, AxisSpans)> {
    let (mut combos, spans) = product(m, max_cells)?;

    combos.retain(|c| !m.exclude.iter().any(|e| matches_all(c, &e.value)));
    let mut spans_of: Vec<Spans> = combos.iter().map(|c| spans.of(c)).collect();
    if combos.is_empty() && m.include.is_empty() {
        let span = m
            .exclude
            .first()
            .map_or(SourceSpan::new(0.into(), 0), |e| e.span);
        return Err(Error::from(InputError::new(
            &m.source,
            span,
            "the matrix is empty after exclude",
            "these exclusions remove every cell",
            Some("loosen an exclude entry (each removes the cells that match all of its keys), or add an include".into()),
        ))
        .into());
    }

    // GitHub Actions' rule: an entry extends every combination of the
    // product that it does not contradict; one that extends none is a new
    // combination, which later entries leave alone.
    let mut added: Vec<(Combo, Spans)> = Vec::new();
    for inc in &m.include {
        let mut extended = false;
        for (c, s) in combos.iter_mut().zip(spans_of.iter_mut()) {
            if contradicts(c, &inc.value, m) {
                continue;
            }
            for (k, v) in &inc.value {
                c.insert(k.clone(), v.value.clone());
                s.0.insert(k.clone(), v.span);
            }
            extended = true;
        }
        if !extended {
            for new in new_from_include(m, inc)? {
                if combos.len() + added.len() >= max_cells {
                    return Err(too_many(m, max_cells));
                }
                added.push(new);
            }
        }
    }
    for (c, s) in added {
        combos.push(c);
        spans_of.push(s);
    }
    Ok((combos, spans_of, spans))
}

/// What each module probe's packages are listed for: the distinct
/// (goos, goarch, cgo, tags) of its combinations. A package's files, and
/// so whether it is on a target at all, hang on these alone.
pub fn listing_targets(
    m: &Matrix,
    max_cells: usize,
) -> miette::Result<BTreeMap<String, std::collections::BTreeSet<ListTarget>>> {
    let (combos, ..) = combos(m, max_cells)?;
    let mut out: BTreeMap<String, std::collections::BTreeSet<ListTarget>> = BTreeMap::new();
    for c in &combos {
        let cell = to_cell(m, c);
        out.entry(cell.probe.clone())
            .or_default()
            .insert(ListTarget::of(&cell));
    }
    Ok(out)
}

/// A target of a matrix: what a cell builds for, and whether with cgo.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    pub goos: String,
    pub goarch: String,
    pub cgo: bool,
}

/// The target of each of the matrix's combinations, in order (so one per
/// cell before a probe's packages multiply them): the one definition of
/// which targets a matrix names. It reads the axes alone, so it needs no
/// Go: doctor counts cells per target from it when no Go can expand the
/// matrix, and the session asks the host's tools only about these
/// targets.
pub fn targets(m: &Matrix, max_cells: usize) -> miette::Result<Vec<Target>> {
    let (combos, ..) = combos(m, max_cells)?;
    Ok(combos
        .iter()
        .map(|c| {
            let cell = to_cell(m, c);
            Target {
                cgo: cell.cgo == "1",
                goos: cell.goos,
                goarch: cell.goarch,
            }
        })
        .collect())
}

fn too_many(m: &Matrix, max: usize) -> miette::Report {
    Error::TooManyCells {
        file: m.source.name.clone(),
        max,
    }
    .into()
}

struct AxisSpans(BTreeMap<(String, String), SourceSpan>);

impl AxisSpans {
    fn of(&self, c: &Combo) -> Spans {
        Spans(
            c.iter()
                .filter_map(|(k, v)| Some((k.clone(), *self.0.get(&(k.clone(), v.clone()))?)))
                .collect(),
        )
    }
}

fn to_cell(m: &Matrix, c: &Combo) -> Cell {
    let probe = m
        .probes
        .iter()
        .find(|p| p.name == c["probe"])
        .expect("probe names are checked");
    let mut cell = Cell {
        matrix: m.name.clone(),
        lang: probe.lang,
        runner: Runner::Native,
        expect: Expectation::default(),
        ..Cell::default()
    };
    for (k, v) in c {
        axis::set(&mut cell, k, v.clone());
    }
    cell.id = cell_id(&cell);
    cell.slug = slug(&cell.id);
    cell
}

pub use axis::cell_id;

/// A cell id as one safe path component. Ids with characters that had to be
/// replaced get a short hash so that two ids never share a directory.
pub fn slug(id: &str) -> String {
    let mut changed = false;
    let mut s: String = id
        .chars()
        .map(|ch| match ch {
            '/' => '_',
            c if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '=' | ',') => c,
            _ => {
                changed = true;
                '-'
            }
        })
        .collect();
    if s.len() > 120 {
        s.truncate(120);
        changed = true;
    }
    if changed {
        s.push_str(&format!("-{:08x}", fnv1a(id.as_bytes()) as u32));
    }
    s
}

fn fnv1a(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf29ce484222325u64, |h, &x| {
        (h ^ x as u64).wrapping_mul(0x100000001b3)
    })
}

/// `--filter`: a glob (`*`, `?`) over the cell id when it has one, else a
/// substring.
pub fn filter_matches(pattern: &str, id: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return id.contains(pattern);
    }
    fn glob(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => glob(&p[1..], s) || (!s.is_empty() && glob(p, &s[1..])),
            (Some(b'?'), Some(_)) => glob(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
            _ => false,
        }
    }
    glob(pattern.as_bytes(), id.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_path_safe_and_distinct() {
        assert_eq!(
            slug("linux/arm/GOARM=5/cgo0/hello"),
            "linux_arm_GOARM=5_cgo0_hello"
        );
        let a = slug("linux/amd64/cgo0/ldflags=-s -w/hello");
        let b = slug("linux/amd64/cgo0/ldflags=-s_-w/hello");
        assert_ne!(a, b);
        assert!(!a.contains(' ') && !a.contains('/'));
        assert!(!slug("../../x").contains('/'));
    }

    /// The targets are the cells', excludes and includes applied, with no
    /// Go at hand.
    #[test]
    fn targets_are_the_combinations_targets() {
        let yaml = "name: t\nprobes: [hello]\ngo: [local]\nmatrix:\n  goos: [linux, windows]\n  goarch: [amd64, arm64]\n  cgo: [0, 1]\n  exclude:\n    - {goos: windows, goarch: arm64}\n  include:\n    - {goos: js, goarch: wasm, cgo: 0}\n";
        let m = crate::load::load_str("t.yaml", "t", yaml.into(), None).unwrap();
        let named: Vec<String> = targets(&m, 1000)
            .unwrap()
            .iter()
            .map(|t| format!("{}/{}/cgo{}", t.goos, t.goarch, u8::from(t.cgo)))
            .collect();
        let mut sorted = named.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [
                "js/wasm/cgo0",
                "linux/amd64/cgo0",
                "linux/amd64/cgo1",
                "linux/arm64/cgo0",
                "linux/arm64/cgo1",
                "windows/amd64/cgo0",
                "windows/amd64/cgo1",
            ]
        );
    }

    #[test]
    fn globs() {
        assert!(filter_matches("linux/arm*", "linux/arm64/cgo0/hello"));
        assert!(filter_matches("*hello", "linux/arm64/cgo0/hello"));
        assert!(!filter_matches("*atomic64", "linux/arm64/cgo0/hello"));
        assert!(filter_matches("arm64", "linux/arm64/cgo0/hello"));
        assert!(target_matches("windows/*", "windows/386"));
        assert!(!target_matches("windows/amd64", "windows/386"));
    }
}
