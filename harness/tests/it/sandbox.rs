//! The sandbox every probe runs in: a probe cannot write into $HOME, read
//! what is there, or reach the host's loopback, unless --no-sandbox; and no
//! process a windows run started outlives it, whether it ended normally or
//! was interrupted.

use crate::common::{self, Test};

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use crossprobe::model::{Outcome, PhaseName};

/// Go probes, each doing one thing the sandbox forbids and exiting 1 with
/// Go's error when it cannot.
fn probes(home: &Path, port: u16) -> String {
    let body = |name: &str, stmt: &str| {
        format!(
            "  - name: {name}\n    source: |\n      package main\n      import (\"fmt\"; \"net\"; \"os\")\n      var _ = net.Dial\n      func main() {{\n        if err := {stmt}; err != nil {{ fmt.Fprintln(os.Stderr, \"refused:\", err); os.Exit(1) }}\n        fmt.Println(\"CROSSPROBE-FACTS: {{}}\")\n      }}\n"
        )
    };
    let h = home.display();
    [
        body("writehome", &format!("os.WriteFile(\"{h}/written\", []byte(\"x\"), 0o644)")),
        body("readhome", &format!("func() error {{ _, err := os.ReadFile(\"{h}/planted\"); return err }}()")),
        body("loopback", &format!("func() error {{ c, err := net.Dial(\"tcp\", \"127.0.0.1:{port}\"); if err == nil {{ c.Close() }}; return err }}()")),
    ]
    .concat()
}

/// Probe → (outcome, sandboxed, the run's stderr).
fn cells(results: &Path) -> BTreeMap<String, (Outcome, Option<bool>, String)> {
    common::read_results(results)
        .cells
        .into_iter()
        .map(|c| {
            let stderr = c
                .phases
                .iter()
                .find(|p| p.name == PhaseName::Run)
                .and_then(|p| p.commands.first())
                .map(|run| run.stderr.text.clone())
                .unwrap_or_default();
            (c.cell.probe.clone(), (c.outcome, c.sandboxed, stderr))
        })
        .collect()
}

#[test]
fn a_probe_cannot_write_or_read_home_or_reach_the_hosts_loopback_unless_unsandboxed() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::write(home.join("planted"), "a secret").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let yaml = format!(
        "name: sandbox\nprobes:\n{}matrix:\n  goos: [linux]\n  goarch: [amd64]\n",
        probes(&home, port)
    );
    std::fs::write(dir.path().join("matrix.yaml"), yaml).unwrap();
    // The cache dir stays where the suite keeps it: $HOME moves, builds do not.
    let cache = std::env::var("XDG_CACHE_HOME")
        .unwrap_or_else(|_| format!("{}/.cache", std::env::var("HOME").unwrap()));
    let with_cache = |args: &[&str]| {
        Test::at(dir.path())
            .args(args)
            .env("HOME", &home)
            .env("XDG_CACHE_HOME", &cache)
    };

    with_cache(&["run", "@", "--out", "sandboxed", "-j2"])
        .failure()
        .run();
    let got = cells(&dir.path().join("sandboxed/sandbox/results.json"));
    let want = [
        ("writehome", "read-only file system"),
        ("readhome", "no such file or directory"),
        ("loopback", "connection refused"),
    ];
    for (probe, why) in want {
        let (outcome, sandboxed, stderr) = &got[probe];
        assert_eq!(*outcome, Outcome::RunFail, "{probe}: {stderr}");
        assert_eq!(*sandboxed, Some(true), "{probe}");
        assert!(stderr.contains(why), "{probe}: {stderr}");
    }
    assert!(!home.join("written").exists());
    // Every build and run command says so itself, as recorded when it ran.
    let recorded = |results: &str| -> Vec<bool> {
        common::read_results(&dir.path().join(results))
            .cells
            .iter()
            .flat_map(|c| {
                c.commands()
                    .map(|(_, cmd)| cmd.sandboxed)
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let all = recorded("sandboxed/sandbox/results.json");
    assert!(!all.is_empty() && all.iter().all(|s| *s), "{all:?}");

    with_cache(&["run", "@", "--out", "open", "-j2", "--no-sandbox"]).run();
    let got = cells(&dir.path().join("open/sandbox/results.json"));
    for (probe, _) in want {
        let (outcome, sandboxed, stderr) = &got[probe];
        assert_eq!(*outcome, Outcome::Pass, "{probe}: {stderr}");
        assert_eq!(*sandboxed, Some(false), "{probe}");
    }
    let all = recorded("open/sandbox/results.json");
    assert!(!all.is_empty() && all.iter().all(|s| !s), "{all:?}");
    assert_eq!(std::fs::read(home.join("written")).unwrap(), b"x");
}

#[test]
fn a_repro_snippet_runs_sandboxed() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::write(home.join("planted"), "a secret").unwrap();
    let snippet = format!(
        "name: reads-home\ngoos: linux\ngoarch: amd64\nsource: |\n  package main\n  import (\"fmt\"; \"os\")\n  func main() {{\n    b, err := os.ReadFile(\"{}/planted\")\n    fmt.Println(string(b), err)\n    if err != nil {{ os.Exit(1) }}\n    fmt.Println(\"CROSSPROBE-FACTS: {{}}\")\n  }}\n",
        home.display()
    );
    std::fs::write(dir.path().join("snippet.yaml"), snippet).unwrap();
    let cache = std::env::var("XDG_CACHE_HOME")
        .unwrap_or_else(|_| format!("{}/.cache", std::env::var("HOME").unwrap()));
    let repro = |extra: &[&str], status: i32| {
        let r = Test::at(dir.path())
            .args(["repro", "snippet.yaml", "--out", "r"])
            .args(extra)
            .env("HOME", &home)
            .env("XDG_CACHE_HOME", &cache)
            .status(status)
            .run();
        let got = cells(&dir.path().join("r/reads-home/results.json"));
        (got.into_values().next().unwrap(), r.stderr())
    };
    let ((outcome, sandboxed, stderr), err) = repro(&[], 1);
    assert_eq!(outcome, Outcome::RunFail, "{stderr}\n{err}");
    assert_eq!(sandboxed, Some(true));
    let ((outcome, sandboxed, _), err) = repro(&["--no-sandbox"], 0);
    assert_eq!(outcome, Outcome::Pass, "{err}");
    assert_eq!(sandboxed, Some(false));
}

/// Live processes whose environment names crossprobe's marker for `pid`
/// (`CROSSPROBE_SPAWN=<pid>.<n>`) or `prefix` as WINEPREFIX: pid and
/// command line of each.
fn leftovers(pid: u32, prefix: &Path) -> Vec<(u32, String)> {
    let marker = format!("CROSSPROBE_SPAWN={pid}.");
    let wine = format!("WINEPREFIX={}\0", prefix.display());
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(env) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        let has = |n: &str| env.windows(n.len()).any(|w| w == n.as_bytes());
        if has(&marker) || has(&wine) {
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            found.push((p, String::from_utf8_lossy(&cmd).replace('\0', " ")));
        }
    }
    found
}

/// What is left a second after crossprobe `pid` exited.
fn left_after_a_second(pid: u32, prefix: &Path) -> Vec<(u32, String)> {
    let until = Instant::now() + Duration::from_secs(1);
    loop {
        let left = leftovers(pid, prefix);
        if left.is_empty() || Instant::now() >= until {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn nothing_a_windows_run_started_outlives_it_however_it_ended() {
    let dir = tempfile::tempdir().unwrap();
    // A prefix of its own, so that no other test's run shares its server.
    let cache = dir.path().join("cache");
    let prefix = cache.join("crossprobe/wine");
    let yaml = "name: win\nprobes:\n  - name: nap\n    source: |\n      package main\n      import (\"os\"; \"time\")\n      import \"fmt\"\n      func main() { if os.Getenv(\"NAP\") == \"1\" { time.Sleep(time.Minute) }; fmt.Println(\"CROSSPROBE-FACTS: {}\") }\nmatrix:\n  goos: [windows]\n  goarch: [amd64]\n  env:\n    NAP: [\"0\"]\nrun:\n  timeout: 300s\n";
    let run = |m: &str| {
        Test::at(dir.path())
            .matrix(yaml)
            .file("nap.yaml", yaml.replace("NAP: [\"0\"]", "NAP: [\"1\"]"))
            .args(["run", m, "--out", "r"])
            .env("XDG_CACHE_HOME", &cache)
    };
    let start = |m: &str| {
        run(m)
            .command()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };

    let pid = run("@").run().pid();
    assert_eq!(
        left_after_a_second(pid, &prefix),
        vec![],
        "after a run that ended"
    );

    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let mut child = start("nap.yaml");
        let pid = child.id();
        // Interrupted once the probe is running under wine.
        let until = Instant::now() + Duration::from_secs(120);
        while !leftovers(pid, &prefix)
            .iter()
            .any(|(_, cmd)| cmd.contains("probe.exe"))
        {
            assert!(Instant::now() < until, "the probe never started");
            assert!(
                child.try_wait().unwrap().is_none(),
                "crossprobe ended early"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(pid as i32, signal) };
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            left_after_a_second(pid, &prefix),
            vec![],
            "after a run ended by signal {signal}"
        );
    }

    // A probe that outlives its timeout: the cell is a timeout, and its
    // probe.exe and the wine processes under it go with it.
    let r = run("late.yaml")
        .file(
            "late.yaml",
            yaml.replace("NAP: [\"0\"]", "NAP: [\"1\"]")
                .replace("timeout: 300s", "timeout: 5s"),
        )
        .failure()
        .run();
    let pid = r.pid();
    let cells = r.cells("win");
    assert!(
        cells.values().any(|c| c.outcome == Outcome::Timeout),
        "{cells:#?}"
    );
    assert_eq!(
        left_after_a_second(pid, &prefix),
        vec![],
        "after a run whose cell timed out"
    );
}

#[test]
fn a_snippet_whose_build_would_read_outside_its_directory_is_refused() {
    let snippet = "name: leak\ngoos: linux\ngoarch: amd64\nldflags: \"-extldflags=@/root/.ssh/id_rsa\"\nsource: |\n  package main\n  func main() {}\n";
    // Nothing built, no reports.
    let e = Test::new()
        .file("leak.yaml", snippet)
        .args(["repro", "leak.yaml", "--out", "r"])
        .refuse();
    insta::assert_snapshot!(e);
}

const WORKSPACE_TEST: &str = r#"package m

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"example.com/dep"
)

// The build read the replace target, and the GOENV file's GOFLAGS
// (-tags=goenv) reached it: Tagged is defined only under that tag.
func TestTheBuildReadsTheReplaceTargetAndGoenv(t *testing.T) {
	if dep.X != 42 || !Tagged {
		t.Errorf("dep.X = %d, Tagged = %v", dep.X, Tagged)
	}
}

func TestReadsTheReplaceTargetAndTheWorkspace(t *testing.T) {
	for _, f := range []string{"../dep/data.txt", "../lib/lib.txt", "../go.work"} {
		if _, err := os.ReadFile(f); err != nil {
			t.Error(err)
		}
	}
}

func TestItsGoSeesGoenvAndATestRunsAToolFromPathUnderHome(t *testing.T) {
	out, err := exec.Command("go", "env", "GOFLAGS").CombinedOutput()
	if got := strings.TrimSpace(string(out)); err != nil || got != "-tags=goenv" {
		t.Errorf("go env GOFLAGS = %q, %v", got, err)
	}
	out, err = exec.Command("crossprobe-home-tool").CombinedOutput()
	if got := strings.TrimSpace(string(out)); err != nil || got != "tool ran" {
		t.Errorf("crossprobe-home-tool: %q, %v", got, err)
	}
}

func TestAddsFilesToItsPackage(t *testing.T) {
	if err := os.MkdirAll("a/b/c.d/e.f", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("out.txt", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile("out.txt"); err != nil || string(b) != "x" {
		t.Fatalf("out.txt: %q, %v", b, err)
	}
	if err := os.RemoveAll("a"); err != nil {
		t.Fatal(err)
	}
}

func TestRewritesAFileOfItsPackage(t *testing.T) {
	if err := os.WriteFile("m.go", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWritesBesideItsPackage(t *testing.T) {
	if err := os.WriteFile("../lib/new.txt", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}
"#;

/// A module under $HOME whose go.mod replaces a dependency by `../dep`,
/// in a workspace (go.work above it, `use ./lib`), built with a `go env -w`
/// setting (GOFLAGS=-tags=goenv in the GOENV file) and testing with a tool
/// on a PATH directory under $HOME: the build and the test read each of
/// them, wherever they lie, and write none: a test may add files and
/// directories to its package directory (a throw-away layer), and one that
/// rewrites a file there or writes beside it fails with the sandbox's hint;
/// the tree's paths and bytes are unchanged.
#[test]
fn a_module_sees_its_replace_targets_workspace_goenv_and_home_tools_read_only() {
    let home = std::env::var_os("HOME").expect("HOME is set");
    let ws = tempfile::Builder::new()
        .prefix("crossprobe-ws-")
        .tempdir_in(&home)
        .unwrap();
    let w = ws.path();
    let files = [
        ("go.work", "go 1.21\n\nuse (\n\t./m\n\t./lib\n)\n"),
        ("lib/go.mod", "module example.com/lib\n\ngo 1.21\n"),
        ("lib/lib.txt", "lib\n"),
        ("dep/go.mod", "module example.com/dep\n\ngo 1.21\n"),
        ("dep/dep.go", "package dep\n\nconst X = 42\n"),
        ("dep/data.txt", "data\n"),
        (
            "m/go.mod",
            "module example.com/m\n\ngo 1.21\n\nrequire example.com/dep v0.0.0\n\nreplace example.com/dep => ../dep // local\n",
        ),
        ("m/m.go", "package m\n"),
        ("m/tagged.go", "//go:build goenv\n\npackage m\n\nconst Tagged = true\n"),
        ("m/untagged.go", "//go:build !goenv\n\npackage m\n\nconst Tagged = false\n"),
        ("m/m_test.go", WORKSPACE_TEST),
        ("goenv", "GOFLAGS=-tags=goenv\n"),
        ("bin/crossprobe-home-tool", "#!/bin/sh\necho tool ran\n"),
    ];
    for (rel, text) in files {
        let p = w.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        w.join("bin/crossprobe-home-tool"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    // Every path, and every file's bytes.
    let tree = |root: &Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = walk(root)
            .iter()
            .map(|p| {
                (
                    p.display().to_string(),
                    std::fs::read(p).unwrap_or_default(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = tree(w);
    let yaml = format!(
        "name: ws\nprobes:\n  - name: m\n    test: .\n    module: {}\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  cgo: [\"0\"]\n",
        w.join("m").display()
    );
    let r = Test::new()
        .matrix(&yaml)
        .env("GOENV", w.join("goenv").display().to_string())
        .env_remove("GOFLAGS")
        .env_remove("GOWORK")
        .path_with(w.join("bin"))
        .any_status()
        .run();
    let cells = r.cells("ws");
    let c = cells.values().next().expect("one cell");
    let failed: Vec<String> = c
        .tests
        .iter()
        .filter(|t| t.outcome != crossprobe::model::TestOutcome::Pass)
        .map(|t| format!("{} {}: {}", t.name, t.outcome.as_str(), t.output))
        .collect();
    // New files in the package directory land in a throw-away layer;
    // rewriting one of its files, or writing beside it, is refused.
    assert_eq!(failed.len(), 2, "{}\n{}", failed.join("\n"), r.stderr());
    assert!(
        failed[0].starts_with("TestRewritesAFileOfItsPackage fail")
            && failed[1].starts_with("TestWritesBesideItsPackage fail"),
        "{failed:?}"
    );
    let reason = c.reason.as_deref().unwrap_or("");
    assert!(
        reason.contains("read-only file system")
            && reason.contains(&format!(
                "[crossprobe: {} is read-only in the sandbox: a test may add files to its package directory",
                w.join("m/m.go").display()
            )),
        "{reason}"
    );
    assert_eq!(tree(w), before);
}

/// Every file and directory under `root`.
fn walk(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

/// `run.pass_env` hands the named variables (a name, or a prefix with `*`)
/// to a matrix's builds and probes, and results.json names them; the rest
/// stay dropped. The build is a compiler command of the user's that prints
/// what it inherited.
#[test]
fn pass_env_hands_the_named_variables_to_builds_and_probes_and_no_others() {
    let probe = "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\tfmt.Printf(\"CROSSPROBE-FACTS: {\\\"npm\\\": %q, \\\"url\\\": %q, \\\"gh\\\": %q}\\n\", os.Getenv(\"NPM_TOKEN\"), os.Getenv(\"MYAPP_URL\"), os.Getenv(\"GITHUB_TOKEN\"))\n}\n";
    let indented: String = probe.lines().map(|l| format!("      {l}\n")).collect();
    let yaml = format!(
        "name: pass\nprobes:\n  - name: environ\n    source: |\n{indented}  - name: cc-echo\n    lang: c\n    source: |\n      int main(void) {{ return 0; }}\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  cc: [\"/usr/bin/env sh -c echo${{IFS}}npm=$NPM_TOKEN,gh=$GITHUB_TOKEN>&2;exit${{IFS}}1\"]\nrun:\n  pass_env: [NPM_TOKEN, MYAPP_*]\n"
    );
    let r = Test::new()
        .matrix(&yaml)
        .env("NPM_TOKEN", "npm-secret")
        .env("MYAPP_URL", "https://example.com")
        .env("GITHUB_TOKEN", "gh-secret")
        .any_status()
        .run();
    let results = r.results("pass");
    let cells = r.cells("pass");
    let environ = cells
        .values()
        .find(|c| c.cell.probe == "environ")
        .expect("the environ cell");
    assert_eq!(environ.outcome, Outcome::Pass, "{:?}", environ.reason);
    let fact = |k: &str| environ.facts.get(k).and_then(|v| v.as_str()).unwrap_or("?");
    assert_eq!(
        (fact("probe.npm"), fact("probe.url"), fact("probe.gh")),
        ("npm-secret", "https://example.com", "")
    );
    let cc = cells
        .values()
        .find(|c| c.cell.probe == "cc-echo")
        .expect("the cc cell");
    let reason = cc.reason.as_deref().unwrap_or("");
    assert!(reason.contains("npm=npm-secret,gh="), "{reason}");
    assert!(!reason.contains("gh-secret"), "{reason}");
    assert_eq!(results.env_passed, ["MYAPP_URL", "NPM_TOKEN"]);
    assert!(results.env_dropped.contains(&"GITHUB_TOKEN".to_string()));
    assert!(!results.env_dropped.iter().any(|n| n == "NPM_TOKEN"));
}

/// A stranger's snippet may not ask for the caller's variables unless
/// `--trust`; `*` alone is no name in any matrix.
#[test]
fn a_snippets_pass_env_is_refused_unless_trusted_and_a_bare_star_always() {
    let snippet = "name: ask\nprobes:\n  - name: p\n    source: |\n      package main\n      func main() {}\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\nrun:\n  pass_env: [GITHUB_*]\n";
    let e = Test::new()
        .file("ask.yaml", snippet)
        .args(["repro", "ask.yaml", "--out", "r"])
        .refuse();
    insta::assert_snapshot!(e);
    Test::new()
        .file("ask.yaml", snippet)
        .args(["repro", "ask.yaml", "--out", "r", "--trust"])
        .any_status()
        .run();
    let e = common::refuse(
        "name: all\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\nrun:\n  pass_env: [PATH, \"*\"]\n",
    );
    insta::assert_snapshot!(e);
}

/// results.json's `sandboxed` is true where the probe is confined: a linux
/// cell in bwrap, and a windows cell under wine, whose server does its file
/// and socket work in the run's wine jail (docs/src/sandbox.md); under
/// --no-sandbox neither is.
#[test]
fn a_wine_cell_is_sandboxed_in_its_jail() {
    let mut goos = vec!["linux"];
    if common::require_tool("wine64", "the windows cell is left out") {
        goos.push("windows");
    }
    let r = Test::new()
        .matrix(&format!(
            "name: conf\nprobes: [hello]\nmatrix:\n  goos: [{}]\n  goarch: [amd64]\n",
            goos.join(", ")
        ))
        .run();
    let said: BTreeMap<String, Option<bool>> = r
        .cells("conf")
        .into_values()
        .map(|c| (c.cell.goos.clone(), c.sandboxed))
        .collect();
    let want: BTreeMap<String, Option<bool>> =
        goos.iter().map(|g| (g.to_string(), Some(true))).collect();
    assert_eq!(said, want);
}
