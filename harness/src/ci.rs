//! CI configuration that runs matrices across a fleet of runners.
//!
//! `crossprobe ci github` writes one GitHub Actions workflow:
//!
//! - `baseline` finds the last run of the same workflow on the same branch
//!   that left merged results, so every later job compares against, and
//!   balances shards by, the same night;
//! - `run` is one job per runner and shard: install crossprobe, let
//!   `crossprobe doctor --fix` set the runner up, run the shard, upload
//!   its reports;
//! - `report` merges every shard of every runner, uploads the merged
//!   reports (tomorrow's baseline), and diffs them against the baseline
//!   into the step summary, failing on a regression.
//!
//! Values from the command line reach the YAML as JSON strings (valid YAML
//! scalars) and the scripts shell-quoted; nothing user-given is put where
//! Actions would evaluate it as an expression.

use std::fmt::Write;

pub mod gitlab;

/// What the workflow runs, and where.
#[derive(Clone, Debug)]
pub struct Github {
    /// Matrix files, relative to the repository root.
    pub matrices: Vec<String>,
    /// `runs-on` labels, e.g. `ubuntu-latest`, `macos-14`.
    pub runners: Vec<String>,
    pub shards: usize,
    pub retries: u32,
    /// When the nightly run starts, as cron in UTC.
    pub cron: String,
    /// `go-version` for actions/setup-go.
    pub go_version: String,
    /// The shell command that puts `crossprobe` in `$HOME/.crossprobe/bin`.
    pub install: String,
    pub name: String,
    /// Let the nightly reuse cells' results from the result cache. Off by
    /// default: a nightly exists to run things again.
    pub result_cache: bool,
}

/// Builds crossprobe from the checkout, as in crossprobe's own repository;
/// `target` is cached between runs.
pub const DEFAULT_INSTALL: &str =
    "cargo install --locked --path harness --root \"$HOME/.crossprobe\" --target-dir target";

/// Name of the artifact holding the merged reports: tomorrow's baseline.
pub const MERGED_ARTIFACT: &str = "crossprobe-merged";
/// Prefix of each shard's artifact.
pub const SHARD_ARTIFACT: &str = "crossprobe-run-";

/// Checks what would make a workflow that cannot work. Errors are one line
/// each, naming the value.
pub fn validate(g: &Github) -> Result<(), String> {
    if g.runners.is_empty() {
        return Err("no runner: give at least one --runner, e.g. --runner ubuntu-latest".into());
    }
    for r in &g.runners {
        if r.is_empty()
            || !r
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err(format!(
                "runner label {r:?} is not a GitHub runner label (letters, digits, '.', '_' and '-')"
            ));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for r in &g.runners {
        if !seen.insert(r) {
            return Err(format!(
                "runner {r:?} is given twice; its shards would upload artifacts of the same name"
            ));
        }
    }
    validate_fleet(&g.matrices, g.shards)?;
    if g.cron.split_whitespace().count() != 5 {
        return Err(format!(
            "--cron {:?} is not five cron fields, e.g. \"17 3 * * *\"",
            g.cron
        ));
    }
    Ok(())
}

/// What every CI configuration needs: shards, and matrices a fresh
/// checkout has.
fn validate_fleet(matrices: &[String], shards: usize) -> Result<(), String> {
    if shards == 0 {
        return Err("--shards must be at least 1".into());
    }
    for m in matrices {
        if std::path::Path::new(m).is_absolute() || m.contains("${{") || m.contains('$') {
            return Err(format!(
                "matrix path {m:?} must be relative to the repository root: the workflow runs in a fresh checkout"
            ));
        }
    }
    Ok(())
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

pub fn github(g: &Github) -> String {
    let matrices = g
        .matrices
        .iter()
        .map(|m| sh(m))
        .collect::<Vec<_>>()
        .join(" ");
    let runners = g
        .runners
        .iter()
        .map(|r| y(r))
        .collect::<Vec<_>>()
        .join(", ");
    let shards = (1..=g.shards)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let n = g.shards;
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
  NO_COLOR: "1"

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
      - name: Last run's durations, to balance the shards
        if: needs.baseline.outputs.run-id != ''
        continue-on-error: true
        uses: actions/download-artifact@v4
        with:
          name: {MERGED_ARTIFACT}
          path: baseline
          run-id: ${{{{ needs.baseline.outputs.run-id }}}}
          github-token: ${{{{ github.token }}}}
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
      - name: Download the baseline
        if: needs.baseline.outputs.run-id != ''
        # It may have expired since the baseline job looked.
        continue-on-error: true
        uses: actions/download-artifact@v4
        with:
          name: {MERGED_ARTIFACT}
          path: baseline
          run-id: ${{{{ needs.baseline.outputs.run-id }}}}
          github-token: ${{{{ github.token }}}}
      - name: Compare with the baseline
        run: |
{diff}
"#,
        name = y(&g.name),
        cron = y(&g.cron),
        go = y(&g.go_version),
        find = block(FIND_BASELINE, 10),
        install = install_steps(&g.install),
        run = block(&run_script(&matrices, n, g.retries, g.result_cache), 10),
        keys = block(&cache_key_script(&matrices, n), 10),
        paths = block(
            &cache_paths(g.result_cache, "${{ env.CROSSPROBE_CI_CACHE }}"),
            12
        ),
        merge = block(MERGE, 10),
        diff = block(DIFF, 10),
    );
    w
}

fn install_steps(install: &str) -> String {
    format!(
        r#"      - uses: actions/cache@v4
        with:
          path: |
            ~/.cargo/registry
            target
          key: crossprobe-${{{{ runner.os }}}}-${{{{ runner.arch }}}}-${{{{ hashFiles('**/Cargo.lock') }}}}
      - name: Install crossprobe
        run: |
{}
          bin="$HOME/.crossprobe/bin"
          # GITHUB_PATH takes the runner's own paths: C:\... on Windows.
          if command -v cygpath >/dev/null; then bin=$(cygpath -w "$bin"); fi
          echo "$bin" >> "$GITHUB_PATH""#,
        block(install, 10)
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

/// What a cold runner would otherwise rebuild, under `root`: Go's build
/// and module caches, and crossprobe's cache directory's build
/// directories and zig's libc builds (results too, when the nightly uses
/// them).
pub fn cache_paths(result_cache: bool, root: &str) -> String {
    let mut p = vec![
        format!("{root}/go-build"),
        format!("{root}/go-mod"),
        format!("{root}/xdg/crossprobe/builds"),
        format!("{root}/xdg/crossprobe/zig"),
    ];
    if result_cache {
        p.push(format!("{root}/xdg/crossprobe/results"));
    }
    p.join("\n")
}

/// Points Go and crossprobe at one cache root, and keys the cache on the Go
/// version, the runner and the families of the shard's cells (which the
/// durations may move between shards).
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

/// `crossprobe run`'s options for one shard of a nightly.
pub fn run_args(shards: usize, retries: u32, result_cache: bool) -> String {
    let cache = if result_cache { "" } else { " --no-cache" };
    format!(r#"--shard "$SHARD/{shards}" --retries {retries}{cache} --out reports"#)
}

fn run_script(matrices: &str, shards: usize, retries: u32, result_cache: bool) -> String {
    format!(
        r#"args=({args})
if [ -f baseline/results.json ]; then
  args+=(--durations baseline/results.json)
fi
crossprobe run {matrices} "${{args[@]}}""#,
        args = run_args(shards, retries, result_cache)
    )
}

pub(crate) const MERGE: &str = r#"mapfile -t files < <(find shards -name results.json | sort)
if [ ${#files[@]} -eq 0 ]; then
  echo "no shard left a results.json: see the run jobs' logs" >&2
  exit 1
fi
crossprobe report merge "${files[@]}" --out merged"#;

const DIFF: &str = r####"if [ ! -f baseline/results.json ]; then
  echo "### crossprobe: no baseline yet; tonight's results become it" >> "$GITHUB_STEP_SUMMARY"
  exit 0
fi
set +e
crossprobe report diff baseline/results.json merged/results.json --markdown > diff.md
code=$?
set -e
cat diff.md >> "$GITHUB_STEP_SUMMARY"
exit "$code""####;

#[cfg(test)]
mod tests {
    use super::*;

    fn g() -> Github {
        Github {
            matrices: vec!["matrices/linux-arches.yaml".into()],
            runners: vec!["ubuntu-latest".into(), "macos-14".into()],
            shards: 2,
            retries: 1,
            cron: "17 3 * * *".into(),
            go_version: "stable".into(),
            install: DEFAULT_INSTALL.into(),
            name: "crossprobe nightly".into(),
            result_cache: false,
        }
    }

    #[test]
    fn refuses_what_cannot_work() {
        let bad = |f: fn(&mut Github)| {
            let mut x = g();
            f(&mut x);
            validate(&x).unwrap_err()
        };
        assert!(bad(|x| x.runners.clear()).starts_with("no runner"));
        assert!(
            bad(|x| x.runners.push("ubuntu latest".into())).contains("not a GitHub runner label")
        );
        assert!(bad(|x| x.runners.push("macos-14".into())).contains("given twice"));
        assert!(bad(|x| x.shards = 0).contains("at least 1"));
        assert!(bad(|x| x.matrices.push("/abs/m.yaml".into())).contains("relative"));
        assert!(bad(|x| x.cron = "nightly".into()).contains("five cron fields"));
        assert!(validate(&g()).is_ok());
    }

    #[test]
    fn user_values_are_quoted() {
        let mut x = g();
        x.matrices = vec!["my matrices/it's.yaml".into()];
        x.name = "a: b # c".into();
        let wf = github(&x);
        assert!(wf.contains("name: \"a: b # c\"\n"));
        assert!(wf.contains("crossprobe run 'my matrices/it'\\''s.yaml' \"${args[@]}\""));
    }
}
