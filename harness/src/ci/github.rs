//! `crossprobe ci github` writes one GitHub Actions workflow:
//!
//! - `baseline` finds the last run of the same workflow on the same branch
//!   that left merged results, so every later job compares against, and
//!   balances shards by, the same night;
//! - `run` is one job per runner and shard: install crossprobe, let
//!   `crossprobe doctor --fix` set the runner up, run the shard, upload
//!   its reports;
//! - `report` merges every shard of every runner, uploads the merged
//!   reports (tomorrow's baseline) and report.html on its own, publishes
//!   the merged JUnit as a check run (EnricoMi's
//!   publish-unit-test-result-action, which reads it with junitparser, the
//!   consumer crossprobe's JUnit is tested against), and diffs the merge
//!   against the baseline into the step summary, failing on a regression.

use std::fmt::Write;

use super::{block, diff_script, validate_runners, y, Fleet, Install, Invalid, MERGE};

/// What the workflow runs, and where.
#[derive(Clone, Debug)]
pub struct Github {
    pub fleet: Fleet,
    /// `runs-on` labels, e.g. `ubuntu-latest`, `macos-14`.
    pub runners: Vec<String>,
    /// When the nightly run starts, as cron in UTC.
    pub cron: String,
    /// `go-version` for actions/setup-go.
    pub go_version: String,
    pub name: String,
}

/// Name of the artifact holding the merged reports: tomorrow's baseline.
pub const MERGED_ARTIFACT: &str = "crossprobe-merged";
/// Prefix of each shard's artifact.
pub const SHARD_ARTIFACT: &str = "crossprobe-run-";
/// The merged report.html alone, to open without the rest.
pub const HTML_ARTIFACT: &str = "crossprobe-report-html";
/// The check run the merged JUnit is published as.
pub const CHECK_NAME: &str = "crossprobe";

/// Checks what would make a workflow that cannot work. Errors are one line
/// each, naming the value.
pub fn validate(g: &Github) -> Result<(), Invalid> {
    if g.runners.is_empty() {
        return Err(Invalid::NoRunner);
    }
    validate_runners(
        &g.runners,
        "runner label",
        |r| {
            !r.is_empty()
                && r.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        },
        "a GitHub runner label (letters, digits, '.', '_' and '-')",
    )?;
    g.fleet.validate()?;
    if g.cron.split_whitespace().count() != 5 {
        return Err(Invalid::Cron(g.cron.clone()));
    }
    Ok(())
}

pub fn github(g: &Github) -> String {
    let matrices = g.fleet.matrices();
    let runners = g
        .runners
        .iter()
        .map(|r| y(r))
        .collect::<Vec<_>>()
        .join(", ");
    let shards = (1..=g.fleet.shards)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let n = g.fleet.shards;
    let mut w = String::new();
    let _ = write!(
        w,
        r#"# Written by `crossprobe ci github`; regenerate it rather than edit it.
# Each runner runs {n} shard(s) of the matrices; the report job merges them,
# keeps the merged reports as the {MERGED_ARTIFACT} artifact, and diffs them
# against the last run's in the step summary, failing on a regression.
name: {name}

on:
  schedule:
    - cron: {cron}
  workflow_dispatch:

permissions:
  contents: read
  # To find and download the last run's merged reports.
  actions: read

concurrency:
  group: ${{{{ github.workflow }}}}-${{{{ github.ref }}}}
  cancel-in-progress: false

defaults:
  run:
    shell: bash

env:
  CARGO_TERM_COLOR: never
  NO_COLOR: "1"{pin}

jobs:
  baseline:
    name: Find the baseline
    runs-on: ubuntu-latest
    outputs:
      run-id: ${{{{ steps.find.outputs.run-id }}}}
    steps:
      - id: find
        env:
          GH_TOKEN: ${{{{ github.token }}}}
          GH_REPO: ${{{{ github.repository }}}}
          WORKFLOW: ${{{{ github.workflow }}}}
          BRANCH: ${{{{ github.ref_name }}}}
          THIS_RUN: ${{{{ github.run_id }}}}
        run: |
{find}

  run:
    name: ${{{{ matrix.runner }}}} shard ${{{{ matrix.shard }}}}/{n}
    needs: baseline
    runs-on: ${{{{ matrix.runner }}}}
    timeout-minutes: 120
    strategy:
      fail-fast: false
      matrix:
        runner: [{runners}]
        shard: [{shards}]
    env:
      CROSSPROBE_RUNNER: ${{{{ matrix.runner }}}}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@v5
        with:
          go-version: {go}
          cache: false
{install}
{durations}
      - name: Where the caches live, and their key
        id: cache-key
        env:
          SHARD: ${{{{ matrix.shard }}}}
        run: |
{keys}
      # A fresh runner would otherwise compile the standard library of every
      # target its shard builds. Each night saves under a new key; the
      # restore keys take the newest of the same families, else of the same
      # runner, so a changed matrix still starts warm.
      - name: Warm caches (GOCACHE, GOMODCACHE, zig, crossprobe's builds)
        uses: actions/cache@v4
        with:
          path: |
{paths}
          key: ${{{{ steps.cache-key.outputs.key }}}}
          restore-keys: |
            ${{{{ steps.cache-key.outputs.families }}}}-
            ${{{{ steps.cache-key.outputs.runner }}}}-
      - name: Set up the runner (crossprobe doctor --fix)
        run: |
          crossprobe doctor {matrices} --fix
      - name: Run shard ${{{{ matrix.shard }}}}/{n}
        env:
          SHARD: ${{{{ matrix.shard }}}}
        run: |
{run}
      - name: Upload the shard's reports
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: {SHARD_ARTIFACT}${{{{ matrix.runner }}}}-${{{{ matrix.shard }}}}
          path: reports/
          if-no-files-found: error

  report:
    name: Merge and compare
    needs: [baseline, run]
    if: always()
    runs-on: ubuntu-latest
    permissions:
      contents: read
      actions: read
      # To publish the merged JUnit as a check run.
      checks: write
    steps:
      - uses: actions/checkout@v4
{install}
      - uses: actions/download-artifact@v4
        with:
          pattern: {SHARD_ARTIFACT}*
          path: shards
      - name: Merge every runner's shards
        run: |
{merge}
      - name: Upload the merged reports
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: {MERGED_ARTIFACT}
          path: merged/
          if-no-files-found: error
      - name: Upload report.html
        id: html
        if: always() && hashFiles('merged/report.html') != ''
        uses: actions/upload-artifact@v4
        with:
          name: {HTML_ARTIFACT}
          path: merged/report.html
      # Every cell a testcase, every failure with its reason, in the
      # check run and the job summary. The diff below fails the job; the
      # check's own state follows the cells.
      - name: Publish the JUnit
        if: always() && hashFiles('merged/junit.xml') != ''
        uses: EnricoMi/publish-unit-test-result-action@v2
        with:
          files: merged/junit.xml
          check_name: {CHECK_NAME}
          comment_mode: "off"
          report_individual_runs: "true"
{baseline}
      - name: Compare with the baseline
        env:
          HTML_URL: ${{{{ steps.html.outputs.artifact-url }}}}
        run: |
{diff}
"#,
        name = y(&g.name),
        cron = y(&g.cron),
        go = y(&g.go_version),
        find = block(FIND_BASELINE, 10),
        install = install_steps(&g.fleet.install),
        pin = g.fleet.pin(),
        run = block(&g.fleet.run_script("reports"), 10),
        keys = block(&cache_key_script(&matrices, n), 10),
        paths = block(
            &g.fleet
                .cache_paths("${{ env.CROSSPROBE_CI_CACHE }}")
                .join("\n"),
            12
        ),
        durations = download_baseline("Last run's durations, to balance the shards"),
        baseline = download_baseline("Download the baseline"),
        merge = block(MERGE, 10),
        diff = block(
            &format!(
                "{}\n{}",
                r#"if [ -n "$HTML_URL" ]; then echo "[report.html]($HTML_URL)" >> "$GITHUB_STEP_SUMMARY"; fi"#,
                diff_script("### ", r#" >> "$GITHUB_STEP_SUMMARY""#)
            ),
            10
        ),
    );
    w
}

/// Restores crossprobe from the cache, or installs it, and puts it on
/// PATH. A pinned version is cached under itself; a command of the
/// user's (most likely a cargo build) gets cargo's caches.
fn install_steps(install: &Install) -> String {
    let (cache, name) = match install.version() {
        Some(v) => (
            format!(
                r#"            ~/.crossprobe
          key: crossprobe-{v}-${{{{ runner.os }}}}-${{{{ runner.arch }}}}"#
            ),
            format!("Install crossprobe {v}"),
        ),
        None => (
            r#"            ~/.cargo/registry
            target
          key: crossprobe-${{ runner.os }}-${{ runner.arch }}-${{ hashFiles('**/Cargo.lock') }}"#
                .to_string(),
            "Install crossprobe".to_string(),
        ),
    };
    format!(
        r#"      - uses: actions/cache@v4
        with:
          path: |
{cache}
      - name: {name}
        run: |
          export CROSSPROBE_HOME="$HOME/.crossprobe"
{script}
          bin="$CROSSPROBE_HOME/bin"
          # GITHUB_PATH takes the runner's own paths: C:\... on Windows.
          if command -v cygpath >/dev/null; then bin=$(cygpath -w "$bin"); fi
          echo "$bin" >> "$GITHUB_PATH""#,
        script = block(&install.script(), 10)
    )
}

/// A step that downloads the baseline's merged reports into `baseline/`,
/// when the baseline job found some.
fn download_baseline(name: &str) -> String {
    format!(
        r#"      - name: {name}
        if: needs.baseline.outputs.run-id != ''
        # It may have expired since the baseline job looked.
        continue-on-error: true
        uses: actions/download-artifact@v4
        with:
          name: {MERGED_ARTIFACT}
          path: baseline
          run-id: ${{{{ needs.baseline.outputs.run-id }}}}
          github-token: ${{{{ github.token }}}}"#
    )
}

/// Newest first: the first earlier run of this workflow on this branch that
/// still has merged reports. Runs that regressed count too: their merged
/// reports are what changed since.
const FIND_BASELINE: &str = r#"ids=$(gh run list --workflow "$WORKFLOW" --branch "$BRANCH" --status completed \
  --limit 30 --json databaseId --jq '.[].databaseId')
for id in $ids; do
  [ "$id" = "$THIS_RUN" ] && continue
  if gh api "repos/$GH_REPO/actions/runs/$id/artifacts" --jq '.artifacts[] | select(.expired | not) | .name' \
      | grep -qx crossprobe-merged; then
    echo "baseline: run $id"
    echo "run-id=$id" >> "$GITHUB_OUTPUT"
    exit 0
  fi
done
echo "no earlier run left crossprobe-merged; tonight's results become the baseline""#;

/// Points Go and crossprobe at one cache root, and keys the cache on the Go
/// version, the runner and the families of the shard's cells (which the
/// durations may move between shards).
///
/// The root is at the same path on every runner of a label, as it must be:
/// Go keys a main package's compile and link on its directory, and the
/// build directories are under the root. Restored at another path, every
/// build links again (bench.py --nightly measures both).
fn cache_key_script(matrices: &str, shards: usize) -> String {
    format!(
        r#"root="$RUNNER_TEMP/crossprobe-cache"
{{
  echo "CROSSPROBE_CI_CACHE=$root"
  echo "GOCACHE=$root/go-build"
  echo "GOMODCACHE=$root/go-mod"
  echo "XDG_CACHE_HOME=$root/xdg"
}} >> "$GITHUB_ENV"
plan=(--shard "$SHARD/{shards}" --json)
if [ -f baseline/results.json ]; then
  plan+=(--durations baseline/results.json)
fi
families=$(crossprobe plan {matrices} "${{plan[@]}}" | grep '"family":' | sort -u | git hash-object --stdin | cut -c1-16)
runner="crossprobe-$(go env GOVERSION)-$CROSSPROBE_RUNNER-$RUNNER_ARCH"
{{
  echo "runner=$runner"
  echo "families=$runner-$families"
  echo "key=$runner-$families-$GITHUB_RUN_ID"
}} >> "$GITHUB_OUTPUT""#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g() -> Github {
        Github {
            fleet: Fleet::example(),
            runners: vec!["ubuntu-latest".into(), "macos-14".into()],
            cron: "17 3 * * *".into(),
            go_version: "stable".into(),
            name: "crossprobe nightly".into(),
        }
    }

    #[test]
    fn refuses_what_cannot_work() {
        let bad = |f: fn(&mut Github)| {
            let mut x = g();
            f(&mut x);
            validate(&x).unwrap_err().to_string()
        };
        assert!(bad(|x| x.runners.clear()).starts_with("no runner"));
        assert!(
            bad(|x| x.runners.push("ubuntu latest".into())).contains("not a GitHub runner label")
        );
        assert!(bad(|x| x.runners.push("macos-14".into())).contains("given twice"));
        assert!(bad(|x| x.fleet.shards = 0).contains("at least 1"));
        assert!(bad(|x| x.fleet.matrices.push("/abs/m.yaml".into())).contains("relative"));
        assert!(bad(|x| x.cron = "nightly".into()).contains("five cron fields"));
        assert!(validate(&g()).is_ok());
    }

    #[test]
    fn user_values_are_quoted() {
        let mut x = g();
        x.fleet.matrices = vec!["my matrices/it's.yaml".into()];
        x.name = "a: b # c".into();
        let wf = github(&x);
        assert!(wf.contains("name: \"a: b # c\"\n"));
        assert!(wf.contains("crossprobe run 'my matrices/it'\\''s.yaml' \"${args[@]}\""));
    }
}
