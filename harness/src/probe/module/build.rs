//! The build of a probe that is the user's own code. The go command runs
//! in the module's root (`go -C ROOT`), with the module's go.mod, go.sum
//! and vendor/ as they are (`-mod=vendor` when vendor/ exists) and the
//! user's GOFLAGS, GOPROXY, ... passed through. What crossprobe adds (the
//! started line of a `package:` probe, the source of an inline probe)
//! lives in the build directory and reaches cmd/go through `-overlay`:
//! the module's tree is never written.
//!
//! - `package:`: `go build -o probe IMPORT_PATH`;
//! - `test:`: `go test -c -json -o probe IMPORT_PATH`, one package a cell;
//!   `-json` gives the build's errors as `build-output` events;
//! - `source:` with `module:`: the source as `ROOT/.crossprobe/NAME`, a
//!   package of the module that exists only in the overlay;
//! - `vet: true`: then `go -C ROOT vet -json FLAGS IMPORT_PATH`, with the
//!   build's env (the cell's GOOS, GOARCH, cgo, env axes) and flags: vet's
//!   checks are per target (asmdecl reads the target's assembly, build
//!   constraints pick the files). `-json` exits 0 with findings, so the
//!   run goes on; the check phase reads them (`check::vet`).

use std::path::Path;

use crate::model::{Cell, Lang, ModuleKind as Kind, ModuleProbe};
use crate::probe::{go_plan, Plan, Step, Unbuildable};
use crate::templates::started::{self, GO_FILE as STARTED_FILE};
use crate::toolchain::cc::{Compiler, NoCompiler};
use crate::toolchain::go::GoToolchain;

/// The name, in a build directory, of what keys a module build on the
/// module's content.
const CONTENT_FILE: &str = "crossprobe-module.sum";

/// The files a module probe's cell puts in its build directory: what the
/// overlay adds, and the hash of the module files its build reads (so the
/// result cache is keyed on them).
pub fn module_sources(
    cell: &Cell,
    files: &[(String, String)],
    m: &ModuleProbe,
) -> Vec<(String, String)> {
    let (_, started) = started::file(Lang::Go, "package main\n");
    let content = m
        .package(package_of(cell, m))
        .map(|p| p.content.clone())
        .unwrap_or_default();
    let mut out = vec![(CONTENT_FILE.to_string(), format!("{content}\n"))];
    match m.kind {
        Kind::Package(_) => out.push((STARTED_FILE.to_string(), started)),
        Kind::Source => {
            out.extend(files.iter().cloned());
            out.push((STARTED_FILE.to_string(), started));
        }
        Kind::Test(_) => {}
    }
    out
}

/// The package id a cell builds: a `test:` cell's own, else the one
/// package of a `package:` probe.
fn package_of<'a>(cell: &'a Cell, m: &'a ModuleProbe) -> &'a str {
    if cell.package.is_empty() {
        m.packages.first().map_or("", |p| p.id.as_str())
    } else {
        &cell.package
    }
}

/// The build of a module probe's cell in `dir`.
pub fn module_plan(
    cell: &Cell,
    probe_name: &str,
    go: &GoToolchain,
    (compiler, would_use): (Result<&Compiler, NoCompiler>, Option<&[String]>),
    m: &ModuleProbe,
    dir: &Path,
) -> Plan {
    let mut plan = go_plan(cell, go, compiler, would_use, dir);
    let overlay = dir.join("overlay.json");
    let (target, replace): (String, Vec<(String, String)>) = match &m.kind {
        Kind::Source => {
            let pkg = m.root.join(super::OVERLAY_DIR).join(probe_name);
            (
                format!("./{}/{probe_name}", super::OVERLAY_DIR),
                ["main.go", STARTED_FILE]
                    .iter()
                    .map(|f| {
                        (
                            pkg.join(f).display().to_string(),
                            dir.join(f).display().to_string(),
                        )
                    })
                    .collect(),
            )
        }
        Kind::Package(_) | Kind::Test(_) => {
            let Some(p) = m.package(package_of(cell, m)) else {
                plan.steps = vec![Err(Unbuildable::NoPackage {
                    package: package_of(cell, m).to_string(),
                    root: m.root.display().to_string(),
                })];
                return plan;
            };
            let replace = match m.kind {
                Kind::Package(_) => vec![(
                    p.dir.join(STARTED_FILE).display().to_string(),
                    dir.join(STARTED_FILE).display().to_string(),
                )],
                _ => Vec::new(),
            };
            (p.import_path.clone(), replace)
        }
    };
    let mut vet = None;
    for step in plan.steps.iter_mut().flatten() {
        step.env.remove("GOFLAGS");
        step.env.extend(super::env(go));
        if step.name == "build" {
            rewrite(
                step,
                m,
                &target,
                (!replace.is_empty()).then_some(overlay.as_path()),
            );
            if m.vet && m.kind != Kind::Source {
                vet = Some(vet_step(step, &target));
            }
        }
    }
    if let Some(v) = vet {
        plan.steps.push(Ok(v));
    }
    if !replace.is_empty() {
        let map: serde_json::Map<String, serde_json::Value> = replace
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        let json = serde_json::json!({ "Replace": map });
        plan.write.push((overlay, format!("{json}\n")));
    }
    plan
}

/// `go vet -json` of what the (rewritten) build step builds, with its env
/// and build flags.
fn vet_step(build: &Step, target: &str) -> Step {
    // [go, -C, ROOT, build | test -c -json, -o, OUT, flags..., TARGET]
    let argv = &build.argv;
    let at = argv
        .iter()
        .position(|a| a == "-o")
        .map_or(argv.len(), |i| i + 2);
    let mut v: Vec<String> = argv[..3].to_vec();
    v.extend(["vet".into(), "-json".into()]);
    v.extend(
        argv[at.min(argv.len())..argv.len().saturating_sub(1)]
            .iter()
            .filter(|a| !a.starts_with("-overlay="))
            .cloned(),
    );
    v.push(target.to_string());
    Step {
        name: "vet",
        argv: v,
        env: build.env.clone(),
        env_remove: build.env_remove.clone(),
    }
}

/// `go build -o OUT FLAGS... .` becomes `go -C ROOT build|test -c -json -o
/// OUT FLAGS... [-mod=vendor] [-overlay=FILE] TARGET`.
fn rewrite(step: &mut Step, m: &ModuleProbe, target: &str, overlay: Option<&Path>) {
    let argv = std::mem::take(&mut step.argv);
    // [go, build, -o, OUT, flags..., "."]
    let (go, out, flags) = (&argv[0], &argv[3], &argv[4..argv.len() - 1]);
    let mut v = vec![go.clone(), "-C".into(), m.root.display().to_string()];
    match m.kind {
        Kind::Test(_) => {
            v.extend(["test".into(), "-c".into(), "-json".into()]);
            if m.go_test.cover {
                v.push("-cover".into());
            }
        }
        _ => v.push("build".into()),
    }
    v.extend(["-o".into(), out.clone()]);
    v.extend(flags.iter().cloned());
    if let Some(f) = m.mod_flag() {
        v.push(f.into());
    }
    if let Some(o) = overlay {
        v.push(format!("-overlay={}", o.display()));
    }
    v.push(target.to_string());
    step.argv = v;
}
