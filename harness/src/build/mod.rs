//! Build: the commands that build a cell, as argv lists with the
//! environment they need, and [`run`], which hands them to `process` in
//! order while they succeed.
//!
//! A Go probe is one `go build`, preceded for `cgo: default` by a
//! `go env CGO_ENABLED` that records what Go chose, and followed for
//! c-archive and c-shared by the link of a C host program (`c`). A C probe
//! is one run of the cell's C compiler (`c`).

mod c;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

pub use c::{c_plan, HOST_DIR};

use crate::model::{Cell, Command, Outcome};
use crate::process;
use crate::toolchain::cc::{self, Compiler};
use crate::toolchain::go::GoToolchain;

/// One command of a build.
#[derive(Clone, Debug)]
pub struct Step {
    /// Names its capture files: `go-env`, `build`, `host`.
    pub name: &'static str,
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// Variables removed from the inherited environment.
    pub env_remove: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Plan {
    /// Run in order while they succeed. An `Err` is why the build cannot go
    /// on (no C compiler, with the hint); it counts only once reached, so a
    /// `go build` before it still speaks first.
    pub steps: Vec<Result<Step, String>>,
    /// The program the run phase runs and inspect reads.
    pub output: PathBuf,
    /// Why there is nothing to run even when the build succeeds.
    pub no_run: Option<String>,
    /// What the plan alone says: the C compiler chosen (`cc.*`), or
    /// `cc.missing`, why it has none.
    pub facts: BTreeMap<String, Value>,
    /// Files the steps read, written into the build directory first: the
    /// `-overlay` of a module build, which names that directory.
    pub write: Vec<(PathBuf, String)>,
    /// The CC program a `go build` was handed although it is not installed
    /// (the compiler the cell would use): Go speaks first, and only a
    /// failure that names this program is for want of it.
    pub missing_cc: Option<String>,
}

/// The file name the binary gets: what the runners expect to find.
pub fn output_name(cell: &Cell) -> &'static str {
    match (cell.goos.as_str(), cell.goarch.as_str()) {
        ("windows", _) => "probe.exe",
        (_, "wasm") => "probe.wasm",
        _ => "probe",
    }
}

/// What `go build -o` writes for a library build mode.
fn library_name(cell: &Cell) -> Option<&'static str> {
    Some(match (cell.buildmode.as_str(), cell.goos.as_str()) {
        ("c-archive" | "archive", _) => "libprobe.a",
        ("c-shared", "windows") => "probe.dll",
        ("c-shared", "darwin") => "libprobe.dylib",
        ("c-shared" | "shared" | "plugin", _) => "libprobe.so",
        _ => return None,
    })
}

/// The build of a Go probe. `compiler` is the cell's C compiler, or why it
/// has none; it is used for cgo 1 and default and for the C host program.
/// `would_use` is the CC a missing compiler would be once installed: with
/// cgo 1, Go builds with it all the same, so that an answer Go gives first
/// (`-buildmode=c-shared not supported on linux/mips64le`) is the one shown.
pub fn go_plan(
    cell: &Cell,
    go: &GoToolchain,
    compiler: Result<&Compiler, String>,
    would_use: Option<&[String]>,
    dir: &Path,
) -> Plan {
    let library = library_name(cell);
    let host_program = matches!(cell.buildmode.as_str(), "c-archive" | "c-shared");
    let go_output = dir.join(library.unwrap_or(output_name(cell)));
    let output = if host_program {
        dir.join(output_name(cell))
    } else {
        go_output.clone()
    };
    let no_run = (library.is_some() && !host_program).then(|| {
        format!(
            "-buildmode={} makes no program to run: built and inspected only",
            cell.buildmode
        )
    });
    // cgo 0 builds without a C compiler, whatever the cc axis says; with
    // cc: default Go picks one itself.
    let to_go = cc::request(cell) == cc::Request::Default;
    let use_cc = cell.cgo != "0" && !to_go;
    let mut facts = BTreeMap::new();
    // Go is asked first, with the CC the cell would use: only a failure for
    // want of it is crossprobe's "no C compiler" (see `run`).
    let ask_go = match (&compiler, would_use) {
        (Err(_), Some(cc)) if cell.cgo == "1" && !to_go => Some(cc),
        _ => None,
    };
    match (&compiler, use_cc || host_program) {
        (Ok(c), true) => compiler_facts(c, &mut facts),
        (Err(why), true) if cell.cgo == "default" || ask_go.is_some() => {
            facts.insert("cc.missing".into(), Value::String(why.clone()));
        }
        _ => {}
    }
    // A port this Go lists only under `dist list -broken`: it may build, and
    // a result from it says so.
    if go.targets.get(&cell.target()).is_some_and(|t| t.broken) {
        facts.insert("go.broken_port".into(), Value::Bool(true));
    }

    let mut env = go.env.clone();
    env.insert("GOOS".into(), cell.goos.clone());
    env.insert("GOARCH".into(), cell.goarch.clone());
    // A user's GOFLAGS (say -race) would silently change every cell; the
    // flags axis is the way to ask for them.
    env.insert("GOFLAGS".into(), String::new());
    let mut env_remove = Vec::new();
    match cell.cgo.as_str() {
        "default" => env_remove.push("CGO_ENABLED".to_string()),
        v => {
            env.insert("CGO_ENABLED".into(), v.to_string());
        }
    }
    let mut extra_ldflags: &[String] = &[];
    if let (true, Ok(c)) = (use_cc, &compiler) {
        env.insert("CC".into(), c.cc.join(" "));
        if let Some(cxx) = &c.cxx {
            env.insert("CXX".into(), cxx.join(" "));
        }
        env.extend(c.env.clone());
        if !c.ldflags.is_empty() {
            let base = std::env::var("CGO_LDFLAGS").unwrap_or_else(|_| "-O2 -g".into());
            env.insert(
                "CGO_LDFLAGS".into(),
                format!("{base} {}", c.ldflags.join(" ")),
            );
        }
        extra_ldflags = &c.go_ldflags;
    } else if let Some(cc) = ask_go {
        env.insert("CC".into(), cc.join(" "));
        env_remove.push("CXX".to_string());
    } else {
        // Neither the user's CC nor ours: cgo 0 must not depend on either,
        // and cc: default means what Go picks with none set.
        env_remove.extend(["CC".to_string(), "CXX".to_string()]);
    }
    for (k, v) in &cell.env {
        env.insert(k.clone(), v.clone());
    }

    let mut steps = Vec::new();
    if cell.cgo == "default" {
        // Before the build: when cgo went off silently, the build fails, and
        // this is what says why.
        steps.push(Ok(Step {
            name: "go-env",
            argv: vec![
                go.go.display().to_string(),
                "env".into(),
                "CGO_ENABLED".into(),
            ],
            env: env.clone(),
            env_remove: env_remove.clone(),
        }));
    }
    if cell.cgo == "1" && !to_go && ask_go.is_none() {
        if let Err(why) = &compiler {
            steps.push(Err(why.clone()));
            return Plan {
                steps,
                output,
                no_run,
                facts,
                write: Vec::new(),
                missing_cc: None,
            };
        }
    }

    let mut argv = vec![
        go.go.display().to_string(),
        "build".to_string(),
        "-o".to_string(),
        go_output.display().to_string(),
    ];
    if !matches!(cell.buildmode.as_str(), "exe" | "") {
        argv.push(format!("-buildmode={}", cell.buildmode));
    }
    let ldflags = merge_ldflags(&cell.ldflags, extra_ldflags);
    if !ldflags.is_empty() {
        argv.push(format!("-ldflags={ldflags}"));
    }
    if !cell.tags.is_empty() {
        argv.push(format!("-tags={}", cell.tags));
    }
    // The flags axis is split on white space: a flag whose value holds spaces
    // belongs in ldflags or tags, which are passed whole.
    argv.extend(cell.flags.split_whitespace().map(str::to_string));
    argv.push(".".to_string());
    steps.push(Ok(Step {
        name: "build",
        argv,
        env,
        env_remove,
    }));

    if host_program {
        steps.push(compiler.map(|c| c::host_step(cell, c, dir, &go_output, &output)));
    }
    Plan {
        steps,
        output,
        no_run,
        facts,
        write: Vec::new(),
        missing_cc: ask_go.and_then(|cc| cc.first().cloned()),
    }
}

/// The cell's ldflags with the words the compiler needs added, unless the
/// cell already has them.
fn merge_ldflags(cell: &str, extra: &[String]) -> String {
    let mut words: Vec<&str> = cell.split_whitespace().collect();
    for w in extra {
        if !words.contains(&w.as_str()) {
            words.push(w);
        }
    }
    if extra
        .iter()
        .all(|w| cell.split_whitespace().any(|c| c == w))
    {
        // Untouched: keep the user's spacing.
        return cell.to_string();
    }
    words.join(" ")
}

fn compiler_facts(c: &Compiler, facts: &mut BTreeMap<String, Value>) {
    let list = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
    facts.insert("cc.argv".into(), list(&c.cc));
    if let Some(cxx) = &c.cxx {
        facts.insert("cc.cxx".into(), list(cxx));
    }
    facts.insert("cc.kind".into(), Value::String(c.kind.as_str().into()));
    facts.insert("cc.version".into(), Value::String(c.version.clone()));
}

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

/// Runs the plan's steps in `dir` while they succeed.
pub fn run(cell: &Cell, plan: &Plan, dir: &Path, timeout: Duration, cap: usize) -> Ran {
    let mut ran = Ran {
        commands: Vec::new(),
        failed: None,
        skip: None,
    };
    if let Err(e) = crate::fsutil::write_files_at(&plan.write) {
        ran.failed = Some((Outcome::BuildFail, e));
        return ran;
    }
    for step in &plan.steps {
        let step = match step {
            Ok(s) => s,
            Err(why) if cell.expect.outcome == Outcome::BuildFail => {
                ran.failed = Some((Outcome::BuildFail, why.clone()));
                break;
            }
            Err(why) => {
                ran.skip = Some(why.clone());
                break;
            }
        };
        let spec = process::Spec {
            argv: step.argv.clone(),
            env: step.env.clone(),
            env_remove: step.env_remove.clone(),
            cwd: Some(dir.to_path_buf()),
            timeout,
            log_dir: dir.to_path_buf(),
            log_name: step.name.into(),
            cap,
            daemons: false,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldflags_gain_what_the_linker_needs_once() {
        let w = ["-w".to_string()];
        assert_eq!(merge_ldflags("", &w), "-w");
        assert_eq!(merge_ldflags("-s  -w", &w), "-s  -w");
        assert_eq!(merge_ldflags("-s", &w), "-s -w");
        assert_eq!(merge_ldflags("-X a=b", &[]), "-X a=b");
    }
}
