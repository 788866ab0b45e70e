//! `crossprobe ci ...`: CI configuration for a fleet of runners.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::ci::{self, github, gitlab, Fleet, Github, Gitlab, Install};
use crate::errors::Error;
use crate::load;
use crate::model::exit;
use crate::report;

#[derive(Subcommand)]
pub enum CiCmd {
    /// A GitHub Actions workflow: a job per runner and shard, then one that
    /// merges them, diffs against the last run and writes the step summary.
    Github {
        /// A `runs-on` label; repeat for each runner.
        #[arg(long = "runner", value_name = "LABEL", required = true)]
        runners: Vec<String>,
        /// When the nightly run starts (cron, UTC).
        #[arg(long, value_name = "CRON", default_value = "17 3 * * *")]
        cron: String,
        /// Go for actions/setup-go.
        #[arg(long, value_name = "VERSION", default_value = "stable")]
        go_version: String,
        /// The workflow's name.
        #[arg(long, default_value = "crossprobe nightly")]
        name: String,
        #[command(flatten)]
        fleet: FleetArgs,
    },
    /// A .gitlab-ci.yml: a parallel job per runner tag and shard with JUnit
    /// reports, then one that merges them and diffs against the last
    /// successful pipeline.
    Gitlab {
        /// The image the jobs run in: Go, and what --install needs.
        #[arg(long, value_name = "IMAGE", default_value = "golang:1.26")]
        image: String,
        /// A runner tag; repeat for each runner (default: any runner).
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
        #[command(flatten)]
        fleet: FleetArgs,
    },
}

/// What both CIs take: the fleet, and where the configuration goes.
#[derive(Args)]
pub struct FleetArgs {
    /// Matrix files, relative to the repository root.
    #[arg(required = true, value_name = "MATRIX")]
    matrices: Vec<PathBuf>,
    /// Shards per runner.
    #[arg(long, value_name = "N", default_value_t = 1)]
    shards: usize,
    /// `crossprobe run --retries` in each job.
    #[arg(long, value_name = "N", default_value_t = 1)]
    retries: u32,
    /// The crossprobe each job installs: its release build for the
    /// runner, else `cargo install crossprobe --locked --version`
    /// (default: this crossprobe's version).
    #[arg(long, value_name = "VERSION", conflicts_with = "install")]
    crossprobe_version: Option<String>,
    /// Where the release builds are: VERSION's archives are under
    /// URL/v<VERSION>/ (default: this crate's GitHub releases; a mirror
    /// may hold them instead).
    #[arg(long, value_name = "URL", conflicts_with = "install")]
    releases: Option<String>,
    /// Install crossprobe with this command instead: it puts crossprobe in
    /// $CROSSPROBE_HOME/bin, e.g. `cargo install --locked --path harness
    /// --root "$CROSSPROBE_HOME"` in crossprobe's own repository.
    #[arg(long, value_name = "CMD")]
    install: Option<String>,
    /// Reuse cells' results from crossprobe's result cache (saved with
    /// the other caches). Off by default: a nightly exists to run things
    /// again.
    #[arg(long)]
    result_cache: bool,
    /// Write the configuration here (e.g. .github/workflows/crossprobe.yml,
    /// .gitlab-ci.yml) instead of to stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
}

impl FleetArgs {
    /// The fleet, once its matrices load: a pipeline for a matrix that
    /// does not would fail every night.
    fn fleet(&self) -> miette::Result<Fleet> {
        for m in &self.matrices {
            load::load_file(m, self.templates.as_deref())?;
        }
        Ok(Fleet {
            matrices: self
                .matrices
                .iter()
                .map(|m| m.display().to_string())
                .collect(),
            shards: self.shards,
            retries: self.retries,
            install: match &self.install {
                Some(cmd) => Install::Command(cmd.clone()),
                None => Install::pinned(self.crossprobe_version.clone(), self.releases.clone()),
            },
            result_cache: self.result_cache,
        })
    }
}

pub fn main(cmd: CiCmd) -> miette::Result<i32> {
    let (args, text, what) = match cmd {
        CiCmd::Github {
            fleet,
            runners,
            cron,
            go_version,
            name,
        } => {
            let g = Github {
                fleet: fleet.fleet()?,
                runners,
                cron,
                go_version,
                name,
            };
            github::validate(&g).map_err(|m| usage(m.to_string(), "github"))?;
            let what = format!("{} runners × {} shards", g.runners.len(), g.fleet.shards);
            (fleet, ci::github::github(&g), what)
        }
        CiCmd::Gitlab { fleet, image, tags } => {
            let g = Gitlab {
                fleet: fleet.fleet()?,
                tags,
                image,
            };
            gitlab::validate(&g).map_err(|m| usage(m.to_string(), "gitlab"))?;
            let what = format!(
                "{} runner tags × {} shards",
                g.tags.len().max(1),
                g.fleet.shards
            );
            (fleet, gitlab::gitlab(&g), what)
        }
    };
    write(args.out, &text, &what)
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
                    error: source,
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
