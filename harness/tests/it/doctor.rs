//! `crossprobe doctor`: valid JSON naming each missing tool with its fix,
//! and `--fix` really fixing what it can.
//!
//! Tools go missing the honest way: crossprobe runs with a PATH that holds
//! only the few programs a test names.

use crate::common::{self, Test};

use std::path::Path;
use std::process::Output;

use serde_json::Value;

/// A directory of links to just these programs.
fn bin_with(names: &[&str]) -> tempfile::TempDir {
    let bin = tempfile::tempdir().unwrap();
    for n in names {
        std::os::unix::fs::symlink(common::tool_path(n), bin.path().join(n)).unwrap();
    }
    bin
}

/// `crossprobe doctor ARGS...` in `dir`, with PATH as given, else this
/// process's.
fn doctor(dir: &Path, path: Option<&Path>, args: &[&str]) -> Test {
    let t = Test::at(dir).arg("doctor").args(args);
    match path {
        Some(p) => t.env("PATH", p),
        None => t,
    }
}

fn findings(o: &Output) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor --json is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&o.stdout)
        )
    });
    let ok = v["ok"].as_bool().unwrap();
    assert_eq!(
        ok,
        o.status.code() == Some(0),
        "`ok` agrees with the exit status"
    );
    v["findings"].as_array().unwrap().clone()
}

fn named<'a>(f: &'a [Value], name: &str) -> &'a Value {
    f.iter()
        .find(|x| x["name"] == name)
        .unwrap_or_else(|| panic!("no finding {name}: {f:#?}"))
}

#[test]
fn json_on_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    // Whether it passes is this machine's: `findings` checks that `ok`
    // says what the status does.
    let o = doctor(dir.path(), None, &["--json"]).any_status().run();
    let f = findings(&o.out);
    for x in &f {
        assert!(
            ["go", "c", "emulators", "sandbox", "limits"].contains(&x["group"].as_str().unwrap()),
            "{x}"
        );
        assert!(
            ["ok", "warn", "fail"].contains(&x["level"].as_str().unwrap()),
            "{x}"
        );
        assert!(!x["found"].as_str().unwrap().is_empty(), "{x}");
    }
    for name in [
        "go",
        "go env",
        "go list std",
        "GOCACHE",
        "GOROOT",
        "GOFLAGS",
        "GOTOOLCHAIN",
        "zig",
        "ulimit -n",
        "disk",
    ] {
        named(&f, name);
    }
    assert_eq!(named(&f, "go")["level"], "ok");
    assert!(named(&f, "go env")["found"]
        .as_str()
        .unwrap()
        .starts_with("took "));
}

#[test]
fn each_missing_tool_is_named_with_its_fix() {
    let dir = tempfile::tempdir().unwrap();
    let bin = bin_with(&["go", "apt-get"]);
    let m = common::repo().join("matrices/linux-arches.yaml");
    // Tools the matrix needs are missing: FAIL.
    let o = doctor(
        dir.path(),
        Some(bin.path()),
        &[m.to_str().unwrap(), "--json"],
    )
    .failure()
    .run();
    let f = findings(&o.out);
    // (wine stays: Debian keeps wine64 in /usr/lib/wine, which discovery
    // looks in whatever PATH says.)
    for tool in [
        "qemu-aarch64",
        "qemu-riscv64",
        "qemu-s390x",
        "qemu-mipsel",
        "qemu-loongarch64",
        "node",
    ] {
        let x = named(&f, tool);
        assert_eq!(x["level"], "fail", "{x}");
        assert!(
            x["found"].as_str().unwrap().starts_with("not found; runs "),
            "{x}"
        );
        let fix = x["fix"]
            .as_str()
            .unwrap_or_else(|| panic!("{tool} has no fix: {x}"));
        assert!(
            fix.contains("apt-get install -y --no-install-recommends "),
            "{x}"
        );
    }
    assert!(named(&f, "qemu-arm")["fix"]
        .as_str()
        .unwrap()
        .ends_with(" qemu-user"));
    assert!(named(&f, "node")["fix"]
        .as_str()
        .unwrap()
        .ends_with(" nodejs"));
    let zig = named(&f, "zig");
    assert_eq!(zig["level"], "warn", "optional: {zig}");
    assert!(zig["fix"].as_str().unwrap().contains("pip install ziglang"));
    // linux-arches builds no cgo cell: no C compiler is asked for.
    assert!(
        f.iter()
            .all(|x| !x["name"].as_str().unwrap().starts_with("cc ")),
        "{f:#?}"
    );

    // As text, for people.
    doctor(dir.path(), Some(bin.path()), &[m.to_str().unwrap()])
        .failure()
        .stdout_contains("  FAIL  qemu-riscv64")
        .stdout_contains("fix: apt-get install -y --no-install-recommends qemu-user")
        .run();
}

/// wazero is missing, and `--fix` installs it with `go install` into
/// GOBIN, which is on PATH: afterwards nothing fails.
#[test]
fn fix_installs_what_it_can() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("wasi.yaml"),
        "name: wasi\nprobes: [hello]\nmatrix:\n  goos: [wasip1]\n  goarch: [wasm]\n",
    )
    .unwrap();
    let bin = bin_with(&["go"]);
    let before = doctor(dir.path(), Some(bin.path()), &["wasi.yaml", "--json"])
        .failure()
        .run();
    let f = findings(&before.out);
    assert_eq!(
        named(&f, "wazero")["fix"],
        "go install github.com/tetratelabs/wazero/cmd/wazero@v1.12.0"
    );

    // What needs a package manager (none on this PATH), and what is
    // optional, are a person's.
    let o = doctor(
        dir.path(),
        Some(bin.path()),
        &["wasi.yaml", "--fix", "--json"],
    )
    .env("GOBIN", bin.path())
    .env("GOFLAGS", "-mod=mod")
    .stderr_contains("fixed: go install github.com/tetratelabs/wazero/cmd/wazero@v1.12.0")
    .stderr_contains("for you to do:\n  bwrap: install bubblewrap\n  zig: python3 -m venv ")
    .run();
    assert!(bin.path().join("wazero").is_file());
    assert_eq!(named(&findings(&o.out), "wazero")["level"], "ok");
}

/// `doctor --fix` as a user's scripts/setup, for real on this Debian
/// machine: a cgo matrix for linux/ppc64le needs its cross gcc, which
/// `--fix` installs with apt (the first time on a machine) and nothing
/// else; run again, it has nothing to do; and a matrix that needs nothing
/// beyond Go installs nothing.
#[test]
fn fix_installs_what_a_matrix_needs_once_and_nothing_more() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return common::tool_missing("root", "doctor --fix is not tried with apt");
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ppc.yaml"),
        "name: ppc\nprobes: [cgo-hello]\nmatrix:\n  goos: [linux]\n  goarch: [ppc64le]\n  cgo: [\"1\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("plain.yaml"),
        "name: plain\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  cgo: [\"0\"]\n",
    )
    .unwrap();
    let fix = |matrix: &str| {
        let o = doctor(dir.path(), None, &[matrix, "--fix", "--json"]).run();
        let err = o.stderr();
        let fixed: Vec<String> = err
            .lines()
            .filter_map(|l| l.strip_prefix("fixed: ").map(str::to_string))
            .collect();
        assert!(!err.contains("could not:"), "{err}");
        (findings(&o.out), fixed, err)
    };
    let (f, fixed, err) = fix("ppc.yaml");
    // Installed now or by an earlier run on this machine; never more.
    assert!(
        fixed.is_empty() || fixed.len() == 1 && fixed[0].ends_with(" gcc-powerpc64le-linux-gnu"),
        "{err}"
    );
    assert!(
        f.iter().all(|x| x["name"] != "powerpc64le-linux-gnu-gcc"),
        "the compiler is there now: {f:#?}"
    );
    for m in ["ppc.yaml", "plain.yaml"] {
        let (_, fixed, err) = fix(m);
        assert!(fixed.is_empty(), "{m}: {err}");
        assert!(err.contains("nothing to fix"), "{m}: {err}");
    }
}
