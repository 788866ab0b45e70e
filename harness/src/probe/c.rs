//! Builds with the C compiler alone: C probes, and the host program that
//! runs a Go probe built as a C library (c-archive, c-shared).

use std::collections::BTreeMap;
use std::path::Path;

use super::plan::{compiler_facts, output_name, Plan, Step, Unbuildable};
use crate::model::Cell;
use crate::toolchain::cc::{Compiler, NoCompiler};

/// Where render puts the host program's source, beside the probe. Go
/// ignores directories whose name starts with `_`, so `go build .` does not
/// compile its `main` into the library.
pub const HOST_DIR: &str = "_host";

/// The build of a C probe: every `.c` file in `dir`, compiled and linked by
/// the cell's compiler. The `flags` and `ldflags` axes are passed to it,
/// split on white space; `tags` and `cgo` do not apply.
pub fn c_plan(cell: &Cell, compiler: Result<&Compiler, NoCompiler>, dir: &Path) -> Plan {
    let output = dir.join(output_name(cell));
    let mut plan = Plan {
        steps: Vec::new(),
        output: output.clone(),
        no_run: None,
        facts: BTreeMap::new(),
        write: Vec::new(),
        missing_cc: None,
    };
    let c = match compiler {
        Ok(c) => c,
        Err(why) => {
            plan.steps.push(Err(why.into()));
            return plan;
        }
    };
    compiler_facts(c, &mut plan.facts);
    let mode: &[&str] = match cell.buildmode.as_str() {
        "exe" | "default" | "" => &[],
        "pie" => &["-fPIE", "-pie"],
        other => {
            plan.steps
                .push(Err(Unbuildable::CBuildmode(other.to_string())));
            return plan;
        }
    };
    let mut sources: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "c"))
                .map(|p| p.display().to_string())
                .collect()
        })
        .unwrap_or_default();
    sources.sort();
    if sources.is_empty() {
        plan.steps
            .push(Err(Unbuildable::NoCSource(cell.probe.clone())));
        return plan;
    }
    let mut argv = c.cc.clone();
    argv.extend(["-O2".into(), "-o".into(), output.display().to_string()]);
    argv.extend(mode.iter().map(|s| s.to_string()));
    argv.extend(cell.flags.split_whitespace().map(str::to_string));
    argv.extend(sources);
    argv.extend(cell.ldflags.split_whitespace().map(str::to_string));
    argv.extend(c.ldflags.iter().cloned());
    plan.steps.push(Ok(Step {
        name: "build",
        argv,
        env: c.env.clone(),
        env_remove: Vec::new(),
    }));
    plan
}

/// Links `_host/host.c` with the Go library `lib` into `output`.
pub(super) fn host_step(cell: &Cell, c: &Compiler, dir: &Path, lib: &Path, output: &Path) -> Step {
    let lib_s = lib.display().to_string();
    let mut argv = c.cc.clone();
    argv.extend([
        "-o".to_string(),
        output.display().to_string(),
        dir.join(HOST_DIR).join("host.c").display().to_string(),
    ]);
    let words = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    argv.extend(match (cell.buildmode.as_str(), cell.goos.as_str()) {
        // glibc before 2.34 keeps pthreads apart; the Go runtime needs them.
        ("c-archive", "linux") => vec![lib_s, "-lpthread".into()],
        ("c-archive", "darwin") => {
            let mut v = vec![lib_s];
            v.extend(words(&["-framework", "CoreFoundation", "-lresolv"]));
            v
        }
        // $ORIGIN: the library sits beside the program, wherever the cell's
        // directory is. mingw links against the DLL itself.
        ("c-shared", "linux") => vec![
            format!("-L{}", dir.display()),
            "-lprobe".into(),
            "-Wl,-rpath,$ORIGIN".into(),
        ],
        ("c-shared", "darwin") => vec![lib_s, "-Wl,-rpath,@executable_path".into()],
        _ => vec![lib_s],
    });
    argv.extend(c.ldflags.iter().cloned());
    Step {
        name: "host",
        argv,
        env: c.env.clone(),
        env_remove: Vec::new(),
    }
}
