//! One run of a built cell's binary: its runner readied, its invocation
//! (what the probe says of its run, sandboxed unless the matrix says not),
//! the process, and a test binary's events through `go tool test2json`.

use std::path::Path;
use std::time::Instant;

use super::built::Built;
use super::{ms, probe_of, timeout, Context, OUTPUT_CAP};
use crate::fsutil;
use crate::host::Tools;
use crate::model::{Cell, Command, Missing, Outcome, Phase, PhaseName, Runner};
use crate::probe::{self, test2json};
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
        let run_false = probe_of(cell, ctx).module().is_some_and(|m| !m.run);
        match &cell.runner {
            _ if run_false => {
                ran.skip = Some("run: false: built and inspected, not run".into());
                ran.not_run = Some(crate::model::NotRun::RunFalse);
            }
            _ if built.no_run.is_some() => {
                let (why, reason) = built.no_run.clone().unzip();
                (ran.not_run, ran.skip) = (why, reason);
            }
            Runner::None { reason, missing } => {
                ran.skip = Some(reason.clone());
                ran.missing = missing.clone();
                ran.not_run = Some(match reason == run::runners::FORCED_NONE {
                    true => crate::model::NotRun::RunnerNone,
                    false => crate::model::NotRun::NoRunner,
                });
            }
            runner => {
                let spec =
                    probe::run_spec(cell, probe_of(cell, ctx), timeout(cell, ctx), &built.path);
                // This run's counters only: not an earlier run's of the
                // same build directory.
                if let Some(d) = &spec.cover_dir {
                    let _ = std::fs::remove_dir_all(d);
                    if let Err(e) = std::fs::create_dir_all(d) {
                        ran.spawn_error = Some((
                            Outcome::RunFail,
                            format!("cannot create {}: {e}", d.display()),
                        ));
                    }
                }
                let sandboxed = super::sandboxed(cell, ctx);
                let users = match sandboxed {
                    true => &ctx.wine_users,
                    false => &ctx.wine_unjailed,
                };
                match run::warm_up(runner, &ctx.tools, users).and_then(|()| {
                    run::invocation(runner, &built.output, &spec.args, &tools_for(go, ctx))
                }) {
                    Err(why) => ran.skip = Some(why.to_string()),
                    Ok(mut inv) => {
                        if let Runner::Wine { .. } = runner {
                            run::in_jail(&mut inv, users);
                        }
                        // Tests read testdata/ relative to their package.
                        if let Some(cwd) = &spec.cwd {
                            inv.cwd = cwd.clone();
                        }
                        let reach = match probe_of(cell, ctx).module() {
                            Some(m) => module_profile(go, &mut inv, m),
                            None => Default::default(),
                        };
                        inv.env.extend(spec.env.clone());
                        let inv = match sandboxed {
                            true => {
                                let tools = tools_for(go, ctx);
                                ctx.sandbox.wrap(inv, &built.output, runner, &tools, &reach)
                            }
                            false => inv,
                        };
                        let events_of = spec.events_of.as_deref();
                        invoke(cell, &inv, events_of, &built.path, log_name, ctx, &mut ran);
                    }
                }
            }
        }
    }
    let run = Phase {
        name: PhaseName::Run,
        duration_ms: ms(tr.elapsed()),
        commands: ran.command.iter().cloned().collect(),
    };
    (run, ran)
}

/// The module profile of a user's own test or package (docs/src/sandbox.md):
/// the test process sees (besides its target, from [`probe::run_spec`]) the
/// Go caches, the GOENV file and the module at fixed paths, so that a test
/// that runs `go` finds them under the empty $HOME. Returns what it may
/// read: the module and what it reads outside its root (replace targets,
/// the workspace), the module cache, GOROOT, the GOENV file and the PATH
/// directories under $HOME (a tool a test runs); and what it may write: the
/// user's GOCACHE, as under `go test`. Read-only, a test's `go build` fails
/// on its first miss (go writes every action's output into the cache:
/// "open …/go-build/7e/…-d: read-only file system", seen on a fresh cache),
/// and a cache of the cell's own costs a full standard-library build per
/// cell (85 s against 1.4 s, measured on xxhash). The package directory,
/// where the test runs, gets a throw-away writable layer: a test may create
/// files there, as under `go test`, and the tree never changes.
fn module_profile(
    go: &GoToolchain,
    inv: &mut run::Invocation,
    m: &crate::model::ModuleProbe,
) -> run::sandbox::Reach {
    inv.env
        .insert("GOCACHE".into(), go.gocache.display().to_string());
    inv.env
        .insert("GOMODCACHE".into(), go.gomodcache.display().to_string());
    let goenv = super::user_goenv();
    if let Some(f) = &goenv {
        inv.env.insert("GOENV".into(), f.display().to_string());
    }
    let mut readable = vec![m.root.clone(), go.gomodcache.clone(), go.goroot.clone()];
    readable.extend(m.outside.iter().cloned());
    readable.extend(goenv);
    readable.extend(run::sandbox::path_dirs_under_home());
    run::sandbox::Reach {
        readable,
        writable: vec![go.gocache.clone()],
        scratch: inv.cwd.starts_with(&m.root).then(|| inv.cwd.clone()),
    }
}

/// The run's tools, with the wasm_exec_node.js of the Go that built the
/// cell.
pub(super) fn tools_for<'a>(go: &GoToolchain, ctx: &'a Context) -> std::borrow::Cow<'a, Tools> {
    let tools = run::tools_for_goroot(&ctx.tools, &go.goroot);
    match ctx.run_as {
        // wazero's compilation cache: the unprivileged user's own.
        Some(user) => {
            let cache_dir = super::writes(ctx);
            let _ = crate::process::user::give(&cache_dir.join("wazero"), user, false);
            std::borrow::Cow::Owned(Tools {
                cache_dir,
                ..tools.into_owned()
            })
        }
        None => tools,
    }
}

/// What the run phase saw.
#[derive(Default)]
pub(super) struct Ran {
    pub(super) command: Option<Command>,
    pub(super) skip: Option<String>,
    /// Why a built binary was not run, in the words every reporter uses.
    pub(super) not_run: Option<crate::model::NotRun>,
    /// The runner doctor could install, when its absence is the skip.
    pub(super) missing: Option<Missing>,
    pub(super) spawn_error: Option<(Outcome, String)>,
    /// A test binary's events, through `go tool test2json`.
    pub(super) tests: Option<test2json::Converted>,
}

pub(super) fn invoke(
    cell: &Cell,
    inv: &run::Invocation,
    events_of: Option<&str>,
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
        confine: match &cell.runner {
            // Wine's server (in the run's jail) runs as the caller, and a
            // client of another user cannot reach it; so, as root, a
            // stranger's windows cells run only with --trust (repro::snippet).
            Runner::Wine { .. } => process::Confine {
                user: None,
                ..super::confine(cell, ctx)
            },
            _ => super::confine(cell, ctx),
        },
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
    let Some(import_path) = events_of else {
        return;
    };
    let go = &ctx.gos[&cell.go];
    let events = test2json::read(
        go,
        import_path,
        dir,
        &spec.log_name,
        timeout(cell, ctx),
        OUTPUT_CAP,
    );
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
