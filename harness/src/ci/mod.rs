//! CI configuration that runs matrices across a fleet of runners: a job per
//! runner and shard, then one that merges them and diffs against the last
//! night. `github` writes it for GitHub Actions, `gitlab` for GitLab CI;
//! what both share is here: the fleet and its checks, the caches, and the
//! scripts that run a shard, merge the shards and compare.
//!
//! Values from the command line reach the YAML as JSON strings (valid YAML
//! scalars) and the scripts shell-quoted; nothing user-given is put where
//! the CI would evaluate it as an expression.

pub mod github;
pub mod gitlab;
pub mod install;

pub use github::{Github, MERGED_ARTIFACT, SHARD_ARTIFACT};
pub use gitlab::Gitlab;
pub use install::Install;

/// What every runner of the fleet runs.
#[derive(Clone, Debug)]
pub struct Fleet {
    /// Matrix files, relative to the repository root.
    pub matrices: Vec<String>,
    /// Shards per runner.
    pub shards: usize,
    pub retries: u32,
    /// How each job gets crossprobe, into `$CROSSPROBE_HOME/bin`.
    pub install: Install,
    /// Let the nightly reuse cells' results from the result cache. Off by
    /// default: a nightly exists to run things again.
    pub result_cache: bool,
}

impl Fleet {
    /// What would make every CI's configuration fail: no shards, or
    /// matrices a fresh checkout does not have.
    fn validate(&self) -> Result<(), Invalid> {
        if self.shards == 0 {
            return Err(Invalid::NoShards);
        }
        for m in &self.matrices {
            if std::path::Path::new(m).is_absolute() || m.contains('$') {
                return Err(Invalid::MatrixPath(m.clone()));
            }
        }
        Ok(())
    }

    /// The install's variables, as entries of the configuration's
    /// top-level `env:` or `variables:`.
    fn pin(&self) -> String {
        self.install
            .variables()
            .iter()
            .map(|(k, v)| format!("\n  {k}: {}", y(v)))
            .collect()
    }

    /// The matrices, shell-quoted, for a command line.
    fn matrices(&self) -> String {
        self.matrices
            .iter()
            .map(|m| sh(m))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The script that runs one shard (`$SHARD`) into `out` (a shell word),
    /// balanced by the baseline's durations when there is one.
    fn run_script(&self, out: &str) -> String {
        let cache = if self.result_cache { "" } else { " --no-cache" };
        format!(
            r#"args=(--shard "$SHARD/{shards}" --retries {retries}{cache} --out {out})
if [ -f baseline/results.json ]; then
  args+=(--durations baseline/results.json)
fi
crossprobe run {matrices} "${{args[@]}}""#,
            shards = self.shards,
            retries = self.retries,
            matrices = self.matrices(),
        )
    }

    /// What a cold runner would otherwise rebuild, under `root`: Go's build
    /// and module caches, and crossprobe's cache directory's build
    /// directories and zig's libc builds (results too, when the nightly
    /// uses them). Not the wine prefix: `doctor --fix` makes it, and one
    /// made by another wine would not do.
    fn cache_paths(&self, root: &str) -> Vec<String> {
        let mut p = vec![
            format!("{root}/go-build"),
            format!("{root}/go-mod"),
            format!("{root}/xdg/crossprobe/builds"),
            format!("{root}/xdg/crossprobe/zig"),
        ];
        if self.result_cache {
            p.push(format!("{root}/xdg/crossprobe/results"));
        }
        p
    }
}

#[cfg(test)]
impl Fleet {
    /// linux-arches in two shards, one retry: the unit tests' fleet.
    pub(crate) fn example() -> Fleet {
        Fleet {
            matrices: vec!["matrices/linux-arches.yaml".into()],
            shards: 2,
            retries: 1,
            install: Install::Pinned {
                version: "0.1.0".into(),
                releases: Some("https://github.com/crossprobe/crossprobe/releases/download".into()),
            },
            result_cache: false,
        }
    }
}

/// Runner labels (GitHub) or tags (GitLab): each one `valid`, none given
/// twice, since a runner's shards name their artifacts after it. `noun`
/// is what the command line calls one, `form` what a valid one is.
fn validate_runners(
    names: &[String],
    noun: &'static str,
    valid: fn(&str) -> bool,
    form: &'static str,
) -> Result<(), Invalid> {
    if let Some(bad) = names.iter().find(|n| !valid(n)) {
        return Err(Invalid::Runner {
            noun,
            name: bad.clone(),
            form,
        });
    }
    let mut seen = std::collections::BTreeSet::new();
    match names.iter().find(|n| !seen.insert(*n)) {
        Some(twice) => Err(Invalid::Twice {
            noun,
            name: twice.clone(),
        }),
        None => Ok(()),
    }
}

/// What makes a CI configuration that cannot work: one line each, naming
/// the value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("--shards must be at least 1")]
    NoShards,
    #[error("matrix path {0:?} must be relative to the repository root: the workflow runs in a fresh checkout")]
    MatrixPath(String),
    /// `noun` is what the command line calls a runner (label, tag).
    #[error("{noun} {name:?} is not {form}")]
    Runner {
        noun: &'static str,
        name: String,
        form: &'static str,
    },
    #[error("{noun} {name:?} is given twice; its shards would write artifacts of the same name")]
    Twice { noun: &'static str, name: String },
    #[error("no runner: give at least one --runner, e.g. --runner ubuntu-latest")]
    NoRunner,
    #[error("--cron {0:?} is not five cron fields, e.g. \"17 3 * * *\"")]
    Cron(String),
    #[error("{jobs} run jobs: GitLab runs at most {max} jobs of one parallel matrix; give fewer --shards or --tag")]
    TooManyJobs { jobs: usize, max: usize },
    #[error("--image must name an image, e.g. golang:1.26")]
    NoImage,
}

/// A YAML scalar that means exactly `s`: JSON strings are YAML too.
fn y(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}

/// `s` quoted for bash.
fn sh(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Indents every line of a script for a `run: |` block.
fn block(script: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    script
        .lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Merges every shard of every runner, downloaded under `shards/`.
const MERGE: &str = r#"mapfile -t files < <(find shards -name results.json | sort)
if [ ${#files[@]} -eq 0 ]; then
  echo "no shard left a results.json: see the run jobs' logs" >&2
  exit 1
fi
crossprobe report merge "${files[@]}" --out merged"#;

/// Diffs the merge against the baseline, failing on a regression; what it
/// says goes to `to` (a shell redirection, or nothing for the job's log),
/// under `heading`.
fn diff_script(heading: &str, to: &str) -> String {
    format!(
        r#"if [ ! -f baseline/results.json ]; then
  echo "{heading}crossprobe: no baseline yet; these results become it"{to}
  exit 0
fi
set +e
crossprobe report diff baseline/results.json merged/results.json --markdown > diff.md
code=$?
set -e
cat diff.md{to}
exit "$code""#
    )
}
