//! Expansion through the real binary (`plan --json`): counts, ids, the
//! arch-specific env rule, include/exclude, runner choice.

use crate::common;

use serde_json::Value;

fn plan(yaml: &str) -> Vec<Value> {
    let r = common::Test::new()
        .matrix(yaml)
        .args(["plan", "@", "--json"])
        .status(0)
        .run();
    serde_json::from_str::<Vec<Value>>(&r.stdout()).unwrap()
}

fn ids(cells: &[Value]) -> Vec<String> {
    cells
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn goarm_multiplies_only_arm() {
    let cells = plan("probes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64, arm]\n  env:\n    GOARM: [\"5\", \"7\"]\n    GOAMD64: [v1, v3]\n");
    assert_eq!(
        ids(&cells),
        [
            "linux/amd64/GOAMD64=v1/cgo0/hello",
            "linux/amd64/GOAMD64=v3/cgo0/hello",
            "linux/arm/GOARM=5/cgo0/hello",
            "linux/arm/GOARM=7/cgo0/hello",
        ]
    );
}

#[test]
fn exclude_then_include_like_github_actions() {
    let cells = plan(
        "probes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64, arm64]\n  ldflags: [\"\", \"-s -w\"]\n  exclude:\n    - {goarch: arm64, ldflags: \"-s -w\"}\n  include:\n    - {goarch: amd64, GODEBUG: \"x=1\"}\n    - {goos: windows, goarch: amd64}\n",
    );
    assert_eq!(
        ids(&cells),
        [
            "linux/amd64/GODEBUG=x=1/cgo0/hello",
            "linux/amd64/GODEBUG=x=1/cgo0/ldflags=-s -w/hello",
            "linux/arm64/cgo0/hello",
            "windows/amd64/cgo0/hello",
        ]
    );
}

#[test]
fn ids_do_not_depend_on_yaml_order() {
    let a = plan(
        "probes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64, arm64]\n  cgo: [0, 1]\n",
    );
    let b = plan(
        "probes: [hello]\nmatrix:\n  cgo: [1, 0]\n  goarch: [arm64, amd64]\n  goos: [linux]\n",
    );
    let (mut a, mut b) = (ids(&a), ids(&b));
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn runners_follow_host_and_target() {
    let cells = plan("probes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  include:\n    - {goos: linux, goarch: \"386\"}\n    - {goos: linux, goarch: arm64}\n    - {goos: darwin, goarch: arm64}\n    - {goos: windows, goarch: \"386\"}\n    - {goos: js, goarch: wasm}\n    - {goos: wasip1, goarch: wasm}\n");
    let runner = |id: &str| {
        let c = cells
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no {id}"));
        c["runner"].clone()
    };
    if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        assert_eq!(runner("linux/amd64/cgo0/hello")["kind"], "native");
        assert_eq!(runner("linux/386/cgo0/hello")["kind"], "native");
        assert_eq!(runner("linux/arm64/cgo0/hello")["kind"], "qemu");
        assert_eq!(runner("darwin/arm64/cgo0/hello")["kind"], "none");
        assert!(runner("darwin/arm64/cgo0/hello")["reason"]
            .as_str()
            .unwrap()
            .contains("no runner for darwin/arm64"));
        assert_eq!(runner("js/wasm/cgo0/hello")["kind"], "node");
        assert_eq!(runner("wasip1/wasm/cgo0/hello")["kind"], "wasi");
    }
}

#[test]
fn runner_override_forces_build_only() {
    let cells = plan("probes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [arm64]\nrun:\n  runners: {\"linux/*\": none}\n");
    assert_eq!(cells[0]["runner"]["kind"], "none");
}

#[test]
fn expectations_attach_in_order() {
    let cells = plan(
        "probes: [hello, atomic64]\nmatrix:\n  goos: [linux]\n  goarch: [amd64, \"386\"]\nexpect:\n  - when: {goarch: \"386\", probe: atomic64}\n    outcome: run-fail\n    match: unaligned\n    reason: https://github.com/golang/go/issues/599\n",
    );
    let c = cells
        .iter()
        .find(|c| c["id"] == "linux/386/cgo0/atomic64")
        .unwrap();
    assert_eq!(c["expect"]["outcome"], "run-fail");
    assert_eq!(
        c["expect"]["reason"],
        "https://github.com/golang/go/issues/599"
    );
    assert_eq!(c["expect"]["source"], "matrix.yaml:6:5");
    let c = cells
        .iter()
        .find(|c| c["id"] == "linux/amd64/cgo0/atomic64")
        .unwrap();
    assert_eq!(c["expect"]["outcome"], "pass");
}

#[test]
fn shipped_linux_arches_has_enough_cells() {
    let r = common::Test::new()
        .current_dir(common::repo())
        .args(["plan", "matrices/linux-arches.yaml", "--json"])
        .run();
    let cells: Vec<Value> = serde_json::from_slice(&r.out.stdout).unwrap();
    assert!(cells.len() >= 20, "{}", cells.len());
}

#[test]
fn filter_too_narrow_is_an_error() {
    let e = common::Test::new()
        .matrix("probes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n")
        .args(["plan", "@", "--filter", "nothing-like-this"])
        .refuse();
    assert!(e.contains("matches none of the 1 cells"), "{e}");
}

/// GitHub's documented include example ("Expanding or adding matrix
/// configurations", docs.github.com/en/actions/how-tos/write-workflows/
/// choose-what-workflows-do/run-job-variations), mapped onto axes: fruit →
/// cgo (apple 0, pear 1, banana default), animal → ldflags (cat -s, dog -w),
/// color → tags, shape → flags (circle -trimpath). A crossprobe cell needs a
/// target, so the matrix lists one and the two banana entries name it.
#[test]
fn github_include_example_gives_its_six_combinations() {
    let cells = plan(
        "probes: [hello]
matrix:
  goos: [linux]
  goarch: [amd64]
  cgo: [0, 1]
  ldflags: [-s, -w]
  include:
    - tags: green
    - {tags: pink, ldflags: -s}
    - {cgo: 0, flags: -trimpath}
    - {cgo: default, goos: linux, goarch: amd64}
    - {cgo: default, ldflags: -s, goos: linux, goarch: amd64}
",
    );
    let got: Vec<[&str; 4]> = cells
        .iter()
        .map(|c| {
            let v = |k: &str| c[k].as_str().unwrap();
            [v("cgo"), v("ldflags"), v("tags"), v("flags")]
        })
        .collect();
    assert_eq!(
        got,
        [
            ["0", "-s", "pink", "-trimpath"],
            ["0", "-w", "green", "-trimpath"],
            ["1", "-s", "pink", ""],
            ["1", "-w", "green", ""],
            ["default", "", "", ""],
            ["default", "-s", "", ""],
        ]
    );
}

/// An axis the matrix does not list has no original value: an include
/// entry's value for it extends the combinations it matches, where the
/// built-in default once made it a new cell with no goos.
#[test]
fn include_sets_an_unlisted_axis_on_the_cells_it_matches() {
    let cells = plan(
        "probes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64, arm64, arm]\n  include:\n    - {goarch: arm64, cgo: 1, cc: zig}\n    - {GOARM: \"7\"}\n",
    );
    // GOARM means something on arm alone, so it is added there alone.
    assert_eq!(
        ids(&cells),
        [
            "linux/amd64/cgo0/hello",
            "linux/arm64/cgo1/cc=zig/hello",
            "linux/arm/GOARM=7/cgo0/hello"
        ]
    );
}

/// A pair that one Go of the matrix knows is every Go's cell: openbsd/riscv64
/// is a port from go1.23 (unknown to go1.21). A pair no Go knows is an
/// input error that names them all.
#[test]
fn a_target_known_to_one_go_of_the_matrix_is_every_gos_cell() {
    let cells = plan(
        "probes: [hello]\ngo: [\"1.21\", \"1.23\"]\nmatrix:\n  goos: [openbsd]\n  goarch: [riscv64]\n",
    );
    assert_eq!(
        ids(&cells),
        [
            "openbsd/riscv64/cgo0/go1.21/hello",
            "openbsd/riscv64/cgo0/go1.23/hello"
        ]
    );
    let e = common::Test::new()
        .matrix("probes: [hello]\ngo: [\"1.21\", \"1.23\"]\nmatrix:\n  goos: [openbsd]\n  goarch: [riscv46]\n")
        .args(["plan", "@"])
        .refuse();
    insta::assert_snapshot!(e);
}
