//! Build: runs a cell's build plan ([`crate::probe::Plan`], made by the
//! probe phase): [`run`] hands its commands to `process` in order while
//! they succeed, and [`observed_facts`] reads what they printed.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::model::{Cell, Command, Outcome};
use crate::probe::Plan;
use crate::process;

/// What running a plan came to.
pub struct Ran {
    /// The commands that ran, in order; the last one failed, if any did.
    pub commands: Vec<Command>,
    /// A build that could not go on: a missing compiler where the matrix
    /// expects a build-fail, or a command that could not start.
    pub failed: Option<(Outcome, String)>,
    /// A missing compiler anywhere else: the cell is a skip with the hint
    /// (as the preflight makes it for the cells it judges up front).
    pub skip: Option<String>,
}

/// How the steps of a build run: bounded by `confine`, each argv passed
/// through `enclose` (the sandbox's, or as it is).
pub struct Enclosure<'a> {
    pub confine: process::Confine,
    pub enclose: &'a dyn Fn(Vec<String>) -> Vec<String>,
    /// Set over each step's own (a Go build cache of its own).
    pub env: BTreeMap<String, String>,
}

/// Runs the plan's steps in `dir` while they succeed.
pub fn run(
    cell: &Cell,
    plan: &Plan,
    dir: &Path,
    timeout: Duration,
    cap: usize,
    how: &Enclosure,
) -> Ran {
    let mut ran = Ran {
        commands: Vec::new(),
        failed: None,
        skip: None,
    };
    if let Err(e) = crate::fsutil::write_files_at(&plan.write) {
        ran.failed = Some((Outcome::BuildFail, e.to_string()));
        return ran;
    }
    for step in &plan.steps {
        let step = match step {
            Ok(s) => s,
            Err(why) if cell.expect.outcome == Outcome::BuildFail => {
                ran.failed = Some((Outcome::BuildFail, why.to_string()));
                break;
            }
            Err(why) => {
                ran.skip = Some(why.to_string());
                break;
            }
        };
        let spec = process::Spec {
            argv: (how.enclose)(step.argv.clone()),
            env: step
                .env
                .iter()
                .chain(&how.env)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            env_remove: step.env_remove.clone(),
            cwd: Some(dir.to_path_buf()),
            timeout,
            log_dir: dir.to_path_buf(),
            log_name: step.name.into(),
            cap,
            daemons: false,
            confine: how.confine.clone(),
        };
        match process::run(&spec) {
            Ok(c) => {
                let ok = c.exit.success();
                let wanting = !ok && step.name == "build" && for_want_of_cc(plan, &c);
                ran.commands.push(c);
                if wanting {
                    // Go got as far as the C compiler: its absence is the
                    // answer, told with crossprobe's install hint.
                    let why = plan.facts.get("cc.missing").and_then(Value::as_str);
                    let why = why.unwrap_or("no C compiler").to_string();
                    if cell.expect.outcome == Outcome::BuildFail {
                        ran.failed = Some((Outcome::BuildFail, why));
                    } else {
                        ran.skip = Some(why);
                    }
                }
                if !ok {
                    break;
                }
            }
            Err(e) => {
                ran.failed = Some((
                    Outcome::BuildFail,
                    format!("cannot run {}: {e}", step.argv[0]),
                ));
                break;
            }
        }
    }
    ran
}

/// Whether a failed `go build` failed because the CC it was handed is not
/// installed: `cgo: C compiler "X" not found`, or the external link's
/// `exec: "X": executable file not found`.
fn for_want_of_cc(plan: &Plan, c: &Command) -> bool {
    let Some(cc) = &plan.missing_cc else {
        return false;
    };
    let quoted = format!("\"{cc}\"");
    [&c.stderr.text, &c.stdout.text]
        .iter()
        .flat_map(|t| t.lines())
        .any(|l| l.contains(&quoted) && l.contains("not found"))
}

/// Facts the build commands printed: `cgo.go_env`, what `go env
/// CGO_ENABLED` said for the cell's environment.
pub fn observed_facts(plan: &Plan, ran: &[Command]) -> BTreeMap<String, Value> {
    let mut facts = BTreeMap::new();
    let steps = plan.steps.iter().filter_map(|s| s.as_ref().ok());
    for (step, cmd) in steps.zip(ran) {
        if step.name == "go-env" && cmd.exit.success() {
            facts.insert(
                "cgo.go_env".into(),
                Value::String(cmd.stdout.text.trim().to_string()),
            );
        }
    }
    facts
}
