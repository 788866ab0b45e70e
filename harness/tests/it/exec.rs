//! `crossprobe exec` and its `go_GOOS_GOARCH_exec` wrappers, driven by the
//! real `go test`: the test binaries run under qemu, wine and node, their
//! output streams back to cmd/go, and their exit status comes through.

use crate::common::{self, Test};

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// A module with one package whose test passes (reading its testdata/, so
/// the working directory must be the package's) and one whose test fails,
/// naming the target it ran on.
fn module() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("go.mod", "module example.com/exectest\n\ngo 1.22\n"),
        ("pass/testdata/word", "hello\n"),
        (
            "pass/pass_test.go",
            r#"package pass

import (
	"os"
	"testing"
)

func TestPasses(t *testing.T) {
	b, err := os.ReadFile("testdata/word")
	if err != nil || string(b) != "hello\n" {
		t.Fatalf("testdata/word: %q, %v", b, err)
	}
}
"#,
        ),
        (
            "fail/fail_test.go",
            r#"package fail

import (
	"runtime"
	"testing"
)

func TestFails(t *testing.T) {
	t.Fatalf("fails on purpose on %s/%s", runtime.GOOS, runtime.GOARCH)
}
"#,
        ),
    ];
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn go_test(dir: &Path, env: &[(&str, &str)], path: Option<&Path>, exec: bool) -> Output {
    let mut c = Command::new("go");
    c.current_dir(dir).args(["test", "-count=1"]);
    if exec {
        c.args(["-exec", &format!("{} exec", common::bin())]);
    }
    c.arg("./...").envs(env.iter().copied()).env("GOFLAGS", "");
    if let Some(p) = path {
        let old = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![p.to_path_buf()];
        dirs.extend(std::env::split_paths(&old));
        c.env("PATH", std::env::join_paths(dirs).unwrap());
    }
    c.output().expect("go is installed")
}

/// One failing package fails `go test` with exit 1; the passing one is `ok`.
fn assert_tests_ran(out: &Output, target: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let all = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(stdout.contains("ok  \texample.com/exectest/pass"), "{all}");
    assert!(stdout.contains("--- FAIL: TestFails"), "{all}");
    assert!(
        stdout.contains(&format!("fails on purpose on {target}")),
        "{all}"
    );
    assert!(stdout.contains("FAIL\texample.com/exectest/fail"), "{all}");
}

#[test]
fn go_test_exec_runs_linux_arm64_tests_under_qemu() {
    let m = module();
    let out = go_test(m.path(), &[("GOARCH", "arm64")], None, true);
    assert_tests_ran(&out, "linux/arm64");
}

/// Under `go test -exec "crossprobe exec"` a test binary runs in the
/// sandbox a cell's probe gets: it cannot write into $HOME, while its
/// package directory (golden files) and the coverage directory cmd/go names
/// stay writable. CROSSPROBE_NO_SANDBOX=1, which the wrappers read, lets it
/// write into $HOME.
#[test]
fn go_test_exec_runs_the_tests_sandboxed_with_coverage_and_golden_files() {
    let m = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        m.path().join("go.mod"),
        "module example.com/boxed\n\ngo 1.22\n",
    )
    .unwrap();
    std::fs::write(
        m.path().join("boxed.go"),
        "package boxed\n\nfunc Double(n int) int { return 2 * n }\n",
    )
    .unwrap();
    std::fs::write(
        m.path().join("boxed_test.go"),
        r#"package boxed

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWrites(t *testing.T) {
	err := os.WriteFile(filepath.Join(os.Getenv("HOME"), "planted"), []byte("x"), 0o644)
	t.Logf("write into HOME: %v", err)
	if err := os.WriteFile("golden.out", []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	if Double(2) != 4 {
		t.Fatal("Double")
	}
}
"#,
    )
    .unwrap();
    let go_test = |sandbox: bool| {
        let mut c = Command::new("go");
        c.current_dir(m.path())
            .args(["test", "-count=1", "-v", "-cover", "-exec"])
            .arg(format!("{} exec", common::bin()))
            .arg("./...")
            .env("GOARCH", "arm64")
            .env("GOFLAGS", "")
            .env("GOCACHE", common::gocache())
            .env("HOME", home.path());
        if !sandbox {
            c.env("CROSSPROBE_NO_SANDBOX", "1");
        }
        let out = c.output().expect("go is installed");
        let all = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "{all}");
        assert!(all.contains("coverage: 100.0% of statements"), "{all}");
        all
    };
    let out = go_test(true);
    assert!(out.contains("write into HOME: open "), "{out}");
    assert!(!home.path().join("planted").exists(), "{out}");
    assert!(m.path().join("golden.out").is_file(), "{out}");
    let out = go_test(false);
    assert!(out.contains("write into HOME: <nil>"), "{out}");
    assert!(home.path().join("planted").is_file(), "{out}");
}

/// The wrappers `exec --install` writes, in a directory of their own.
fn wrappers() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let stdout = Test::at(&dir)
            .args(["exec", "--install"])
            .arg(&dir)
            .run()
            .stdout();
        for line in [
            "go_windows_amd64_exec  windows/amd64 under wine64",
            "go_js_wasm_exec  js/wasm under node",
            "go_linux_arm64_exec  linux/arm64 under qemu-aarch64",
        ] {
            assert!(stdout.contains(line), "no {line:?} in:\n{stdout}");
        }
        assert!(!stdout.contains("linux/amd64"), "{stdout}");
        dir
    })
}

#[test]
fn go_test_for_windows_runs_under_wine_through_the_installed_wrapper() {
    let m = module();
    let out = go_test(m.path(), &[("GOOS", "windows")], Some(wrappers()), false);
    assert_tests_ran(&out, "windows/amd64");
}

#[test]
fn go_test_for_js_wasm_runs_under_node_through_the_installed_wrapper() {
    let m = module();
    let env = [("GOOS", "js"), ("GOARCH", "wasm")];
    let out = go_test(m.path(), &env, Some(wrappers()), false);
    assert_tests_ran(&out, "js/wasm");
}

/// A linux/arm64 program that exits, signals itself, echoes stdin or waits
/// for SIGTERM, as its first argument says.
fn program() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        std::fs::write(dir.join("go.mod"), "module prog\n\ngo 1.22\n").unwrap();
        std::fs::write(
            dir.join("main.go"),
            r#"package main

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	switch os.Args[1] {
	case "exit":
		fmt.Fprintln(os.Stderr, "exiting 3")
		os.Exit(3)
	case "term":
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		time.Sleep(10 * time.Second)
	case "echo":
		fmt.Println("ready")
		line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		fmt.Printf("got %s", line)
	case "trap":
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM)
		fmt.Println("ready")
		fmt.Println("got", <-c)
		os.Exit(7)
	}
}
"#,
        )
        .unwrap();
        common::go_build(&dir, "linux", "arm64", &[], &["-o", "prog", "."]);
        dir.join("prog")
    })
}

/// `crossprobe exec PROGRAM ARGS...`, from `/`.
fn exec(args: &[&str]) -> Test {
    Test::new()
        .current_dir("/")
        .arg("exec")
        .arg(program())
        .args(args)
}

#[test]
fn the_exit_status_comes_through() {
    exec(&["exit"]).status(3).stderr("exiting 3\n").run();
    // A signal is 128 + its number, as a shell reports it.
    exec(&["term"]).status(128 + libc::SIGTERM).run();
}

/// Kills `child` if the test is still waiting on it after a minute: a relay
/// that buffered everything until exit would otherwise hang the test.
fn watchdog(pid: u32) {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(60));
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    });
}

#[test]
fn stdout_streams_while_the_program_runs_and_stdin_reaches_it() {
    let mut child = exec(&["echo"])
        .command()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    watchdog(child.id());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    // The program waits for stdin after this line: it can only be read
    // here if it was passed on before the program exited.
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got hello\n");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// On a terminal the program gets the terminal: it reads it rather than
/// being stopped (SIGTTIN) for reading from a background process group.
/// `script` gives the command a pseudo-terminal.
#[test]
fn a_program_on_a_terminal_can_read_it() {
    let line = format!("{} exec {} echo", common::bin(), program().display());
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script (util-linux) is installed");
    watchdog(child.id());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line.trim_end(), "ready");
    child.stdin.take().unwrap().write_all(b"hello\n").unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("got hello"), "{rest:?}");
    assert_eq!(child.wait().unwrap().code(), Some(0), "{rest:?}");
}

#[test]
fn sigterm_is_passed_on_to_the_program() {
    let mut child = exec(&["trap"])
        .command()
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    watchdog(child.id());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got terminated\n");
    assert_eq!(child.wait().unwrap().code(), Some(7));
}

#[test]
fn bad_input_is_a_clear_error_with_a_hint() {
    // Beside a script, and a wrapper that is not crossprobe's; the
    // directory's path made generic.
    let refusal = |args: &[&str]| {
        let t = Test::new()
            .file("script.sh", "#!/bin/sh\necho hi\n")
            .file("go_linux_arm64_exec", "mine\n")
            .args(args);
        let dir = t.path().display().to_string();
        t.refuse().replace(&dir, "$DIR")
    };
    insta::assert_snapshot!("missing", refusal(&["exec", "./nope"]));
    insta::assert_snapshot!("script", refusal(&["exec", "script.sh"]));
    insta::assert_snapshot!("foreign_file", refusal(&["exec", "--install", "."]));
}

#[test]
fn a_wrapper_without_a_binary_says_how_cmd_go_calls_it() {
    let dir = wrappers();
    let out = Command::new(dir.join("go_linux_arm64_exec"))
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr).replace(dir.to_str().unwrap(), "$DIR");
    insta::assert_snapshot!(stderr);
}
