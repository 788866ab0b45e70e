//! Runners, for real: builds a Go hello for each target, runs it through
//! the Invocation that `run::invocation` makes, and checks what it printed.
//!
//! Needs what scripts/setup installs (go, qemu-user, wine64, node, wazero).
//! Timings go to stderr: `cargo test --test it runners:: -- --nocapture`.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crossprobe::host::{self, Host, Tools};
use crossprobe::model::Runner;
use crossprobe::run;

const HELLO: &str = r#"package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	wd, _ := os.Getwd()
	fmt.Printf("hello %s/%s args=%q env=%q wd=%s\n", runtime.GOOS, runtime.GOARCH,
		os.Args[1:], os.Getenv("CROSSPROBE_TEST"), wd)
}
"#;

fn go() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/local/go/bin")])
        .map(|d| d.join("go"))
        .find(|p| p.is_file())
        .expect("go on PATH or in /usr/local/go/bin")
}

fn goroot() -> PathBuf {
    go().parent().unwrap().parent().unwrap().to_path_buf()
}

fn machine() -> &'static (Host, Tools) {
    static M: OnceLock<(Host, Tools)> = OnceLock::new();
    M.get_or_init(|| (host::detect(), host::discover(Some(&goroot()))))
}

/// Builds HELLO for a target into a fresh temp dir.
fn build(goos: &str, goarch: &str, env: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.go"), HELLO).unwrap();
    std::fs::write(dir.path().join("go.mod"), "module hello\n\ngo 1.22\n").unwrap();
    let ext = match goos {
        "windows" => ".exe",
        "js" | "wasip1" => ".wasm",
        _ => "",
    };
    let out = dir.path().join(format!("hello{ext}"));
    let status = Command::new(go())
        .args(["build", "-o"])
        .arg(&out)
        .arg(".")
        .current_dir(dir.path())
        .env("GOOS", goos)
        .env("GOARCH", goarch)
        .env("CGO_ENABLED", "0")
        .envs(env.iter().copied())
        .status()
        .unwrap();
    assert!(status.success(), "go build {goos}/{goarch} failed");
    (dir, out)
}

struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// A checked run, with what it takes to run the same binary again.
struct Checked {
    ran: Ran,
    inv: run::Invocation,
    _dir: tempfile::TempDir,
}

/// Runs an Invocation the way the process module will: prepare, argv with
/// stdout and stderr in files (wine's lingering processes can hold pipes
/// open), a timeout, then `after`.
fn execute(inv: &run::Invocation, extra_env: &[(&str, &str)]) -> Ran {
    for (from, to) in &inv.prepare {
        std::fs::copy(from, to).unwrap();
    }
    let logs = tempfile::tempdir().unwrap();
    let (out, err) = (logs.path().join("stdout"), logs.path().join("stderr"));
    let start = Instant::now();
    let mut child = Command::new(&inv.argv[0])
        .args(&inv.argv[1..])
        .envs(extra_env.iter().copied())
        .envs(&inv.env)
        .current_dir(&inv.cwd)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{:?}: {e}", inv.argv));
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("timed out: {:?}", inv.argv);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let took = start.elapsed();
    for argv in &inv.after {
        Command::new(&argv[0])
            .args(&argv[1..])
            .envs(&inv.env)
            .current_dir(&inv.cwd)
            .status()
            .unwrap();
    }
    Ran {
        code,
        stdout: std::fs::read_to_string(out).unwrap(),
        stderr: std::fs::read_to_string(err).unwrap(),
        took,
    }
}

/// Chooses, builds, runs, and checks the hello's line.
fn check(goos: &str, goarch: &str, want: Runner) -> Checked {
    check_with(&machine().1, goos, goarch, want)
}

fn check_with(tools: &Tools, goos: &str, goarch: &str, want: Runner) -> Checked {
    let host = &machine().0;
    let runner = run::choose(goos, goarch, &BTreeMap::new(), host, tools);
    assert_eq!(runner, want, "{goos}/{goarch}");
    let (dir, bin) = build(goos, goarch, &[]);
    let users = run::WineUsers::default();
    run::warm_up(&runner, tools, &users).unwrap();
    let args = ["-x".to_string(), "two words".to_string()];
    let inv = run::invocation(&runner, &bin, &args, tools).unwrap();
    let ran = execute(&inv, &[("CROSSPROBE_TEST", "ok")]);
    let wd = std::fs::canonicalize(dir.path()).unwrap();
    let line = format!(
        "hello {goos}/{goarch} args=[\"-x\" \"two words\"] env=\"ok\" wd={}",
        // wine shows the cwd as a DOS path on drive Z:.
        if goos == "windows" {
            format!("Z:{}", wd.display()).replace('/', "\\")
        } else {
            wd.display().to_string()
        }
    );
    assert_eq!(
        (ran.code, ran.stdout.trim_end(), ran.stderr.as_str()),
        (Some(0), line.as_str(), ""),
        "{:?}",
        inv.argv
    );
    eprintln!("{goos}/{goarch} under {}: {:?}", runner.name(), ran.took);
    Checked {
        ran,
        inv,
        _dir: dir,
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn qemu(arch: &str) -> Runner {
    Runner::Qemu {
        binary: format!("qemu-{arch}"),
        cpu: None,
    }
}

#[test]
fn native_host_target() {
    let host = &machine().0;
    let c = check(&host.goos, &host.goarch, Runner::Native);
    // Native is the binary itself, with nothing added around it.
    assert_eq!(c.inv.argv[1..], ["-x", "two words"]);
    assert!(c.inv.env.is_empty() && c.inv.prepare.is_empty() && c.inv.after.is_empty());
}

#[test]
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn native_linux_386() {
    check("linux", "386", Runner::Native);
}

#[test]
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn qemu_arm64_arm_riscv64() {
    check("linux", "arm64", qemu("aarch64"));
    check("linux", "arm", qemu("arm"));
    check("linux", "riscv64", qemu("riscv64"));
}

#[test]
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn qemu_mipsle_s390x() {
    check("linux", "mipsle", qemu("mipsel"));
    check("linux", "s390x", qemu("s390x"));
}

#[test]
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn qemu_gets_the_cpu_a_goarch_level_needs() {
    let (host, tools) = machine();
    let env = BTreeMap::from([("GOPPC64".to_string(), "power10".to_string())]);
    let runner = run::choose("linux", "ppc64le", &env, host, tools);
    assert_eq!(
        runner,
        Runner::Qemu {
            binary: "qemu-ppc64le".into(),
            cpu: Some("power10".into())
        }
    );
    let (_dir, bin) = build("linux", "ppc64le", &[("GOPPC64", "power10")]);
    let inv = run::invocation(&runner, &bin, &[], tools).unwrap();
    let ran = execute(&inv, &[]);
    assert!(
        ran.stdout.starts_with("hello linux/ppc64le"),
        "{}",
        ran.stderr
    );
    // Without -cpu, qemu 7.2's default CPU has no ISA 3.1: SIGILL.
    let plain = run::invocation(&qemu("ppc64le"), &bin, &[], tools).unwrap();
    assert_ne!(execute(&plain, &[]).code, Some(0));
}

#[test]
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn js_wasm_under_node() {
    check("js", "wasm", Runner::Node);
}

/// In a fresh cache, so the first run pays for wazero's compilation.
#[test]
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn wasip1_under_wazero() {
    let cache = tempfile::tempdir().unwrap();
    let mut tools = machine().1.clone();
    tools.cache_dir = cache.path().to_path_buf();
    let wazero = Runner::Wasi {
        binary: "wazero".into(),
    };
    let first = check_with(&tools, "wasip1", "wasm", wazero);
    let again = execute(&first.inv, &[]);
    assert!(again.stdout.starts_with("hello wasip1/wasm"));
    eprintln!(
        "wazero: first run (compiles into -cachedir) {:?}, same binary again {:?}",
        first.ran.took, again.took
    );
}

/// windows/amd64 under wine in a fresh prefix: two cells warm it up at
/// once (one must wait for the other), then three runs.
#[test]
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn windows_amd64_under_wine() {
    let (host, tools) = machine();
    let prefix = tempfile::tempdir().unwrap();
    let mut tools = tools.clone();
    tools.wine.as_mut().expect("wine64").prefix = prefix.path().join("wine");
    let runner = run::choose("windows", "amd64", &BTreeMap::new(), host, &tools);
    assert_eq!(
        runner,
        Runner::Wine {
            binary: "wine64".into()
        }
    );
    let (dir, bin) = build("windows", "amd64", &[]);

    let err = run::invocation(&runner, &bin, &[], &tools)
        .unwrap_err()
        .to_string();
    assert!(err.ends_with("call run::warm_up first"), "{err}");

    let users = run::WineUsers::default();
    let start = Instant::now();
    std::thread::scope(|s| {
        let a = s.spawn(|| run::warm_up(&runner, &tools, &users));
        let b = s.spawn(|| run::warm_up(&runner, &tools, &users));
        a.join().unwrap().unwrap();
        b.join().unwrap().unwrap();
    });
    let init = start.elapsed();

    let inv = run::invocation(&runner, &bin, &["a b".to_string()], &tools).unwrap();
    assert!(inv.prepare.is_empty() && inv.after.is_empty());
    let want = format!(
        "hello windows/amd64 args=[\"a b\"] env=\"ok\" wd=Z:{}",
        std::fs::canonicalize(dir.path())
            .unwrap()
            .display()
            .to_string()
            .replace('/', "\\")
    );
    let mut took = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        run::warm_up(&runner, &tools, &users).unwrap();
        let warm = start.elapsed();
        let ran = execute(&inv, &[("CROSSPROBE_TEST", "ok")]);
        assert_eq!(
            (ran.code, ran.stdout.trim_end(), ran.stderr.as_str()),
            (Some(0), want.as_str(), "")
        );
        took.push((warm, ran.took));
    }

    // A pipe reader gets EOF as soon as the exe exits: once it has, no
    // process (wineserver, a wine service) still holds its stdout open.
    // (`holders` sees a process that does: a sleep holding its stdout.)
    let mut sleep = Command::new("sleep")
        .arg("30")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let fd = sleep.stdout.as_ref().unwrap().as_raw_fd();
    let held = holders(&std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap());
    sleep.kill().unwrap();
    sleep.wait().unwrap();
    assert_eq!(held, [format!("{} sleep", sleep.id())]);
    let mut child = Command::new(&inv.argv[0])
        .args(&inv.argv[1..])
        .envs(&inv.env)
        .current_dir(&inv.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let pipe = std::fs::read_link(format!("/proc/self/fd/{}", stdout.as_raw_fd())).unwrap();
    assert!(child.wait().unwrap().success());
    let held = holders(&pipe);
    assert!(
        held.is_empty(),
        "the exe exited, yet {held:?} hold its stdout"
    );
    let mut out = String::new();
    stdout.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("hello windows/amd64"), "{out}");

    let start = Instant::now();
    run::cool_down(&tools, &users).unwrap();
    let cool = start.elapsed();
    // After cool_down the next warm_up restarts the server and services.
    let start = Instant::now();
    run::warm_up(&runner, &tools, &users).unwrap();
    let rewarm = start.elapsed();
    let ran = execute(&inv, &[]);
    assert!(ran.stdout.starts_with("hello windows/amd64"));
    run::cool_down(&tools, &users).unwrap();

    eprintln!("wine: first warm_up (prefix init, 2 racing callers): {init:?}");
    for (i, (warm, run)) in took.iter().enumerate() {
        eprintln!("wine: run {}: warm_up {warm:?}, run {run:?}", i + 1);
    }
    eprintln!(
        "wine: cool_down {cool:?}; warm_up after cool_down {rewarm:?}, run {:?}",
        ran.took
    );
}

/// The processes other than this one that hold `pipe` (a `pipe:[inode]`
/// link of /proc) open, as "pid name". A child this test binary has forked
/// for another test and not yet exec'd (named as one of our threads, this
/// process its parent) holds every descriptor of ours for that instant,
/// close-on-exec ones too: it is not a holder.
#[cfg(target_os = "linux")]
fn holders(pipe: &std::path::Path) -> Vec<String> {
    let me = std::process::id().to_string();
    // A forked child is named after the thread that forked it.
    let my_comms: Vec<String> = std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .flatten()
                .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                .collect()
        })
        .unwrap_or_default();
    let forked_not_exec = |p: &std::path::Path| {
        let stat = std::fs::read_to_string(p.join("stat")).unwrap_or_default();
        // pid (comm) state ppid ...: comm may hold spaces, so after the last ')'.
        let ppid = stat
            .rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().nth(1));
        ppid == Some(me.as_str())
            && my_comms.contains(&std::fs::read_to_string(p.join("comm")).unwrap_or_default())
    };
    let mut out = Vec::new();
    for p in std::fs::read_dir("/proc").unwrap().flatten() {
        let pid = p.file_name().to_string_lossy().into_owned();
        if pid == me || !pid.bytes().all(|b| b.is_ascii_digit()) || forked_not_exec(&p.path()) {
            continue;
        }
        // Another user's process, or one that has just gone: not ours.
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        if fds
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l == pipe))
        {
            let comm = std::fs::read_to_string(p.path().join("comm")).unwrap_or_default();
            out.push(format!("{pid} {}", comm.trim()));
        }
    }
    out
}

#[test]
fn targets_without_a_runner_say_why() {
    let (_, tools) = machine();
    let linux = Host {
        goos: "linux".into(),
        goarch: "amd64".into(),
        kernel: String::new(),
        cpu: String::new(),
        runner: String::new(),
    };
    let reason = |goos, goarch| match run::choose(goos, goarch, &BTreeMap::new(), &linux, tools) {
        Runner::None { reason, .. } => reason,
        r => panic!("{goos}/{goarch}: expected no runner, got {r:?}"),
    };
    assert_eq!(
        reason("darwin", "arm64"),
        "no runner for darwin/arm64 on linux/amd64"
    );
    assert_eq!(
        reason("freebsd", "amd64"),
        "no runner for freebsd/amd64 on linux/amd64"
    );
    if tools.wine.as_ref().is_some_and(|w| w.loader32.is_none()) {
        assert_eq!(
            reason("windows", "386"),
            "windows/386 needs a 32-bit wine (wine32), which is not installed; \
             without it wine exits 0 and prints nothing"
        );
    }
}

#[test]
fn discovery_records_versions() {
    let (host, tools) = machine();
    let versions = tools.versions();
    eprintln!("host: {host:?}\ntools: {versions:#?}");
    if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        for tool in ["qemu-aarch64", "wine64", "node", "wazero"] {
            assert!(
                versions.contains_key(tool),
                "{tool} missing from {versions:?}"
            );
        }
        assert!(versions["wine64"].starts_with("wine-"));
    }
}

/// Each qemu-user's CPU models are read once, at discovery, from the real
/// `-cpu help`, whatever its form; a model the qemu lacks is a runner-less
/// cell that names the models it has, never `-cpu` passed blindly.
#[test]
fn qemu_cpu_models_are_read_and_a_missing_one_is_a_skip() {
    let (host, tools) = machine();
    for (qemu, model) in [
        ("qemu-aarch64", "cortex-a53"),
        ("qemu-arm", "arm926"),
        ("qemu-x86_64", "Nehalem"),
        ("qemu-mipsel", "24Kc"),
        ("qemu-ppc64le", "power10"),
        ("qemu-riscv64", "rv64"),
    ] {
        let models = tools
            .qemu_cpus
            .get(qemu)
            .unwrap_or_else(|| panic!("no CPU models read from {qemu}: {:?}", tools.qemu_cpus));
        assert!(models.iter().any(|m| m == model), "{qemu}: {models:?}");
    }
    let env = BTreeMap::from([("GORISCV64".to_string(), "rva23u64".to_string())]);
    let has_max = tools.qemu_cpus["qemu-riscv64"].iter().any(|m| m == "max");
    match run::choose("linux", "riscv64", &env, host, tools) {
        Runner::Qemu { cpu, .. } if has_max => assert_eq!(cpu.as_deref(), Some("max")),
        Runner::None { reason, .. } if !has_max => {
            assert!(reason.contains("has no CPU model \"max\""), "{reason}");
            assert!(reason.contains("its models: any, rv64"), "{reason}");
        }
        r => panic!("max {has_max}: {r:?}"),
    }
    let cpu = Some((
        "no-such-cpu".to_string(),
        "the cpu axis asks for".to_string(),
    ));
    match run::qemu::with_cpu("qemu-aarch64".into(), cpu, tools) {
        Runner::None { reason, .. } => assert!(
            reason.contains("has no CPU model \"no-such-cpu\", which the cpu axis asks for; its models: a64fx, cortex-a35"),
            "{reason}"
        ),
        r => panic!("{r:?}"),
    }
}
