//! `crossprobe ci ...`: CI configuration for a fleet of runners.

use std::path::PathBuf;

use clap::Subcommand;

use crate::ci::gitlab::{self, Gitlab};
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
        /// Reuse cells' results from crossprobe's result cache (saved with
        /// the other caches). Off by default: a nightly exists to run
        /// things again.
        #[arg(long)]
        result_cache: bool,
        /// Write the workflow here (e.g. .github/workflows/crossprobe.yml)
        /// instead of to stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
    },
    /// A .gitlab-ci.yml: a parallel job per runner tag and shard with JUnit
    /// reports, then one that merges them and diffs against the last
    /// successful pipeline.
    Gitlab {
        /// Matrix files, relative to the repository root.
        #[arg(required = true, value_name = "MATRIX")]
        matrices: Vec<PathBuf>,
        /// Shards per runner tag.
        #[arg(long, value_name = "N", default_value_t = 1)]
        shards: usize,
        /// The image the jobs run in: Go, and what --install needs.
        #[arg(long, value_name = "IMAGE", default_value = "golang:1.26")]
        image: String,
        /// A runner tag; repeat for each runner (default: any runner).
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
        /// `crossprobe run --retries` in each job.
        #[arg(long, value_name = "N", default_value_t = 1)]
        retries: u32,
        /// The command that installs crossprobe into $HOME/.crossprobe/bin.
        #[arg(long, value_name = "CMD", default_value = DEFAULT_INSTALL)]
        install: String,
        /// Reuse cells' results from crossprobe's result cache. Off by
        /// default: a nightly exists to run things again.
        #[arg(long)]
        result_cache: bool,
        /// Write the pipeline here (e.g. .gitlab-ci.yml) instead of to stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
    },
}

pub fn main(cmd: CiCmd) -> miette::Result<i32> {
    match cmd {
        CiCmd::Github {
            matrices,
            runners,
            shards,
            retries,
            cron,
            go_version,
            install,
            name,
            result_cache,
            out,
            templates,
        } => {
            check_matrices(&matrices, templates.as_deref())?;
            let g = Github {
                matrices: relative(&matrices),
                runners,
                shards,
                retries,
                cron,
                go_version,
                install,
                name,
                result_cache,
            };
            ci::validate(&g).map_err(|m| usage(m, "github"))?;
            let what = format!("{} runners × {} shards", g.runners.len(), g.shards);
            write(out, &ci::github(&g), &what)
        }
        CiCmd::Gitlab {
            matrices,
            shards,
            image,
            tags,
            retries,
            install,
            result_cache,
            out,
            templates,
        } => {
            check_matrices(&matrices, templates.as_deref())?;
            let g = Gitlab {
                matrices: relative(&matrices),
                tags,
                shards,
                retries,
                image,
                install,
                result_cache,
            };
            gitlab::validate(&g).map_err(|m| usage(m, "gitlab"))?;
            let what = format!("{} runner tags × {} shards", g.tags.len().max(1), g.shards);
            write(out, &gitlab::gitlab(&g), &what)
        }
    }
}

/// A pipeline for a matrix that does not load would fail every night.
fn check_matrices(matrices: &[PathBuf], templates: Option<&std::path::Path>) -> miette::Result<()> {
    for m in matrices {
        load::load_file(m, templates)?;
    }
    Ok(())
}

fn relative(matrices: &[PathBuf]) -> Vec<String> {
    matrices.iter().map(|m| m.display().to_string()).collect()
}

fn usage(message: String, cmd: &str) -> Error {
    Error::Usage {
        message,
        help: Some(format!("`crossprobe ci {cmd} --help` shows every option")),
    }
}

fn write(out: Option<PathBuf>, text: &str, what: &str) -> miette::Result<i32> {
    match out {
        Some(p) => {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| Error::Write {
                    path: dir.to_path_buf(),
                    source,
                    help: None,
                })?;
            }
            report::write_atomic(&p, text.as_bytes())?;
            eprintln!("wrote {}: {what}", p.display());
        }
        None => print!("{text}"),
    }
    Ok(exit::OK)
}
