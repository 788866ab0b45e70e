//! `--shard i/n`: shards run separately and merged equal one unsharded run,
//! and a cell's shard does not depend on how the matrix is ordered.

use crate::common::{self, Test};

use std::collections::BTreeMap;
use std::path::Path;

use crossprobe::model::{Outcome, ShardCost};

/// Eleven cells of linux-arches, native and under qemu, passing and
/// failing as expected (golang/go#599): all of it would take minutes.
const FILTER: &str = "*ldflags=-s -w/atomic64";

fn matrix() -> String {
    common::repo()
        .join("matrices/linux-arches.yaml")
        .display()
        .to_string()
}

fn crossprobe(dir: &Path, args: &[&str]) -> Test {
    Test::at(dir).args(args)
}

/// Cell id → (outcome, verdict met, verdict message).
fn verdicts(path: &Path) -> BTreeMap<String, (Outcome, bool, String)> {
    common::read_results(path)
        .cells
        .into_iter()
        .map(|c| (c.cell.id, (c.outcome, c.verdict.met, c.verdict.message)))
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
        crossprobe(d, &args).run();
    };
    run("whole", None);
    run("s1", Some("1/2"));
    run("s2", Some("2/2"));

    // Each shard records what the planner expected it to cost beside what
    // it did.
    for s in ["s1", "s2"] {
        let e = common::read_results(&d.join(s).join("linux-arches"))
            .estimate
            .expect("the shard's estimate");
        assert!(e.expected_ms > 0, "{e:#?}");
        let actual = e.actual_ms.unwrap();
        assert!(actual > 0, "{e:#?}");
        assert_eq!(e.error_ms, Some(actual as i64 - e.expected_ms as i64));
        assert!(e.families.iter().all(|f| f.actual_ms.is_some()));
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

    crossprobe(
        d,
        &[
            "report",
            "merge",
            "s1/linux-arches/results.json",
            "s2/linux-arches/results.json",
            "--out",
            "merged",
        ],
    )
    .run();
    assert_eq!(verdicts(&d.join("merged/results.json")), whole);
    for f in ["junit.xml", "results.json", "report.html"] {
        assert!(d.join("merged").join(f).is_file(), "merged/{f}");
    }
    common::validate_junit(&d.join("merged/junit.xml"));
    let merged = common::read_results(&d.join("merged"));
    let shards: Vec<&str> = merged
        .merged_from
        .iter()
        .map(|s| s.shard.as_deref().unwrap())
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
        )
        .run();
        ids(&o.stdout())
    };
    let (p1, p2) = (plan("1/2"), plan("2/2"));
    let mut all: Vec<String> = p1.iter().chain(&p2).cloned().collect();
    all.sort();
    assert_eq!(all, whole.keys().cloned().collect::<Vec<_>>());
}

/// The cell ids of `plan --shard ... --json`.
fn ids(stdout: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(stdout).unwrap();
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
            ids(
                &crossprobe(dir.path(), &["plan", m, "--shard", shard, "--json"])
                    .run()
                    .stdout(),
            )
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
        let o = crossprobe(dir.path(), &["plan", "m.yaml", "--shard", shard, "--json"]).run();
        let v: serde_json::Value = serde_json::from_str(&o.stdout()).unwrap();
        // The cost is results.json's own type (its `estimate`).
        let cost: ShardCost = serde_json::from_value(v["cost"].clone()).unwrap();
        assert_eq!(cost.shard, shard);
        let families = &cost.families;
        assert!(!families.is_empty());
        let mut sum = 0;
        for f in families {
            assert_eq!(f.cells.len(), 4, "{f:#?}");
            assert_eq!(f.source, "estimate");
            assert!(f.cold_ms > 0);
            sum += f.expected_ms;
        }
        assert_eq!(cost.expected_ms, sum);
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
    let err = crossprobe(dir.path(), &["plan", "m.yaml", "--shard", "1/2"])
        .run()
        .stderr();
    assert!(err.starts_with("shard 1/2: "), "{err}");
    assert!(err.contains("4 cells  linux/"), "{err}");
}

#[test]
fn a_shard_past_the_count_is_refused() {
    // Nothing is written for bad input.
    let err = Test::new()
        .args(["run", &matrix(), "--shard", "3/2"])
        .refuse();
    insta::assert_snapshot!(err);
}
