//! The shipped matrices, run for real: real `go build`, real qemu-user, real
//! wine, real node and wazero. Then the JUnit goes through xmllint against
//! the Jenkins schema.

use crate::common::{self, CellExt};

use crossprobe::model::{CellResult, PhaseName, RunnerKind, Standing};

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
        let argv = crossprobe::run::sandbox::inner(&build.argv);
        assert_eq!(argv[1], "build");
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

/// `just matrix darwin-arm64` on Linux: every cell that builds is built,
/// inspected and reads "built, not run", never a bare skip; and each
/// binary's minimum macOS is checked against the matrix's floor, which the
/// cgo binaries zig links (macOS 15.0) are above.
#[test]
fn darwin_is_built_not_run_on_linux_and_checked_against_its_macos_floor() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let r = common::Test::new().shipped("darwin-arm64").status(1).run();
    let cells = r.cells("darwin-arm64");
    let mut built = 0;
    for (id, c) in &cells {
        // cgo-hello with cgo 0 is an expected build failure.
        if c.cell.probe == "cgo-hello" && c.cell.cgo == "0" {
            assert_eq!(outcome(c), "build-fail", "{id}");
            assert_eq!(c.standing(), Standing::ExpectedFailure, "{id}");
            continue;
        }
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
        // zig links cgo-hello (real C) for macOS 15: above the floor, and
        // flagged with what to do.
        if c.cell.probe == "cgo-hello" {
            assert_eq!(c.fact("macho.minos"), "15.0", "{id}");
            assert_eq!(c.standing(), Standing::Unmet, "{id}");
            let why = &c.verdict.message;
            assert!(
                why.starts_with(
                    r#"fact macho.minos: expected <= 12.0, got "15.0" [crossprobe: zig links"#
                ) && why.contains("MACOSX_DEPLOYMENT_TARGET"),
                "{id}: {why}"
            );
            continue;
        }
        assert_eq!(c.fact("macho.minos"), "12.0", "{id}");
        assert_eq!(c.standing(), Standing::BuiltNotRun, "{id}");
        built += 1;
    }
    assert!(built >= 6, "only {built} darwin cells built");
    let out = r.stdout();
    assert!(
        out.contains("10 cells in")
            && out.contains(
                ": 0 passed, 2 expected failures, 6 built, not run (no runner here), 0 skipped, 2 not as expected"
            ),
        "{out}"
    );
    assert!(
        out.contains("  BUILT skip        darwin/arm64/cgo0/hello"),
        "{out}"
    );
    let junit = std::fs::read_to_string(r.reports("darwin-arm64").join("junit.xml")).unwrap();
    assert!(
        junit.contains(
            r#"<skipped message="built, not run (no runner here): no runner for darwin/arm64 on "#
        ),
        "{junit}"
    );
    assert_eq!(junit.matches("<failure ").count(), 2, "{junit}");
    // results.json says so to any reader of the file.
    let json = r.results_json("darwin-arm64");
    let standings: Vec<&str> = json["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["standing"].as_str().unwrap())
        .collect();
    assert_eq!(standings.iter().filter(|s| **s == "built").count(), 6);
}

/// The floor reaches zig: with MACOSX_DEPLOYMENT_TARGET, the cgo binary
/// zig links for darwin loads on that macOS, and the floor holds.
#[test]
fn macosx_deployment_target_sets_the_macos_zig_links_for() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let r = common::Test::new()
        .matrix(
            "name: floor\nprobes: [cgo-hello]\nmatrix:\n  goos: [darwin]\n  goarch: [arm64]\n  cgo: [1]\n  env:\n    MACOSX_DEPLOYMENT_TARGET: [\"12.0\"]\nrun:\n  timeout: 300s\nexpect:\n  - facts: {macho.minos: \"<= 12.0\"}\n",
        )
        .status(0)
        .run();
    let cells = r.cells("floor");
    let c = &cells["darwin/arm64/MACOSX_DEPLOYMENT_TARGET=12.0/cgo1/cgo-hello"];
    assert_eq!(c.standing(), Standing::BuiltNotRun, "{c:#?}");
    assert_eq!(c.fact("macho.minos"), "12.0", "{c:#?}");
    assert_eq!(
        c.fact("cc.argv"),
        &serde_json::json!(["zig", "cc", "-target", "aarch64-macos.12.0"])
    );
}
