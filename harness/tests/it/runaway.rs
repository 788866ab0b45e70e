//! Probes that misbehave, run end to end through `crossprobe run`: each is
//! bounded, reported, and leaves no process behind.
//!
//! Every matrix carries a unique token in a `matrix.env` axis. Env axes
//! reach both the build and the run, and children inherit them, so a scan
//! of `/proc/*/environ` for the token finds anything of the run that is
//! still alive: a probe's grandchild, a hung compiler, a toolexec wrapper.
#![cfg(unix)]

use crate::common::{self, CellExt, Test};
use crate::process_support;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crossprobe::model::{CellResult, Command, Outcome, PhaseName};

use process_support::{assert_gone, token};

/// Writes a matrix of one inline Go probe on linux/amd64, with the token
/// as an env axis, and `extra` YAML appended.
fn matrix(dir: &Path, token: &str, name: &str, source: &str, extra: &str) {
    let mut y = format!("name: {name}\nprobes:\n  - name: {name}\n    source: |\n");
    for line in source.lines() {
        y += &format!("      {line}\n");
    }
    y += &format!(
        "matrix:\n  goos: [linux]\n  goarch: [amd64]\n  env:\n    CP_TOKEN: [\"{token}\"]\n{extra}"
    );
    std::fs::write(dir.join("matrix.yaml"), y).unwrap();
}

struct Ran {
    run: common::Run,
    took: Duration,
}

impl Ran {
    /// The one cell of matrix `name`.
    fn cell(&self, name: &str) -> CellResult {
        self.run.results(name).cells.remove(0)
    }

    /// The first command of a phase of that cell.
    fn command(&self, name: &str, phase: PhaseName) -> Command {
        let cell = self.cell(name);
        cell.commands_of(phase)
            .first()
            .map(|c| (*c).clone())
            .unwrap_or_else(|| panic!("no {phase:?} command: {cell:#?}"))
    }

    /// Removes the build directory kept for a cell that did not pass.
    fn discard(&self, name: &str) {
        if let Some(d) = self.cell(name).dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// `crossprobe run matrix.yaml`, which must exit 0, with a stdin that
/// stays open: a child that inherited it instead of getting a closed one
/// would block on it.
fn run(dir: tempfile::TempDir) -> Ran {
    run_with(dir, &[])
}

fn run_with(dir: tempfile::TempDir, extra: &[&str]) -> Ran {
    let t0 = Instant::now();
    let run = Test::with_dir(dir)
        .args(["run", "@", "-j1"])
        .args(extra)
        .stdin_held_open()
        .run();
    Ran {
        run,
        took: t0.elapsed(),
    }
}

#[test]
fn a_grandchild_that_sleeps_forever_is_killed() {
    let t = token();
    let dir = tempfile::tempdir().unwrap();
    matrix(
        dir.path(),
        &t,
        "grandchild",
        r#"package main

import (
	"fmt"
	"os/exec"
)

func main() {
	c := exec.Command("sleep", "3600")
	if err := c.Start(); err != nil {
		panic(err)
	}
	fmt.Printf("CROSSPROBE-FACTS: {\"grandchild\": %d}\n", c.Process.Pid)
}"#,
        "",
    );
    let r = run(dir);
    assert_eq!(r.cell("grandchild").outcome, Outcome::Pass);
    assert_gone(&t);
}

/// `setsid` takes the grandchild out of the probe's process group, so
/// killing the group misses it. On Linux crossprobe is a child subreaper:
/// the orphan is reparented to crossprobe, which kills it.
#[cfg(target_os = "linux")]
#[test]
fn a_grandchild_in_a_session_of_its_own_is_killed() {
    let t = token();
    let dir = tempfile::tempdir().unwrap();
    matrix(
        dir.path(),
        &t,
        "escapee",
        r#"package main

import (
	"fmt"
	"os/exec"
	"syscall"
)

func main() {
	c := exec.Command("sleep", "3600")
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.Start(); err != nil {
		panic(err)
	}
	fmt.Printf("CROSSPROBE-FACTS: {\"escapee\": %d}\n", c.Process.Pid)
}"#,
        "",
    );
    run(dir);
    assert_gone(&t);
}

/// The same at the level of `process::run`, with a double fork and setsid:
/// the classic daemon.
#[cfg(target_os = "linux")]
#[test]
fn a_daemonised_grandchild_of_any_command_is_killed() {
    let c = process_support::sh("setsid sh -c 'sleep 1000 &' & sleep 0.2; echo started");
    let cmd = crossprobe::process::run(&c.spec).unwrap();
    assert!(cmd.exit.success(), "{cmd:?}");
    assert_gone(&c.marker);
}

#[test]
fn a_probe_printing_a_gigabyte_is_cut_off_with_head_and_tail_kept() {
    let t = token();
    let dir = tempfile::tempdir().unwrap();
    matrix(
        dir.path(),
        &t,
        "flood",
        r#"package main

import (
	"bytes"
	"fmt"
	"os"
)

func main() {
	fmt.Println("HEAD")
	line := append(bytes.Repeat([]byte("x"), 1<<20-1), '\n')
	for i := 0; i < 1024; i++ {
		os.Stdout.Write(line)
	}
	fmt.Println("CROSSPROBE-FACTS: {}")
}"#,
        "expect:\n  - when: {probe: flood}\n    outcome: run-fail\n    match: \"(?m)^HEAD$\"\n    reason: it prints a gigabyte\n",
    );
    // The signal named is that of crossprobe's own child: the probe only
    // outside the sandbox (inside, it is bwrap, which the kill takes down
    // with everything in its namespace).
    let r = run_with(dir, &["--no-sandbox"]);
    assert!(r.took < Duration::from_secs(120), "took {:?}", r.took);
    let cmd = r.command("flood", PhaseName::Run);
    let out = &cmd.stdout;
    let (bytes, dropped) = (out.bytes, out.dropped);
    assert!(bytes < 100 << 20, "{bytes} bytes were let through");
    assert!(dropped > 0 && dropped < bytes, "{bytes} {dropped}");
    let text = out.text.as_str();
    let note = format!("\n[... {dropped} bytes dropped ...]\n");
    let (head, tail) = text.split_once(&note).expect("the dropped note");
    // An inline probe's started proof comes first (templates::started), then
    // what the program printed.
    let (started, head) = head.split_once('\n').unwrap();
    assert!(
        started.starts_with("CROSSPROBE-FACTS: {\"started\":true"),
        "{started:?}"
    );
    assert!(head.starts_with("HEAD\nxxxx"), "{:?}", &head[..20]);
    assert!(tail.ends_with('x'), "{:?}", &tail[tail.len() - 20..]);
    assert_eq!(cmd.exit.signal.as_deref(), Some("SIGKILL"));
    assert!(r.cell("flood").verdict.met);
    r.discard("flood");
    assert_gone(&t);
}

#[test]
fn a_probe_that_never_exits_and_ignores_sigterm_is_killed_at_the_timeout() {
    let t = token();
    let dir = tempfile::tempdir().unwrap();
    matrix(
        dir.path(),
        &t,
        "stubborn",
        r#"package main

import (
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	signal.Ignore(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	// A child too: an ignored signal stays ignored across exec.
	exec.Command("sleep", "3600").Start()
	for {
		time.Sleep(time.Hour)
	}
}"#,
        "run:\n  timeout: 3s\nexpect:\n  - when: {probe: stubborn}\n    outcome: timeout\n    reason: it never exits\n",
    );
    // Outside the sandbox, so that the signal named is the probe's own.
    let r = run_with(dir, &["--no-sandbox"]);
    let cmd = r.command("stubborn", PhaseName::Run);
    assert!(cmd.exit.timed_out);
    assert_eq!(cmd.exit.signal.as_deref(), Some("SIGKILL"));
    let ms = cmd.duration_ms;
    assert!((3000..6000).contains(&ms), "ran {ms} ms");
    assert_gone(&t);
}

#[test]
fn a_probe_reading_stdin_sees_it_closed() {
    let t = token();
    let dir = tempfile::tempdir().unwrap();
    matrix(
        dir.path(),
        &t,
        "reader",
        r#"package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	b, err := io.ReadAll(os.Stdin)
	fmt.Printf("CROSSPROBE-FACTS: {\"stdin_bytes\": %d, \"stdin_error\": %q}\n", len(b), fmt.Sprint(err))
}"#,
        "run:\n  timeout: 60s\n",
    );
    let r = run(dir);
    let cell = r.cell("reader");
    assert_eq!(cell.fact("probe.stdin_bytes"), 0, "{cell:#?}");
    let run_ms = r.command("reader", PhaseName::Run).duration_ms;
    assert!(run_ms < 10_000, "the read blocked for {run_ms} ms");
    assert_gone(&t);
}

/// `-toolexec` (through the flags axis) wraps every tool the build runs in
/// a program that sleeps: the build hangs as a wedged compiler would.
#[test]
fn a_build_that_hangs_is_killed_at_the_timeout() {
    let t = token();
    let dir = tempfile::tempdir().unwrap();
    let tool = dir.path().join("wedged");
    let mut f = std::fs::File::create(&tool).unwrap();
    writeln!(f, "#!/bin/sh\nsleep 3600").unwrap();
    drop(f);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    matrix(
        dir.path(),
        &t,
        "wedged",
        "package main\n\nfunc main() {}",
        &format!(
            "  flags: [\"-toolexec={}\"]\nrun:\n  timeout: 3s\nexpect:\n  - when: {{probe: wedged}}\n    outcome: timeout\n    reason: the toolexec wrapper sleeps\n",
            tool.display()
        ),
    );
    let r = run(dir);
    let cell = r.cell("wedged");
    assert_eq!(cell.outcome, Outcome::Timeout, "{cell:#?}");
    assert!(
        cell.reason
            .as_deref()
            .unwrap()
            .starts_with("build timed out"),
        "{cell:#?}"
    );
    assert!(r.took < Duration::from_secs(60), "took {:?}", r.took);
    r.discard("wedged");
    assert_gone(&t);
}

/// No shell is ever used: a value full of shell syntax reaches the build
/// (through -ldflags -X) and the probe (through the environment) byte for
/// byte, and nothing in it runs.
#[test]
fn shell_metacharacters_reach_the_child_verbatim() {
    let t = token();
    let dir = tempfile::tempdir().unwrap();
    // Absolute paths, so that a shell that did run would leave its files
    // where this test looks, whatever its working directory.
    let d = dir.path().display();
    let env_value = format!(
        r#"$(touch {d}/pwned-env) `touch {d}/pwned-tick`; echo $HOME | cat > {d}/pwned-out < in && rm -rf "x" 'y' \ * ? ~ # ! %s {{{{x}}}}"#
    );
    let ldflag_value =
        format!(r#"$(touch {d}/pwned-ld);`touch {d}/pwned-ld2`|>{d}/pwned-gt<y&&*?~#!%s{{{{x}}}}"#);
    let yaml_env = serde_json::to_string(&env_value).unwrap();
    let yaml_ld = serde_json::to_string(&format!("-X 'main.weird={ldflag_value}'")).unwrap();
    matrix(
        dir.path(),
        &t,
        "verbatim",
        r#"package main

import (
	"encoding/json"
	"fmt"
	"os"
)

var weird = "unset"

func main() {
	b, _ := json.Marshal(map[string]string{"env": os.Getenv("CP_WEIRD"), "ldflag": weird})
	fmt.Printf("CROSSPROBE-FACTS: %s\n", b)
}"#,
        &format!("    CP_WEIRD: [{yaml_env}]\n  ldflags: [{yaml_ld}]\n"),
    );
    let r = run(dir);
    let cell = r.cell("verbatim");
    assert_eq!(cell.fact("probe.env"), env_value.as_str(), "{cell:#?}");
    assert_eq!(
        cell.fact("probe.ldflag"),
        ldflag_value.as_str(),
        "{cell:#?}"
    );
    let build = r.command("verbatim", PhaseName::Build);
    assert_eq!(build.env["CP_WEIRD"], env_value);
    assert!(build
        .argv
        .contains(&format!("-ldflags=-X 'main.weird={ldflag_value}'")));
    for entry in walk(r.run.path()) {
        assert!(
            !entry.to_string_lossy().contains("pwned"),
            "a shell ran: {}",
            entry.display()
        );
    }
    assert_gone(&t);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}
