//! C toolchains and cgo, for real: Debian cross gcc, mingw-w64 and zig
//! building real cgo binaries, run under qemu-user with the cross sysroot,
//! under wine, and natively through the sysroot's ld.so. `--filter` keeps
//! each shipped matrix to the cells a test needs; zig builds one target
//! only (darwin/arm64, ~100 s the first time on a machine, then cached).

use crate::common::{self, CellExt, Test};
use crossprobe::run::sandbox::inner;

use crossprobe::model::{Outcome, PhaseName, Runner};

#[test]
fn cgo_1_runs_under_every_runner() {
    let r = Test::new()
        .shipped("cgo-cross")
        .args(["--filter", "*/cgo1/cgo-hello"])
        .run();
    let cells = r.cells("cgo-cross");
    assert_eq!(cells.len(), 6, "{:?}", cells.keys());
    for (id, c) in &cells {
        assert_eq!(c.outcome, Outcome::Pass, "{id}: {c:#?}");
        assert_eq!(c.fact("probe.c.add"), 42, "{id}");
        assert_eq!(c.fact("cgo.binary"), "1", "{id}");
        let libc = c.fact("probe.c.libc").as_str().unwrap();
        let want = if c.cell.goos == "windows" {
            "mingw-w64"
        } else {
            "glibc"
        };
        assert!(libc.starts_with(want), "{id}: {libc}");
        // The compiler chosen, its version and its argv are recorded, and
        // the build got it as CC.
        let cc = c.fact("cc.argv")[0].as_str().unwrap();
        assert!(
            c.fact("cc.version").as_str().unwrap().contains("12"),
            "{id}"
        );
        let build = c.commands_of(PhaseName::Build);
        assert_eq!(build.last().unwrap().env["CC"], cc, "{id}");
    }
    let cc = |id: &str| cells[id].fact("cc.argv")[0].as_str().unwrap().to_string();
    assert_eq!(cc("linux/arm64/cgo1/cgo-hello"), "aarch64-linux-gnu-gcc");
    assert_eq!(cc("linux/arm/cgo1/cgo-hello"), "arm-linux-gnueabihf-gcc");
    assert_eq!(cc("linux/riscv64/cgo1/cgo-hello"), "riscv64-linux-gnu-gcc");
    assert_eq!(cc("windows/amd64/cgo1/cgo-hello"), "x86_64-w64-mingw32-gcc");

    // Dynamically linked cgo binaries find their libc: qemu through
    // QEMU_LD_PREFIX, linux/386 through the sysroot's own ld.so.
    let run = |id: &str| cells[id].commands_of(PhaseName::Run)[0].clone();
    assert_eq!(
        run("linux/arm/cgo1/cgo-hello").env["QEMU_LD_PREFIX"],
        "/usr/arm-linux-gnueabihf"
    );
    assert_eq!(
        run("linux/riscv64/cgo1/cgo-hello").env["QEMU_LD_PREFIX"],
        "/usr/riscv64-linux-gnu"
    );
    // The probe's own argv follows bwrap's, after its `--`.
    let argv = run("linux/386/cgo1/cgo-hello").argv;
    let own = argv.iter().position(|w| w == "--").map_or(0, |i| i + 1);
    assert_eq!(
        argv[own], "/usr/i686-linux-gnu/lib/ld-linux.so.2",
        "{argv:?}"
    );
    assert_eq!(
        cells["windows/amd64/cgo1/cgo-hello"].cell.runner,
        Runner::Wine {
            binary: "wine64".into()
        }
    );
    common::validate_junit(&r.reports("cgo-cross").join("junit.xml"));
}

#[test]
fn cgo_default_records_what_go_chose() {
    let r = Test::new()
        .shipped("cgo-cross")
        .args(["--filter", "*/cgo-default/*"])
        .run();
    let cells = r.cells("cgo-cross");
    assert_eq!(cells.len(), 12, "{:?}", cells.keys());
    for (id, c) in &cells {
        let native = c.cell.goos == "linux" && c.cell.goarch == "amd64";
        let go_env = if native { "1" } else { "0" };
        assert_eq!(c.fact("cgo.go_env"), go_env, "{id}");
        assert_eq!(c.fact("cgo.note").is_string(), !native, "{id}");
        // `go env` ran first, with CGO_ENABLED unset and CC set: Go turns
        // cgo off when cross-compiling even then.
        let env_cmd = c.commands_of(PhaseName::Build)[0];
        // Builds run sandboxed: the go command follows bwrap's `--`.
        assert_eq!(inner(&env_cmd.argv)[1], "env", "{id}");
        assert!(!env_cmd.env.contains_key("CGO_ENABLED"), "{id}");
        assert!(env_cmd.env.contains_key("CC"), "{id}");
        match (c.cell.probe.as_str(), native) {
            ("cgo-hello", false) => {
                assert_eq!(c.outcome, Outcome::BuildFail, "{id}");
                assert!(
                    c.reason
                        .as_deref()
                        .unwrap()
                        .contains("build constraints exclude all Go files"),
                    "{id}: {:?}",
                    c.reason
                );
            }
            (_, _) => {
                assert_eq!(c.outcome, Outcome::Pass, "{id}: {c:#?}");
                assert_eq!(c.fact("cgo.binary"), go_env, "{id}");
            }
        }
        assert!(c.verdict.met, "{id}");
    }
}

#[test]
fn abi_shows_the_arm_layout_mismatch() {
    let r = Test::new().shipped("abi").run();
    let cells = r.cells("abi");
    assert_eq!(cells.len(), 12, "{:?}", cells.keys());
    let arm = &cells["linux/arm/cgo1/go-c-layout"];
    assert_eq!(
        arm.fact("layout.mismatch"),
        &serde_json::json!([
            "alignof: go 4, c 8",
            "offsetof_b: go 4, c 8",
            "sizeof: go 12, c 16"
        ])
    );
    let i386 = &cells["linux/386/cgo1/go-c-layout"];
    assert_eq!(i386.fact("layout.mismatch"), &serde_json::json!([]));
    assert_eq!(i386.fact("probe.c.offsetof_b"), 4);
    // The C probe is built by the C compiler alone: no go in sight.
    let c_abi = &cells["linux/arm64/cgo1/c-abi"];
    let build = c_abi.commands_of(PhaseName::Build);
    assert_eq!(build.len(), 1);
    assert_eq!(inner(&build[0].argv)[0], "aarch64-linux-gnu-gcc");
    assert_eq!(c_abi.fact("probe.sizeof.long"), 8);
    assert_eq!(
        cells["windows/amd64/cgo1/c-abi"].fact("probe.sizeof.long"),
        4
    );
    common::validate_junit(&r.reports("abi").join("junit.xml"));
}

#[test]
fn static_pair_shows_the_warning_and_its_fix() {
    let r = Test::new().shipped("static").run();
    let cells = r.cells("static");
    let warned = &cells["linux/amd64/cgo1/ldflags=-extldflags=-static/static-net"];
    let warnings = warned.fact("build.warnings").as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .starts_with("Using 'getaddrinfo' in statically linked applications")),
        "{warnings:?}"
    );
    let clean =
        &cells["linux/amd64/cgo1/ldflags=-extldflags=-static/tags=netgo,osusergo/static-net"];
    assert_eq!(clean.fact("build.warnings"), &serde_json::json!([]));
    for c in [warned, clean] {
        assert_eq!(c.outcome, Outcome::Pass);
        assert_eq!(c.fact("probe.answer"), 42);
    }
}

#[test]
fn darwin_cgo_builds_through_zig() {
    // Built, and above the matrix's macOS floor (see matrices.rs): exit 1.
    let r = Test::new()
        .shipped("darwin-arm64")
        .args(["--filter", "darwin/arm64/cgo1/cgo-hello", "--keep"])
        .failure()
        .run();
    let cells = r.cells("darwin-arm64");
    let c = &cells["darwin/arm64/cgo1/cgo-hello"];
    assert_eq!(c.outcome, Outcome::Skip, "{c:#?}");
    assert_eq!(
        c.reason.as_deref(),
        Some("no runner for darwin/arm64 on linux/amd64")
    );
    let build = c.commands_of(PhaseName::Build)[0];
    assert_eq!(build.env["CC"], "zig cc -target aarch64-macos");
    assert!(build.env["ZIG_GLOBAL_CACHE_DIR"].ends_with("crossprobe/zig"));
    assert!(build.env["CGO_LDFLAGS"].contains("zig-darwin-stubs"));
    let argv = &build.argv;
    assert!(argv.iter().any(|a| a == "-ldflags=-w"), "{argv:?}");
    let dir = std::path::Path::new(c.dir.as_deref().unwrap());
    let binary = std::fs::read(dir.join("probe")).unwrap();
    // MH_MAGIC_64 and CPU_TYPE_ARM64, little-endian.
    assert_eq!(
        binary[..8],
        [0xcf, 0xfa, 0xed, 0xfe, 0x0c, 0x00, 0x00, 0x01]
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn library_buildmodes_run_through_a_c_host_program() {
    let yaml = r#"
name: modes
probes: [cgo-hello]
matrix:
  goos: [linux]
  goarch: [arm64]
  cgo: [1]
  buildmode: [c-archive, c-shared]
  # Listed, so that the entries naming a cc are cells of their own.
  cc: [auto]
  include:
    - {goos: windows, goarch: amd64, cgo: "1", buildmode: c-shared, probe: cgo-hello}
    - {goos: linux, goarch: mipsle, cgo: "0", buildmode: c-archive, probe: cgo-hello}
    - {goos: linux, goarch: arm64, cgo: "1", cc: crossprobe-no-such-gcc, probe: cgo-hello}
    - {goos: linux, goarch: arm, cgo: "1", cc: crossprobe-no-such-gcc, probe: cgo-hello}
    - {goos: linux, goarch: mips64le, cgo: "1", buildmode: c-shared, probe: cgo-hello}
run:
  timeout: 300s
expect:
  - when: {goarch: mipsle}
    outcome: build-fail
    match: "-buildmode=c-archive not supported on linux/mipsle"
    reason: Go's own refusal
  - when: {cc: crossprobe-no-such-gcc, goarch: arm64}
    outcome: build-fail
    match: 'C compiler "crossprobe-no-such-gcc" not found'
    reason: a missing compiler is a build-fail in Go's words, with crossprobe's hint
  - when: {cc: crossprobe-no-such-gcc, goarch: arm}
    outcome: skip
  - when: {goarch: mips64le}
    outcome: build-fail
    match: "-buildmode=c-shared not supported on linux/mips64le"
    reason: Go's own refusal, whatever the C compiler
"#;
    let r = Test::new().matrix(yaml).run();
    let cells = r.cells("modes");
    assert_eq!(cells.len(), 7, "{:?}", cells.keys());
    for id in [
        "linux/arm64/cgo1/buildmode=c-archive/cgo-hello",
        "linux/arm64/cgo1/buildmode=c-shared/cgo-hello",
        "windows/amd64/cgo1/buildmode=c-shared/cgo-hello",
    ] {
        let c = &cells[id];
        assert_eq!(c.outcome, Outcome::Pass, "{id}: {c:#?}");
        assert_eq!(c.fact("probe.c.add"), 42, "{id}");
        assert_eq!(c.fact("probe.build.-buildmode"), c.cell.buildmode.as_str());
        let build = c.commands_of(PhaseName::Build);
        assert_eq!(build.len(), 2, "{id}: go build, then the host program");
        assert!(build[1].argv.iter().any(|a| a.ends_with("_host/host.c")));
    }
    // Go is asked first, with the compiler the cell would use; when it
    // fails for want of it, a missing compiler is a build-fail where the
    // matrix expects one (with the hint, matched above), else a skip with
    // the hint; nothing is run.
    for goarch in ["arm64", "arm"] {
        let c = &cells[&format!("linux/{goarch}/cgo1/cc=crossprobe-no-such-gcc/cgo-hello")];
        assert_eq!(
            c.outcome,
            if goarch == "arm" {
                Outcome::Skip
            } else {
                Outcome::BuildFail
            },
            "{c:#?}"
        );
        assert_eq!(
            c.reason.as_deref(),
            Some(
                format!(
                    "no C compiler for linux/{goarch}: `crossprobe-no-such-gcc` is not on PATH"
                )
                .as_str()
            )
        );
        let build = c.commands_of(PhaseName::Build);
        assert_eq!(build.len(), 1, "{c:#?}");
        let said = build[0].stderr.text.as_str();
        assert!(
            said.contains("C compiler \"crossprobe-no-such-gcc\" not found"),
            "{said}"
        );
        assert!(c.commands_of(PhaseName::Run).is_empty());
    }
    // Where Go has its own answer, it is the answer; crossprobe's hint about
    // the missing mips64el gcc (scripts/setup installs none) stands beside.
    let c = &cells["linux/mips64le/cgo1/buildmode=c-shared/cgo-hello"];
    assert_eq!(c.outcome, Outcome::BuildFail, "{c:#?}");
    assert!(c.verdict.met, "{c:#?}");
    let reason = c.reason.as_deref().unwrap();
    assert!(
        reason.starts_with("-buildmode=c-shared not supported on linux/mips64le (exit status 1)"),
        "{reason}"
    );
    if !common::have_tool("mips64el-linux-gnuabi64-gcc") {
        assert!(
            reason.ends_with(
                " [crossprobe: no C compiler for linux/mips64le: install \
                 gcc-mips64el-linux-gnuabi64, or use cc: zig]"
            ),
            "{reason}"
        );
    }
}

#[test]
fn expected_facts_can_fail() {
    let yaml = r#"
probes: [c-abi]
matrix:
  goos: [linux]
  goarch: [arm]
expect:
  - when: {goarch: arm}
    facts: {probe.sizeof.long: "8"}
"#;
    let r = Test::new().matrix(yaml).failure().run();
    let cells = r.cells("matrix");
    let c = &cells["linux/arm/cgo0/c-abi"];
    assert_eq!(c.outcome, Outcome::Pass);
    assert_eq!(
        c.verdict.message,
        "fact probe.sizeof.long: expected 8, got 4"
    );
    // Kept because it did not meet its expectation: not this test's to keep.
    if let Some(dir) = c.dir.as_deref() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn unknown_cc_value() {
    let e = Test::new()
        .matrix("probes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [arm64]\n  cgo: [1]\n  cc: [auto, zgi]\n")
        .args(["plan", "@"])
        .refuse();
    assert!(e.contains("matrix.yaml:6:14"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn invalid_buildmode() {
    let e = Test::new()
        .matrix("probes: [cgo-hello]\nmatrix:\n  goos: [linux]\n  goarch: [arm64]\n  cgo: [1]\n  buildmode: [exe, c-archiv]\n")
        .args(["plan", "@"])
        .refuse();
    assert!(e.contains("matrix.yaml:6:20"), "{e}");
    assert!(e.contains("did you mean \"c-archive\""), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn c_probe_without_source() {
    let e = Test::new()
        .matrix("probes:\n  - {name: abi, lang: c}\nmatrix:\n  goos: [linux]\n  goarch: [arm64]\n")
        .args(["plan", "@"])
        .refuse();
    assert!(e.contains("matrix.yaml:2:5"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn cc_with_cgo_0_is_a_warning() {
    let r = Test::new().matrix("probes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [arm64]\n  cgo: [0, 1]\n  cc: [zig]\n").args(["plan", "@"]).run();
    insta::assert_snapshot!(r.stderr());
    assert!(r.stdout().contains("linux/arm64/cgo1/cc=zig/hello"));
}

/// A CC that builds for another target no longer skips the cell up front:
/// Go's own failure is the verdict, and what the preflight found about the
/// compiler stands beside it.
#[test]
fn a_wrong_cc_is_gos_failure_with_the_hint_beside_it() {
    let goarch = if cfg!(target_arch = "aarch64") {
        "amd64"
    } else {
        "arm64"
    };
    let yaml = format!(
        "name: wrong-cc\nprobes: [cgo-hello]\nmatrix:\n  goos: [linux]\n  goarch: [{goarch}]\n  cgo: [\"1\"]\n  env:\n    CC: [gcc]\n"
    );
    let r = Test::new().matrix(&yaml).failure().run();
    let c = &r.cells("wrong-cc")[&format!("linux/{goarch}/CC=gcc/cgo1/cgo-hello")];
    assert_eq!(c.outcome, Outcome::BuildFail, "{c:#?}");
    let reason = c.reason.as_deref().unwrap();
    let hint = format!(
        " [crossprobe: cgo=1 for linux/{goarch} needs a C cross compiler, and CC=gcc builds for "
    );
    let at = reason
        .find(&hint)
        .unwrap_or_else(|| panic!("no hint in {reason}"));
    assert!(at > 0, "Go's words come first: {reason}");
    assert_eq!(
        c.commands_of(PhaseName::Build).len(),
        1,
        "Go was asked: {c:#?}"
    );
}
