//! `crossprobe ci github`: the workflow parses as YAML, has the structure
//! Actions requires, and passes actionlint (with shellcheck on its scripts
//! when shellcheck is installed).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const RUNNERS: [&str; 4] = [
    "ubuntu-latest",
    "ubuntu-24.04-arm",
    "macos-14",
    "windows-latest",
];

/// A checkout with the shipped matrices, and the workflow written into it.
fn generate(extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("matrices");
    std::fs::create_dir(&m).unwrap();
    std::fs::copy(
        common::repo().join("matrices/linux-arches.yaml"),
        m.join("linux-arches.yaml"),
    )
    .unwrap();
    let mut args = vec![
        "ci",
        "github",
        "matrices/linux-arches.yaml",
        "--shards",
        "2",
        "--out",
        ".github/workflows/nightly.yml",
    ];
    for r in RUNNERS {
        args.extend(["--runner", r]);
    }
    args.extend_from_slice(extra);
    let o = common::cmd(dir.path(), &args).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let wf = dir.path().join(".github/workflows/nightly.yml");
    (dir, wf)
}

fn parse(wf: &Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(wf).unwrap()).expect("the workflow is YAML")
}

fn steps(job: &Value) -> &Vec<Value> {
    job["steps"].as_array().expect("a job has steps")
}

fn script(job: &Value) -> String {
    steps(job)
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_workflow_has_the_structure_actions_requires() {
    let (_dir, wf) = generate(&[]);
    let w = parse(&wf);
    assert_eq!(w["on"]["schedule"][0]["cron"], "17 3 * * *");
    assert!(
        w["on"].get("workflow_dispatch").is_some(),
        "it can be started by hand"
    );
    assert_eq!(
        w["permissions"]["actions"], "read",
        "to download last night's artifact"
    );

    let jobs = w["jobs"].as_object().unwrap();
    assert_eq!(
        jobs.keys().collect::<Vec<_>>(),
        ["baseline", "report", "run"]
    );
    for (name, job) in jobs {
        assert!(job["runs-on"].is_string(), "{name}: runs-on");
        for s in steps(job) {
            assert!(
                s.get("uses").is_some() != s.get("run").is_some(),
                "{name}: a step either uses or runs: {s}"
            );
        }
        if let Some(needs) = job.get("needs") {
            let needs: Vec<&str> = match needs {
                Value::String(s) => vec![s.as_str()],
                v => v
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_str().unwrap())
                    .collect(),
            };
            assert!(
                needs.iter().all(|n| jobs.contains_key(*n) && *n != name),
                "{name}: needs {needs:?}"
            );
        }
    }

    // One job per runner and shard.
    let run = &jobs["run"];
    assert_eq!(run["runs-on"], "${{ matrix.runner }}");
    assert_eq!(run["strategy"]["fail-fast"], false);
    assert_eq!(
        run["strategy"]["matrix"]["runner"],
        serde_json::json!(RUNNERS)
    );
    assert_eq!(
        run["strategy"]["matrix"]["shard"],
        serde_json::json!([1, 2])
    );
    assert_eq!(run["env"]["CROSSPROBE_RUNNER"], "${{ matrix.runner }}");
    let s = script(run);
    assert!(
        s.contains("crossprobe doctor matrices/linux-arches.yaml --fix"),
        "{s}"
    );
    assert!(
        s.contains(r#"args=(--shard "$SHARD/2" --retries 1 --out reports)"#),
        "{s}"
    );
    assert!(
        s.contains("args+=(--durations baseline/results.json)"),
        "{s}"
    );
    assert!(
        s.contains(r#"crossprobe run matrices/linux-arches.yaml "${args[@]}""#),
        "{s}"
    );
    let upload = steps(run)
        .iter()
        .find(|s| s["uses"] == "actions/upload-artifact@v4")
        .expect("uploads its reports");
    assert_eq!(upload["if"], "always()", "even when cells fail");
    assert_eq!(
        upload["with"]["name"],
        "crossprobe-run-${{ matrix.runner }}-${{ matrix.shard }}"
    );

    // The last job merges every shard, keeps the merge, diffs, summarises.
    let report = &jobs["report"];
    assert_eq!(report["if"], "always()");
    let download = steps(report)
        .iter()
        .find(|s| s["with"]["pattern"].is_string())
        .expect("downloads the shards");
    assert_eq!(download["with"]["pattern"], "crossprobe-run-*");
    let s = script(report);
    assert!(
        s.contains(r#"crossprobe report merge "${files[@]}" --out merged"#),
        "{s}"
    );
    assert!(
        s.contains(
            "crossprobe report diff baseline/results.json merged/results.json --markdown > diff.md"
        ),
        "{s}"
    );
    assert!(
        s.contains(r#"cat diff.md >> "$GITHUB_STEP_SUMMARY""#),
        "{s}"
    );
    let names: Vec<&str> = steps(report)
        .iter()
        .filter_map(|s| s["with"]["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["crossprobe-merged", "crossprobe-merged"],
        "uploads tonight's merge, downloads last night's"
    );
}

fn actionlint() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    ["/usr/local/bin/actionlint".into(), home.join("go/bin/actionlint")]
        .into_iter()
        .find(|p: &PathBuf| p.is_file())
        .expect("actionlint is missing: scripts/setup installs it (go install github.com/rhysd/actionlint/cmd/actionlint)")
}

#[test]
fn actionlint_passes() {
    let (dir, wf) = generate(&["--cron", "0 2 * * 1-5", "--name", "cross: nightly"]);
    let out = Command::new(actionlint())
        .args(["-no-color", "-oneline"])
        .arg(&wf)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(parse(&wf)["name"], "cross: nightly");
}

#[test]
fn bad_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("m")).unwrap();
    std::fs::copy(
        common::repo().join("matrices/quick.yaml"),
        dir.path().join("m/quick.yaml"),
    )
    .unwrap();
    let refuse = |args: &[&str]| {
        let o = common::cmd(dir.path(), args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let e = refuse(&["ci", "github", "m/quick.yaml", "--runner", "ubuntu latest"]);
    insta::assert_snapshot!("bad_runner", e);
    let abs = dir.path().join("m/quick.yaml");
    let e = refuse(&[
        "ci",
        "github",
        abs.to_str().unwrap(),
        "--runner",
        "ubuntu-latest",
    ]);
    assert!(e.contains("must be relative to the"), "{e}");
    let e = refuse(&[
        "ci",
        "github",
        "m/missing.yaml",
        "--runner",
        "ubuntu-latest",
    ]);
    assert!(e.contains("cannot read m/missing.yaml"), "{e}");
    let e = refuse(&["ci", "github", "m/quick.yaml"]);
    assert!(e.contains("--runner <LABEL>"), "{e}");
}
