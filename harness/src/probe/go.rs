//! The build of a Go probe: one `go build`, preceded for `cgo: default`
//! by a `go env CGO_ENABLED` that records what Go chose, and followed for
//! c-archive and c-shared by the link of a C host program ([`super::c`]).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::c::host_step;
use super::plan::{compiler_facts, output_name, Plan, Step, Unbuildable};
use crate::model::Cell;
use crate::toolchain::cc::{self, Compiler, NoCompiler};
use crate::toolchain::go::GoToolchain;

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
    compiler: Result<&Compiler, NoCompiler>,
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
        let why = format!(
            "-buildmode={} makes no program to run: built and inspected only",
            cell.buildmode
        );
        (crate::model::NotRun::NoProgram, why)
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
            facts.insert("cc.missing".into(), Value::String(why.to_string()));
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
            steps.push(Err(why.clone().into()));
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
        steps.push(
            compiler
                .map(|c| host_step(cell, c, dir, &go_output, &output))
                .map_err(Unbuildable::from),
        );
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
