//! `--bisect`: the first Go release at which a snippet's verdict changes:
//! the outcome, whether the expectation is met (a program whose output
//! changes passes on both sides, and its `match` holds on one), or a fact
//! the expectation names.
//!
//! First over minors (each at its latest patch), then over the patches of
//! the minor where it changed, with the previous minor's latest as the last
//! known old state: so a fix backported in `go1.24.8` reads "passes on
//! go1.24.7, fails from go1.24.8", not "from go1.24". The `.0` release is
//! tried first, since most changes land there. A release that cannot be had
//! is left out of the search, and said so.
//!
//! The search assumes one change in the range, as `git bisect` does; the
//! states at both ends are printed so that a reader can tell.

use std::collections::BTreeMap;
use std::time::Instant;

use super::{execute, write_bundles, write_results, Options};
use crate::errors::Error;
use crate::escape;
use crate::load::{Located, Matrix};
use crate::model::{CellResult, Outcome, PhaseName};
use crate::session;
use crate::toolchain::go;
use crate::toolchain::versions::{Request, Resolver, Version};

/// What a version does: each cell (its id without the Go part) and its
/// verdict. None when every cell skipped: nothing is known.
type State = Vec<(String, Seen)>;

/// One cell's verdict, as bisection compares it.
#[derive(Clone, Debug)]
struct Seen {
    outcome: Outcome,
    met: bool,
    /// Why it was met or not: shown, not compared.
    message: String,
    /// What the program printed, less crossprobe's marker lines: shown
    /// where it differs.
    output: String,
    /// The facts the cell's expectations name, with their values (None:
    /// the cell has no such fact). Others, such as the binary's size or
    /// the Go version, change with every release.
    facts: BTreeMap<String, Option<serde_json::Value>>,
}

impl PartialEq for Seen {
    fn eq(&self, o: &Seen) -> bool {
        (self.outcome, self.met, &self.facts) == (o.outcome, o.met, &o.facts)
    }
}

impl Seen {
    fn of(r: &CellResult) -> Seen {
        Seen {
            outcome: r.outcome,
            met: r.verdict.met,
            message: r.verdict.message.clone(),
            output: printed(r),
            facts: r
                .cell
                .expect
                .facts
                .keys()
                .map(|k| (k.clone(), r.facts.get(k).cloned()))
                .collect(),
        }
    }
}

struct Search<'a> {
    matrix: Matrix,
    o: &'a Options<'a>,
    seen: BTreeMap<Version, Option<State>>,
    results: Vec<CellResult>,
    executed: Vec<super::Executed>,
    /// When the bisection started: every release's run counts from it.
    started: (&'a str, Instant),
}

pub fn run(
    matrix: Matrix,
    reqs: &[Request],
    o: &Options,
    yaml: &str,
    started_at: &str,
    t0: Instant,
) -> miette::Result<i32> {
    let minors: Vec<(u32, u32)> = reqs
        .iter()
        .filter_map(|r| match r {
            Request::Minor(a, b) => Some((*a, *b)),
            _ => None,
        })
        .collect();
    if minors.len() < 2 || minors.len() != reqs.len() {
        return Err(Error::Usage {
            message: "--bisect needs a range of at least two Go minors".into(),
            help: Some("e.g. --go 1.21..1.26 --bisect".into()),
        }
        .into());
    }
    let resolver = Resolver::new(go::local());
    let listed = resolver.listed().map_err(|e| Error::Toolchain {
        message: format!("cannot list Go releases to bisect over: {e}"),
        help: Some("bisection needs the Go module proxy (GOPROXY)".into()),
    })?;
    let mut latest: Vec<Version> = Vec::new();
    for (a, b) in &minors {
        match listed.iter().rev().find(|v| v.minor_pair() == (*a, *b)) {
            Some(v) => latest.push(*v),
            None => println!("bisect: go{a}.{b}: no release listed, left out"),
        }
    }
    let mut s = Search {
        matrix,
        o,
        seen: BTreeMap::new(),
        results: Vec::new(),
        executed: Vec::new(),
        started: (started_at, t0),
    };
    let finding = match s.first_change(&mut latest, false)? {
        None => None,
        Some((old_v, new_v, old, _)) => {
            let mut patches: Vec<Version> = vec![old_v];
            patches.extend(
                listed
                    .iter()
                    .filter(|v| v.minor_pair() == new_v.minor_pair() && **v <= new_v),
            );
            // The old state is known at old_v; the search needs it first.
            s.seen.insert(old_v, Some(old));
            s.first_change(&mut patches, true)?
        }
    };
    match &finding {
        Some((a, b, sa, sb)) => {
            let (da, db) = (describe(sa), describe(sb));
            // The same outcome on both sides: the verdict tells them apart.
            let (da, db) = if da == db {
                (describe_verdict(sa), describe_verdict(sb))
            } else {
                (da, db)
            };
            println!(
                "bisect: {} on {a}, {} from {b}",
                escape::Line(&da),
                escape::Line(&db)
            );
            for line in changes(&a.to_string(), sa, &b.to_string(), sb) {
                println!("  {}", escape::Line(&line));
            }
        }
        None => println!("bisect: no change in the verdict over the range"),
    }

    // Reports: every cell run; bundles: the failing cells at the boundary.
    let boundary: Vec<String> = finding
        .iter()
        .flat_map(|(a, b, ..)| [a, b])
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.patch))
        .collect();
    let mut bundles = Vec::new();
    for ex in &s.executed {
        let at: Vec<CellResult> = ex
            .ran
            .cells
            .iter()
            .filter(|r| boundary.contains(&r.cell.go))
            .cloned()
            .collect();
        bundles.extend(write_bundles(&s.matrix, &at, ex, yaml, o)?);
    }
    super::print_bundles(&bundles);
    if let Some(last) = s.executed.last() {
        // Every release's cells, assembled by the last release's session.
        let dir = write_results(o.out, &last.session.assemble(&s.results))?;
        println!(
            "reports: {}/results.json",
            escape::Line(&dir.display().to_string())
        );
    }
    // Every session's token hears the same signals: the process's.
    let cancel = crate::process::interrupt::Cancel::default();
    Ok(match session::exit_code(&cancel, &s.results, false) {
        c if c > 1 => c,
        _ if finding.is_some() => crate::model::exit::OK,
        _ => crate::model::exit::UNMET,
    })
}

/// The run's stdout without marker lines, cut to a few lines.
fn printed(r: &CellResult) -> String {
    let run = r.phases.iter().find(|p| p.name == PhaseName::Run);
    let text = run
        .and_then(|p| p.commands.first())
        .map(|c| c.stdout.text.as_str());
    let lines: Vec<&str> = text
        .unwrap_or("")
        .lines()
        .filter(|l| !l.contains(crate::check::FACTS_MARKER) && !l.trim().is_empty())
        .take(5)
        .collect();
    lines.join(" | ").chars().take(300).collect()
}

/// `passes`, `fails (run-fail)`, or per cell when cells differ.
fn describe(s: &State) -> String {
    let one = |o: Outcome| match o {
        Outcome::Pass => "passes".to_string(),
        o => format!("fails ({o})"),
    };
    let first = s.first().map(|(_, c)| c.outcome);
    if s.iter().all(|(_, c)| Some(c.outcome) == first) {
        return first.map_or("nothing".into(), one);
    }
    s.iter()
        .map(|(k, c)| format!("{k} {}", one(c.outcome)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`describe`] with whether each cell is as expected.
fn describe_verdict(s: &State) -> String {
    let met = |m: bool| if m { "as expected" } else { "not as expected" };
    let first = s.first().map(|(_, c)| c.met);
    match first {
        Some(m) if s.iter().all(|(_, c)| c.met == m) => format!("{}, {}", describe(s), met(m)),
        _ => s
            .iter()
            .map(|(k, c)| format!("{k} {}", met(c.met)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// What differs between the two sides, cell by cell: the verdict, each
/// side's words for it, and every named fact whose value moved.
fn changes(a: &str, sa: &State, b: &str, sb: &State) -> Vec<String> {
    let mut out = Vec::new();
    let width = a.len().max(b.len());
    for (id, ca) in sa {
        let Some((_, cb)) = sb.iter().find(|(k, _)| k == id) else {
            continue;
        };
        if ca == cb {
            continue;
        }
        out.push(format!("{id}:"));
        for (v, c) in [(a, ca), (b, cb)] {
            let met = if c.met { "met" } else { "not met" };
            out.push(format!("  {v:width$}  {}, {met}: {}", c.outcome, c.message));
        }
        if ca.output != cb.output {
            for (v, c) in [(a, ca), (b, cb)] {
                out.push(format!("  {v:width$}  printed: {}", c.output));
            }
        }
        for (k, va) in &ca.facts {
            let vb = cb.facts.get(k).cloned().flatten();
            if *va != vb {
                let show = |v: &Option<serde_json::Value>| {
                    v.as_ref().map_or("(none)".to_string(), |v| v.to_string())
                };
                out.push(format!(
                    "  fact {k}: {} on {a}, {} on {b}",
                    show(va),
                    show(&vb)
                ));
            }
        }
    }
    out
}

impl Search<'_> {
    /// The state of one release, run once.
    fn state(&mut self, v: Version) -> miette::Result<Option<State>> {
        if let Some(s) = self.seen.get(&v) {
            return Ok(s.clone());
        }
        let value = format!("{}.{}.{}", v.major, v.minor, v.patch);
        let mut m = self.matrix.clone();
        m.set_values(
            "go",
            vec![Located {
                value: value.clone(),
                span: miette::SourceSpan::new(0.into(), 0),
            }],
        );
        let ex = execute(&m, self.o, self.started, false)?;
        let mut state: State = ex
            .ran
            .cells
            .iter()
            .map(|r| (r.cell.id.replace(&format!("/go{value}"), ""), Seen::of(r)))
            .collect();
        state.sort_by(|x, y| x.0.cmp(&y.0));
        let known = state.iter().any(|(_, c)| c.outcome != Outcome::Skip);
        let reason = ex
            .ran
            .cells
            .iter()
            .find_map(|r| r.reason.clone())
            .unwrap_or_default();
        println!(
            "bisect: {v}: {}",
            escape::Line(&if known {
                describe_verdict(&state)
            } else {
                format!("cannot be had, left out ({reason})")
            })
        );
        self.results.extend(ex.ran.cells.iter().cloned());
        self.executed.push(ex);
        let s = known.then_some(state);
        self.seen.insert(v, s.clone());
        Ok(s)
    }

    /// The first version in `cands` whose state differs from the first's:
    /// (last old version, first new version, old state, new state). With
    /// `dot_zero_first`, `cands[1]` is tried before the halving.
    #[allow(clippy::type_complexity)]
    fn first_change(
        &mut self,
        cands: &mut Vec<Version>,
        dot_zero_first: bool,
    ) -> miette::Result<Option<(Version, Version, State, State)>> {
        let old = loop {
            let Some(first) = cands.first().copied() else {
                return Ok(None);
            };
            match self.state(first)? {
                Some(s) => break s,
                None => {
                    cands.remove(0);
                }
            }
        };
        let new = loop {
            if cands.len() < 2 {
                return Ok(None);
            }
            let last = cands[cands.len() - 1];
            match self.state(last)? {
                Some(s) => break s,
                None => {
                    cands.pop();
                }
            }
        };
        if new == old {
            return Ok(None);
        }
        let (mut lo, mut hi) = (0, cands.len() - 1);
        let mut new_state = new;
        if dot_zero_first && hi > 1 {
            match self.state(cands[1])? {
                Some(s) if s != old => {
                    return Ok(Some((cands[0], cands[1], old, s)));
                }
                Some(_) => lo = 1,
                None => {
                    cands.remove(1);
                    hi -= 1;
                }
            }
        }
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            match self.state(cands[mid])? {
                None => {
                    cands.remove(mid);
                    hi -= 1;
                }
                Some(s) if s == old => lo = mid,
                Some(s) => {
                    hi = mid;
                    new_state = s;
                }
            }
        }
        Ok(Some((cands[lo], cands[hi], old, new_state)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(outcome: Outcome, met: bool, fact: Option<i64>, output: &str) -> Seen {
        Seen {
            outcome,
            met,
            message: format!("met {met}"),
            output: output.into(),
            facts: BTreeMap::from([("probe.n".to_string(), fact.map(Into::into))]),
        }
    }

    #[test]
    fn the_verdict_and_named_facts_count_the_words_do_not() {
        let a = seen(Outcome::Pass, true, Some(1), "x");
        let mut b = a.clone();
        b.message = "other words".into();
        b.output = "other output".into();
        assert_eq!(a, b, "words and output are shown, not compared");
        assert_ne!(a, seen(Outcome::Pass, false, Some(1), "x"));
        assert_ne!(a, seen(Outcome::Pass, true, Some(2), "x"));
        assert_ne!(a, seen(Outcome::RunFail, true, Some(1), "x"));
    }

    #[test]
    fn changes_show_both_sides() {
        let sa = vec![("c".to_string(), seen(Outcome::Pass, false, Some(1), "404"))];
        let sb = vec![("c".to_string(), seen(Outcome::Pass, true, None, "200"))];
        assert_eq!(
            changes("go1.21.13", &sa, "go1.22.0", &sb),
            [
                "c:",
                "  go1.21.13  pass, not met: met false",
                "  go1.22.0   pass, met: met true",
                "  go1.21.13  printed: 404",
                "  go1.22.0   printed: 200",
                "  fact probe.n: 1 on go1.21.13, (none) on go1.22.0",
            ]
        );
        assert_eq!(describe_verdict(&sa), "passes, not as expected");
    }
}
