//! `--shard i/n`: shards run separately and merged equal one unsharded run,
//! and a cell's shard does not depend on how the matrix is ordered.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

/// Eleven cells of linux-arches, native and under qemu, passing and
/// failing as expected (golang/go#599): all of it would take minutes.
const FILTER: &str = "*ldflags=-s -w/atomic64";

fn matrix() -> String {
    common::repo()
        .join("matrices/linux-arches.yaml")
        .display()
        .to_string()
}

fn crossprobe(dir: &Path, args: &[&str]) -> Output {
    common::cmd(dir, args).output().unwrap()
}

/// Cell id → (outcome, verdict met, verdict message).
fn verdicts(path: &Path) -> BTreeMap<String, (String, bool, String)> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["cell"]["id"].as_str().unwrap().to_string(),
                (
                    c["outcome"].as_str().unwrap().to_string(),
                    c["verdict"]["met"].as_bool().unwrap(),
                    c["verdict"]["message"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

#[test]
fn two_shards_merged_equal_one_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let m = matrix();
    let run = |out: &str, shard: Option<&str>| {
        let mut args = vec![
            "run", &m, "--filter", FILTER, "-j2", "--out", out, "--runner", "ci",
        ];
        if let Some(s) = shard {
            args.extend(["--shard", s]);
        }
        let o = crossprobe(d, &args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{out}:\n{}",
            String::from_utf8_lossy(&o.stdout)
        );
    };
    run("whole", None);
    run("s1", Some("1/2"));
    run("s2", Some("2/2"));

    // Each shard records what the planner expected it to cost beside what
    // it did.
    for s in ["s1", "s2"] {
        let v: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(d.join(s).join("linux-arches/results.json")).unwrap(),
        )
        .unwrap();
        let e = &v["estimate"];
        assert!(e["expected_ms"].as_u64().unwrap() > 0, "{e}");
        let actual = e["actual_ms"].as_u64().unwrap();
        assert!(actual > 0, "{e}");
        assert_eq!(
            e["error_ms"].as_i64().unwrap(),
            actual as i64 - e["expected_ms"].as_i64().unwrap()
        );
        assert!(e["families"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["actual_ms"].is_u64()));
    }
    let whole = verdicts(&d.join("whole/linux-arches/results.json"));
    let s1 = verdicts(&d.join("s1/linux-arches/results.json"));
    let s2 = verdicts(&d.join("s2/linux-arches/results.json"));
    assert_eq!(whole.len(), 11);
    assert!(
        !s1.is_empty() && !s2.is_empty(),
        "both shards get cells: {s1:?} {s2:?}"
    );
    assert!(
        s1.keys().all(|k| !s2.contains_key(k)),
        "no cell is in both shards"
    );

    let o = crossprobe(
        d,
        &[
            "report",
            "merge",
            "s1/linux-arches/results.json",
            "s2/linux-arches/results.json",
            "--out",
            "merged",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(verdicts(&d.join("merged/results.json")), whole);
    for f in ["junit.xml", "results.json", "report.html"] {
        assert!(d.join("merged").join(f).is_file(), "merged/{f}");
    }
    common::validate_junit(&d.join("merged/junit.xml"));
    let merged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("merged/results.json")).unwrap())
            .unwrap();
    let shards: Vec<&str> = merged["merged_from"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["shard"].as_str().unwrap())
        .collect();
    assert_eq!(shards, ["1/2", "2/2"]);

    // With the unsharded run's durations the split still covers every cell
    // once.
    let plan = |shard: &str| {
        let o = crossprobe(
            d,
            &[
                "plan",
                &m,
                "--filter",
                FILTER,
                "--shard",
                shard,
                "--durations",
                "whole/linux-arches/results.json",
                "--json",
            ],
        );
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        ids(&o)
    };
    let (p1, p2) = (plan("1/2"), plan("2/2"));
    let mut all: Vec<String> = p1.iter().chain(&p2).cloned().collect();
    all.sort();
    assert_eq!(all, whole.keys().cloned().collect::<Vec<_>>());
}

/// The cell ids of `plan --shard ... --json`.
fn ids(o: &Output) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut ids: Vec<String> = v["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn a_cell_keeps_its_shard_however_the_matrix_is_ordered() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = |goarch: &str, probes: &str| {
        format!("name: order\nprobes: {probes}\nmatrix:\n  goos: [linux]\n  goarch: {goarch}\n  ldflags: [\"\", \"-s -w\"]\n")
    };
    std::fs::write(
        dir.path().join("a.yaml"),
        yaml(
            "[amd64, arm64, riscv64, s390x, ppc64le]",
            "[hello, atomic64]",
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.yaml"),
        yaml(
            "[ppc64le, s390x, riscv64, arm64, amd64]",
            "[atomic64, hello]",
        ),
    )
    .unwrap();
    for shard in ["1/3", "2/3", "3/3"] {
        let plan = |m: &str| {
            ids(&crossprobe(
                dir.path(),
                &["plan", m, "--shard", shard, "--json"],
            ))
        };
        let a = plan("a.yaml");
        assert!(!a.is_empty(), "shard {shard} is empty");
        assert_eq!(a, plan("b.yaml"), "shard {shard}");
    }
}

/// Five targets of four cells: each target's cells compile one standard
/// library, so they share a shard, and `plan --shard --json` says what
/// each shard is expected to cost.
#[test]
fn a_build_family_stays_in_one_shard() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.yaml"),
        "name: fam\nprobes: [hello, atomic64]\nmatrix:\n  goos: [linux]\n  goarch: [amd64, arm64, riscv64, s390x, ppc64le]\n  ldflags: [\"\", \"-s -w\"]\n",
    )
    .unwrap();
    let mut targets = Vec::new();
    for shard in ["1/2", "2/2"] {
        let o = crossprobe(dir.path(), &["plan", "m.yaml", "--shard", shard, "--json"]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let cost = &v["cost"];
        assert_eq!(cost["shard"], shard);
        let families = cost["families"].as_array().unwrap();
        assert!(!families.is_empty());
        let mut sum = 0;
        for f in families {
            assert_eq!(f["cells"].as_array().unwrap().len(), 4, "{f}");
            assert_eq!(f["source"], "estimate");
            assert!(f["cold_ms"].as_u64().unwrap() > 0);
            sum += f["expected_ms"].as_u64().unwrap();
        }
        assert_eq!(cost["expected_ms"].as_u64().unwrap(), sum);
        let cells = v["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 4 * families.len());
        let mut mine: Vec<String> = cells
            .iter()
            .map(|c| c["goarch"].as_str().unwrap().to_string())
            .collect();
        mine.sort();
        mine.dedup();
        targets.push(mine);
    }
    assert!(
        targets[0].iter().all(|t| !targets[1].contains(t)),
        "no target is built in both shards: {targets:?}"
    );
    assert_eq!(targets[0].len() + targets[1].len(), 5);
    // The text plan names each shard's families on stderr.
    let o = crossprobe(dir.path(), &["plan", "m.yaml", "--shard", "1/2"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("shard 1/2: "), "{err}");
    assert!(err.contains("4 cells  linux/"), "{err}");
}

#[test]
fn a_shard_past_the_count_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let o = crossprobe(dir.path(), &["run", &matrix(), "--shard", "3/2"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !dir.path().join("reports").exists(),
        "nothing is written for bad input"
    );
    insta::assert_snapshot!(err);
}
