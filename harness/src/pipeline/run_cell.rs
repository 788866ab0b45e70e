//! One run of a built cell's binary: its runner readied, its invocation
//! (sandboxed unless the matrix says not), the process, and a test binary's
//! events through `go tool test2json`.

use std::path::Path;
use std::time::Instant;

use super::built::Built;
use super::{module_of, ms, timeout, Context, OUTPUT_CAP};
use crate::fsutil;
use crate::gomod::{test2json, Kind};
use crate::host::Tools;
use crate::model::{Cell, Command, Missing, Outcome, Phase, PhaseName, Runner};
use crate::toolchain::go::GoToolchain;
use crate::{process, run};

/// One run of a built cell's binary, its output captured as `log_name`.
pub(super) fn run_once(
    cell: &Cell,
    log_name: String,
    built: &Built,
    ctx: &Context,
) -> (Phase, Ran) {
    let mut ran = Ran::default();
    let tr = Instant::now();
    if ctx.cancel.signal().is_none() {
        let go = &ctx.gos[&cell.go];
        match &cell.runner {
            _ if built.no_run.is_some() => ran.skip = built.no_run.clone(),
            Runner::None { reason, missing } => {
                ran.skip = Some(reason.clone());
                ran.missing = missing.clone();
            }
            runner => match run::warm_up(runner, &ctx.tools, &ctx.wine_users).and_then(|()| {
                run::invocation(runner, &built.output, &args(cell, ctx), &tools_for(go, ctx))
            }) {
                Err(why) => ran.skip = Some(why),
                Ok(mut inv) => {
                    if let Some(m) = module_of(cell, ctx) {
                        // Tests read testdata/ relative to their package.
                        if let Some(p) = m.package(&cell.package) {
                            inv.cwd = p.dir.clone();
                        }
                        inv.env.extend(m.env.clone());
                    }
                    let inv = match super::sandboxed(cell, ctx) {
                        true => ctx.sandbox.wrap(inv, &built.output, runner, &ctx.tools),
                        false => inv,
                    };
                    invoke(cell, &inv, &built.path, log_name, ctx, &mut ran);
                }
            },
        }
    }
    let run = Phase {
        name: PhaseName::Run,
        duration_ms: ms(tr.elapsed()),
        commands: ran.command.iter().cloned().collect(),
    };
    (run, ran)
}

/// The run's tools, with the wasm_exec_node.js of the Go that built the
/// cell.
pub(super) fn tools_for<'a>(go: &GoToolchain, ctx: &'a Context) -> std::borrow::Cow<'a, Tools> {
    run::tools_for_goroot(&ctx.tools, &go.goroot)
}

/// The arguments of a cell's binary: a module probe's `args`, or what a
/// test binary needs to report each test as an event, bounded by the
/// matrix's timeout.
pub(super) fn args(cell: &Cell, ctx: &Context) -> Vec<String> {
    match module_of(cell, ctx) {
        Some(m) if matches!(m.kind, Kind::Test(_)) => vec![
            "-test.v=test2json".into(),
            format!("-test.timeout={}ms", timeout(cell, ctx).as_millis()),
        ],
        Some(m) => m.args.clone(),
        None => Vec::new(),
    }
}

/// What the run phase saw.
#[derive(Default)]
pub(super) struct Ran {
    pub(super) command: Option<Command>,
    pub(super) skip: Option<String>,
    /// The runner doctor could install, when its absence is the skip.
    pub(super) missing: Option<Missing>,
    pub(super) spawn_error: Option<(Outcome, String)>,
    /// A test binary's events, through `go tool test2json`.
    pub(super) tests: Option<test2json::Converted>,
}

pub(super) fn invoke(
    cell: &Cell,
    inv: &run::Invocation,
    dir: &Path,
    log_name: String,
    ctx: &Context,
    ran: &mut Ran,
) {
    for (from, to) in &inv.prepare {
        // Whole or not at all: another cell of the group may be running
        // with `to` loaded (wine's DLL stub).
        if let Err(e) = fsutil::copy_atomic(from, to) {
            ran.spawn_error = Some((
                Outcome::RunFail,
                format!("cannot copy {} for the runner: {e}", from.display()),
            ));
            return;
        }
    }
    // The cell's env axes reach the probe too: GODEBUG and friends are read
    // at run time.
    let mut env = cell.env.clone();
    env.extend(inv.env.clone());
    let spec = process::Spec {
        argv: inv.argv.clone(),
        env,
        env_remove: Vec::new(),
        cwd: Some(inv.cwd.clone()),
        // A test binary's own -test.timeout panics first and names the
        // test it was running; this is the bound if it cannot.
        timeout: match cell.package.is_empty() {
            true => timeout(cell, ctx),
            false => timeout(cell, ctx) + std::time::Duration::from_secs(10),
        },
        log_dir: dir.to_path_buf(),
        log_name,
        cap: OUTPUT_CAP,
        daemons: false,
    };
    match process::run(&spec) {
        Ok(mut c) => {
            run::sandbox::restore_signal(&mut c);
            ran.command = Some(c)
        }
        Err(e) => {
            ran.spawn_error = Some((Outcome::RunFail, format!("cannot run {}: {e}", inv.argv[0])));
            return;
        }
    }
    let Some(p) = module_of(cell, ctx).and_then(|m| m.package(&cell.package)) else {
        return;
    };
    // From the capture file, not a pipe: wine keeps pipes open.
    let go = &ctx.gos[&cell.go];
    let mut argv = test2json::command(go);
    argv.extend(["-t".into(), "-p".into(), p.import_path.clone()]);
    let convert = process::Spec {
        argv,
        env: go.env.clone(),
        env_remove: Vec::new(),
        cwd: Some(dir.to_path_buf()),
        timeout: timeout(cell, ctx),
        log_dir: dir.to_path_buf(),
        log_name: format!("{}-test2json", spec.log_name),
        cap: OUTPUT_CAP,
        daemons: false,
    };
    let stdout = dir.join(format!("{}.stdout", spec.log_name));
    let events = process::run_fed(&convert, Some(&stdout))
        .map_err(|e| e.to_string())
        .and_then(|c| {
            let file = dir.join(format!("{}.stdout", convert.log_name));
            match c.exit.success() {
                true => std::fs::read_to_string(&file).map_err(|e| e.to_string()),
                false => Err(format!("{} ({})", c.stderr.text.trim(), c.exit)),
            }
        });
    match events {
        Ok(text) => {
            let stderr = ran.command.as_ref().map_or("", |c| c.stderr.text.as_str());
            ran.tests = Some(test2json::convert(&text, stderr));
        }
        Err(why) => {
            ran.spawn_error = Some((Outcome::RunFail, format!("go tool test2json failed: {why}")))
        }
    }
}
