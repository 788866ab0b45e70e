//! Check: decide a cell's outcome from what its phases observed, read the
//! facts the probe printed, derive the facts that compare others (`derive`),
//! and judge the outcome against the expectation.
//!
//! An expectation's `match` is a regex over the output of the phase its
//! outcome names (the build's for build-fail, the run's for run-fail and
//! timeout, and both for pass, so that a passing cell can pin a linker
//! warning): what the toolchain, the runner and the program printed, and
//! nothing crossprobe added ([`program_output`]): not the facts lines
//! (crossprobe's marker, the started line it puts beside an inline probe),
//! not its notes, not its reasons. Its `facts` expressions
//! ([`crate::model::FactExpr`]) must hold too.
//!
//! Only the program's own behaviour can meet an expectation: a run that
//! never started the program ([`never_started`]: a runner that exits 0
//! without its facts line, a sandbox that could not start the runner) is
//! met by no expectation, not even an expected run-fail.

mod derive;
pub mod gotest;
mod hints;
pub mod vet;

use std::collections::BTreeMap;

use regex::Regex;

use crate::model::{Cell, CellResult, Command, Missing, Outcome, Phase, PhaseName, Verdict};

/// The marker behind which a probe prints its facts as one line of JSON.
pub const FACTS_MARKER: &str = "CROSSPROBE-FACTS: ";

/// How the verdict of a run that never started the program begins.
pub const NOTHING_RAN: &str = "nothing ran: ";

/// What the earlier phases saw, in the terms check needs.
#[derive(Default)]
pub struct Observed<'a> {
    /// The last build command that ran: the one whose status decides.
    pub build: Option<&'a Command>,
    /// Every build command that ran, in order (`go env`, `go build`, the
    /// host program's link).
    pub builds: &'a [Command],
    /// The build or run could not start at all (missing tool, ...).
    pub spawn_error: Option<(Outcome, String)>,
    pub run: Option<&'a Command>,
    /// Why the run was skipped, when it was.
    pub skip: Option<String>,
    /// The tool doctor can install whose absence is why: an environmental
    /// skip, unmet unless allowed.
    pub missing: Option<Missing>,
    /// `--allow-missing` or the matrix's `run.allow_missing`.
    pub allow_missing: bool,
    pub interrupted: bool,
    /// For a `test:` cell that ran: what its test binary reported.
    pub tests: Option<&'a crate::probe::test2json::Converted>,
    /// The binary needs no facts line: a `test:` cell, whose events prove
    /// it ran.
    pub no_marker: bool,
}

pub struct Checked {
    pub outcome: Outcome,
    pub reason: Option<String>,
    /// Set on an environmental skip.
    pub missing: Option<Missing>,
    pub verdict: Verdict,
    pub facts: BTreeMap<String, serde_json::Value>,
    /// Each Go test of a `test:` cell, judged.
    pub tests: Vec<crate::model::TestResult>,
    /// The cell's expectation as its tests made it (see
    /// `gotest::expectation`), when they changed it.
    pub expect: Option<crate::model::Expectation>,
}

impl Checked {
    /// The cell's result: the facts the phases found (`known`) with the
    /// check's, and the phases as they ran. Neither cached nor retried.
    pub fn into_result(
        self,
        cell: &Cell,
        mut known: BTreeMap<String, serde_json::Value>,
        phases: Vec<Phase>,
        duration_ms: u64,
    ) -> CellResult {
        known.extend(self.facts);
        let sandboxed = phases
            .iter()
            .filter(|p| p.name == PhaseName::Run)
            .find_map(|p| p.commands.first())
            // Under wine the server does the probe's file and socket work:
            // a sandboxed client has its server in the run's jail.
            .map(|c| c.sandboxed);
        let mut cell = cell.clone();
        if let Some(e) = self.expect {
            cell.expect = e;
        }
        CellResult {
            cell,
            outcome: self.outcome,
            reason: self.reason,
            verdict: self.verdict,
            facts: known,
            phases,
            duration_ms,
            dir: None,
            cached: false,
            build_of: None,
            attempts: Vec::new(),
            ran_on: None,
            sandboxed,
            tests: self.tests,
            missing: self.missing,
            not_run: None,
            key: None,
        }
    }
}

/// `known` holds the facts other phases found (inspection); the probe's are
/// added here, and every fact expectation is judged against both.
pub fn check(cell: &Cell, obs: &Observed, known: &BTreeMap<String, serde_json::Value>) -> Checked {
    match obs.tests.and_then(|t| gotest::expectation(cell, t)) {
        Some(expect) => {
            let cell = Cell {
                expect,
                ..cell.clone()
            };
            let mut c = check_cell(&cell, obs, known);
            c.expect = Some(cell.expect);
            c
        }
        None => check_cell(cell, obs, known),
    }
}

fn check_cell(cell: &Cell, obs: &Observed, known: &BTreeMap<String, serde_json::Value>) -> Checked {
    let mut facts = BTreeMap::new();
    let printed = obs.run.and_then(|run| parse_facts(&run.stdout.text));
    if let Some(f) = &printed {
        flatten("probe", f, &mut facts);
    }
    let (mut outcome, mut reason) = outcome(obs, printed.is_some() || obs.no_marker);
    if let Some(t) = obs.tests {
        (outcome, reason) = gotest::outcome(outcome, reason, obs.run, t);
        facts.extend(gotest::facts(t));
    }
    let vetted = vet::findings(obs.builds);
    (outcome, reason) = vet::outcome(outcome, reason, &vetted);
    if let (Outcome::BuildFail, None, Some(r)) = (outcome, &obs.spawn_error, &mut reason) {
        // The toolchain's words first; crossprobe's hint beside them.
        let hint = ["cc.missing", "cc.hint"]
            .iter()
            .find_map(|k| known.get(*k).and_then(|v| v.as_str()));
        if let Some(hint) = hint {
            r.push_str(&format!(" [crossprobe: {hint}]"));
        }
    }
    if let (Outcome::RunFail, Some(r), Some(run)) = (outcome, &mut reason, obs.run) {
        if let Some(hint) = hints::emulator(cell, run).or_else(|| hints::read_only(run)) {
            r.push_str(&format!(" [crossprobe: {hint}]"));
        }
    }
    let mut all = known.clone();
    all.extend(facts.clone());
    facts.extend(derive::derive(cell, obs, &all));

    let builds: Vec<&Command> = if obs.builds.is_empty() {
        obs.build.into_iter().collect()
    } else {
        obs.builds.iter().collect()
    };
    let output: String = match outcome {
        Outcome::BuildFail => builds.iter().map(|c| program_output(c)).collect(),
        Outcome::Pass => builds
            .iter()
            .copied()
            .chain(obs.run)
            .map(program_output)
            .collect(),
        _ => obs.run.map(program_output).unwrap_or_default(),
    };
    let missing = obs.missing.clone().filter(|_| outcome == Outcome::Skip);
    let nothing_ran = obs
        .run
        .filter(|_| outcome == Outcome::RunFail && obs.spawn_error.is_none())
        .and_then(|r| never_started(r, printed.is_some() || obs.no_marker, obs.tests));
    let mut verdict = match (&missing, nothing_ran) {
        (Some(m), _) if !allowed_missing(cell, obs) => Verdict {
            met: false,
            message: format!("{} is missing: {}", m.tool, m.fix),
        },
        (_, Some(why)) => Verdict {
            met: false,
            message: format!("{NOTHING_RAN}{why}"),
        },
        _ => judge(cell, outcome, reason.as_deref(), &output),
    };
    let mut misses = fact_misses(cell, outcome, known, &facts);
    let mut tests = Vec::new();
    if let Some(t) = obs.tests {
        let (judged, test_misses) = gotest::judge(cell, t);
        tests = judged;
        if matches!(outcome, Outcome::Pass | Outcome::RunFail) && !test_misses.is_empty() {
            // The tests say it better than "expected pass, got run-fail".
            if outcome != cell.expect.outcome
                && matches!(cell.expect.outcome, Outcome::Pass | Outcome::RunFail)
            {
                verdict.met = true;
            }
            misses.extend(test_misses);
        }
    }
    tests.extend(vet::judged(cell, vetted));
    if !misses.is_empty() {
        let joined = misses.join("; ");
        verdict = Verdict {
            met: false,
            message: if verdict.met {
                joined
            } else {
                format!("{}; {joined}", verdict.message)
            },
        };
    }
    Checked {
        outcome,
        reason,
        missing,
        verdict,
        facts,
        tests,
        expect: None,
    }
}

/// A missing tool is a skip rather than a failure only when someone said
/// so: `--allow-missing`, `run.allow_missing`, or an expected skip with its
/// reason (a tool that cannot be had on some hosts).
fn allowed_missing(cell: &Cell, obs: &Observed) -> bool {
    obs.allow_missing || (cell.expect.outcome == Outcome::Skip && cell.expect.reason.is_some())
}

/// Each fact expectation that does not hold, as "fact K: expected E, got A".
/// A fact that is absent only because its phase never ran (no probe facts
/// from a skipped or failed run) is not held against the cell.
fn fact_misses(
    cell: &Cell,
    outcome: Outcome,
    known: &BTreeMap<String, serde_json::Value>,
    probe: &BTreeMap<String, serde_json::Value>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (key, text) in &cell.expect.facts {
        let Ok(expr) = crate::model::FactExpr::parse(text) else {
            out.push(format!("fact {key}: invalid expectation {text:?}"));
            continue;
        };
        match probe.get(key).or_else(|| known.get(key)) {
            Some(actual) => {
                if let Err(got) = expr.eval(actual) {
                    let mut miss = format!("fact {key}: expected {text}, got {got}");
                    if let Some(hint) = fact_hint(cell, key, known) {
                        miss.push_str(&format!(" [crossprobe: {hint}]"));
                    }
                    out.push(miss);
                }
            }
            None if outcome == Outcome::Pass
                || (!key.starts_with("probe.") && !known.is_empty()) =>
            {
                out.push(format!(
                    "fact {key}: expected {text}, but the cell has no such fact"
                ));
            }
            None => {}
        }
    }
    out
}

/// What to do about a fact that missed its expectation, where crossprobe
/// knows more than the fact says.
fn fact_hint(
    cell: &Cell,
    key: &str,
    known: &BTreeMap<String, serde_json::Value>,
) -> Option<&'static str> {
    let zig = known.get("cc.kind").and_then(|v| v.as_str()) == Some("zig");
    (key == "macho.minos" && zig && !cell.env.contains_key("MACOSX_DEPLOYMENT_TARGET")).then_some(
        "zig links for the macOS its -target names, else for its newest; \
         set MACOSX_DEPLOYMENT_TARGET (e.g. in `include` or `matrix.env`) to the floor, \
         and crossprobe puts it in zig's -target",
    )
}

/// What a command printed, as `match:` reads it: its stdout and stderr
/// without what crossprobe adds to them (facts lines, which a probe prints
/// for crossprobe and crossprobe prints beside an inline probe; the notes
/// crossprobe appends, such as a runaway's).
pub fn program_output(c: &Command) -> String {
    let own = |l: &&str| {
        let l = l.trim_start();
        !l.contains(FACTS_MARKER.trim_end()) && !l.starts_with("[crossprobe")
    };
    let mut out = String::new();
    for text in [&c.stdout.text, &c.stderr.text] {
        for l in text.lines().filter(own) {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

/// Why a run that "failed" never started the program, when it did not: a
/// runner (an emulator, wine) that exits 0 without the program's facts
/// line, a test binary's runner that exits 0 without one test event, or a
/// sandbox that could not start the runner at all (bwrap's own error).
/// Such a run is no observation of the program, and meets no expectation.
fn never_started(
    run: &Command,
    has_facts: bool,
    tests: Option<&crate::probe::test2json::Converted>,
) -> Option<String> {
    let runner = run
        .argv
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a))
        .unwrap_or("the runner");
    if run.exit.success() {
        let silent = match tests {
            Some(t) => t.package.is_none() && t.tests.is_empty(),
            None => !has_facts,
        };
        return silent.then(|| {
            format!(
                "{runner} exited 0, and the program never said it started (no `{}` line{})",
                FACTS_MARKER.trim(),
                if tests.is_some() {
                    ", no test event"
                } else {
                    ""
                }
            )
        });
    }
    // bwrap says why it could not set the sandbox up, or exec what it was
    // to run, and exits 1: nothing inside ever ran.
    let bwrap_failed = run.sandboxed
        && run.exit.code == Some(1)
        && !has_facts
        && run.stderr.text.trim_start().starts_with("bwrap: ");
    bwrap_failed.then(|| {
        format!(
            "the sandbox could not start the runner: {}",
            run.stderr.text.trim().lines().next().unwrap_or_default()
        )
    })
}

/// Why a failed command failed: its first relevant line, said to be for
/// want of processes or memory when it was (a cell runs under
/// `run.processes` and `run.memory`).
fn failure(c: &Command) -> String {
    let line = first_relevant(c);
    if c.exit.process_limit {
        return format!("process limit: it reached run.processes: {line}");
    }
    match c.exit.out_of_memory || out_of_memory(c) {
        true => format!("out of memory: {line}"),
        false => line,
    }
}

/// What programs say when an allocation fails: Go's runtime ("fatal
/// error: runtime: out of memory"), C's strerror(ENOMEM), gcc ("virtual
/// memory exhausted"), Python, C++ and the JVM.
fn out_of_memory(c: &Command) -> bool {
    const SAID: [&str; 7] = [
        "out of memory",
        // Go on Windows: VirtualAlloc could not commit.
        "failed to commit pages",
        "cannot allocate memory",
        "memory exhausted",
        "memoryerror",
        "std::bad_alloc",
        "outofmemoryerror",
    ];
    [&c.stderr.text, &c.stdout.text].iter().any(|t| {
        let t = t.to_ascii_lowercase();
        SAID.iter().any(|s| t.contains(s))
    })
}

fn outcome(obs: &Observed, has_facts: bool) -> (Outcome, Option<String>) {
    if let Some((o, why)) = &obs.spawn_error {
        return (*o, Some(why.clone()));
    }
    if let Some(b) = obs.build {
        if b.exit.timed_out {
            return (
                Outcome::Timeout,
                Some(format!(
                    "build timed out after {:.0}s",
                    b.duration_ms as f64 / 1000.0
                )),
            );
        }
        if let (false, Some(why)) = (b.exit.success(), &obs.skip) {
            // A build that stopped for want of a tool the run lacks.
            return (Outcome::Skip, Some(why.clone()));
        }
        if !b.exit.success() || b.exit.process_limit {
            if obs.interrupted {
                return (
                    Outcome::Interrupted,
                    Some("interrupted during the build".into()),
                );
            }
            return (Outcome::BuildFail, Some(failure(b)));
        }
    }
    if obs.interrupted && obs.run.is_none_or(|r| !r.exit.success()) {
        return (
            Outcome::Interrupted,
            Some("interrupted before it finished".into()),
        );
    }
    if let Some(why) = &obs.skip {
        return (Outcome::Skip, Some(why.clone()));
    }
    let Some(r) = obs.run else {
        return (Outcome::Skip, Some("not run".into()));
    };
    if r.exit.timed_out {
        return (
            Outcome::Timeout,
            Some(format!(
                "run timed out after {:.0}s",
                r.duration_ms as f64 / 1000.0
            )),
        );
    }
    // A program held to run.processes did not run as written, even if it
    // coped with the failed fork and exited 0.
    if !r.exit.success() || r.exit.process_limit {
        return (Outcome::RunFail, Some(failure(r)));
    }
    if !has_facts {
        // An emulator that cannot start the binary may still exit 0 with no
        // output (wine without its 32-bit half does): that is never a pass.
        return (
            Outcome::RunFail,
            Some(format!(
                "exited 0 but printed no facts (no `{}` line)",
                FACTS_MARKER.trim()
            )),
        );
    }
    (Outcome::Pass, None)
}

/// The line a person wants first: a compiler error, a panic, a fatal error.
pub fn first_relevant(c: &Command) -> String {
    // `go test -c -json` prints the compiler's errors as JSON events.
    if let Some(e) = crate::probe::test2json::build_error(&c.stdout.text) {
        return format!("{} ({})", e.chars().take(300).collect::<String>(), c.exit);
    }
    let stderr = &c.stderr.text;
    let stdout = &c.stdout.text;
    let lines = || {
        stderr
            .lines()
            .chain(stdout.lines())
            .map(str::trim)
            .filter(|l| !l.is_empty())
    };
    const STRONG: &[&str] = &[
        "panic:",
        "fatal error:",
        "error:",
        "SIGILL",
        "SIGSEGV",
        "SIGBUS",
        "illegal instruction",
    ];
    let line = lines()
        .find(|l| STRONG.iter().any(|s| l.contains(s)))
        .or_else(|| lines().find(|l| !l.starts_with('#') && !l.starts_with("[crossprobe")))
        .unwrap_or("");
    let line: String = line.chars().take(300).collect();
    let status = c.exit.to_string();
    if line.is_empty() {
        status
    } else {
        format!("{line} ({status})")
    }
}

fn judge(cell: &Cell, outcome: Outcome, reason: Option<&str>, output: &str) -> Verdict {
    let exp = &cell.expect;
    let because = exp.reason.as_deref().unwrap_or("the expected failure");
    let said = reason.unwrap_or("");
    let (met, message) = match outcome {
        Outcome::Interrupted => (false, "interrupted before it finished".to_string()),
        Outcome::Skip => (true, format!("skipped: {said}")),
        // An expected skip allows a missing tool; where the tool is there,
        // the cell runs and passes.
        Outcome::Pass if exp.outcome == Outcome::Skip => {
            (true, format!("passed (a skip was allowed: {because})"))
        }
        o if o == exp.outcome => match &exp.r#match {
            None => (true, expected_msg(o, exp.reason.as_deref())),
            Some(pat) => match Regex::new(pat) {
                Ok(re) if re.is_match(output) => (
                    true,
                    format!(
                        "{} (matched /{pat}/)",
                        expected_msg(o, exp.reason.as_deref())
                    ),
                ),
                Ok(_) if said.is_empty() => (
                    false,
                    format!("{o} as expected, but its output does not match /{pat}/"),
                ),
                Ok(_) => (
                    false,
                    format!("{o} as expected, but its output does not match /{pat}/: {said}"),
                ),
                Err(e) => (false, format!("invalid pattern /{pat}/: {e}")),
            },
        },
        Outcome::Pass => (false, format!("unexpected pass: {because} may be fixed")),
        o => (false, format!("expected {}, got {o}: {said}", exp.outcome)),
    };
    Verdict { met, message }
}

fn expected_msg(o: Outcome, reason: Option<&str>) -> String {
    match (o, reason) {
        (Outcome::Pass, _) => "passed".to_string(),
        (o, Some(r)) => format!("{o} as expected ({r})"),
        (o, None) => format!("{o} as expected"),
    }
}

/// The facts of every marker line, merged in order (a later line's key
/// wins): an inline probe's started line comes first, from an `init` or a
/// constructor, and the program may print facts of its own after it. None
/// when no line holds a JSON object.
pub fn parse_facts(stdout: &str) -> Option<serde_json::Value> {
    let mut merged: Option<serde_json::Map<String, serde_json::Value>> = None;
    for line in stdout.lines() {
        let Some((_, json)) = line.trim_end_matches('\r').split_once(FACTS_MARKER) else {
            continue;
        };
        if let Ok(serde_json::Value::Object(m)) = serde_json::from_str(json) {
            merged.get_or_insert_with(Default::default).extend(m);
        }
    }
    merged.map(serde_json::Value::Object)
}

/// `{"a": {"b": 1}}` under `probe` → `probe.a.b = 1`. Arrays stay values.
pub fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, serde_json::Value>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                flatten(&format!("{prefix}.{k}"), v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Captured, Exit};

    fn cmd(code: i32, stdout: &str, stderr: &str) -> Command {
        Command {
            exit: Exit {
                code: Some(code),
                ..Exit::default()
            },
            stdout: Captured {
                text: stdout.into(),
                ..Captured::default()
            },
            stderr: Captured {
                text: stderr.into(),
                ..Captured::default()
            },
            ..Command::default()
        }
    }

    #[test]
    fn fact_expectations_show_expected_and_actual() {
        let mut cell: Cell = serde_json::from_value(serde_json::json!({
            "id": "x", "slug": "x", "matrix": "m", "probe": "hello", "lang": "go",
            "goos": "linux", "goarch": "amd64", "go": "local", "cgo": "0",
            "ldflags": "", "tags": "", "flags": "", "env": {},
            "runner": {"kind": "native"},
            "expect": {"outcome": "pass"}
        }))
        .unwrap();
        cell.expect
            .facts
            .insert("binary.max_glibc".into(), "<= 2.31".into());
        cell.expect.facts.insert("binary.static".into(), "1".into());
        let known = BTreeMap::from([
            ("binary.max_glibc".to_string(), serde_json::json!("2.34")),
            ("binary.static".to_string(), serde_json::json!(true)),
        ]);
        let run = cmd(0, "CROSSPROBE-FACTS: {}", "");
        let build = cmd(0, "", "");
        let obs = Observed {
            build: Some(&build),
            run: Some(&run),
            ..Observed::default()
        };
        let c = check(&cell, &obs, &known);
        assert!(!c.verdict.met);
        assert_eq!(
            c.verdict.message,
            "fact binary.max_glibc: expected <= 2.31, got \"2.34\""
        );
    }

    #[test]
    fn facts_are_found_and_flattened() {
        let f =
            parse_facts("noise\nCROSSPROBE-FACTS: {\"a\":{\"b\":1},\"c\":\"x\"}\nmore\n").unwrap();
        let mut out = BTreeMap::new();
        flatten("probe", &f, &mut out);
        assert_eq!(out["probe.a.b"], 1);
        assert_eq!(out["probe.c"], "x");
        assert!(parse_facts("CROSSPROBE-FACTS: [1]").is_none());
        assert!(parse_facts("nothing").is_none());
        // The started line and the program's own facts, merged.
        let f = parse_facts(
            "CROSSPROBE-FACTS: {\"started\":true,\"go\":\"go1.26\"}\nhi\nCROSSPROBE-FACTS: {\"go\":\"mine\"}\n",
        )
        .unwrap();
        assert_eq!(f, serde_json::json!({"started": true, "go": "mine"}));
    }

    #[test]
    fn silent_success_is_not_a_pass() {
        let run = cmd(0, "", "");
        let (o, why) = outcome(
            &Observed {
                build: Some(&cmd(0, "", "")),
                run: Some(&run),
                ..Observed::default()
            },
            false,
        );
        assert_eq!(o, Outcome::RunFail);
        assert!(why.unwrap().contains("no facts"));
    }

    #[test]
    fn panics_are_the_relevant_line() {
        let c = cmd(
            2,
            "CROSSPROBE-FACTS: {}",
            "\npanic: unaligned 64-bit atomic operation\n\ngoroutine 1",
        );
        assert_eq!(
            first_relevant(&c),
            "panic: unaligned 64-bit atomic operation (exit status 2)"
        );
        let b = cmd(1, "", "# crossprobe.probe/x\n./main.go:3:2: undefined: y\n");
        assert_eq!(
            first_relevant(&b),
            "./main.go:3:2: undefined: y (exit status 1)"
        );
    }
}
