//! `crossprobe ci ...`: CI configuration for a fleet of runners.

use std::path::PathBuf;

use clap::Subcommand;

use crate::ci::{self, Github, DEFAULT_INSTALL};
use crate::errors::Error;
use crate::load;
use crate::model::exit;
use crate::report;

#[derive(Subcommand)]
pub enum CiCmd {
    /// A GitHub Actions workflow: a job per runner and shard, then one that
    /// merges them, diffs against the last run and writes the step summary.
    Github {
        /// Matrix files, relative to the repository root.
        #[arg(required = true, value_name = "MATRIX")]
        matrices: Vec<PathBuf>,
        /// A `runs-on` label; repeat for each runner.
        #[arg(long = "runner", value_name = "LABEL", required = true)]
        runners: Vec<String>,
        /// Shards per runner.
        #[arg(long, value_name = "N", default_value_t = 1)]
        shards: usize,
        /// `crossprobe run --retries` in each job.
        #[arg(long, value_name = "N", default_value_t = 1)]
        retries: u32,
        /// When the nightly run starts (cron, UTC).
        #[arg(long, value_name = "CRON", default_value = "17 3 * * *")]
        cron: String,
        /// Go for actions/setup-go.
        #[arg(long, value_name = "VERSION", default_value = "stable")]
        go_version: String,
        /// The command that installs crossprobe into $HOME/.crossprobe/bin.
        #[arg(long, value_name = "CMD", default_value = DEFAULT_INSTALL)]
        install: String,
        /// The workflow's name.
        #[arg(long, default_value = "crossprobe nightly")]
        name: String,
        /// Write the workflow here (e.g. .github/workflows/crossprobe.yml)
        /// instead of to stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
    },
}

pub fn main(cmd: CiCmd) -> miette::Result<i32> {
    let CiCmd::Github {
        matrices,
        runners,
        shards,
        retries,
        cron,
        go_version,
        install,
        name,
        out,
        templates,
    } = cmd;
    // A workflow for a matrix that does not load would fail every night.
    for m in &matrices {
        load::load_file(m, templates.as_deref())?;
    }
    let g = Github {
        matrices: matrices.iter().map(|m| m.display().to_string()).collect(),
        runners,
        shards,
        retries,
        cron,
        go_version,
        install,
        name,
    };
    ci::validate(&g).map_err(|message| Error::Usage {
        message,
        help: Some("`crossprobe ci github --help` shows every option".into()),
    })?;
    let wf = ci::github(&g);
    match out {
        Some(p) => {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| Error::Write {
                    path: dir.to_path_buf(),
                    source,
                    help: None,
                })?;
            }
            report::write_atomic(&p, wf.as_bytes())?;
            eprintln!(
                "wrote {}: {} runners × {} shards",
                p.display(),
                g.runners.len(),
                g.shards
            );
        }
        None => print!("{wf}"),
    }
    Ok(exit::OK)
}
