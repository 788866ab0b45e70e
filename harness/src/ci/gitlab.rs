//! `crossprobe ci gitlab` writes one .gitlab-ci.yml, the GitLab spelling of
//! the GitHub workflow beside it:
//!
//! - `crossprobe-run` is a `parallel: matrix` job per runner tag and shard:
//!   it runs its shard into its own directory (GitLab unpacks every job's
//!   artifacts into one checkout), and hands its JUnit to
//!   `artifacts: reports: junit`, so merge requests and the pipeline's
//!   Tests tab show the cells;
//! - `crossprobe-report` merges every shard of every runner, keeps the merge
//!   as its artifact (tomorrow's baseline), and diffs it against the
//!   baseline: the merged results of this job in the last successful
//!   pipeline of the branch, read through the job artifacts API with
//!   `CI_JOB_TOKEN`. It fails on a regression.
//!
//! Both keep GOCACHE, GOMODCACHE, zig's cache and crossprobe's build
//! directories in the GitLab cache, keyed on the image (which holds the Go
//! toolchain), the runner tag, the shard and the branch, falling back to
//! the default branch's.

use std::fmt::Write;

use super::{block, diff_script, validate_runners, y, Fleet, Install, Invalid, MERGE};

/// What the pipeline runs, and where.
#[derive(Clone, Debug)]
pub struct Gitlab {
    pub fleet: Fleet,
    /// Runner tags; none means any of the project's runners.
    pub tags: Vec<String>,
    /// The image every job runs in: Go, and what `install` needs.
    pub image: String,
}

/// The merging job, whose artifact is the next pipeline's baseline.
pub const REPORT_JOB: &str = "crossprobe-report";
/// GitLab runs at most this many jobs of one `parallel: matrix`.
const MAX_PARALLEL: usize = 200;

pub fn validate(g: &Gitlab) -> Result<(), Invalid> {
    validate_runners(
        &g.tags,
        "runner tag",
        |t| !t.trim().is_empty() && !t.contains('$'),
        "a GitLab runner tag (a name, without '$')",
    )?;
    g.fleet.validate()?;
    let jobs = g.fleet.shards * g.tags.len().max(1);
    if jobs > MAX_PARALLEL {
        return Err(Invalid::TooManyJobs {
            jobs,
            max: MAX_PARALLEL,
        });
    }
    if g.image.trim().is_empty() {
        return Err(Invalid::NoImage);
    }
    Ok(())
}

/// A cache key may not hold '/' (nor its escape): the image's registry
/// path becomes '-'.
fn key_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// One cache root inside the checkout, where the GitLab cache can keep it,
/// used through a link whose path does not change. The checkout's path may
/// name the runner's concurrent slot (builds/<token>/<slot>/...), and Go
/// keys a main package's build on its directory: a cache restored in
/// another slot would link every build again. crossprobe tells Go the
/// directory through the link (PWD). The checkout is where the script
/// starts: `$CI_PROJECT_DIR` says so on GitLab's runners, but not under
/// gitlab-ci-local's shell executor, which names its docker path.
const LINK: &str = r#"slot=$(printf %s "$CI_PROJECT_ID-$CROSSPROBE_RUNNER-$SHARD" | tr -c 'A-Za-z0-9._-' _)
root="${TMPDIR:-/tmp}/crossprobe-cache-$slot"
mkdir -p .crossprobe-cache
rm -rf "$root"
ln -s "$PWD/.crossprobe-cache" "$root"
export GOCACHE="$root/go-build" GOMODCACHE="$root/go-mod" XDG_CACHE_HOME="$root/xdg""#;

/// Where each job installs crossprobe: inside the checkout, where the
/// GitLab cache can keep it.
const HOME: &str = ".crossprobe-install";

/// The cache of crossprobe itself, keyed on `runner` (run jobs of
/// different tags may differ in arch): a pinned version under itself; a
/// command of the user's (most likely a cargo build from the checkout)
/// keeps cargo's target/. Saved even when cells fail, as the other caches:
/// a failed job's install is as good.
fn install_cache(install: &Install, runner: &str) -> String {
    let (key, paths) = match install {
        Install::Pinned { .. } => (
            format!(
                " {}",
                y(&format!("crossprobe-$CROSSPROBE_VERSION-{runner}"))
            ),
            format!("{HOME}/"),
        ),
        Install::Command(_) => (
            "\n        files: [Cargo.lock]\n        prefix: crossprobe-install".to_string(),
            "target/".to_string(),
        ),
    };
    format!(
        r#"    - key:{key}
      paths:
        - {paths}
      when: always"#
    )
}

pub fn gitlab(g: &Gitlab) -> String {
    let n = g.fleet.shards;
    let matrices = g.fleet.matrices();
    let shards = (1..=n)
        .map(|i| y(&i.to_string()))
        .collect::<Vec<_>>()
        .join(", ");
    let (tag_axis, tags, runner) = if g.tags.is_empty() {
        (String::new(), String::new(), "gitlab".to_string())
    } else {
        let list = g.tags.iter().map(|t| y(t)).collect::<Vec<_>>().join(", ");
        (
            format!("\n        RUNNER_TAG: [{list}]"),
            "\n  tags:\n    - $RUNNER_TAG".to_string(),
            "$RUNNER_TAG".to_string(),
        )
    };
    let image = key_part(&g.image);
    // GitLab saves a job's cache after every run, so a shard's key need
    // not name its families: it holds what the shard built last, and a
    // changed matrix starts from that. A new branch starts from the
    // default branch's.
    let key = format!("crossprobe-{image}-{runner}-{n}-$SHARD");
    let paths = g
        .fleet
        .cache_paths(".crossprobe-cache")
        .iter()
        .map(|p| format!("\n        - {p}"))
        .collect::<String>();
    let out = format!("shards/{runner}-$SHARD");
    let mut w = String::new();
    let _ = write!(
        w,
        r#"# Written by `crossprobe ci gitlab`; regenerate it rather than edit it.
# Each runner tag runs {n} shard(s) of the matrices; {REPORT_JOB} merges
# them, keeps the merge as its artifact, and diffs it against the last
# successful pipeline's, failing on a regression. Run it from a pipeline
# schedule (CI/CD > Schedules) or by hand.
stages:
  - run
  - report

workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
    - if: $CI_PIPELINE_SOURCE == "web"

variables:
  CARGO_TERM_COLOR: never
  NO_COLOR: "1"{pin}

.crossprobe:
  image: {image_name}
  before_script:
    - |
      export CROSSPROBE_HOME="$PWD/{HOME}"
{install}
      export PATH="$CROSSPROBE_HOME/bin:$PATH"
{baseline}

crossprobe-run:
  extends: .crossprobe
  stage: run
  timeout: 2h
  parallel:
    matrix:
      - SHARD: [{shards}]{tag_axis}{tags}
  variables:
    CROSSPROBE_RUNNER: {runner_y}
  cache:
{run_install_cache}
    # A fresh runner would otherwise compile the standard library of every
    # target its shard builds.
    - key: {key_y}
      fallback_keys:
        - {fallback}
      paths:{paths}
      when: always
  script:
    - |
{link}
    - crossprobe doctor {matrices} --fix
    - |
{run}
  artifacts:
    when: always
    expire_in: 30 days
    paths:
      - {out_y}
    reports:
      junit: {junit}

{REPORT_JOB}:
  extends: .crossprobe
  stage: report
  needs: [crossprobe-run]
  when: always
  cache:
{report_install_cache}
  script:
    - |
{merge}
    - |
{diff}
  artifacts:
    when: always
    expire_in: 90 days
    paths:
      - merged/
      - diff.md
"#,
        image_name = y(&g.image),
        install = block(&g.fleet.install.script(), 6),
        pin = g.fleet.pin(),
        link = block(LINK, 6),
        run_install_cache = install_cache(&g.fleet.install, &runner),
        report_install_cache = install_cache(&g.fleet.install, REPORT_JOB),
        baseline = block(&fetch_baseline(), 6),
        runner_y = y(&runner),
        key_y = y(&format!("{key}-$CI_COMMIT_REF_SLUG")),
        fallback = y(&format!("{key}-$CI_DEFAULT_BRANCH")),
        run = block(&g.fleet.run_script(&format!("\"{out}\"")), 6),
        out_y = y(&format!("{out}/")),
        junit = y("shards/*/*/junit.xml"),
        merge = block(MERGE, 6),
        diff = block(&diff_script("", ""), 6),
    );
    w
}

/// The last successful pipeline's merged results, through the job artifacts
/// API: the run jobs balance their shards by it, the report compares with
/// it. None yet is not an error.
fn fetch_baseline() -> String {
    format!(
        r#"mkdir -p baseline
ref=$(printf %s "$CI_COMMIT_REF_NAME" | sed 's|/|%2F|g')
url="$CI_API_V4_URL/projects/$CI_PROJECT_ID/jobs/artifacts/$ref/raw/merged/results.json?job={REPORT_JOB}"
if curl --fail --silent --show-error --location --header "JOB-TOKEN: $CI_JOB_TOKEN" \
    --output baseline/results.json "$url"; then
  echo "baseline: {REPORT_JOB} of the last successful pipeline on $CI_COMMIT_REF_NAME"
else
  rm -f baseline/results.json
  echo "no earlier pipeline left merged results; this one's become the baseline"
fi"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g() -> Gitlab {
        Gitlab {
            fleet: Fleet::example(),
            tags: vec!["linux".into(), "arm64".into()],
            image: "registry.example.com/ci/go:1.26".into(),
        }
    }

    #[test]
    fn refuses_what_cannot_work() {
        let bad = |f: fn(&mut Gitlab)| {
            let mut x = g();
            f(&mut x);
            validate(&x).unwrap_err().to_string()
        };
        assert!(bad(|x| x.tags.push("linux".into())).contains("given twice"));
        assert!(bad(|x| x.tags.push("$X".into())).contains("not a GitLab runner tag"));
        assert!(bad(|x| x.fleet.shards = 101).contains("at most 200 jobs"));
        assert!(bad(|x| x.fleet.shards = 0).contains("at least 1"));
        assert!(bad(|x| x.image.clear()).contains("--image"));
        assert!(validate(&g()).is_ok());
    }

    #[test]
    fn cache_keys_hold_no_slash() {
        let y = gitlab(&g());
        assert!(
            y.contains(
                "key: \"crossprobe-registry.example.com-ci-go-1.26-$RUNNER_TAG-2-$SHARD-$CI_COMMIT_REF_SLUG\""
            ),
            "{y}"
        );
        assert!(y.contains("--no-cache"));
        let mut x = g();
        x.fleet.result_cache = true;
        x.tags.clear();
        let y = gitlab(&x);
        assert!(!y.contains("--no-cache"));
        assert!(y.contains(".crossprobe-cache/xdg/crossprobe/results"));
        assert!(!y.contains("RUNNER_TAG"));
    }
}
