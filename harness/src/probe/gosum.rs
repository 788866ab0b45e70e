//! A probe that brings its own go.mod: its go.sum, completed.
//!
//! A bug report's snippet often carries a go.mod that requires the module
//! it is about, and a go.sum that is missing or partial. The go.mod is used
//! as given. The go.sum gets what `go mod tidy` would add, worked out in a
//! scratch copy of the probe (never where the user's files are), so that
//! every cell builds with `-mod=readonly` and the repro bundle's replay.sh
//! needs no network once the module cache holds the modules. What tidy
//! would change in go.mod is left alone: the build then fails with Go's own
//! words ("no required module provides package ...").

use std::time::Duration;

use crate::model::Probe;
use crate::process;
use crate::toolchain::go::GoToolchain;

/// Downloads take their time on a slow proxy; a hung one is still bounded.
const TIDY_TIMEOUT: Duration = Duration::from_secs(300);

/// What [`complete_sum`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Completed {
    /// The probe has no go.mod of its own: crossprobe writes one.
    NoGoMod,
    /// go.sum already had every line tidy wants; it is as given.
    AsGiven,
    /// go.sum was missing or short: `added` lines were added.
    Added { added: usize },
}

/// Why an inline probe's go.sum could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum TidyError {
    #[error("cannot create a scratch directory: {0}")]
    Scratch(std::io::Error),
    #[error(transparent)]
    Write(#[from] crate::fsutil::CannotWrite),
    #[error("cannot run go mod tidy: {0}")]
    Spawn(std::io::Error),
    /// What tidy said on stderr, and its exit status when it failed.
    #[error("`go mod tidy` said: {shown}{status}")]
    Said { shown: String, status: String },
}

/// Completes the go.sum of an inline probe that has a go.mod, with `go`.
/// Err quotes what go said when tidy failed (an unknown module, no
/// network); the probe is then left as given.
pub fn complete_sum(probe: &mut Probe, go: &GoToolchain) -> Result<Completed, TidyError> {
    if probe.shipped() || !probe.files.iter().any(|(n, _)| n == "go.mod") {
        return Ok(Completed::NoGoMod);
    }
    let scratch = tempfile::tempdir().map_err(TidyError::Scratch)?;
    crate::fsutil::write_files(&probe.files, scratch.path())?;
    let mut env = go.env.clone();
    // As for builds: the user's GOFLAGS (-mod=vendor, say) are not the probe's.
    env.insert("GOFLAGS".into(), String::new());
    let spec = process::Spec {
        argv: vec![
            go.go.display().to_string(),
            "mod".into(),
            "tidy".into(),
            "-e".into(),
        ],
        env,
        env_remove: Vec::new(),
        cwd: Some(scratch.path().to_path_buf()),
        timeout: TIDY_TIMEOUT,
        log_dir: scratch.path().join(".logs"),
        log_name: "tidy".into(),
        cap: 64 << 10,
        daemons: false,
        confine: crate::process::Confine::default(),
    };
    let c = process::run(&spec).map_err(TidyError::Spawn)?;
    // With -e, tidy goes on past a module it cannot have and says so on
    // stderr: the build will fail on it, and this is why.
    // "go: downloading M v" lines are progress, not trouble.
    let said: Vec<&str> = c
        .stderr
        .text
        .lines()
        .filter(|l| !l.starts_with("go: downloading ") && !l.trim().is_empty())
        .collect();
    if !c.exit.success() || !said.is_empty() {
        let shown = said
            .join("\n")
            .replace(&format!("{}/", scratch.path().display()), "");
        let status = match c.exit.success() {
            true => String::new(),
            false => format!(" ({})", c.exit),
        };
        return Err(TidyError::Said { shown, status });
    }
    let tidy = std::fs::read_to_string(scratch.path().join("go.sum")).unwrap_or_default();
    let given = probe
        .files
        .iter()
        .find(|(n, _)| n == "go.sum")
        .map(|(_, t)| t.clone());
    let have = given.as_deref().unwrap_or("");
    let missing: Vec<&str> = tidy
        .lines()
        .filter(|l| !l.trim().is_empty() && !have.lines().any(|h| h.trim() == l.trim()))
        .collect();
    if missing.is_empty() {
        return Ok(Completed::AsGiven);
    }
    let mut lines: Vec<&str> = have
        .lines()
        .filter(|l| !l.trim().is_empty())
        .chain(missing.iter().copied())
        .collect();
    lines.sort_unstable();
    lines.dedup();
    let text = lines.join("\n") + "\n";
    probe.files.retain(|(n, _)| n != "go.sum");
    probe.files.push(("go.sum".to_string(), text));
    Ok(Completed::Added {
        added: missing.len(),
    })
}
