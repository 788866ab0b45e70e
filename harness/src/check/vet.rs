//! `vet: true`: go vet's findings for a cell, read from its `vet` build
//! step (`go -C ROOT vet -json ...`, see `probe::module::build`).
//!
//! `go vet -json` prints, on stdout, one JSON object per package it
//! checked: `{"IMPORT_PATH": {"ANALYZER": [{"posn": "FILE:LINE:COL",
//! "message": "..."}, ...]}}` (an analyzer that could not run has
//! `{"error": "..."}` instead of a list), and exits 0 either way. Each
//! finding is a failing testcase `vet/ANALYZER/FILE:LINE:COL` (FILE from
//! the module root); any finding makes the cell a build-fail, as `go test`
//! says `[build failed]` when its vet finds something.

use serde_json::Value;

use crate::model::{Cell, Command, Outcome, TestOutcome, TestResult};

/// Every finding of the cell's vet step, in vet's order; none when the
/// cell has no vet step or it found nothing.
pub fn findings(builds: &[Command]) -> Vec<TestResult> {
    let Some((cmd, root)) = builds.iter().find_map(|c| vet_of(c).map(|root| (c, root))) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let stream = serde_json::Deserializer::from_str(&cmd.stdout.text).into_iter::<Value>();
    for value in stream.map_while(Result::ok) {
        let Some(packages) = value.as_object() else {
            continue;
        };
        for (package, analyzers) in packages {
            // `pkg [pkg.test]`: the package with its tests, as vet says it.
            let package = package.split(' ').next().unwrap_or(package);
            for (analyzer, found) in analyzers.as_object().into_iter().flatten() {
                let list: Vec<(String, String)> = match found {
                    Value::Array(v) => v
                        .iter()
                        .map(|f| (text(f, "posn"), text(f, "message")))
                        .collect(),
                    other => vec![(String::new(), text(other, "error"))],
                };
                for (posn, message) in list {
                    let posn = posn
                        .strip_prefix(root)
                        .map_or(posn.as_str(), |p| p.trim_start_matches('/'))
                        .to_string();
                    out.push(TestResult {
                        name: format!("vet/{analyzer}/{posn}"),
                        package: package.to_string(),
                        outcome: TestOutcome::Fail,
                        duration_ms: 0,
                        output: format!("{posn}: {message}\n"),
                        met: false,
                        message: String::new(),
                    });
                }
            }
        }
    }
    out
}

/// The cell's outcome and reason with vet's findings: a build-fail when
/// vet found anything, as `go test` says `[build failed]` when its own vet
/// does (a build that failed, a timeout, an interrupt stand).
pub fn outcome(
    outcome: Outcome,
    reason: Option<String>,
    found: &[TestResult],
) -> (Outcome, Option<String>) {
    match outcome {
        Outcome::Pass | Outcome::RunFail | Outcome::Skip if !found.is_empty() => {
            (Outcome::BuildFail, Some(self::reason(found)))
        }
        o => (o, reason),
    }
}

/// The findings as testcases of the cell: met when the cell is expected to
/// be a build-fail.
pub fn judged(cell: &Cell, found: Vec<TestResult>) -> impl Iterator<Item = TestResult> {
    let expected = cell.expect.outcome == Outcome::BuildFail;
    found.into_iter().map(move |t| TestResult {
        met: expected,
        message: match expected {
            true => "found as expected".into(),
            false => String::new(),
        },
        ..t
    })
}

/// The cell's reason when vet found something.
pub fn reason(found: &[TestResult]) -> String {
    let first = found[0].output.trim_end();
    match found.len() {
        1 => format!("go vet: {first}"),
        n => format!("go vet: {first} (and {} more)", n - 1),
    }
}

/// The module root of a `go -C ROOT vet -json` command (after a sandbox's
/// own argv, if any).
fn vet_of(c: &Command) -> Option<&str> {
    let a = &c.argv;
    let i = a
        .windows(2)
        .position(|w| w[0] == "vet" && w[1] == "-json")?;
    (i >= 2 && a[i - 2] == "-C").then(|| a[i - 1].as_str())
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Captured, Exit};

    fn vet(stdout: &str) -> Command {
        Command {
            argv: [
                "go",
                "-C",
                "/m",
                "vet",
                "-json",
                "-trimpath",
                "example.com/m/a",
            ]
            .map(String::from)
            .to_vec(),
            env: Default::default(),
            cwd: None,
            exit: Exit::default(),
            duration_ms: 0,
            stdout: Captured {
                text: stdout.into(),
                ..Default::default()
            },
            stderr: Captured::default(),
            sandboxed: false,
            peak_memory_kib: None,
        }
    }

    #[test]
    fn each_finding_is_a_failing_testcase() {
        // What go 1.26's `go vet -json` printed for a package whose test
        // file has a printf mistake, and an analyzer that failed.
        let out = r#"{
	"example.com/m/a [example.com/m/a.test]": {
		"printf": [
			{
				"posn": "/m/a/a.go:5:44",
				"end": "/m/a/a.go:5:46",
				"message": "fmt.Sprintf format %s has arg x of wrong type int"
			},
			{
				"posn": "/m/a/a_test.go:5:36",
				"message": "(*testing.common).Logf format %d has arg \"s\" of wrong type string"
			}
		],
		"asmdecl": {"error": "cannot read a_amd64.s"}
	}
}
"#;
        let f = findings(&[vet(out)]);
        let names: Vec<&str> = f.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "vet/asmdecl/",
                "vet/printf/a/a.go:5:44",
                "vet/printf/a/a_test.go:5:36"
            ]
        );
        assert!(f.iter().all(|t| t.outcome == TestOutcome::Fail));
        assert_eq!(f[0].package, "example.com/m/a");
        assert_eq!(
            reason(&f[1..]),
            "go vet: a/a.go:5:44: fmt.Sprintf format %s has arg x of wrong type int (and 1 more)"
        );
        assert!(findings(&[vet("")]).is_empty());
        let mut build = vet(out);
        build.argv[3] = "build".into();
        assert!(findings(&[build]).is_empty(), "not a vet step");
    }
}
