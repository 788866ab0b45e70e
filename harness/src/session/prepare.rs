//! Before a run: the matrices' Go versions resolved, their module probes
//! listed and downloaded, their cells expanded with a runner each, and the
//! host and its tools read, once ([`prepare`]). Bad input stops here,
//! before anything is built or written.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::errors::Error;
use crate::expand;
use crate::host::{self, Host, Tools};
use crate::load::Matrix;
use crate::model::{Cell, Probe, Runner, RunnerKind};
use crate::probe;
use crate::run;
use crate::toolchain::cc::Compilers;
use crate::toolchain::go::{self as gotool, GoToolchain};
use crate::toolchain::versions;

/// How the matrices become cells.
#[derive(Clone, Copy)]
pub struct Options<'a> {
    /// `--filter`: only cells whose id matches.
    pub filter: Option<&'a str>,
    pub max_cells: usize,
    /// `--strict`: an expectation that matches no cell is an error.
    pub strict: bool,
}

/// Loaded and expanded matrices: their cells, ready to be run by a
/// [`super::Session`], and what the run shares, read once.
pub struct Prepared {
    pub matrices: Vec<Matrix>,
    pub cells: Vec<Cell>,
    pub warnings: Vec<String>,
    pub(super) shared: Shared,
}

impl Prepared {
    /// The C compilers of the cells, resolved once.
    pub fn compilers(&self) -> &Compilers {
        &self.shared.compilers
    }
}

/// What every cell of a run shares, read once.
pub(super) struct Shared {
    pub(super) gos: BTreeMap<String, GoToolchain>,
    pub(super) host: Host,
    pub(super) tools: Tools,
    /// The C compilers of the cells, resolved once.
    pub(super) compilers: Compilers,
    /// Probe by `matrix/name`.
    pub(super) probes: BTreeMap<String, Probe>,
    /// Per-phase timeout by matrix name.
    pub(super) timeouts: BTreeMap<String, Duration>,
    /// Each cell's memory bound by matrix name (`run.memory`; None: none).
    pub(super) memory: BTreeMap<String, Option<u64>>,
    /// Each cell's process bound by matrix name (`run.processes`).
    pub(super) processes: BTreeMap<String, Option<u64>>,
    /// `run.pass_env` by matrix name.
    pub(super) pass_env: BTreeMap<String, Vec<String>>,
    /// Matrices whose probes run unsandboxed (`run.sandbox: false`).
    pub(super) unsandboxed: BTreeSet<String>,
    /// By matrix, the tools that may be missing (`run.allow_missing`);
    /// `None` for any tool.
    pub(super) allow_missing: BTreeMap<String, Option<BTreeSet<String>>>,
}

/// Resolves the Go versions of loaded matrices, expands them, and reads the
/// host once: everything [`Session::run`] needs.
pub fn prepare(mut matrices: Vec<Matrix>, o: &Options) -> miette::Result<Prepared> {
    let Options {
        filter,
        max_cells,
        strict,
    } = *o;
    for (i, mx) in matrices.iter().enumerate() {
        if matrices[..i].iter().any(|o| o.name == mx.name) {
            return Err(Error::SameName {
                name: mx.name.clone(),
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
    let tools = host::discover_targets(local_root.as_deref(), &targets(&matrices, max_cells)?);
    let mut cells = Vec::new();
    let mut warnings = probe::prepare::modules(&mut matrices, &gos, strict, max_cells)?;
    warnings.extend(probe::prepare::complete_sums(&mut matrices, &gos));
    let mut probes = BTreeMap::new();
    let mut timeouts = BTreeMap::new();
    let mut memory = BTreeMap::new();
    let mut processes = BTreeMap::new();
    let mut pass_env = BTreeMap::new();
    let mut unsandboxed = BTreeSet::new();
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
        processes.insert(mx.name.clone(), mx.processes);
        pass_env.insert(mx.name.clone(), pass_names(mx));
        if !mx.sandbox {
            unsandboxed.insert(mx.name.clone());
        }
        allow_missing.insert(mx.name.clone(), mx.allow_missing.clone());
    }
    let compilers = Compilers::discover(&cells, &host, &tools.cache_dir);
    Ok(Prepared {
        matrices,
        cells,
        warnings,
        shared: Shared {
            gos,
            host,
            tools,
            compilers,
            probes,
            timeouts,
            memory,
            processes,
            pass_env,
            unsandboxed,
            allow_missing,
        },
    })
}

/// Every (goos, goarch) the matrices' cells build for
/// ([`expand::targets`]): the tools of other targets' runners need not be
/// asked for their versions.
fn targets(matrices: &[Matrix], max_cells: usize) -> miette::Result<BTreeSet<(String, String)>> {
    let mut out = BTreeSet::new();
    for mx in matrices {
        let named = expand::targets(mx, max_cells)?;
        out.extend(named.into_iter().map(|t| (t.goos, t.goarch)));
    }
    Ok(out)
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
            message: message.to_string(),
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

/// A matrix's `run.pass_env`, as the process layer reads it.
pub(super) fn pass_names(mx: &crate::load::Matrix) -> Vec<String> {
    mx.pass_env.iter().map(|n| n.value.clone()).collect()
}
