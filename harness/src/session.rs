//! One run of the engine, whatever front end asked for it (`run`, `repro`,
//! `repro --bisect`): prepare (resolve the Go versions, expand, read the
//! host and its tools), run the cells through the preflight and the
//! pipeline with observers (the result cache's writer, then the front
//! end's), assemble each matrix's `Results`, and map
//! them to an exit code. Front ends parse arguments and print; the engine
//! is here, once.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::errors::Error;
use crate::expand;
use crate::load::{Located, Matrix};
use crate::model::Perf;
use crate::model::{self, exit, Cell, CellResult, Results, Runner, RunnerKind, SCHEMA_VERSION};
use crate::pipeline::{self, preflight, Context, Event};
use crate::process::{self, interrupt::Cancel};
use crate::schedule::History;
use crate::toolchain::cc::Compilers;
use crate::toolchain::go::{self as gotool, GoToolchain};
use crate::toolchain::versions;
use crate::{cache, host, run};

/// How the matrices become cells.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    /// `--filter`: only cells whose id matches.
    pub filter: Option<&'a str>,
    pub max_cells: usize,
    /// `--strict`: an expectation that matches no cell is an error.
    pub strict: bool,
    /// `--keep`: every cell builds in a fresh directory that stays.
    pub keep: bool,
}

/// Loaded and expanded matrices, ready to run.
pub struct Session {
    pub matrices: Vec<Matrix>,
    pub cells: Vec<Cell>,
    pub ctx: Context,
    pub warnings: Vec<String>,
}

impl Session {
    /// Runs `cells` (the session's, or a shard of them): the preflight
    /// first, whose skips `observe` sees finish before anything is built,
    /// then the pipeline. Cells not started because of an interrupt come
    /// back as `Interrupted`.
    pub fn run(
        &mut self,
        cells: Vec<Cell>,
        jobs: usize,
        mut observe: impl FnMut(Event),
    ) -> Vec<CellResult> {
        let (cells, skipped, cc_hints) = preflight::split(cells, &self.ctx);
        self.ctx.cc_hints = cc_hints;
        for r in &skipped {
            observe(Event::Finished(Box::new(r.clone())));
        }
        // The result cache's writer, an observer of finished cells: the
        // pipeline says what may be kept. A cache that cannot be written
        // costs the next run time, not this run its result.
        let store = self.ctx.cache.then(cache::Store::open);
        let keep = |entry: &cache::Entry| {
            if let Some(store) = &store {
                let _ = store.put(entry);
            }
        };
        let mut results = pipeline::run_all(cells, &self.ctx, jobs, &mut observe, keep);
        results.extend(skipped);
        results
    }

    /// What every matrix's `Results` of this run share.
    pub fn info(
        &self,
        started_at: &str,
        elapsed: Duration,
        runner: String,
        all: &[CellResult],
    ) -> RunInfo {
        let h = &self.ctx.host;
        RunInfo {
            started_at: started_at.to_string(),
            duration_ms: elapsed.as_millis() as u64,
            host: model::Host {
                runner,
                ..h.clone()
            },
            tools: tool_versions(&self.ctx),
            perf: crate::perf::measure(all),
            interrupted: self.ctx.cancel.stopped(),
        }
    }
}

/// The part of a `Results` that is the run's, not a matrix's.
pub struct RunInfo {
    pub started_at: String,
    pub duration_ms: u64,
    pub host: model::Host,
    pub tools: BTreeMap<String, String>,
    pub perf: Perf,
    /// Whether the run stopped before its end: a signal, or the engine
    /// gave up (a full disk).
    pub interrupted: bool,
}

impl RunInfo {
    /// One matrix's results.
    pub fn results(&self, matrix: &str, cells: Vec<CellResult>) -> Results {
        Results {
            schema: SCHEMA_VERSION,
            crossprobe_version: env!("CARGO_PKG_VERSION").to_string(),
            matrices: vec![matrix.to_string()],
            started_at: self.started_at.clone(),
            duration_ms: self.duration_ms,
            host: self.host.clone(),
            tools: self.tools.clone(),
            interrupted: self.interrupted,
            cells,
            perf: Some(self.perf.clone()),
            shard: None,
            merged_from: Vec::new(),
            estimate: None,
            env_dropped: crate::process::env::dropped(),
        }
    }
}

/// Catches SIGINT and SIGTERM, so that an interrupted run still writes
/// what finished.
pub fn install_interrupts() -> Result<(), Error> {
    process::interrupt::install().map_err(|e| Error::Usage {
        message: format!("cannot install signal handlers: {e}"),
        help: None,
    })
}

/// The exit status of a run: the signal that stopped it, else an I/O
/// failure writing reports, else whether every cell met its expectation.
pub fn exit_code(cancel: &Cancel, all: &[CellResult], io_failed: bool) -> i32 {
    match cancel.signal() {
        Some(libc::SIGTERM) => exit::SIGTERM,
        Some(_) => exit::SIGINT,
        None if io_failed => exit::IO,
        None if all.iter().all(|r| r.standing().ok()) => exit::OK,
        None => exit::UNMET,
    }
}

/// The number of cells to build and run at once: `--jobs`, else the
/// machine's cores.
pub fn jobs(flag: Option<usize>) -> usize {
    flag.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1)
}

/// Resolves the Go versions of loaded matrices, expands them, and reads the
/// host once: everything [`Session::run`] needs.
pub fn prepare(mut matrices: Vec<Matrix>, o: &Options) -> miette::Result<Session> {
    let Options {
        filter,
        max_cells,
        strict,
        keep,
    } = *o;
    for (i, mx) in matrices.iter().enumerate() {
        if matrices[..i].iter().any(|o| o.name == mx.name) {
            return Err(Error::Usage {
                message: format!("two matrices are named {:?}", mx.name),
                help: Some(
                    "their reports would share a directory; give one a different `name:`".into(),
                ),
            }
            .into());
        }
    }
    let gos = resolve_gos(&matrices)?;
    let host = host::detect();
    // The local Go's GOROOT, for the tools shared by the run; a cell built by
    // another Go finds its own wasm_exec_node.js (see pipeline).
    let local_root = gos
        .get("local")
        .or_else(|| gos.values().find(|g| g.unavailable.is_none()))
        .map(|g| g.goroot.clone());
    let tools = host::discover_targets(local_root.as_deref(), &targets(&matrices));
    let mut cells = Vec::new();
    let mut warnings = modules(&mut matrices, &gos, strict, max_cells)?;
    warnings.extend(complete_sums(&mut matrices, &gos));
    let mut probes = BTreeMap::new();
    let mut timeouts = BTreeMap::new();
    let mut memory = BTreeMap::new();
    let mut unsandboxed = std::collections::BTreeSet::new();
    let mut allow_missing = BTreeMap::new();
    for mx in &matrices {
        let choose = |cell: &Cell, mut ov: Option<RunnerKind>| -> Runner {
            // A CPU model means emulation even where the host could run the
            // binary itself: the point is to run it on an older CPU.
            if !cell.cpu.is_empty() && ov.is_none() {
                ov = Some(RunnerKind::Qemu);
            }
            // The env only picks a CPU for a GOARCH level: the cpu axis,
            // when given, is the CPU.
            let no_env = BTreeMap::new();
            let env = if cell.cpu.is_empty() {
                &cell.env
            } else {
                &no_env
            };
            match run::runners::choose_with(ov, &cell.goos, &cell.goarch, env, &host, &tools) {
                Runner::Qemu { binary, .. } if !cell.cpu.is_empty() => run::qemu::with_cpu(
                    binary,
                    Some((cell.cpu.clone(), "the cpu axis asks for".into())),
                    &tools,
                ),
                r @ Runner::None { .. } => r,
                r if !cell.cpu.is_empty() => Runner::None {
                    reason: format!(
                        "cpu {} needs qemu-user, but {} runs {}",
                        cell.cpu,
                        r.name(),
                        cell.target()
                    ),
                    missing: None,
                },
                r => r,
            }
        };
        let ex = expand::expand(
            mx,
            &gos,
            &expand::Options {
                max_cells,
                choose_runner: &choose,
            },
        )?;
        if strict && !ex.warnings.is_empty() {
            return Err(Error::Usage {
                message: ex.warnings.join("\n"),
                help: Some("--strict refuses expectations that match no cell: fix their `when`, or remove them".into()),
            }
            .into());
        }
        warnings.extend(ex.warnings);
        let before = ex.cells.len();
        cells.extend(
            ex.cells
                .into_iter()
                .filter(|c| filter.is_none_or(|f| expand::filter_matches(f, &c.id))),
        );
        if before > 0 && cells.is_empty() {
            if let Some(f) = filter {
                return Err(Error::Usage {
                    message: format!(
                        "--filter {f:?} matches none of the {before} cells of {}",
                        mx.name
                    ),
                    help: Some(format!(
                        "`crossprobe plan {}` lists the cell ids",
                        mx.source.name
                    )),
                }
                .into());
            }
        }
        for p in &mx.probes {
            probes.insert(format!("{}/{}", mx.name, p.name), p.clone());
        }
        timeouts.insert(mx.name.clone(), mx.timeout);
        memory.insert(mx.name.clone(), mx.memory);
        if !mx.sandbox {
            unsandboxed.insert(mx.name.clone());
        }
        allow_missing.insert(mx.name.clone(), mx.allow_missing.clone());
    }
    let compilers = Compilers::discover(&cells, &host, &tools.cache_dir);
    Ok(Session {
        matrices,
        cells,
        ctx: Context {
            gos,
            host,
            tools,
            compilers,
            probes,
            timeouts,
            memory,
            trusted_gocache: None,
            sandbox: crate::run::Sandbox::off(),
            unsandboxed,
            allow_missing,
            resumed: BTreeMap::new(),
            keep,
            retries: 0,
            cache: false,
            history: History::default(),
            cc_hints: BTreeMap::new(),
            cancel: Cancel::default(),
            wine_users: run::WineUsers::default(),
        },
        warnings,
    })
}

/// Every (goos, goarch) a cell of the matrices may have, and some more:
/// each goos listed, beside or in an include entry, with each goarch. The
/// tools of other targets' runners need not be asked for their versions.
fn targets(matrices: &[Matrix]) -> std::collections::BTreeSet<(String, String)> {
    let mut out = std::collections::BTreeSet::new();
    for mx in matrices {
        let listed = |key: &str| -> Vec<String> {
            let mut v: Vec<String> = mx.values(key).iter().map(|l| l.value.clone()).collect();
            v.extend(
                mx.include
                    .iter()
                    .filter_map(|i| Some(i.value.get(key)?.value.clone())),
            );
            v
        };
        let arches = listed("goarch");
        for os in listed("goos") {
            out.extend(arches.iter().map(|a| (os.clone(), a.clone())));
        }
    }
    out
}

/// What `go list` says of the matrices' module probes, and their modules
/// downloaded once per module and Go, before anything is scheduled.
fn modules(
    matrices: &mut [Matrix],
    gos: &BTreeMap<String, GoToolchain>,
    strict: bool,
    max_cells: usize,
) -> miette::Result<Vec<String>> {
    let mut warnings = Vec::new();
    let mut downloaded: BTreeMap<(std::path::PathBuf, String), Result<(), String>> =
        BTreeMap::new();
    for mx in matrices.iter_mut() {
        if mx.probes.iter().all(|p| p.module().is_none()) {
            continue;
        }
        let usable: Vec<&GoToolchain> = mx
            .values("go")
            .iter()
            .filter_map(|g| gos.get(&g.value))
            .filter(|g| g.unavailable.is_none())
            .collect();
        if usable.is_empty() {
            continue;
        }
        let targets = expand::listing_targets(mx, max_cells)?;
        let found = crate::probe::module::resolve(&mx.source, &mut mx.probes, &usable, &targets)?;
        if strict && !found.is_empty() {
            return Err(Error::Usage {
                message: found.join("\n"),
                help: Some("--strict refuses a test pattern that matches no package with tests: fix the pattern, or add tests".into()),
            }
            .into());
        }
        warnings.extend(found);
        let versions: Vec<Located<String>> = mx.values("go").to_vec();
        for probe in mx.probes.iter_mut() {
            let Some(m) = probe.module_mut() else {
                continue;
            };
            for g in &versions {
                let Some(go) = gos.get(&g.value).filter(|go| go.unavailable.is_none()) else {
                    continue;
                };
                let got = downloaded
                    .entry((m.root.clone(), g.value.clone()))
                    .or_insert_with(|| {
                        crate::probe::module::download::download(&m.root, &m.path, go)
                    });
                if let Err(why) = got {
                    m.download_errors.insert(g.value.clone(), why.clone());
                }
            }
        }
    }
    for r in downloaded.values() {
        if let Err(why) = r {
            eprintln!("crossprobe: {}", crate::escape::Line(why));
        }
    }
    Ok(warnings)
}

/// Completes the go.sum of each probe that brings its own go.mod, once per
/// run, with the local Go (else the first one to hand). A failure is a
/// warning: the build then says what is missing, in Go's words.
fn complete_sums(matrices: &mut [Matrix], gos: &BTreeMap<String, GoToolchain>) -> Vec<String> {
    let Some(go) = gos
        .get("local")
        .filter(|g| g.unavailable.is_none())
        .or_else(|| gos.values().find(|g| g.unavailable.is_none()))
    else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    for mx in matrices {
        for p in &mut mx.probes {
            if let Err(e) = crate::probe::gosum::complete_sum(p, go) {
                warnings.push(format!(
                    "{}: probe {}: cannot complete its go.sum: {e}",
                    mx.name, p.name
                ));
            }
        }
    }
    warnings
}

/// Every Go version the matrices name, resolved once: `local`, a minor, or
/// an exact release (downloaded into the module cache on first use). One
/// that cannot be had becomes a toolchain whose cells skip, with the reason.
fn resolve_gos(matrices: &[Matrix]) -> miette::Result<BTreeMap<String, GoToolchain>> {
    let mut asked: Vec<(String, versions::Request, &Matrix, miette::SourceSpan)> = Vec::new();
    for mx in matrices {
        for g in mx.values("go") {
            if asked.iter().any(|(v, ..)| *v == g.value) {
                continue;
            }
            let req = versions::parse_request(&g.value)
                .map_err(|(message, help)| version_error(mx, g.span, message, help))?;
            asked.push((g.value.clone(), req, mx, g.span));
        }
    }
    let local = gotool::local();
    if let (Err(message), true) = (
        &local,
        asked
            .iter()
            .any(|(_, r, ..)| *r == versions::Request::Local),
    ) {
        return Err(Error::Toolchain {
            message: message.clone(),
            help: None,
        }
        .into());
    }
    let resolver = versions::Resolver::new(local);
    let reqs: Vec<versions::Request> = asked.iter().map(|(_, r, ..)| *r).collect();
    let mut gos = BTreeMap::new();
    for ((value, _, mx, span), res) in asked.iter().zip(versions::resolve_all(&resolver, &reqs)) {
        let tc = match res {
            Ok(versions::Resolved::Ready(tc)) => *tc,
            Ok(versions::Resolved::Unavailable { version, reason }) => {
                versions::unavailable(&version, &reason, resolver.local().ok())
            }
            Err(no) => return Err(version_error(mx, *span, no.message, no.help)),
        };
        gos.insert(value.clone(), tc);
    }
    Ok(gos)
}

/// A bad Go version points at the matrix when it came from one, else (from
/// `--go`) it is a usage error.
fn version_error(
    mx: &Matrix,
    span: miette::SourceSpan,
    message: String,
    help: String,
) -> miette::Report {
    if span.is_empty() {
        return Error::Usage {
            message,
            help: Some(help),
        }
        .into();
    }
    Error::from(crate::errors::InputError::new(
        &mx.source,
        span,
        message,
        "this Go version",
        Some(help),
    ))
    .into()
}

pub fn tool_versions(ctx: &Context) -> BTreeMap<String, String> {
    let mut v = ctx.tools.versions();
    v.extend(ctx.compilers.versions());
    for (req, g) in &ctx.gos {
        let key = if req == "local" {
            "go".to_string()
        } else {
            format!("go@{req}")
        };
        v.insert(key, g.version.clone());
    }
    v
}

/// `--runner`, else $CROSSPROBE_RUNNER, else the host's name.
pub fn runner_name(flag: Option<String>) -> String {
    flag.or_else(|| std::env::var("CROSSPROBE_RUNNER").ok())
        .unwrap_or_else(host_name)
}

fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "local".into())
}
