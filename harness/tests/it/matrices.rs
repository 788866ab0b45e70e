//! The shipped matrices, run for real: real `go build`, real qemu-user, real
//! wine, real node and wazero. Then the JUnit goes through xmllint against
//! the Jenkins schema.

use crate::common::{self, CellExt};

use crossprobe::model::{CellResult, PhaseName, RunnerKind};

fn outcome(c: &CellResult) -> &str {
    c.outcome.as_str()
}

#[test]
fn quick_passes_and_reports() {
    let r = common::Test::new().shipped("quick").run();
    let cells = r.cells("quick");
    assert_eq!(cells.len(), 3);
    for (id, c) in &cells {
        assert_eq!(outcome(c), "pass", "{id}: {c:#?}");
        assert_eq!(c.fact("probe.goarch"), c.cell.goarch.as_str(), "{id}");
        // The argv is recorded as a list, never a shell string.
        let build = c.commands_of(PhaseName::Build)[0];
        assert_eq!(build.argv[1], "build");
        assert_eq!(build.env["GOARCH"], c.cell.goarch);
    }
    let res = r.results("quick");
    assert_eq!(res.schema, 1);
    assert!(res.tools["go"].starts_with("go1."));
    common::validate_junit(&r.reports("quick").join("junit.xml"));
}

#[test]
fn linux_arches_atomic64_fails_exactly_on_32_bit_ports() {
    let r = common::Test::new().shipped("linux-arches").run();
    let cells = r.cells("linux-arches");
    assert!(cells.len() >= 20, "{}", cells.len());
    let ran = cells.values().filter(|c| outcome(c) != "skip").count();
    assert!(ran >= 20, "only {ran} cells ran:\n{}", r.stdout());
    for (id, c) in &cells {
        let goarch = c.cell.goarch.as_str();
        if c.cell.probe == "atomic64" && c.cell.goos == "linux" {
            let want = if ["386", "arm", "mips", "mipsle"].contains(&goarch) {
                "run-fail"
            } else {
                "pass"
            };
            assert_eq!(outcome(c), want, "{id}: {c:#?}");
        }
        assert!(c.verdict.met, "{id}: {}", c.verdict.message);
    }
    let c = &cells["linux/386/cgo0/atomic64"];
    assert!(
        c.reason
            .as_deref()
            .unwrap()
            .contains("unaligned 64-bit atomic operation"),
        "{c:#?}"
    );
    common::validate_junit(&r.reports("linux-arches").join("junit.xml"));
}

#[test]
fn windows_amd64_runs_under_wine() {
    let r = common::Test::new().shipped("windows").run();
    let cells = r.cells("windows");
    let hello = &cells["windows/amd64/cgo0/hello"];
    assert_eq!(outcome(hello), "pass", "{hello:#?}");
    assert_eq!(hello.fact("probe.goos"), "windows");
    assert_eq!(hello.cell.runner.kind(), RunnerKind::Wine);
    // windows/386 needs a 32-bit wine. Where there is none it must be a skip
    // that says so, never a silent pass.
    let w386 = &cells["windows/386/cgo0/hello"];
    if outcome(w386) == "skip" {
        assert!(
            w386.reason.as_deref().unwrap().contains("32-bit wine"),
            "{w386:#?}"
        );
    } else {
        assert_eq!(w386.fact("probe.goarch"), "386", "{w386:#?}");
    }
    let arm = &cells["windows/arm64/cgo0/hello"];
    assert_eq!(outcome(arm), "skip");
    assert_eq!(
        arm.fact("binary.format"),
        "pe",
        "built even though it cannot run: {arm:#?}"
    );
    common::validate_junit(&r.reports("windows").join("junit.xml"));
}

#[test]
fn wasm_runs_under_node_and_wasi() {
    let r = common::Test::new().shipped("wasm").run();
    let cells = r.cells("wasm");
    for id in ["js/wasm/cgo0/hello", "wasip1/wasm/cgo0/hello"] {
        assert_eq!(outcome(&cells[id]), "pass", "{id}: {:#?}", cells[id]);
        assert_eq!(cells[id].fact("probe.goarch"), "wasm");
    }
    assert_eq!(
        cells["js/wasm/cgo0/hello"].cell.runner.kind(),
        RunnerKind::Node
    );
}

#[test]
fn darwin_is_built_and_skipped_with_the_reason_on_linux() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let r = common::Test::new().shipped("darwin-arm64").run();
    let cells = r.cells("darwin-arm64");
    let mut built = 0;
    for (id, c) in &cells {
        // cgo-hello with cgo 0 is an expected build failure; every cell
        // that builds is then skipped for want of a Mac.
        if c.cell.probe == "cgo-hello" && c.cell.cgo == "0" {
            assert_eq!(outcome(c), "build-fail", "{id}");
            assert!(c.verdict.met, "{id}");
            continue;
        }
        built += 1;
        assert_eq!(outcome(c), "skip", "{id}");
        assert!(
            c.reason
                .as_deref()
                .unwrap()
                .starts_with("no runner for darwin/"),
            "{id}: {c:#?}"
        );
        assert_eq!(
            c.fact("binary.format"),
            "macho",
            "{id} was not built: {c:#?}"
        );
    }
    assert!(built >= 6, "only {built} darwin cells built");
}
