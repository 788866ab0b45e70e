//! Preflight: the cells a run cannot serve become skips with the reason,
//! before anything is built, rather than build failures that bury the
//! reason in a compiler's output.
//!
//! Only cells expected to pass are judged here: a matrix that expects a
//! build failure wants to see it happen.
//!
//! The toolchain speaks first: a C compiler that is missing or builds for
//! another target skips nothing here. Go is asked all the same (see
//! `probe::go_plan`), and what crossprobe knows about the compiler becomes a
//! hint shown beside Go's words should the build fail.

use std::collections::BTreeMap;

use super::Context;
use crate::check::{self, Observed};
use crate::model::{Cell, CellResult, Lang, Missing, Outcome};
use crate::toolchain::cc;

/// What the preflight says about a cell.
enum Said {
    /// It cannot be built: a skip, with why.
    Skip(String),
    /// Go may well refuse it: crossprobe's hint, for beside Go's words.
    Hint(String),
}

/// The cells to run, the skips made of the rest, and crossprobe's hint by
/// cell id for cells whose C compiler looks wrong for their target.
pub type Split = (Vec<Cell>, Vec<CellResult>, BTreeMap<String, String>);

/// Splits `cells` into those to run and the skips made of the rest.
pub fn split(cells: Vec<Cell>, ctx: &Context) -> Split {
    let mut cache = BTreeMap::new();
    let (mut run, mut skipped, mut hints) = (Vec::new(), Vec::new(), BTreeMap::new());
    for cell in cells {
        match unservable(&cell, ctx, &mut cache) {
            Some(Said::Skip(reason)) => {
                let missing = missing_compiler(&cell, ctx);
                let allow = super::allows_missing(&cell, missing.as_ref(), ctx);
                skipped.push(skip_for(cell, reason, missing, allow))
            }
            Some(Said::Hint(hint)) => {
                hints.insert(cell.id.clone(), hint);
                run.push(cell);
            }
            None => run.push(cell),
        }
    }
    (run, skipped, hints)
}

/// A structural skip: no tool would help.
#[cfg(test)]
pub(crate) fn skip(cell: Cell, reason: String) -> CellResult {
    skip_for(cell, reason, None, false)
}

fn skip_for(cell: Cell, reason: String, missing: Option<Missing>, allow: bool) -> CellResult {
    let obs = Observed {
        skip: Some(reason),
        allow_missing: allow,
        missing,
        ..Observed::default()
    };
    check::check(&cell, &obs, &BTreeMap::new()).into_result(&cell, BTreeMap::new(), Vec::new(), 0)
}

/// The cross compiler doctor could install for a cgo cell, when it is not
/// on PATH: what makes the skip environmental.
fn missing_compiler(cell: &Cell, ctx: &Context) -> Option<Missing> {
    let tool = match cell.env.get("CC") {
        Some(_) => None,
        None if cc::request(cell) == cc::Request::Default => {
            cc::debian_gcc(&cell.goos, &cell.goarch).map(|(bin, _)| bin)
        }
        None => ctx.compilers.missing(cell).map(str::to_string),
    };
    tool.filter(|t| crate::fsutil::which(t).is_none())
        .map(|t| crate::host::install::missing(&t))
}

/// Key: the Go, target and CC asked for; value: why such a cell cannot be
/// built, if it cannot. One `go env` and one `-dumpmachine` per key.
type Cache = BTreeMap<(String, String, Option<String>), Option<String>>;

fn unservable(cell: &Cell, ctx: &Context, cache: &mut Cache) -> Option<Said> {
    if cell.lang != Lang::Go || cell.cgo != "1" || cell.expect.outcome != Outcome::Pass {
        return None;
    }
    let target = cell.target();
    let go = ctx.gos.get(&cell.go)?;
    if go.targets.get(&target).is_some_and(|t| !t.cgo_supported) {
        return Some(Said::Skip(format!(
            "{} has no cgo for {target} (go tool dist list)",
            go.version
        )));
    }
    let asked = match (cell.env.get("CC"), cc::request(cell)) {
        (Some(cc), _) => cc.clone(),
        // cc: default leaves CC to Go: its own default compiler.
        (None, cc::Request::Default) => cc::go_env_cc(
            &go.go.display().to_string(),
            &cell.goos,
            &cell.goarch,
            &cell.env,
        )
        .unwrap_or_else(|| "gcc".into()),
        // The cc axis chose the compiler (toolchain::cc): a missing one is
        // for the build to tell, after Go. The user's own $CC does not
        // reach builds.
        (None, _) => return None,
    };
    // The host's own compiler builds for the host (and for 386 on amd64).
    let native = target == ctx.host.target()
        || (target == "linux/386" && ctx.host.target() == "linux/amd64");
    if native {
        return None;
    }
    let key = (cell.go.clone(), target.clone(), Some(asked.clone()));
    cache
        .entry(key)
        .or_insert_with(|| {
            let enclose = |argv| match super::sandboxed(cell, ctx) {
                true => ctx
                    .sandbox
                    .wrap_build(argv, std::path::Path::new("/"), &[], &[]),
                false => argv,
            };
            cannot_build(&asked, &cell.goos, &cell.goarch, &enclose)
        })
        .clone()
        .map(Said::Hint)
}

/// Why `cc` cannot build C for the target; None when it can, or when that
/// cannot be told.
fn cannot_build(
    cc: &str,
    goos: &str,
    goarch: &str,
    enclose: &dyn Fn(Vec<String>) -> Vec<String>,
) -> Option<String> {
    let target = format!("{goos}/{goarch}");
    let suggestion = match cc::debian_gcc(goos, goarch) {
        Some((bin, _)) if crate::fsutil::which(&bin).is_some() => {
            cc::set_cc_hint(goos, goarch, &bin)
        }
        Some((bin, pkg)) => format!(
            "install {pkg} (Debian), then {}",
            cc::set_cc_hint(goos, goarch, &bin)
        ),
        None => match cc::zig_target(goos, goarch) {
            Some(z) => cc::set_cc_hint(goos, goarch, &format!("zig cc -target {z}")),
            None => "no C cross compiler is known for it".to_string(),
        },
    };
    match cc::dumpmachine_in(cc, enclose) {
        Err(e) => Some(format!("cgo=1 for {target} needs a C compiler, and CC={cc} does not run ({e}); {suggestion}")),
        Ok(triple) => match cc::serves(&triple, goos, goarch) {
            Some(false) => Some(format!("cgo=1 for {target} needs a C cross compiler, and CC={cc} builds for {triple}; {suggestion}")),
            _ => None,
        },
    }
}
