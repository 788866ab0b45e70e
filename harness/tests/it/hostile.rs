//! Hostile input (issue 24): a stranger's snippet, or the probe it builds,
//! tries to reach the host, and must not. Each test is a real attempt, with
//! a canary file or a listener on 127.0.0.1, on a native (linux/amd64), a
//! qemu (linux/arm64) and a wine (windows/amd64) cell, at build time and at
//! run time:
//! - a `cc:` (or `CC=`) that runs a shell at build time;
//! - a host file read at compile time (`.incbin`, `#include` through a
//!   macro) whose bytes would land in the reports;
//! - a probe dialling the host's loopback and writing into $HOME, /tmp and
//!   /dev/shm (a windows probe did it through the wineserver);
//! - a probe replacing its capture files with links, for the next run to
//!   write through, and planting a link for the repro bundle to copy;
//! - the caller's environment (a token) reaching a probe or a build;
//! - a probe, or a build, allocating and touching 4 GiB;
//! - the repro bundle's replay.sh, run without crossprobe.
//!
//! The canaries live in a HOME of the test's own; the builds use the suite's
//! caches, so that a warm machine stays warm.

use crate::common::{self, Test};

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The three runners every attack is tried under, as a matrix spells them.
const TARGETS: &str = "goos: [linux, windows]\ngoarch: [amd64, arm64]\nexclude:\n  - {goos: windows, goarch: arm64}\n";

/// A host to attack: a HOME holding a secret, and a listener on the host's
/// loopback that counts who reached it.
struct Host {
    dir: tempfile::TempDir,
    secret: String,
    listener: TcpListener,
    /// Files the attempts may create outside `dir`, removed at the end.
    outside: Vec<PathBuf>,
}

impl Host {
    fn new() -> Host {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("home")).unwrap();
        // An identifier, so that a compiler quotes it whole.
        let secret = format!("CANARY{}x{}", std::process::id(), nanos());
        std::fs::write(dir.path().join("home/secret"), &secret).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Host {
            dir,
            secret,
            listener,
            outside: Vec::new(),
        }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn port(&self) -> u16 {
        self.listener.local_addr().unwrap().port()
    }

    /// What connected to the listener, and what each one sent.
    fn callers(&self) -> Vec<String> {
        let mut got = Vec::new();
        while let Ok((mut s, _)) = self.listener.accept() {
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let mut text = String::new();
            let _ = s.read_to_string(&mut text);
            got.push(text);
        }
        got
    }

    /// A file outside the test's directory that an attempt may create.
    fn outside(&mut self, p: impl Into<PathBuf>) -> PathBuf {
        let p = p.into();
        let _ = std::fs::remove_file(&p);
        self.outside.push(p.clone());
        p
    }

    /// crossprobe with this HOME, in a fresh directory; the caches stay the
    /// suite's (Go's would otherwise move under the new HOME, cold).
    fn test(&self) -> Test {
        let cache = std::env::var("XDG_CACHE_HOME")
            .unwrap_or_else(|_| format!("{}/.cache", std::env::var("HOME").unwrap()));
        Test::new()
            .env("HOME", self.home().to_str().unwrap())
            .env("XDG_CACHE_HOME", &cache)
            .env("GOCACHE", common::gocache())
            .env("GOMODCACHE", gomodcache())
            // Each test reads the outcome it expects from the reports.
            .any_status()
    }

    /// Every file under `root` (links not followed) that holds the secret.
    fn leaks(&self, root: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                let Ok(t) = e.file_type() else { continue };
                if t.is_dir() {
                    stack.push(p);
                } else if t.is_file() {
                    let bytes = std::fs::read(&p).unwrap_or_default();
                    if String::from_utf8_lossy(&bytes).contains(&self.secret) {
                        found.push(p);
                    }
                } else if t.is_symlink() {
                    // A link in the reports is a leak in waiting.
                    found.push(p);
                }
            }
        }
        found
    }

    /// `repro` of the snippet `yaml` (named `name`): its results.json; where
    /// the secret reached its reports or crossprobe's output, into `leaked`.
    fn repro_leaking(&self, name: &str, yaml: &str, leaked: &mut Vec<String>) -> serde_json::Value {
        let file = format!("{name}.yaml");
        let r = self
            .test()
            .file(&file, yaml)
            .args(["repro", &file, "-j2"])
            .run();
        let reports = repro_reports(&r, name);
        let text = std::fs::read_to_string(reports.join("results.json"))
            .unwrap_or_else(|e| panic!("{name}: {e}\n{}", r.stderr()));
        for p in self.leaks(&reports) {
            leaked.push(format!("{name}: {}", p.display()));
        }
        if r.stdout().contains(&self.secret) || r.stderr().contains(&self.secret) {
            leaked.push(format!("{name}: crossprobe's own output"));
        }
        serde_json::from_str(&text).unwrap()
    }

    /// The files an attempt left in HOME, besides the secret. (Dot files
    /// are Go's own, from crossprobe's `go env`: its telemetry's ~/.config.)
    fn written_in_home(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.home())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "secret" && !n.starts_with('.') && n != "go")
            .collect();
        names.sort();
        names
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        for p in &self.outside {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn gomodcache() -> String {
    let out = std::process::Command::new("go")
        .args(["env", "GOMODCACHE"])
        .output()
        .expect("go is on PATH");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The `matrix:` section of a matrix file over the three runners, with
/// `extra` lines (axes, further exclusions) indented under it.
fn matrix_section(axes: &str, excludes: &str) -> String {
    format!(
        "matrix:\n  goos: [linux, windows]\n  goarch: [amd64, arm64]\n{axes}  exclude:\n    - {{goos: windows, goarch: arm64}}\n{excludes}"
    )
}

/// Indents `text` by `n` spaces, for a YAML block scalar.
fn block(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| format!("{pad}{l}\n"))
        .collect::<String>()
}

/// A Windows path (wine's Z: drive is the host's /) or the path itself.
fn z(p: &Path) -> String {
    format!("Z:{}", p.display()).replace('/', "\\\\")
}

/// Cell id → (outcome, reason) of a results.json.
fn outcomes(results: &serde_json::Value) -> Vec<(String, String, String)> {
    results["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["cell"]["id"].as_str().unwrap().to_string(),
                c["outcome"].as_str().unwrap().to_string(),
                c["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The repro reports of `name`: results.json, report.html and the bundles.
fn repro_reports(run: &common::Run, name: &str) -> PathBuf {
    run.path().join("reports").join(name)
}

// ---------------------------------------------------------------------------
// Build time: a compiler of the snippet's choosing.

/// `cc: "/usr/bin/env sh -c ..."` and `env: {CC: ...}` run a shell at build
/// time (and `env --version` answers the version query). Without `--trust`
/// repro refuses the snippet before anything runs; with it the build runs
/// sandboxed, where HOME is empty and read-only.
#[test]
fn a_snippets_compiler_command_runs_nothing_on_the_host() {
    let mut h = Host::new();
    let home = h.home();
    let c_main =
        "#include <stdio.h>\nint main(void) { printf(\"CROSSPROBE-FACTS: {}\\n\"); return 0; }\n";
    let cgo_main = "package main\n// int one(void) { return 1; }\nimport \"C\"\nimport \"fmt\"\nfunc main() { fmt.Println(C.one()); fmt.Println(\"CROSSPROBE-FACTS: {}\") }\n";
    let tmp = h.outside(std::env::temp_dir().join(format!("crossprobe-pwned-cc-{}", nanos())));
    let snippets = [
        (
            "cc-axis",
            format!(
                "name: cc-axis\n{TARGETS}lang: c\ncc: \"/usr/bin/env sh -c touch${{IFS}}{}/pwned-cc${{IFS}}{}\"\nsource: |\n{}",
                home.display(),
                tmp.display(),
                block(c_main, 2)
            ),
        ),
        (
            "cc-env",
            // `$HOME` rather than a path: the blocklist looks for paths.
            format!(
                "name: cc-env\n{TARGETS}cgo: 1\nenv:\n  CC: \"env sh -c touch${{IFS}}$HOME/pwned-env-cc\"\nsource: |\n{}",
                block(cgo_main, 2)
            ),
        ),
    ];
    for (name, yaml) in &snippets {
        let file = format!("{name}.yaml");
        let r = h
            .test()
            .file(&file, yaml)
            .args(["repro", &file, "-j2"])
            .run();
        assert_eq!(
            h.written_in_home(),
            Vec::<String>::new(),
            "{name}: {}",
            r.stderr()
        );
        assert!(!tmp.exists(), "{name}: wrote {}", tmp.display());
        assert_eq!(
            r.code(),
            2,
            "{name}: refused without --trust\n{}",
            r.stderr()
        );
        assert!(
            r.stderr().contains("--trust"),
            "{name}: the refusal names --trust\n{}",
            r.stderr()
        );
        // Trusted, it runs, and the build's sandbox still holds.
        let r = h
            .test()
            .file(&file, yaml)
            .args(["repro", &file, "-j2", "--trust"])
            .run();
        assert_eq!(
            h.written_in_home(),
            Vec::<String>::new(),
            "{name}: {}",
            r.stderr()
        );
        assert!(!tmp.exists(), "{name}: wrote {}", tmp.display());
    }
}

/// A C probe that reads a host file at compile time: `.incbin` puts its
/// bytes in the binary (which prints them), `#include` through a macro puts
/// them in the compiler's error. The blocklist sees neither; the build's
/// sandbox has no $HOME to read, so the secret reaches no report.
#[test]
fn a_host_file_read_at_compile_time_reaches_no_report() {
    let h = Host::new();
    let secret = h.home().join("secret");
    let incbin = format!(
        "#include <stdio.h>\n__asm__(\".data\\n.globl leak\\nleak: .incbin \\\"{}\\\"\\n.byte 0\\n.text\");\nextern const char leak[];\nint main(void) {{ printf(\"%s\\n\", leak); return 1; }}\n",
        secret.display()
    );
    let include = format!(
        "#define Q(x) #x\n#define S(x) Q(x)\n#include S({})\nint main(void) {{ return 1; }}\n",
        secret.display()
    );
    let mut leaked = Vec::new();
    for (name, source) in [("incbin", incbin), ("include", include)] {
        let yaml = format!(
            "name: {name}\n{TARGETS}lang: c\nsource: |\n{}",
            block(&source, 2)
        );
        let cells = outcomes(&h.repro_leaking(name, &yaml, &mut leaked));
        assert_eq!(cells.len(), 3, "{name}: {cells:?}");
    }
    assert_eq!(leaked, Vec::<String>::new());
}

/// Go's own check of `#cgo` flags (which refuses `-wrapper`) is lifted by
/// `CGO_CFLAGS_ALLOW`, and a `#cgo` line in a cgo preamble's `//` comment
/// is still a `#cgo` line: together they had gcc run a shell script of the
/// snippet's at build time, without `--trust`, able to write into the
/// user's own GOCACHE (which the next `go build` of theirs would trust).
/// A go.mod's `replace` to a host directory had `go mod tidy`, which runs
/// outside the sandbox to complete the go.sum, read that directory's
/// sources. Each is refused before anything runs; trusted, the script runs
/// in the build's sandbox and writes into crossprobe's trusted cache, never
/// the user's.
#[test]
fn a_cgo_line_in_a_comment_an_allow_variable_or_a_replace_runs_and_reads_nothing() {
    let mut h = Host::new();
    let home = h.home();
    let canary =
        h.outside(Path::new(&common::gocache()).join(format!("pwned-wrapper-{}", nanos())));
    let script = format!(
        "touch {} {}/pwned-wrapper\nexec \"$@\"\n",
        canary.display(),
        home.display()
    );
    let cgo_main = |directive: &str| {
        format!("package main\n\n{directive}\n// int one(void) {{ return 1; }}\nimport \"C\"\n\nimport \"fmt\"\n\nfunc main() {{ fmt.Println(C.one()) }}\n")
    };
    let snippet = |name: &str, env: &str, source: &str, files: &[(&str, &str)]| {
        let mut yaml = format!(
            "name: {name}\ngoos: linux\ngoarch: amd64\ncgo: 1\n{env}source: |\n{}files:\n",
            block(source, 2)
        );
        for (file, text) in files {
            yaml.push_str(&format!("  {file}: |\n{}", block(text, 4)));
        }
        yaml
    };
    let wrapper = "// #cgo CFLAGS: -wrapper sh,${SRCDIR}/w.sh";
    let allowed = snippet(
        "allowed",
        "env:\n  CGO_CFLAGS_ALLOW: \".*\"\n",
        &cgo_main(wrapper),
        &[("w.sh", &script)],
    );
    let commented = snippet("commented", "", &cgo_main(wrapper), &[("w.sh", &script)]);
    let replace = snippet(
        "replace",
        "",
        "package main\n\nimport _ \"example.com/x\"\n\nfunc main() {}\n",
        &[(
            "go.mod",
            &format!(
                "module example.com/m\n\ngo 1.22\n\nrequire example.com/x v0.0.0\n\nreplace example.com/x => {}\n",
                home.display()
            ),
        )],
    );
    for (name, yaml) in [
        ("allowed", &allowed),
        ("commented", &commented),
        ("replace", &replace),
    ] {
        let file = format!("{name}.yaml");
        let r = h.test().file(&file, yaml).args(["repro", &file]).run();
        assert_eq!(
            r.code(),
            2,
            "{name}: refused before anything runs\n{}",
            r.stderr()
        );
        assert!(!canary.exists(), "{name}: wrote {}", canary.display());
        assert_eq!(h.written_in_home(), Vec::<String>::new(), "{name}");
    }
    let r = h
        .test()
        .file("allowed.yaml", &allowed)
        .args(["repro", "allowed.yaml", "--trust"])
        .run();
    assert!(
        !canary.exists(),
        "trusted: wrote {}\n{}",
        canary.display(),
        r.stderr()
    );
    assert_eq!(h.written_in_home(), Vec::<String>::new(), "trusted");
}

// ---------------------------------------------------------------------------
// Run time: a probe that reaches out.

/// A probe dials the host's loopback and writes into $HOME, /tmp and
/// /dev/shm, on linux/amd64 (native) and linux/arm64 (qemu).
#[test]
fn no_native_or_qemu_probe_reaches_the_hosts_loopback_or_writes_home_tmp_or_shm() {
    reach("linux", &["amd64", "arm64"]);
}

/// The same attempt from a windows probe under wine (windows/amd64): the
/// wineserver it talks to must be inside the run's sandbox too.
#[test]
fn no_windows_probe_reaches_the_hosts_loopback_or_writes_home_tmp_or_shm() {
    reach("windows", &["amd64"]);
}

/// A probe on `goos`/`goarchs` dials the host's loopback and writes into
/// $HOME, /tmp and /dev/shm: each cell passes (the probe ran), and nothing
/// reached the listener or the files.
fn reach(goos: &str, goarchs: &[&str]) {
    let mut h = Host::new();
    let tag = nanos();
    let files = [
        h.home().join("w"),
        h.outside(std::env::temp_dir().join(format!("crossprobe-pwned-{tag}"))),
        h.outside(format!("/dev/shm/crossprobe-pwned-{tag}")),
    ];
    let paths = |f: &dyn Fn(&Path) -> String| {
        files
            .iter()
            .map(|p| format!("`{}`", f(p)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let source = format!(
        r#"package main

import (
	"fmt"
	"net"
	"os"
	"runtime"
)

func main() {{
	paths := []string{{{unix}}}
	if runtime.GOOS == "windows" {{
		paths = []string{{{win}}}
	}}
	escaped := 0
	if c, err := net.Dial("tcp", "127.0.0.1:{port}"); err == nil {{
		fmt.Fprintf(c, "reached from %s/%s", runtime.GOOS, runtime.GOARCH)
		c.Close()
		escaped++
	}}
	for _, p := range paths {{
		if err := os.WriteFile(p+"-"+runtime.GOOS+"-"+runtime.GOARCH, []byte("x"), 0o644); err == nil {{
			escaped++
		}}
	}}
	fmt.Println("escaped", escaped)
	fmt.Println("CROSSPROBE-FACTS: {{}}")
}}
"#,
        unix = paths(&|p| p.display().to_string()),
        win = paths(&|p| z(p).replace("\\\\", "\\")),
        port = h.port(),
    );
    let yaml = format!(
        "name: reach\nprobes:\n  - name: reach\n    source: |\n{}matrix:\n  goos: [{goos}]\n  goarch: [{}]\nrun:\n  timeout: 300s\n",
        block(&source, 6),
        goarchs.join(", ")
    );
    let r = h.test().matrix(&yaml).args(["run", "@", "-j2"]).run();
    let cells = outcomes(&r.results_json("reach"));
    assert_eq!(cells.len(), goarchs.len(), "{cells:?}\n{}", r.stderr());
    for (id, outcome, reason) in &cells {
        assert_eq!(outcome, "pass", "{id}: {reason}");
    }
    let callers = h.callers();
    let written: Vec<String> = files
        .iter()
        .flat_map(|f| {
            goarchs
                .iter()
                .map(move |a| PathBuf::from(format!("{}-{goos}-{a}", f.display())))
        })
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    for p in &written {
        let _ = std::fs::remove_file(p);
    }
    assert_eq!((callers, written), (vec![], vec![]));
}

/// A Go probe that replaces each of `links` in its directory with a link
/// into `home`, prints, and exits 1 when it plants `stolen`.
fn planting(home: &Path, links: &str) -> String {
    format!(
        r#"package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

func main() {{
	home := `{home}`
	if runtime.GOOS == "windows" {{
		home = `{zhome}`
	}}
	tag := runtime.GOOS + "-" + runtime.GOARCH
	_ = tag
	for _, n := range []string{{{links}}} {{
		os.Remove(n)
		err := os.Symlink(filepath.Join(home, tag+"-"+n), n)
		fmt.Println("planted", n, err)
	}}
	fmt.Println("ssh-ed25519 AAAAplanted crossprobe@hostile")
	fmt.Println("CROSSPROBE-FACTS: {{}}")
	if {exit} {{
		os.Exit(1)
	}}
}}
"#,
        home = home.display(),
        zhome = z(home).replace("\\\\", "\\"),
        exit = if links.contains("stolen") {
            "true"
        } else {
            "false"
        },
    )
}

/// A probe replaces its capture files (run.stdout, build.stderr, ...) with
/// links into $HOME: the next run, its build included, must not write
/// through them.
#[test]
fn a_capture_file_a_probe_replaced_by_a_link_is_not_written_through() {
    let h = Host::new();
    let home = h.home();
    // Two runs: the first plants, the second would write through.
    let captures = r#""run.stdout", "run.stderr", "build.stdout", "build.stderr""#;
    let yaml = format!(
        "name: links\nprobes:\n  - name: links\n    source: |\n{}{}run:\n  timeout: 300s\n",
        block(&planting(&home, captures), 6),
        matrix_section("", "")
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.yaml"), &yaml).unwrap();
    let m = dir.path().join("m.yaml");
    let m = m.to_str().unwrap();
    let first = h.test().args(["run", m, "-j2"]).run();
    let second = h.test().args(["run", m, "-j2"]).run();
    // The build directories live on in the shared cache: remove what was
    // planted there.
    for r in [&first, &second] {
        if let Ok(text) = std::fs::read_to_string(r.reports("links").join("results.json")) {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            for c in v["cells"].as_array().unwrap() {
                if let Some(d) = c["dir"].as_str() {
                    let _ = std::fs::remove_dir_all(d);
                }
            }
        }
    }
    assert_eq!(
        h.written_in_home(),
        Vec::<String>::new(),
        "written through planted links\nfirst:\n{}\nsecond:\n{}",
        first.stderr(),
        second.stderr()
    );
}

/// A probe plants a link to a host file beside itself and fails: the repro
/// bundle a user attaches to a bug report must not carry the file.
#[test]
fn a_link_a_probe_planted_is_not_copied_into_the_bundle() {
    let h = Host::new();
    let home = h.home();
    // The bundle: the probe links `stolen` to the secret and fails.
    let stolen = planting(&home, r#""stolen""#).replace(
        "filepath.Join(home, tag+\"-\"+n)",
        "filepath.Join(home, \"secret\")",
    );
    let snippet = format!("name: bundle\n{TARGETS}source: |\n{}", block(&stolen, 2));
    let r = h
        .test()
        .file("bundle.yaml", &snippet)
        // --trust: as root, the windows cell runs (under wine) only with it.
        .args(["repro", "bundle.yaml", "-j2", "--trust"])
        .run();
    let reports = repro_reports(&r, "bundle");
    let results: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reports.join("results.json"))
            .unwrap_or_else(|e| panic!("{e}\n{}", r.stderr())),
    )
    .unwrap();
    let cells = outcomes(&results);
    assert_eq!(cells.len(), 3, "{cells:?}");
    for (id, outcome, reason) in &cells {
        assert_eq!(outcome, "run-fail", "{id}: {reason}");
    }
    assert_eq!(h.leaks(&reports), Vec::<PathBuf>::new(), "{cells:?}");
}

/// The bundle's replay.sh repeats a stranger's build and run for whoever
/// got the bug report, without crossprobe: where bubblewrap is installed it
/// sandboxes them too, so the probe that dials the host's loopback and
/// writes into $HOME and /tmp reaches neither when replayed, natively or
/// under qemu, and the replay still reaches crossprobe's outcome.
#[test]
fn a_bundles_replay_script_reaches_neither_loopback_nor_home_nor_tmp() {
    let mut h = Host::new();
    let tag = nanos();
    let home_file = h.home().join("replayed");
    let tmp_file = h.outside(std::env::temp_dir().join(format!("crossprobe-replayed-{tag}")));
    let source = format!(
        r#"package main

import (
	"fmt"
	"net"
	"os"
	"runtime"
)

func main() {{
	escaped := 0
	if c, err := net.Dial("tcp", "127.0.0.1:{port}"); err == nil {{
		fmt.Fprintf(c, "replayed on %s", runtime.GOARCH)
		c.Close()
		escaped++
	}}
	for _, p := range []string{{"{home}", "{tmp}"}} {{
		if os.WriteFile(p+"-"+runtime.GOARCH, []byte("x"), 0o644) == nil {{
			escaped++
		}}
	}}
	fmt.Println("escaped", escaped)
	os.Exit(1)
}}
"#,
        port = h.port(),
        home = home_file.display(),
        tmp = tmp_file.display(),
    );
    let snippet = format!(
        "name: replayed\ngoos: linux\ngoarch: [amd64, arm64]\nsource: |\n{}",
        block(&source, 2)
    );
    let r = h
        .test()
        .file("replayed.yaml", &snippet)
        .args(["repro", "replayed.yaml", "-j2"])
        .run();
    let reports = repro_reports(&r, "replayed");
    let mut bundles: Vec<PathBuf> = std::fs::read_dir(&reports)
        .unwrap_or_else(|e| panic!("{e}\n{}", r.stderr()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("replay.sh").is_file())
        .collect();
    bundles.sort();
    assert_eq!(bundles.len(), 2, "{}", r.stderr());
    assert_eq!(h.callers(), Vec::<String>::new(), "crossprobe's own run");
    for bundle in &bundles {
        let out = std::process::Command::new("sh")
            .arg(bundle.join("replay.sh"))
            .current_dir(h.dir.path())
            .env("HOME", h.home())
            .env("GOCACHE", common::gocache())
            .env("GOMODCACHE", gomodcache())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let said = format!("{}:\n{stdout}\n{stderr}", bundle.display());
        assert!(out.status.success(), "{said}");
        assert!(stdout.contains("replay: sandboxed by bubblewrap"), "{said}");
        // It ran: its writes landed in the sandbox's own tmpfs, if anywhere.
        assert!(stdout.contains("escaped "), "{said}");
        assert!(
            stdout.contains("replay: run-fail, as crossprobe saw"),
            "{said}"
        );
    }
    let written: Vec<PathBuf> = [&home_file, &tmp_file]
        .iter()
        .flat_map(|f| ["amd64", "arm64"].map(|a| PathBuf::from(format!("{}-{a}", f.display()))))
        .filter(|p| p.exists())
        .collect();
    for p in &written {
        let _ = std::fs::remove_file(p);
    }
    assert_eq!((h.callers(), written), (vec![], vec![]));
}

/// A stranger's snippet that lifts its memory bound (`run.memory: none`)
/// and asks for more (`64GiB`) still runs under the default: its probe
/// touching 4.5 GiB fails its own cell, out of memory.
#[test]
fn a_snippet_cannot_lift_or_raise_its_memory_bound() {
    let h = Host::new();
    let probe = "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tb := make([]byte, 9<<29)\n\tfor i := 0; i < len(b); i += 4096 {\n\t\tb[i] = 1\n\t}\n\tfmt.Println(\"touched\", len(b))\n\tfmt.Println(\"CROSSPROBE-FACTS: {}\")\n}\n";
    for (name, memory) in [("lifted", "none"), ("raised", "64GiB")] {
        let snippet = format!(
            "name: {name}\nprobes:\n  - name: hog\n    source: |\n{}matrix:\n  goos: [linux]\n  goarch: [amd64]\nrun:\n  timeout: 300s\n  memory: {memory}\n",
            block(probe, 6)
        );
        let r = h
            .test()
            .file("hog.yaml", &snippet)
            .args(["repro", "hog.yaml"])
            .run();
        let results = r.results_json(name);
        let cells = outcomes(&results);
        assert_eq!(cells.len(), 1, "{cells:?}\n{}", r.stderr());
        let (id, outcome, reason) = &cells[0];
        assert_eq!(outcome, "run-fail", "{memory}: {id}: {reason}");
        assert!(reason.contains("out of memory"), "{memory}: {id}: {reason}");
    }
}

/// A probe fails saying ESC and OSC sequences (clear the screen, retitle
/// the terminal, a hyperlink): the bundle's README.txt and replay.sh quote
/// its reason for whoever `cat`s them, escaped, never raw. (Its logs/ keep
/// the bytes the program wrote: they are the observation.)
#[test]
fn a_probes_output_reaches_the_bundles_readme_and_replay_script_escaped() {
    let h = Host::new();
    let probe = "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\tfmt.Fprintln(os.Stderr, \"boom \\x1b[2J\\x1b]0;owned\\x07 \\x1b]8;;http://x\\x07link\\r\")\n\tos.Exit(3)\n}\n";
    let yaml = format!(
        "name: ansi\ngoos: linux\ngoarch: amd64\nexpect: {{outcome: run-fail, match: boom}}\nsource: |\n{}",
        block(probe, 2)
    );
    let r = h
        .test()
        .file("ansi.yaml", &yaml)
        .args(["repro", "ansi.yaml"])
        .run();
    let reports = repro_reports(&r, "ansi");
    let bundle = std::fs::read_dir(&reports)
        .unwrap_or_else(|e| panic!("{e}\n{}", r.stderr()))
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("replay.sh").is_file())
        .unwrap_or_else(|| panic!("no bundle\n{}", r.stderr()));
    for name in ["README.txt", "replay.sh"] {
        let text = std::fs::read_to_string(bundle.join(name)).unwrap();
        assert!(text.contains("boom"), "{name} quotes the reason:\n{text}");
        let raw: Vec<char> = text
            .chars()
            .filter(|c| c.is_control() && !matches!(c, '\n' | '\t'))
            .collect();
        assert_eq!(raw, Vec::<char>::new(), "{name}:\n{text}");
    }
}

/// The caller's environment holds a token. A probe prints its whole
/// environment, and a build's compiler command echoes the token: neither
/// reaches results.json, which names the variables dropped, never their
/// values.
#[test]
fn the_callers_environment_reaches_no_probe_and_no_build() {
    let h = Host::new();
    let token = format!("ghp_fake{}", nanos());
    let probe = "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\tfor _, kv := range os.Environ() {\n\t\tfmt.Println(kv)\n\t}\n\tfmt.Println(\"CROSSPROBE-FACTS: {}\")\n}\n";
    let yaml = format!(
        "name: env\nprobes:\n  - name: environ\n    source: |\n{}  - name: cc-echo\n    lang: c\n    source: |\n      int main(void) {{ return 0; }}\n{}run:\n  timeout: 300s\n",
        block(probe, 6),
        matrix_section(
            "  cc: [\"/usr/bin/env sh -c echo${IFS}token=$GITHUB_TOKEN>&2;exit${IFS}1\"]\n",
            ""
        )
    );
    let r = h
        .test()
        .matrix(&yaml)
        .env("GITHUB_TOKEN", &token)
        .env("AWS_SECRET_ACCESS_KEY", &token)
        .args(["run", "@", "-j2"])
        .run();
    let text = std::fs::read_to_string(r.reports("env").join("results.json"))
        .unwrap_or_else(|e| panic!("{e}\n{}", r.stderr()));
    let results: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cells = outcomes(&results);
    assert_eq!(cells.len(), 6, "{cells:?}\n{}", r.stderr());
    for (id, outcome, reason) in &cells {
        let want = if id.contains("environ") {
            "pass"
        } else {
            "build-fail"
        };
        assert_eq!(outcome, want, "{id}: {reason}");
    }
    assert!(!text.contains(&token), "the token reached results.json");
    assert!(
        text.contains("\"GITHUB_TOKEN\"") && text.contains("\"AWS_SECRET_ACCESS_KEY\""),
        "results.json names the variables it dropped"
    );
}

/// A probe that allocates and touches 4 GiB, and a build whose compiler
/// command does: each fails its own cell, out of memory, under the default
/// bound, and the host is not the one to run out.
#[test]
fn a_memory_hog_fails_its_own_cell_out_of_memory() {
    let h = Host::new();
    let probe = "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tb := make([]byte, 4<<30)\n\tfor i := 0; i < len(b); i += 4096 {\n\t\tb[i] = 1\n\t}\n\tfmt.Println(\"touched\", len(b))\n\tfmt.Println(\"CROSSPROBE-FACTS: {}\")\n}\n";
    let yaml = format!(
        "name: hog\nprobes:\n  - name: hog\n    source: |\n{}  - name: cc-hog\n    lang: c\n    source: |\n      int main(void) {{ return 0; }}\n{}run:\n  timeout: 300s\n",
        block(probe, 6),
        matrix_section(
            "  cc: [\"/usr/bin/python3 -c b=b'x'*(4<<30);print(len(b))\"]\n",
            "    - {probe: cc-hog, goos: windows}\n    - {probe: cc-hog, goarch: arm64}\n"
        )
    );
    let r = h.test().matrix(&yaml).args(["run", "@", "-j1"]).run();
    let cells = outcomes(&r.results_json("hog"));
    assert_eq!(cells.len(), 4, "{cells:?}\n{}", r.stderr());
    let wrong: Vec<_> = cells
        .iter()
        .filter(|(id, outcome, reason)| {
            let want = if id.contains("cc-hog") {
                "build-fail"
            } else {
                "run-fail"
            };
            outcome != want || !reason.contains("out of memory")
        })
        .collect();
    assert_eq!(wrong, Vec::<&(String, String, String)>::new());
}

/// A probe that forks without end: under a memory bound of 4 GiB it could
/// hold more processes than the host's pid_max, and every other program of
/// the host would fail to fork until its timeout. `run.processes` bounds its
/// whole tree (natively, and qemu with its guest): its forks past the bound
/// fail, its cell fails with the reason, and the other cells of the run,
/// built and run beside it, pass. Where no pids cgroup can be made (not
/// root, cgroup v2 only) the bound does not hold, and this test fails.
#[test]
fn a_fork_flood_fails_its_own_cell_at_the_process_limit() {
    let h = Host::new();
    let flood = "#include <stdio.h>\n#include <signal.h>\n#include <unistd.h>\n#include <sys/wait.h>\nint main(void) {\n  setpgid(0, 0);\n  int n = 0;\n  for (; n < 200; n++) {\n    pid_t p = fork();\n    if (p < 0) break;\n    if (p == 0) { pause(); _exit(0); }\n  }\n  printf(\"forked %d children\\n\", n);\n  fflush(stdout);\n  signal(SIGTERM, SIG_IGN);\n  kill(0, SIGTERM);\n  while (wait(NULL) > 0) ;\n  return 0;\n}\n";
    let calm = "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"calm\")\n}\n";
    let yaml = format!(
        "name: flood\nprobes:\n  - name: flood\n    lang: c\n    source: |\n{}  - name: calm\n    source: |\n{}matrix:\n  goos: [linux]\n  goarch: [amd64, arm64]\nrun:\n  timeout: 120s\n  processes: 64\n",
        block(flood, 6),
        block(calm, 6),
    );
    let r = h.test().matrix(&yaml).args(["run", "@", "-j2"]).run();
    let results = r.results_json("flood");
    let cells = outcomes(&results);
    assert_eq!(cells.len(), 4, "{cells:?}\n{}", r.stderr());
    let wrong: Vec<_> = cells
        .iter()
        .filter(|(id, outcome, reason)| match id.contains("flood") {
            true => outcome != "run-fail" || !reason.starts_with("process limit: "),
            false => outcome != "pass",
        })
        .collect();
    assert_eq!(
        wrong,
        Vec::<&(String, String, String)>::new(),
        "(no pids cgroup here? `crossprobe doctor` says)"
    );
    // The probe saw its forks fail below the bound, and the kernel's count
    // of refused forks is recorded on its command.
    for c in results["cells"].as_array().unwrap() {
        if !c["cell"]["id"].as_str().unwrap().contains("flood") {
            continue;
        }
        let phases = c["phases"].as_array().unwrap();
        let run = phases.iter().find(|p| p["name"] == "run").unwrap();
        let run = &run["commands"][0];
        assert_eq!(run["exit"]["process_limit"], true, "{run}");
        let said = run["stdout"]["text"].as_str().unwrap();
        let n: u32 = said
            .lines()
            .find_map(|l| l.strip_prefix("forked "))
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{said}"));
        assert!(n < 64, "{said}");
    }
}

/// Run as root (a CI container), a stranger's build and probe would read
/// what only root may read: bwrap drops every capability, but the owner's
/// permission is root's own. A snippet whose C build `#include`s a root-only
/// file through a macro (the path check sees no `#include "/…"`), and one
/// whose Go probe opens it at run time, get nothing of it: their cells run
/// as nobody. Natively and under qemu; nothing of the file reaches
/// results.json, report.html, junit.xml, the bundles or crossprobe's output.
#[test]
fn run_as_root_a_snippet_reads_no_root_only_file_at_build_or_run_time() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return common::tool_missing("root", "a stranger's cells run as the caller");
    }
    let h = Host::new();
    // Outside $HOME and /tmp, which the sandbox hides anyway.
    let canary = tempfile::Builder::new()
        .prefix("crossprobe-root-only-")
        .tempfile_in("/var/tmp")
        .unwrap();
    std::fs::write(canary.path(), format!("{}\n", h.secret)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(canary.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
    let path = canary.path().display().to_string();
    let include = format!(
        "#define Q(x) #x\n#define S(x) Q(x)\n#define P {path}\n#include S(P)\nint main(void) {{ return 0; }}\n"
    );
    let open = format!(
        "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {{\n\tb, err := os.ReadFile(\"{path}\")\n\tfmt.Printf(\"uid %d: %s %v\\n\", os.Getuid(), b, err)\n}}\n"
    );
    let mut leaked = Vec::new();
    let mut said = Vec::new();
    for (name, lang, source) in [("include", "c", include), ("open", "go", open)] {
        let yaml = format!(
            "name: {name}\ngoos: linux\ngoarch: [amd64, arm64]\nlang: {lang}\nsource: |\n{}",
            block(&source, 2)
        );
        let results = h.repro_leaking(name, &yaml, &mut leaked);
        for (id, outcome, reason) in outcomes(&results) {
            said.push(format!("{name} {id}: {outcome}: {reason}"));
        }
        for c in results["cells"].as_array().unwrap() {
            for p in c["phases"].as_array().unwrap() {
                for cmd in p["commands"].as_array().into_iter().flatten() {
                    said.push(format!(
                        "  {}",
                        cmd["stdout"]["text"].as_str().unwrap_or("")
                    ));
                }
            }
        }
    }
    let said = said.join("\n");
    assert_eq!(leaked, Vec::<String>::new(), "{said}");
    // The build failed on the permission, not on a refusal, and the probe
    // ran as nobody and was refused the file.
    assert_eq!(
        said.matches("Permission denied (exit status 1)").count(),
        2,
        "{said}"
    );
    assert_eq!(said.matches("uid 65534:  open ").count(), 2, "{said}");
}
