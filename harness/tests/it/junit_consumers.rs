//! The merged JUnit of a fleet (two runners, two shards each), read by real
//! consumers' parsers besides xmllint: junitparser (PyPI; EnricoMi's
//! publish-unit-test-result-action reads JUnit with it), xunitparser (PyPI)
//! and test-results-parser (npm, as testbeats reads reports). Each must
//! count the tests, failures and skips crossprobe counts. [`read_all`] is
//! how other tests (interrupt, module) ask the same consumers.

use crate::common::{self, Test};

use crossprobe::model::CellResult;

use std::path::Path;
use std::process::Command;

/// Two targets, passing and failing against expectations, and a skip: five
/// cells in three build families.
const FLEET: &str = r#"
name: fleet
probes: [hello, cgo-hello]
matrix:
  goos: [linux]
  goarch: [amd64, "386"]
  ldflags: ["", "-s -w"]
  exclude:
    - {probe: cgo-hello}
  include:
    - {goos: linux, goarch: arm, cgo: "1", cc: crossprobe-no-such-gcc, probe: cgo-hello}
expect:
  - when: {goarch: "386", ldflags: "-s -w"}
    outcome: run-fail
    reason: made to fail, so that the report has failures
  - when: {cc: crossprobe-no-such-gcc}
    outcome: skip
"#;

/// What each parser reads: `tests failures skipped`, failures counting
/// errors (`<error>`) too, as every CI's test tab does.
const JUNITPARSER: &str = r#"
import sys
from junitparser import JUnitXml, Failure, Error, Skipped
x = JUnitXml.fromfile(sys.argv[1])
cases = [c for s in x for c in s]
kinds = lambda k: sum(1 for c in cases if any(isinstance(r, k) for r in c.result))
print(len(cases), kinds(Failure) + kinds(Error), kinds(Skipped))
"#;

const XUNITPARSER: &str = r#"
import sys, xunitparser
with open(sys.argv[1]) as f:
    suite, result = xunitparser.parse(f)
print(result.testsRun, len(result.failures) + len(result.errors), len(result.skipped))
"#;

// Its `total` leaves the skips out; an `<error>` is a case of status FAIL
// counted in `errors`, not `failed`.
const TEST_RESULTS_PARSER: &str = r#"
const { parse } = require('test-results-parser');
const r = parse({ type: 'junit', files: [process.argv[1]] });
console.log(r.total + r.skipped, r.failed + r.errors, r.skipped);
"#;

fn read(program: &str, args: &[&str], env: &[(&str, &str)], junit: &Path) -> (u64, u64, u64) {
    let out = Command::new(program)
        .args(args)
        .arg(junit)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (scripts/setup installs the consumers)"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{program} {args:?} cannot read {}: {text}{}",
        junit.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let n: Vec<u64> = text
        .split_whitespace()
        .map(|w| w.parse().unwrap())
        .collect();
    (n[0], n[1], n[2])
}

/// `(tests, failures and errors, skipped)` as junitparser, xunitparser and
/// test-results-parser read `junit`, by consumer.
pub(crate) fn read_all(junit: &Path) -> Vec<(&'static str, (u64, u64, u64))> {
    let npm = "/usr/local/lib/crossprobe/npm/node_modules";
    vec![
        (
            "junitparser",
            read("python3", &["-c", JUNITPARSER], &[], junit),
        ),
        (
            "xunitparser",
            read("python3", &["-c", XUNITPARSER], &[], junit),
        ),
        (
            "test-results-parser",
            read(
                "node",
                &["-e", TEST_RESULTS_PARSER],
                &[("NODE_PATH", npm)],
                junit,
            ),
        ),
    ]
}

#[test]
fn consumers_read_the_merged_fleet_as_crossprobe_counts_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("fleet.yaml"), FLEET).unwrap();
    let mut files = Vec::new();
    for runner in ["ubuntu-latest", "ubuntu-24.04-arm"] {
        for shard in ["1/2", "2/2"] {
            let out = format!("{runner}-{}", &shard[..1]);
            let r = Test::at(d)
                .args(["run", "fleet.yaml", "-j2", "--runner", runner])
                .args(["--shard", shard, "--out", &out])
                .any_status()
                .run();
            // The made-to-fail cell is in one shard: that one exits 1, the
            // other 0.
            let unmet = r.cells("fleet").values().any(|c| !c.verdict.met);
            assert_eq!(
                r.code(),
                i32::from(unmet),
                "{runner} {shard}:\n{}{}",
                r.stdout(),
                r.stderr()
            );
            files.push(format!("{out}/fleet/results.json"));
        }
    }
    let mut args = vec!["report", "merge"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--out", "merged"]);
    Test::at(d).args(&args).run();

    let merged = common::read_results(&d.join("merged"));
    let cells = &merged.cells;
    let count = |f: &dyn Fn(&CellResult) -> bool| cells.iter().filter(|c| f(c)).count() as u64;
    let tests = cells.len() as u64;
    // By standing: JUnit's skips are the skips, the cells built and not
    // run, and the expected failures (pytest's way).
    let standing = |c: &CellResult| c.standing().as_str();
    let failures = count(&|c| ["fail", "interrupted"].contains(&standing(c)));
    let skipped = count(&|c| ["skip", "skip-missing", "built", "xfail"].contains(&standing(c)));
    assert_eq!(
        (tests, failures, skipped),
        (10, 2, 2),
        "crossprobe's own counts"
    );

    let junit = d.join("merged/junit.xml");
    common::validate_junit(&junit);
    for (name, counts) in read_all(&junit) {
        assert_eq!(
            counts,
            (tests, failures, skipped),
            "{name} reads tests, failures, skipped"
        );
    }

    // Two runners ran every cell: no two testcases share a classname and a
    // name (GitLab keeps only the first, Jenkins renames the second).
    let xml = std::fs::read_to_string(&junit).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for tc in xml.split("<testcase ").skip(1) {
        let attr = |k: &str| {
            tc.split(&format!("{k}=\""))
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .to_string()
        };
        assert!(seen.insert((attr("classname"), attr("name"))), "{tc}");
    }
    assert_eq!(seen.len(), 10);
    assert!(
        xml.contains("classname=\"crossprobe.fleet.linux.amd64.ubuntu-24_04-arm\""),
        "{xml}"
    );
}
