//! inspect on real binaries: Go builds checked against `go version -m`,
//! C builds from the cross compilers on this machine, and damaged copies of
//! both. Everything is built once per test binary (see [`fixture`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::common;
use crossprobe::inspect::{inspect_bytes, inspect_file, render_text, Inspection};
use serde_json::{json, Value};

const PROBE: &str = r#"package main

import (
	"encoding/json"
	"os"
	"runtime/debug"
)

var version = "dev"

// Prints its own build info in the shape of `go version -m -json`, which
// is the only ground truth for wasm: go version cannot read wasm binaries.
func main() {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(bi)
	if len(os.Args) > 1 {
		println(version)
	}
}
"#;

const CGO_PROBE: &str = r#"package main

// #include <stdio.h>
// static void hello(void) { puts("hello from C"); }
import "C"

func main() { C.hello() }
"#;

const C_PROBE: &str = "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n";

/// Quotes and spaces make `go` store this setting as a Go-quoted string.
const NASTY_LDFLAGS: &str = r#"-s -w -X 'main.version=1.0 "beta"'"#;

struct GoCase {
    name: &'static str,
    env: &'static [(&'static str, &'static str)],
    flags: &'static [&'static str],
    package: &'static str,
}

/// A case building the probe package with this environment and no flags.
const fn go(name: &'static str, env: &'static [(&'static str, &'static str)]) -> GoCase {
    GoCase {
        name,
        env,
        flags: &[],
        package: ".",
    }
}

impl GoCase {
    const fn flags(mut self, flags: &'static [&'static str]) -> Self {
        self.flags = flags;
        self
    }

    const fn package(mut self, package: &'static str) -> Self {
        self.package = package;
        self
    }
}

const LINUX_AMD64: &[(&str, &str)] = &[("GOOS", "linux"), ("GOARCH", "amd64")];
const DARWIN_ARM64: &[(&str, &str)] = &[
    ("GOOS", "darwin"),
    ("GOARCH", "arm64"),
    ("CGO_ENABLED", "0"),
];
const WINDOWS_AMD64: &[(&str, &str)] = &[("GOOS", "windows"), ("GOARCH", "amd64")];

const GO_CASES: &[GoCase] = &[
    go("linux-amd64", LINUX_AMD64),
    go("linux-386", &[("GOOS", "linux"), ("GOARCH", "386")]),
    go(
        "linux-arm5",
        &[("GOOS", "linux"), ("GOARCH", "arm"), ("GOARM", "5")],
    ),
    go(
        "linux-arm7",
        &[("GOOS", "linux"), ("GOARCH", "arm"), ("GOARM", "7")],
    ),
    go("linux-arm64", &[("GOOS", "linux"), ("GOARCH", "arm64")]),
    go(
        "linux-mipsle-soft",
        &[
            ("GOOS", "linux"),
            ("GOARCH", "mipsle"),
            ("GOMIPS", "softfloat"),
        ],
    ),
    go(
        "linux-mipsle-hard",
        &[
            ("GOOS", "linux"),
            ("GOARCH", "mipsle"),
            ("GOMIPS", "hardfloat"),
        ],
    ),
    go("linux-mips64", &[("GOOS", "linux"), ("GOARCH", "mips64")]),
    go("linux-riscv64", &[("GOOS", "linux"), ("GOARCH", "riscv64")]),
    go("linux-loong64", &[("GOOS", "linux"), ("GOARCH", "loong64")]),
    go("windows-amd64", WINDOWS_AMD64),
    go("darwin-arm64", DARWIN_ARM64),
    go("js-wasm", &[("GOOS", "js"), ("GOARCH", "wasm")]),
    go("wasip1-wasm", &[("GOOS", "wasip1"), ("GOARCH", "wasm")]),
    go("linux-amd64-stripped", LINUX_AMD64).flags(&["-ldflags", NASTY_LDFLAGS]),
    go("darwin-arm64-stripped", DARWIN_ARM64).flags(&["-ldflags=-s -w"]),
    go("windows-amd64-stripped", WINDOWS_AMD64).flags(&["-ldflags=-s -w"]),
    go("linux-amd64-tags", LINUX_AMD64).flags(&["-tags", "foo"]),
    go("linux-amd64-trimpath", LINUX_AMD64).flags(&["-trimpath"]),
    go(
        "linux-amd64-cgo",
        &[("GOOS", "linux"), ("GOARCH", "amd64"), ("CGO_ENABLED", "1")],
    )
    .package("./cgo"),
];

/// Name, compiler, flags.
type CCase = (&'static str, &'static str, &'static [&'static str]);

const C_CASES: &[CCase] = &[
    ("gcc-dynamic", "gcc", &[]),
    ("gcc-static", "gcc", &["-static"]),
    ("gcc-static-pie", "gcc", &["-static-pie"]),
    ("gcc-stripped-debug", "gcc", &["-g", "-s"]),
    ("gcc-debug", "gcc", &["-g"]),
    ("armhf", "arm-linux-gnueabihf-gcc", &[]),
    ("aarch64", "aarch64-linux-gnu-gcc", &[]),
    ("i686", "i686-linux-gnu-gcc", &[]),
    ("riscv64", "riscv64-linux-gnu-gcc", &[]),
    ("mingw", "x86_64-w64-mingw32-gcc", &[]),
    (
        "zig-arm-soft",
        "zig",
        &["cc", "-target", "arm-linux-musleabi"],
    ),
    (
        "zig-glibc-2.17",
        "zig",
        &["cc", "-target", "x86_64-linux-gnu.2.17"],
    ),
];

struct Built {
    path: PathBuf,
    inspection: Inspection,
    /// For Go: `go version -m -json`, or the wasm binary's own report.
    truth: Option<Value>,
}

struct Fixture {
    _dir: tempfile::TempDir,
    built: BTreeMap<&'static str, Built>,
    /// Cases whose compiler is not installed, and which one.
    absent: BTreeMap<&'static str, String>,
    /// Cases whose build failed: one failure should fail the tests that
    /// use it, not every test (which would each retry the whole fixture).
    failed: BTreeMap<&'static str, String>,
}

impl Fixture {
    /// The case, or None (printing why) when its compiler is not installed.
    fn get(&self, name: &str) -> Option<&Built> {
        if let Some(why) = self.absent.get(name) {
            common::tool_missing(why, &format!("the {name} case is left out"));
            return None;
        }
        if let Some(err) = self.failed.get(name) {
            panic!("building {name} failed: {err}");
        }
        Some(
            self.built
                .get(name)
                .unwrap_or_else(|| panic!("no such case {name}")),
        )
    }

    fn facts(&self, name: &str) -> Option<&BTreeMap<String, Value>> {
        self.get(name).map(|b| &b.inspection.facts)
    }
}

fn run(cmd: &mut Command) -> Result<Output, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out)
}

fn go_command() -> Command {
    let mut cmd = Command::new("go");
    // Only what each case sets may reach the build. GOTOOLCHAIN=local keeps
    // go.mod's `go` line from triggering a toolchain download; GOFLAGS
    // overrides a go env file that turns off VCS stamping.
    for var in [
        "GOOS",
        "GOARCH",
        "GOARM",
        "GO386",
        "GOAMD64",
        "GOMIPS",
        "GOMIPS64",
        "CGO_ENABLED",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-buildvcs=auto");
    cmd
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_all)
}

fn build_all() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("cgo")).unwrap();
    std::fs::write(src.join("go.mod"), "module example.com/probe\n\ngo 1.22\n").unwrap();
    std::fs::write(src.join("main.go"), PROBE).unwrap();
    std::fs::write(src.join("cgo/main.go"), CGO_PROBE).unwrap();
    // Outside the Go package: go refuses .c files in a package without cgo.
    let c_src = dir.path().join("probe.c");
    std::fs::write(&c_src, C_PROBE).unwrap();
    let have_git = common::have_tool("git");
    if have_git {
        // A committed tree makes go record vcs, vcs.revision, vcs.time and vcs.modified.
        let git = |args: &[&str]| {
            let mut cmd = Command::new("git");
            cmd.args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ]);
            run(cmd.args(args).current_dir(&src)).unwrap();
        };
        git(&["init", "-q"]);
        git(&["add", "."]);
        git(&["commit", "-q", "-m", "probe"]);
    }

    let mut absent = BTreeMap::new();
    type Job<'a> = Box<dyn Fn() -> Result<Built, String> + Send + Sync + 'a>;
    let mut jobs: Vec<(&'static str, Job)> = Vec::new();
    if common::have_tool("go") {
        let goroot =
            String::from_utf8(run(go_command().args(["env", "GOROOT"])).unwrap().stdout).unwrap();
        let wasm_exec = PathBuf::from(goroot.trim()).join("lib/wasm/wasm_exec_node.js");
        for case in GO_CASES {
            let (src, out, wasm_exec) =
                (src.clone(), dir.path().join(case.name), wasm_exec.clone());
            jobs.push((
                case.name,
                Box::new(move || {
                    let mut cmd = go_command();
                    cmd.args(["build", "-o"])
                        .arg(&out)
                        .args(case.flags)
                        .arg(case.package)
                        .current_dir(&src);
                    run(cmd.envs(case.env.iter().copied()))?;
                    let truth = go_truth(case, &out, &wasm_exec)?;
                    let inspection = inspect_file(&out).map_err(|e| e.to_string())?;
                    Ok(Built {
                        inspection,
                        path: out.clone(),
                        truth,
                    })
                }),
            ));
        }
    } else {
        for case in GO_CASES {
            absent.insert(case.name, "go".to_owned());
        }
    }
    for &(name, cc, flags) in C_CASES {
        if !common::have_tool(cc) {
            absent.insert(name, cc.to_string());
            continue;
        }
        // mingw's gcc adds .exe to an -o without one.
        let exe = if cc.contains("mingw") { ".exe" } else { "" };
        let (c_src, out) = (c_src.clone(), dir.path().join(format!("{name}{exe}")));
        jobs.push((
            name,
            Box::new(move || {
                run(Command::new(cc).args(flags).arg("-o").arg(&out).arg(&c_src))?;
                let inspection = inspect_file(&out).map_err(|e| e.to_string())?;
                Ok(Built {
                    inspection,
                    path: out.clone(),
                    truth: None,
                })
            }),
        ));
    }

    // go build is itself parallel; two workers keep the link steps of one
    // case overlapping the compile steps of the next on a 2-core machine.
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while let Some((name, job)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let result = job();
                    results.lock().unwrap().push((*name, result));
                }
            });
        }
    });
    let (mut built, mut failed) = (BTreeMap::new(), BTreeMap::new());
    for (name, result) in results.into_inner().unwrap() {
        match result {
            Ok(b) => drop(built.insert(name, b)),
            Err(e) => drop(failed.insert(name, e)),
        }
    }
    if !have_git {
        common::tool_missing("git", "there are no vcs.* build settings to compare");
    }
    Fixture {
        _dir: dir,
        built,
        absent,
        failed,
    }
}

/// What Go itself says about the binary's build info.
fn go_truth(case: &GoCase, bin: &Path, wasm_exec: &Path) -> Result<Option<Value>, String> {
    let runner: Option<(&str, Vec<&std::ffi::OsStr>)> = match case.name {
        "js-wasm" => Some(("node", vec![wasm_exec.as_os_str(), bin.as_os_str()])),
        "wasip1-wasm" => Some(("wazero", vec!["run".as_ref(), bin.as_os_str()])),
        _ => None,
    };
    let out = match runner {
        Some((tool, _))
            if !common::require_tool(
                tool,
                &format!("only GOOS/GOARCH of {} are checked", case.name),
            ) =>
        {
            return Ok(None);
        }
        Some((tool, args)) => run(Command::new(tool).args(args))?,
        None => run(go_command().args(["version", "-m", "-json"]).arg(bin))?,
    };
    serde_json::from_slice(&out.stdout)
        .map(Some)
        .map_err(|e| format!("build info JSON of {}: {e}", case.name))
}

fn str_fact<'a>(facts: &'a BTreeMap<String, Value>, key: &str) -> &'a str {
    facts
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string fact {key} in {facts:#?}"))
}

/// Every `go version -m` item as the fact inspect should have produced.
fn expected_from_truth(truth: &Value) -> BTreeMap<String, Value> {
    let mut want = BTreeMap::new();
    want.insert(
        "buildinfo.go_version".to_owned(),
        truth["GoVersion"].clone(),
    );
    want.insert("buildinfo.path".to_owned(), truth["Path"].clone());
    want.insert("buildinfo.main".to_owned(), truth["Main"]["Path"].clone());
    want.insert(
        "buildinfo.main_version".to_owned(),
        truth["Main"]["Version"].clone(),
    );
    for s in truth["Settings"].as_array().expect("Settings") {
        // Go's JSON omits empty values.
        let value = s.get("Value").cloned().unwrap_or(json!(""));
        want.insert(format!("buildinfo.{}", s["Key"].as_str().unwrap()), value);
    }
    want
}

#[test]
fn go_build_info_matches_go_version_m() {
    let fx = fixture();
    let mut problems = Vec::new();
    let (mut compared, mut left_out) = (0, 0);
    for case in GO_CASES {
        let Some(b) = fx.get(case.name) else {
            left_out += 1;
            continue;
        };
        let facts = &b.inspection.facts;
        let Some(truth) = &b.truth else {
            left_out += 1;
            let goos = case.env.iter().find(|(k, _)| *k == "GOOS").unwrap().1;
            assert_eq!(str_fact(facts, "buildinfo.GOOS"), goos);
            assert_eq!(str_fact(facts, "buildinfo.GOARCH"), "wasm");
            continue;
        };
        compared += 1;
        let want = expected_from_truth(truth);
        for (key, value) in &want {
            if facts.get(key) != Some(value) {
                problems.push(format!(
                    "{}: {key} is {:?}, go says {value}",
                    case.name,
                    facts.get(key)
                ));
            }
        }
        let extra = facts
            .keys()
            .filter(|k| k.starts_with("buildinfo.") && !want.contains_key(*k));
        for key in extra.filter(|k| !matches!(k.as_str(), "buildinfo.main_sum" | "buildinfo.deps"))
        {
            problems.push(format!(
                "{}: {key} = {} is not in go's output",
                case.name, facts[key]
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Each case left out said why (and failed under CROSSPROBE_REQUIRE_TOOLS).
    assert_eq!(compared + left_out, GO_CASES.len());
    assert!(
        compared > 0,
        "no Go binary was compared with Go's build info"
    );
}

#[test]
fn tricky_build_settings_round_trip() {
    let fx = fixture();
    let Some(facts) = fx.facts("linux-amd64-stripped") else {
        return;
    };
    assert_eq!(str_fact(facts, "buildinfo.-ldflags"), NASTY_LDFLAGS);
    if let Some(facts) = fx.facts("linux-amd64-tags") {
        assert_eq!(str_fact(facts, "buildinfo.-tags"), "foo");
    }
    if let Some(facts) = fx.facts("linux-amd64-trimpath") {
        assert_eq!(str_fact(facts, "buildinfo.-trimpath"), "true");
    }
    if common::have_tool("git") {
        assert_eq!(str_fact(facts, "buildinfo.vcs"), "git");
        assert_eq!(str_fact(facts, "buildinfo.vcs.modified"), "false");
        assert_eq!(str_fact(facts, "buildinfo.vcs.revision").len(), 40);
    }
}

#[test]
fn go_binaries_report_their_target() {
    let fx = fixture();
    // name, format, arch, bits, endian
    let table = [
        ("linux-amd64", "elf", "amd64", 64, "little"),
        ("linux-386", "elf", "386", 32, "little"),
        ("linux-arm5", "elf", "arm", 32, "little"),
        ("linux-arm7", "elf", "arm", 32, "little"),
        ("linux-arm64", "elf", "arm64", 64, "little"),
        ("linux-mipsle-soft", "elf", "mipsle", 32, "little"),
        ("linux-mips64", "elf", "mips64", 64, "big"),
        ("linux-riscv64", "elf", "riscv64", 64, "little"),
        ("linux-loong64", "elf", "loong64", 64, "little"),
        ("windows-amd64", "pe", "amd64", 64, "little"),
        ("darwin-arm64", "macho", "arm64", 64, "little"),
        ("js-wasm", "wasm", "wasm", 32, "little"),
        ("wasip1-wasm", "wasm", "wasm", 32, "little"),
    ];
    for (name, format, arch, bits, endian) in table {
        let Some(facts) = fx.facts(name) else {
            continue;
        };
        let got = [
            &facts["binary.format"],
            &facts["binary.arch"],
            &facts["binary.bits"],
            &facts["binary.endian"],
        ];
        assert_eq!(
            got,
            [&json!(format), &json!(arch), &json!(bits), &json!(endian)],
            "{name}"
        );
        assert_eq!(
            facts["binary.size"],
            json!(std::fs::metadata(&fx.built[name].path).unwrap().len())
        );
        // The architecture inspect reads from the header agrees with the one Go recorded.
        assert_eq!(facts["buildinfo.GOARCH"], facts["binary.arch"], "{name}");
        if format == "elf" {
            assert_eq!(facts["binary.linkage"], json!("static"), "{name}");
            assert_eq!(facts["binary.static"], json!(true), "{name}");
            assert_eq!(facts["elf.type"], json!("exec"), "{name}");
        }
    }
}

/// Go's linker writes the same ARM header for GOARM=5 (software floating
/// point) and GOARM=7 (VFP), so the float ABI must not be guessed from it.
#[test]
fn go_arm_float_abi_is_not_in_the_header() {
    let fx = fixture();
    for (name, goarm) in [("linux-arm5", "5"), ("linux-arm7", "7")] {
        let Some(b) = fx.get(name) else { continue };
        let facts = &b.inspection.facts;
        assert_eq!(facts["elf.flags"], json!("0x05000002"), "{name}");
        assert_eq!(facts["elf.arm_eabi"], json!(5), "{name}");
        assert_eq!(facts.get("elf.float_abi"), None, "{name}");
        assert_eq!(str_fact(facts, "buildinfo.GOARM"), goarm);
        assert!(
            b.inspection
                .notes
                .iter()
                .any(|n| n.contains("no ARM float ABI") && n.contains("GOARM")),
            "{name}: {:?}",
            b.inspection.notes
        );
    }
}

#[test]
fn go_mips_float_abi_follows_gomips() {
    let fx = fixture();
    for (name, float) in [("linux-mipsle-soft", "soft"), ("linux-mipsle-hard", "hard")] {
        let Some(facts) = fx.facts(name) else {
            continue;
        };
        assert_eq!(facts["elf.mips_float"], json!(float), "{name}");
        assert_eq!(facts["elf.mips_abi"], json!("o32"), "{name}");
        assert_eq!(facts["elf.mips_arch"], json!("mips32"), "{name}");
    }
    if let Some(b) = fx.get("linux-mips64") {
        assert_eq!(b.inspection.facts["elf.mips_abi"], json!("n64"));
        assert!(
            b.inspection
                .notes
                .iter()
                .any(|n| n.contains("no .MIPS.abiflags")),
            "{:?}",
            b.inspection.notes
        );
    }
}

#[test]
fn strip_flags_show() {
    let fx = fixture();
    for (plain, stripped) in [
        ("linux-amd64", "linux-amd64-stripped"),
        ("darwin-arm64", "darwin-arm64-stripped"),
        ("windows-amd64", "windows-amd64-stripped"),
    ] {
        let (Some(plain_facts), Some(stripped_facts)) = (fx.facts(plain), fx.facts(stripped))
        else {
            continue;
        };
        assert_eq!(
            (
                &plain_facts["binary.stripped"],
                &plain_facts["binary.dwarf"]
            ),
            (&json!(false), &json!(true)),
            "{plain}"
        );
        assert_eq!(
            (
                &stripped_facts["binary.stripped"],
                &stripped_facts["binary.dwarf"]
            ),
            (&json!(true), &json!(false)),
            "{stripped}"
        );
    }
    for (name, stripped, dwarf) in [
        ("gcc-debug", false, true),
        ("gcc-stripped-debug", true, false),
    ] {
        let Some(facts) = fx.facts(name) else {
            continue;
        };
        assert_eq!(
            (&facts["binary.stripped"], &facts["binary.dwarf"]),
            (&json!(stripped), &json!(dwarf)),
            "{name}"
        );
    }
}

#[test]
fn go_darwin_is_a_signed_macos_binary() {
    let Some(facts) = fixture().facts("darwin-arm64") else {
        return;
    };
    assert_eq!(facts["macho.platform"], json!("macos"));
    assert_eq!(
        facts["macho.signed"],
        json!(true),
        "Go ad-hoc signs darwin/arm64 binaries"
    );
    let minos = str_fact(facts, "macho.minos");
    assert!(
        minos.split('.').all(|p| p.parse::<u32>().is_ok()),
        "{minos}"
    );
    assert!(facts.contains_key("macho.sdk"));
}

#[test]
fn go_windows_pe() {
    let Some(facts) = fixture().facts("windows-amd64") else {
        return;
    };
    assert_eq!(facts["pe.machine"], json!("amd64"));
    assert_eq!(facts["pe.subsystem"], json!("console"));
    assert!(
        facts["pe.imports"]
            .as_array()
            .unwrap()
            .contains(&json!("kernel32.dll")),
        "{facts:#?}"
    );
}

#[test]
fn go_wasm_imports() {
    let fx = fixture();
    for (name, module) in [
        ("js-wasm", "gojs"),
        ("wasip1-wasm", "wasi_snapshot_preview1"),
    ] {
        let Some(facts) = fx.facts(name) else {
            continue;
        };
        assert_eq!(facts["wasm.imports_modules"], json!([module]), "{name}");
    }
}

#[test]
fn go_cgo_binary_is_dynamic() {
    let Some(facts) = fixture().facts("linux-amd64-cgo") else {
        return;
    };
    assert_eq!(facts["binary.linkage"], json!("dynamic"));
    assert!(
        facts["binary.needed"]
            .as_array()
            .unwrap()
            .contains(&json!("libc.so.6")),
        "{facts:#?}"
    );
    assert!(facts.contains_key("binary.max_glibc"), "{facts:#?}");
    assert_eq!(facts["buildinfo.CGO_ENABLED"], json!("1"));
}

/// "2.34" < "2.4" as strings; compare as numbers.
fn glibc_at_least(v: &str, min: &[u32]) -> bool {
    let v: Vec<u32> = v.split('.').map(|p| p.parse().unwrap()).collect();
    v.as_slice() >= min
}

#[test]
fn c_binaries() {
    let fx = fixture();
    if let Some(facts) = fx.facts("gcc-dynamic") {
        assert_eq!(facts["binary.linkage"], json!("dynamic"));
        assert_eq!(facts["binary.static"], json!(false));
        assert_eq!(facts["binary.needed"], json!(["libc.so.6"]));
        assert!(str_fact(facts, "binary.interp").starts_with('/'));
        assert!(
            glibc_at_least(str_fact(facts, "binary.max_glibc"), &[2, 2, 5]),
            "{facts:#?}"
        );
    }
    for (name, linkage, e_type) in [
        ("gcc-static", "static", "exec"),
        ("gcc-static-pie", "static-pie", "dyn"),
    ] {
        let Some(facts) = fx.facts(name) else {
            continue;
        };
        assert_eq!(
            (&facts["binary.linkage"], &facts["binary.static"]),
            (&json!(linkage), &json!(true)),
            "{name}"
        );
        assert_eq!(facts["elf.type"], json!(e_type), "{name}");
        assert_eq!(facts.get("binary.interp"), None, "{name}");
        assert_eq!(facts.get("binary.max_glibc"), None, "{name}");
    }
    if let Some(facts) = fx.facts("armhf") {
        assert_eq!(facts["binary.arch"], json!("arm"));
        assert_eq!(facts["elf.float_abi"], json!("hard"));
        assert_eq!(facts["elf.arm_eabi"], json!(5));
        assert!(
            str_fact(facts, "elf.arm_arch").starts_with("v7"),
            "{facts:#?}"
        );
        assert_eq!(facts["binary.needed"], json!(["libc.so.6"]));
    }
    for (name, arch, bits) in [
        ("aarch64", "arm64", 64),
        ("i686", "386", 32),
        ("riscv64", "riscv64", 64),
    ] {
        let Some(facts) = fx.facts(name) else {
            continue;
        };
        assert_eq!(
            (&facts["binary.arch"], &facts["binary.bits"]),
            (&json!(arch), &json!(bits)),
            "{name}"
        );
        assert_eq!(facts["binary.linkage"], json!("dynamic"), "{name}");
        assert!(facts.contains_key("binary.max_glibc"), "{name}: {facts:#?}");
    }
    if let Some(facts) = fx.facts("riscv64") {
        assert_eq!(facts["elf.riscv_float_abi"], json!("double"));
    }
    if let Some(facts) = fx.facts("mingw") {
        assert_eq!(
            (&facts["binary.format"], &facts["pe.machine"]),
            (&json!("pe"), &json!("amd64"))
        );
        let imports = facts["pe.imports"].as_array().unwrap();
        assert!(
            imports.contains(&json!("kernel32.dll")) || imports.contains(&json!("msvcrt.dll")),
            "{imports:?}"
        );
    }
    if let Some(facts) = fx.facts("zig-arm-soft") {
        assert_eq!(facts["elf.flags"], json!("0x05000200"));
        assert_eq!(facts["elf.float_abi"], json!("soft"));
    }
    if let Some(facts) = fx.facts("zig-glibc-2.17") {
        let glibc = str_fact(facts, "binary.max_glibc");
        assert!(
            !glibc_at_least(glibc, &[2, 18]),
            "built for glibc 2.17 but needs {glibc}"
        );
    }
    for &(name, ..) in C_CASES {
        let Some(b) = fx.get(name) else { continue };
        let notes = &b.inspection.notes;
        let not_go = "no Go build info (not a Go binary)".to_owned();
        assert!(notes.contains(&not_go), "{name}: {notes:?}");
    }
}

#[test]
fn render_text_groups_facts_and_says_what_it_could_not_read() {
    let fx = fixture();
    let Some(b) = fx.get("gcc-static") else {
        return;
    };
    let text = render_text(&b.path, &b.inspection);
    for line in [
        "binary:",
        "  linkage:  static",
        "elf:",
        "not read:",
        "  - no Go build info (not a Go binary)",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line {line:?} in\n{text}"
        );
    }
    let Some(b) = fx.get("linux-arm7") else {
        return;
    };
    let text = render_text(&b.path, &b.inspection);
    assert!(
        text.lines()
            .any(|l| l.starts_with("  GOARM: ") && l.ends_with(" 7")),
        "{text}"
    );
}

/// Truncated, corrupted and random inputs must give Ok with notes or a
/// format error, never a panic, hang or giant allocation.
#[test]
fn damaged_copies_never_panic() {
    let fx = fixture();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut inputs, mut files) = (0, 0);
    let mut check = |data: &[u8], what: &dyn Fn() -> String| {
        inputs += 1;
        if std::panic::catch_unwind(|| inspect_bytes(data)).is_err() {
            panic!("inspect_bytes panicked on {}", what());
        }
    };
    for name in [
        "linux-arm7",
        "darwin-arm64",
        "windows-amd64",
        "wasip1-wasm",
        "gcc-dynamic",
        "armhf",
        "mingw",
    ] {
        let Some(b) = fx.get(name) else { continue };
        files += 1;
        let data = std::fs::read(&b.path).unwrap();
        // Every prefix through the headers, then about 150 through the rest
        // at an odd stride, so cuts land at every alignment.
        let head = 4096.min(data.len());
        let lens = (0..head).chain((head..data.len()).step_by((data.len() / 150) | 1));
        for len in lens {
            check(&data[..len], &|| format!("{name} cut to {len} bytes"));
        }
        // Flipped bytes in the headers, where lengths and offsets live.
        let mut copy = data.clone();
        for _ in 0..200 {
            let i = rand() as usize % head;
            copy[i] = rand() as u8;
            check(&copy, &|| {
                format!("{name} after changing byte {i} (and earlier ones)")
            });
        }
        // And the first 64 aligned 32-bit words set to all ones.
        for i in (0..head.min(256)).step_by(4) {
            let mut copy = data.clone();
            copy[i..i + 4].fill(0xff);
            check(&copy, &|| {
                format!("{name} with bytes {i}..{} set to 0xff", i + 4)
            });
        }
    }
    for magic in [
        &b"\x7fELF\x01\x01\x01"[..],
        b"\x7fELF\x02\x02\x01",
        b"MZ",
        b"\0asm\x01\0\0\0",
        b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
    ] {
        for len in [0, 1, 16, 64, 1000, 70_000] {
            let mut data = magic.to_vec();
            data.extend((0..len).map(|_| rand() as u8));
            check(&data, &|| format!("{magic:?} and {len} random bytes"));
            let insp = inspect_bytes(&data).expect("a known magic is never a format error");
            assert!(
                !insp.notes.is_empty(),
                "{magic:?}+{len} random bytes gave no notes"
            );
        }
    }
    assert!(files > 0 && inputs > 1000, "{files} files, {inputs} inputs");
    if common::require_tools() {
        assert_eq!(files, 7, "every binary was damaged");
    }
}
