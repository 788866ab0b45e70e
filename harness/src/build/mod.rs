//! Build: the `go build` (or C compiler) command for a cell, as an argv and
//! the environment it needs. Spawning is `process`'s job; this module only
//! decides what to run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::model::Cell;
use crate::toolchain::go::GoToolchain;

#[derive(Clone, Debug)]
pub struct Plan {
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// Variables removed from the inherited environment.
    pub env_remove: Vec<String>,
    pub output: PathBuf,
}

/// The file name the binary gets: what the runners expect to find.
pub fn output_name(cell: &Cell) -> &'static str {
    match (cell.goos.as_str(), cell.goarch.as_str()) {
        ("windows", _) => "probe.exe",
        (_, "wasm") => "probe.wasm",
        _ => "probe",
    }
}

pub fn go_plan(cell: &Cell, go: &GoToolchain, dir: &Path) -> Plan {
    let output = dir.join(output_name(cell));
    let mut argv = vec![
        go.go.display().to_string(),
        "build".to_string(),
        "-o".to_string(),
        output.display().to_string(),
    ];
    if !cell.ldflags.is_empty() {
        argv.push(format!("-ldflags={}", cell.ldflags));
    }
    if !cell.tags.is_empty() {
        argv.push(format!("-tags={}", cell.tags));
    }
    // The flags axis is split on white space: a flag whose value holds spaces
    // belongs in ldflags or tags, which are passed whole.
    argv.extend(cell.flags.split_whitespace().map(str::to_string));
    argv.push(".".to_string());

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
    for (k, v) in &cell.env {
        env.insert(k.clone(), v.clone());
    }
    Plan {
        argv,
        env,
        env_remove,
        output,
    }
}
