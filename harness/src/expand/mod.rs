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

use crate::axis::{self, Place};
use crate::errors::{did_you_mean, Error, InputError};
use crate::load::{Expect, Located, Matrix};
use crate::model::{Cell, Expectation, Outcome, Runner, RunnerKind, TestExpectation, TestOutcome};
use crate::toolchain::go::GoToolchain;
use regex::Regex;

pub mod shard;

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
    let (mut combos, spans) = product(m, opts.max_cells)?;

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
                if combos.len() + added.len() >= opts.max_cells {
                    return Err(too_many(m, opts.max_cells));
                }
                added.push(new);
            }
        }
    }
    for (c, s) in added {
        combos.push(c);
        spans_of.push(s);
    }

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

fn too_many(m: &Matrix, max: usize) -> miette::Report {
    Error::Usage {
        message: format!(
            "{}: the matrix expands to more than {max} cells (the --max-cells limit)",
            m.source.name
        ),
        help: Some(
            "narrow it with exclude or --filter, or raise the limit with `--max-cells N`".into(),
        ),
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

fn product(m: &Matrix, max: usize) -> miette::Result<(Vec<Combo>, AxisSpans)> {
    let mut spans = BTreeMap::new();
    for (axis, vals) in m
        .axes
        .iter()
        .map(|(k, v)| (*k, v))
        .chain(m.env.iter().map(|(k, v)| (k.as_str(), v)))
    {
        for v in vals {
            spans
                .entry((axis.to_string(), v.value.clone()))
                .or_insert(v.span);
        }
    }

    // A value listed twice would only make duplicate combinations; but the
    // loops would still walk them, and `goos: [linux, linux, ...]` a hundred
    // thousand times over would take hours to add nothing.
    let probes: Vec<&str> = m.probes.iter().map(|p| p.name.as_str()).collect();
    let mut combos = vec![Combo::new()];
    let multiply =
        |combos: Vec<Combo>, key: &str, vals: &[&str], applies: &dyn Fn(&Combo) -> bool| {
            let mut next = Vec::with_capacity(combos.len() * vals.len().max(1));
            for c in combos {
                if !applies(&c) {
                    next.push(c);
                    continue;
                }
                for v in vals {
                    let mut c = c.clone();
                    c.insert(key.to_string(), v.to_string());
                    next.push(c);
                }
                if next.len() > max {
                    return Err(too_many(m, max));
                }
            }
            Ok(next)
        };
    for a in axis::AXES {
        let vals = match a.place {
            Place::Probes => probes.clone(),
            _ => uniq(m.values(a.key)),
        };
        combos = multiply(combos, a.key, &vals, &|_| true)?;
    }
    for (k, vals) in &m.env {
        let applies = |c: &Combo| env_applies(k, &c["goarch"]);
        combos = multiply(combos, k, &uniq(vals), &applies)?;
    }
    Ok((combos, AxisSpans(spans)))
}

/// The values in their first order, each once.
fn uniq(vals: &[Located<String>]) -> Vec<&str> {
    let mut seen = HashSet::new();
    vals.iter()
        .map(|v| v.value.as_str())
        .filter(|v| seen.insert(*v))
        .collect()
}

fn matches_all(c: &Combo, entry: &BTreeMap<String, Vec<String>>) -> bool {
    entry
        .iter()
        .all(|(k, vals)| c.get(k).is_some_and(|v| vals.contains(v)))
}

/// True when `inc` would overwrite one of the combination's original
/// values: those of the axes the matrix lists. An axis it does not list has
/// no original value, so an entry's value for it is added; values an
/// earlier entry added may be overwritten, as in GitHub Actions.
fn contradicts(c: &Combo, inc: &BTreeMap<String, Located<String>>, m: &Matrix) -> bool {
    inc.iter().any(|(k, v)| {
        // A variable for other architectures would make a cell that means
        // nothing, and a listed one that the product left out here was left
        // out on purpose.
        if crate::target::is_arch_env(k) && !env_applies(k, &c["goarch"]) {
            return true;
        }
        match c.get(k) {
            Some(cur) => m.listed.contains(k) && *cur != v.value,
            None => m.env.contains_key(k),
        }
    })
}

fn new_from_include(
    m: &Matrix,
    inc: &Located<BTreeMap<String, Located<String>>>,
) -> miette::Result<Vec<(Combo, Spans)>> {
    let required = axis::AXES
        .iter()
        .filter(|a| a.default.is_none() && a.place == Place::Matrix);
    for key in required.map(|a| a.key) {
        if !inc.value.contains_key(key) {
            return Err(Error::from(InputError::new(
                &m.source,
                inc.span,
                format!("this include entry adds a new cell but names no {key}"),
                "matches no existing cell",
                Some(format!("an include entry that extends no cell must name at least goos and goarch; add `{key}: ...`")),
            ))
            .into());
        }
    }
    let gos: Vec<String> = match inc.value.get("go") {
        Some(v) => vec![v.value.clone()],
        None => m.values("go").iter().map(|g| g.value.clone()).collect(),
    };
    let probes: Vec<String> = match inc.value.get("probe") {
        Some(v) => {
            if !m.probes.iter().any(|p| p.name == v.value) {
                return Err(Error::from(InputError::new(
                    &m.source,
                    v.span,
                    format!(
                        "include names probe {:?}, which is not in `probes`",
                        v.value
                    ),
                    "here",
                    Some(format!(
                        "add it to `probes`{}",
                        did_you_mean(&v.value, m.probes.iter().map(|p| p.name.as_str()))
                    )),
                ))
                .into());
            }
            vec![v.value.clone()]
        }
        None => m.probes.iter().map(|p| p.name.clone()).collect(),
    };
    let mut out = Vec::new();
    for go in &gos {
        for probe in &probes {
            let mut c: Combo = axis::AXES
                .iter()
                .filter_map(|a| Some((a.key.to_string(), a.default?.to_string())))
                .collect();
            c.insert("go".to_string(), go.clone());
            c.insert("probe".to_string(), probe.clone());
            let mut s = Spans::default();
            for (k, v) in &inc.value {
                c.insert(k.clone(), v.value.clone());
                s.0.insert(k.clone(), v.span);
            }
            out.push((c, s));
        }
    }
    Ok(out)
}

/// A target is valid when at least one Go of the matrix knows it (broken
/// ports included): every Go then gets its cells, and a Go that does not
/// know it refuses the build in its own words ("go: unsupported GOOS/GOARCH
/// pair openbsd/riscv64"). A target no Go of the matrix knows is an input
/// error.
fn check_target(
    m: &Matrix,
    gos: &BTreeMap<String, GoToolchain>,
    go: &GoToolchain,
    c: &Combo,
    spans: &Spans,
) -> miette::Result<()> {
    let (goos, goarch) = (&c["goos"], &c["goarch"]);
    let target = format!("{goos}/{goarch}");
    let of_matrix: Vec<&GoToolchain> = m
        .values("go")
        .iter()
        .filter_map(|g| gos.get(&g.value))
        .chain(std::iter::once(go))
        .collect();
    // A Go that could not be had, with no local Go to borrow targets from:
    // its cells skip anyway, with the reason.
    if of_matrix.iter().any(|g| g.targets.contains_key(&target))
        || (go.unavailable.is_some() && go.targets.is_empty())
    {
        return Ok(());
    }
    let known: BTreeMap<&str, &crate::toolchain::go::DistTarget> = of_matrix
        .iter()
        .flat_map(|g| g.targets.iter().map(|(k, t)| (k.as_str(), t)))
        .collect();
    let mut versions: Vec<&str> = of_matrix.iter().map(|g| g.version.as_str()).collect();
    versions.sort();
    versions.dedup();
    let who = match versions.as_slice() {
        [one] => one.to_string(),
        many => format!("none of {}", many.join(", ")),
    };
    let oses: Vec<&str> = {
        let mut v: Vec<&str> = known.values().map(|t| t.goos.as_str()).collect();
        v.sort();
        v.dedup();
        v
    };
    let no_span = SourceSpan::new(0.into(), 0);
    let (span, msg, help) = if !oses.contains(&goos.as_str()) {
        (
            spans.0.get("goos").copied().unwrap_or(no_span),
            format!("unknown GOOS {goos:?}"),
            format!(
                "{who} {} it{}; `go tool dist list` shows the valid targets",
                if versions.len() == 1 {
                    "does not know"
                } else {
                    "knows"
                },
                did_you_mean(goos, oses.iter().copied())
            ),
        )
    } else {
        let archs: Vec<&str> = known
            .values()
            .filter(|t| t.goos == *goos)
            .map(|t| t.goarch.as_str())
            .collect();
        let supports = if versions.len() == 1 {
            format!("{who} supports")
        } else {
            format!("{} support between them", versions.join(", "))
        };
        (
            spans.0.get("goarch").copied().unwrap_or(no_span),
            format!("invalid target {goos}/{goarch}"),
            format!(
                "{supports} GOARCH {} for GOOS {goos}{}",
                archs.join(", "),
                did_you_mean(goarch, archs.iter().copied())
            ),
        )
    };
    let label = if versions.len() == 1 {
        "not a target of this Go"
    } else {
        "not a target of any Go of the matrix"
    };
    Err(Error::from(InputError::new(&m.source, span, msg, label, Some(help))).into())
}

/// `buildmode` must be one that this Go lists in `go help buildmode`.
fn check_buildmode(m: &Matrix, go: &GoToolchain, c: &Combo, spans: &Spans) -> miette::Result<()> {
    let mode = &c["buildmode"];
    if go.buildmodes.is_empty() || go.buildmodes.contains(mode) {
        return Ok(());
    }
    let span = spans
        .0
        .get("buildmode")
        .copied()
        .unwrap_or(SourceSpan::new(0.into(), 0));
    Err(Error::from(InputError::new(
        &m.source,
        span,
        format!("invalid buildmode {mode:?}"),
        "not listed by `go help buildmode`",
        Some(format!(
            "{} has -buildmode={}{}",
            go.version,
            go.buildmodes.join(", "),
            did_you_mean(mode, go.buildmodes.iter().map(String::as_str))
        )),
    ))
    .into())
}

/// A cc value on Go cells with cgo 0 does nothing: Go then builds without
/// a C compiler (only c-archive and c-shared still link a C host program).
/// Worth a warning, not an error: a matrix may cross cgo with cc on purpose.
fn idle_cc(m: &Matrix, cells: &[Cell], spans: &AxisSpans) -> Vec<String> {
    let mut idle: BTreeMap<&str, usize> = BTreeMap::new();
    // A snippet's own default (`default` with cgo on) is not the user's.
    let named = m.listed.contains("cc") || m.include.iter().any(|i| i.value.contains_key("cc"));
    if !named {
        return Vec::new();
    }
    for c in cells {
        let host_program = matches!(c.buildmode.as_str(), "c-archive" | "c-shared");
        let named = !matches!(c.cc.as_str(), "auto" | "");
        if c.lang == crate::model::Lang::Go && c.cgo == "0" && named && !host_program {
            *idle.entry(c.cc.as_str()).or_default() += 1;
        }
    }
    idle.into_iter()
        .map(|(cc, n)| {
            let offset = spans
                .0
                .get(&("cc".to_string(), cc.to_string()))
                .map_or(0, |s| s.offset());
            format!(
                "{}: cc {cc:?} does nothing for cgo 0 ({n} Go cell{}): Go builds without \
                 a C compiler there; pair it with cgo 1 or default, or exclude {{cgo: 0, cc: {cc:?}}}",
                m.source.position(offset),
                if n == 1 { "" } else { "s" },
            )
        })
        .collect()
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

pub fn expect_matches(e: &Expect, cell: &Cell) -> bool {
    e.when.iter().all(|(k, vals)| {
        let v = match k.as_str() {
            "package" => Some(cell.package.as_str()),
            k => axis::value(cell, k),
        };
        v.is_some_and(|v| vals.iter().any(|x| x == v))
    })
}

/// A `test:` probe's cell, once per package it tests; any other cell as
/// it is.
fn per_package(m: &Matrix, cell: Cell) -> Vec<Cell> {
    let probe = m.probes.iter().find(|p| p.name == cell.probe);
    let Some(module) = probe.and_then(|p| p.module.as_ref()) else {
        return vec![cell];
    };
    if !matches!(module.kind, crate::gomod::Kind::Test(_)) {
        return vec![cell];
    }
    module
        .packages
        .iter()
        .map(|p| {
            let mut c = cell.clone();
            c.package = p.id.clone();
            c.id = cell_id(&c);
            c.slug = slug(&c.id);
            c
        })
        .collect()
}

/// An expect entry about Go tests: the tests it names may fail (or skip)
/// on this cell, strictly: one that passes instead fails the cell. What
/// that makes of the cell's own expectation is decided once its tests
/// have run (`check::gotest::expectation`).
fn apply_test(exp: &mut Expectation, e: &Expect, re: &Regex) {
    let outcome = match e.outcome {
        Some(Outcome::RunFail) => TestOutcome::Fail,
        Some(Outcome::Skip) => TestOutcome::Skip,
        _ => TestOutcome::Pass,
    };
    exp.tests.retain(|t| t.test != re.as_str());
    exp.tests.push(TestExpectation {
        test: re.as_str().to_string(),
        outcome,
        reason: e.reason.clone(),
        source: Some(e.position.clone()),
        pinned: e.when.contains_key("package"),
    });
}

fn apply(exp: &mut Expectation, e: &Expect) {
    if let Some(o) = e.outcome {
        exp.outcome = o;
        // A new outcome brings its own pattern and reason; an old pattern
        // would be checked against the wrong phase's output.
        exp.r#match = None;
        exp.reason = None;
    }
    if let Some(p) = &e.pattern {
        exp.r#match = Some(p.as_str().to_string());
    }
    if let Some(r) = &e.reason {
        exp.reason = Some(r.clone());
    }
    for (k, f) in &e.facts {
        exp.facts.insert(k.clone(), f.text.clone());
    }
    exp.source = Some(e.position.clone());
    if exp.outcome == Outcome::Pass
        && exp.r#match.is_none()
        && exp.reason.is_none()
        && exp.facts.is_empty()
    {
        exp.source = None;
    }
}

/// `goos/goarch` against a pattern where either side may be `*`.
pub fn target_matches(pattern: &str, target: &str) -> bool {
    let (po, pa) = pattern.split_once('/').unwrap_or((pattern, "*"));
    let (to, ta) = target.split_once('/').unwrap_or((target, ""));
    (po == "*" || po == to) && (pa == "*" || pa == ta)
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
