//! The result cache, end to end: a rerun of an unchanged cell reuses its
//! result without building or running anything; a change to any part of
//! the key runs the cell again. Each test has a crossprobe cache of its own
//! (XDG_CACHE_HOME) and the user's warm GOCACHE.
#![cfg(target_os = "linux")]

use crate::common::{self, CellExt, Test};

use std::path::{Path, PathBuf};
use std::process::Command;

use crossprobe::model::{CellResult, Outcome, PhaseName, Runner};

/// A probe that appends a line to $PROBE_LOG each time it runs, so a test
/// can count real runs, and reports the Go version that built it.
const PROBE: &str = r#"
package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	f, err := os.OpenFile(os.Getenv("PROBE_LOG"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		panic(err)
	}
	fmt.Fprintln(f, "ran")
	f.Close()
	fmt.Printf("CROSSPROBE-FACTS: {\"go_version\": %q}\n", runtime.Version())
}
"#;

struct Cache {
    dir: tempfile::TempDir,
}

impl Cache {
    fn new() -> Cache {
        Cache {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("probe.log")
    }

    /// How many times the probe really ran.
    fn runs(&self) -> usize {
        std::fs::read_to_string(self.log()).map_or(0, |s| s.lines().count())
    }

    /// A matrix of one cell running the counting probe on `target`, with
    /// `extra` YAML appended.
    fn matrix(&self, target: &str, source: &str, extra: &str) -> String {
        let (goos, goarch) = target.split_once('/').unwrap();
        let indented: String = source.lines().map(|l| format!("      {l}\n")).collect();
        format!(
            "name: c\nprobes:\n  - name: counter\n    source: |\n{indented}matrix:\n  goos: [{goos}]\n  goarch: [{goarch}]\n  env:\n    PROBE_LOG: [{:?}]\n{extra}",
            self.log().display().to_string()
        )
    }

    /// `crossprobe run` on `yaml` with the cache on, expecting exit 0;
    /// `tweak` may change the run (PATH, its status, ...). Returns the one
    /// cell's result.
    fn run(
        &self,
        yaml: &str,
        args: &[&str],
        tweak: impl FnOnce(Test) -> Test,
    ) -> (CellResult, common::Run) {
        // Unsandboxed: each probe counts its runs in a file of the test's
        // directory, which a sandboxed probe cannot write.
        let test = Test::new()
            .matrix(yaml)
            .args(["run", "@", "--no-sandbox"])
            .args(args)
            .result_cache(self.dir.path().join("xdg"));
        let run = tweak(test).run();
        // The file's own shape, on purpose: every result says whether it
        // was cached, even when it was not (the typed field has a default).
        let raw = run.results_json("c");
        assert!(
            raw["cells"][0]["cached"].is_boolean(),
            "every result says whether it was cached: {raw:#}"
        );
        let mut cells = run.results("c").cells;
        assert_eq!(cells.len(), 1, "{}", run.stderr());
        (cells.remove(0), run)
    }
}

fn host_target() -> &'static str {
    if cfg!(target_arch = "aarch64") {
        "linux/arm64"
    } else {
        "linux/amd64"
    }
}

#[test]
fn an_unchanged_cell_is_reused_and_marked_in_every_report() {
    let c = Cache::new();
    let yaml = c.matrix(host_target(), PROBE, "");
    let (first, _) = c.run(&yaml, &[], |t| t);
    assert_eq!(first.outcome, Outcome::Pass, "{first:#?}");
    assert!(!first.cached);
    assert_eq!(c.runs(), 1);

    let (second, run) = c.run(&yaml, &[], |t| t);
    assert_eq!(c.runs(), 1, "a hit must not run the probe again");
    assert!(second.cached, "{second:#?}");
    assert_eq!(second.outcome, Outcome::Pass);
    assert_eq!(second.facts, first.facts);
    assert_eq!(second.phases, first.phases, "the original run's record");
    let perf = run.results("c").perf.expect("the run's cost");
    assert_eq!(perf.cached_cells, 1);
    assert_eq!(perf.builds, 0);
    assert!(
        run.stdout().contains("1 from the result cache"),
        "{}",
        run.stdout()
    );
    assert!(run.stderr().contains("(cached)"), "{}", run.stderr());
    let junit = std::fs::read_to_string(run.reports("c").join("junit.xml")).unwrap();
    assert!(
        junit.contains(r#"cgo0/counter: cached" value="true""#),
        "{junit}"
    );
    // Its time is the one it originally took, as in results.json, and its
    // log says it was not run now.
    let secs = format!(
        "{}.{:03}",
        second.duration_ms / 1000,
        second.duration_ms % 1000
    );
    assert!(
        second.duration_ms > 0
            && junit.contains(&format!(r#"time="{secs}""#))
            && junit.contains(&format!(
                "crossprobe: CACHED: the result of an earlier run, reused; its time ({secs}s) is what that run took"
            )),
        "{junit}"
    );
    common::validate_junit(&run.reports("c").join("junit.xml"));

    // --no-cache runs it again, and says so.
    let (third, _) = c.run(&yaml, &["--no-cache"], |t| t);
    assert!(!third.cached);
    assert_eq!(c.runs(), 2);
}

#[test]
fn a_hit_is_judged_against_the_current_expectations() {
    let c = Cache::new();
    c.run(&c.matrix(host_target(), PROBE, ""), &[], |t| t);
    let xfail = "expect:\n  - when: {probe: counter}\n    outcome: run-fail\n    reason: testing the cache\n";
    let (r, _) = c.run(&c.matrix(host_target(), PROBE, xfail), &[], |t| t.failure());
    assert!(r.cached, "an expectation is not part of the key: {r:#?}");
    assert_eq!(c.runs(), 1);
    assert!(!r.verdict.met);
    assert_eq!(
        r.verdict.message,
        "unexpected pass: testing the cache may be fixed"
    );
}

#[test]
fn a_change_to_the_sources_env_or_argv_misses() {
    let c = Cache::new();
    let t = host_target();
    c.run(&c.matrix(t, PROBE, ""), &[], |t| t);
    let changed = PROBE.replace("func main() {", "// another comment\nfunc main() {");
    let (r, _) = c.run(&c.matrix(t, &changed, ""), &[], |t| t);
    assert!(!r.cached, "sources changed: {r:#?}");
    assert_eq!(c.runs(), 2);

    // An inherited variable Go reads (GOAMD64, GOARM64: the default value,
    // so only the key can tell).
    let var = if t == "linux/arm64" {
        ("GOARM64", "v8.0")
    } else {
        ("GOAMD64", "v1")
    };
    let (r, _) = c.run(&c.matrix(t, PROBE, ""), &[], |t| t.env(var.0, var.1));
    assert!(!r.cached, "inherited {}={} changed: {r:#?}", var.0, var.1);
    assert_eq!(c.runs(), 3);

    // The argv: a flag the first run did not have.
    let (r, _) = c.run(&c.matrix(t, PROBE, "  ldflags: [\"-s -w\"]\n"), &[], |t| t);
    assert!(!r.cached, "argv changed: {r:#?}");
    assert_eq!(c.runs(), 4);

    // And the first cell is still there, unchanged.
    let (r, _) = c.run(&c.matrix(t, PROBE, ""), &[], |t| t);
    assert!(r.cached);
    assert_eq!(c.runs(), 4);
}

/// The runner and the emulator: a runner override, and another
/// qemu-aarch64 first on PATH (a wrapper that execs the real one).
#[test]
fn a_change_of_runner_or_emulator_misses() {
    let c = Cache::new();
    let (first, _) = c.run(&c.matrix("linux/arm64", PROBE, ""), &[], |t| t);
    if !matches!(first.cell.runner, Runner::Qemu { .. }) {
        // On an arm64 host this cell runs natively; there is no emulator
        // to change.
        assert_eq!(first.cell.runner, Runner::Native, "{first:#?}");
        return;
    }
    assert_eq!(first.outcome, Outcome::Pass, "{first:#?}");
    assert_eq!(c.runs(), 1);

    let none = "run:\n  runners: {\"linux/arm64\": none}\n";
    let (r, _) = c.run(&c.matrix("linux/arm64", PROBE, none), &[], |t| t);
    assert!(!r.cached, "runner changed: {r:#?}");
    assert_eq!(r.outcome, Outcome::Skip);

    let real = common::tool_path("qemu-aarch64");
    let bin = c.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let wrapper = bin.join("qemu-aarch64");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec {} \"$@\"\n", real.display()),
    )
    .unwrap();
    make_executable(&wrapper);
    let (r, _) = c.run(&c.matrix("linux/arm64", PROBE, ""), &[], |t| {
        t.path_with(&bin)
    });
    assert!(!r.cached, "emulator changed: {r:#?}");
    assert_eq!(r.outcome, Outcome::Pass);
    assert_eq!(c.runs(), 2);
    assert_eq!(
        r.commands_of(PhaseName::Run)[0].argv[0],
        wrapper.display().to_string(),
        "{r:#?}"
    );
}

/// A cgo probe built with a C compiler wrapper: rewriting the wrapper is
/// a new compiler, even under the same name.
#[test]
fn a_change_of_c_compiler_misses() {
    let c = Cache::new();
    let source = PROBE
        .replace(
            "import (",
            "// int answer(void) { return 42; }\nimport \"C\"\n\nimport (",
        )
        .replace(
            "fmt.Fprintln(f, \"ran\")",
            "fmt.Fprintln(f, \"ran\", C.answer())",
        );
    let cc = c.dir.path().join("cc");
    std::fs::write(&cc, "#!/bin/sh\nexec gcc \"$@\"\n").unwrap();
    make_executable(&cc);
    let yaml = c.matrix(host_target(), &source, "").replace(
        "  goarch:",
        &format!(
            "  cgo: [1]\n  cc: [{:?}]\n  goarch:",
            cc.display().to_string()
        ),
    );
    let (first, _) = c.run(&yaml, &[], |t| t);
    assert_eq!(first.outcome, Outcome::Pass, "{first:#?}");
    let (again, _) = c.run(&yaml, &[], |t| t);
    assert!(again.cached, "{again:#?}");

    std::fs::write(&cc, "#!/bin/sh\n# version 2\nexec gcc \"$@\"\n").unwrap();
    let (r, _) = c.run(&yaml, &[], |t| t);
    assert!(!r.cached, "the C compiler changed: {r:#?}");
    assert_eq!(c.runs(), 2);
}

/// Go upgraded in place: `go` on PATH stays at one path (a symlink here)
/// but is another release (go1.22.12, from the Go module proxy as
/// golang.org/toolchain when it is not in the module cache yet). No stale
/// hit, and the probe says which Go built it; switching back finds the
/// first result again.
#[test]
fn no_stale_hit_after_the_go_version_changes() {
    let c = Cache::new();
    let t = host_target();
    let yaml = c.matrix(t, PROBE, "");
    let bin = c.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let go = bin.join("go");
    let switch = |to: &Path| {
        let _ = std::fs::remove_file(&go);
        std::os::unix::fs::symlink(to, &go).unwrap();
    };
    let on_path = |t: Test| t.path_with(&bin);

    switch(&common::tool_path("go"));
    let (first, _) = c.run(&yaml, &[], on_path);
    let local = first.fact("probe.go_version").as_str().unwrap().to_string();
    assert_ne!(local, "go1.22.12");

    switch(&other_go().join("go"));
    let (r, _) = c.run(&yaml, &[], on_path);
    assert!(!r.cached, "{r:#?}");
    assert_eq!(r.outcome, Outcome::Pass, "{r:#?}");
    assert_eq!(r.fact("probe.go_version"), "go1.22.12");
    assert_eq!(c.runs(), 2);

    switch(&common::tool_path("go"));
    let (back, _) = c.run(&yaml, &[], on_path);
    assert!(back.cached);
    assert_eq!(back.fact("probe.go_version"), local.as_str());
    assert_eq!(c.runs(), 2);
}

/// The same Go release in another GOROOT (a copy, hard-linked where the
/// file system allows), behind the same `go` on PATH: the GOROOT is part of
/// the key even when the version and every other input are the same.
#[test]
fn a_different_goroot_of_the_same_release_misses() {
    let c = Cache::new();
    let yaml = c.matrix(host_target(), PROBE, "");
    let real_go = std::fs::canonicalize(common::tool_path("go")).unwrap();
    let goroot = real_go.parent().unwrap().parent().unwrap();
    let copy = c.dir.path().join("goroot");
    let linked = Command::new("cp")
        .arg("-al")
        .arg(goroot)
        .arg(&copy)
        .status()
        .unwrap();
    if !linked.success() {
        let _ = std::fs::remove_dir_all(&copy);
        let copied = Command::new("cp")
            .arg("-a")
            .arg(goroot)
            .arg(&copy)
            .status()
            .unwrap();
        assert!(copied.success(), "cannot copy {}", goroot.display());
    }
    let bin = c.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let go = bin.join("go");
    let on_path = |t: Test| t.path_with(&bin);

    std::os::unix::fs::symlink(&real_go, &go).unwrap();
    let (first, _) = c.run(&yaml, &[], on_path);
    assert_eq!(first.outcome, Outcome::Pass, "{first:#?}");
    std::fs::remove_file(&go).unwrap();
    std::os::unix::fs::symlink(copy.join("bin/go"), &go).unwrap();
    let (r, _) = c.run(&yaml, &[], on_path);
    assert!(!r.cached, "{r:#?}");
    assert_eq!(r.fact("probe.go_version"), first.fact("probe.go_version"));
    assert_eq!(c.runs(), 2);
}

/// `bin/` of go1.22.12 for this host, downloaded once if need be.
fn other_go() -> PathBuf {
    // Through GOTOOLCHAIN, not `go mod download`: the go command marks the
    // release's binaries executable only when it switches to it.
    let out = Command::new("go")
        .args(["env", "GOROOT"])
        .env("GOTOOLCHAIN", "go1.22.12")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("go runs");
    let root = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success() && !root.is_empty(),
        "GOTOOLCHAIN=go1.22.12 go env GOROOT: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Path::new(&root).join("bin")
}

fn make_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// `crossprobe cache` names the directory, counts what it holds and
/// clears it: the next run builds and runs again.
#[test]
fn cache_clear_empties_it_and_the_next_run_misses() {
    let c = Cache::new();
    let yaml = c.matrix(host_target(), PROBE, "");
    let (first, _) = c.run(&yaml, &[], |t| t);
    assert_eq!(first.outcome, Outcome::Pass, "{first:#?}");
    let cache = |args: &[&str]| {
        Test::at(c.dir.path())
            .arg("cache")
            .args(args)
            .env("XDG_CACHE_HOME", c.dir.path().join("xdg"))
            .run()
            .stdout()
    };
    let root = c.dir.path().join("xdg/crossprobe");
    assert_eq!(cache(&["dir"]).trim(), root.display().to_string());
    let info = cache(&["info"]);
    let line = |part: &str| {
        info.lines()
            .find(|l| l.trim_start().starts_with(&format!("{part} ")))
            .unwrap_or_else(|| panic!("no {part} line: {info}"))
            .to_string()
    };
    assert!(line("results").contains(" 1 files"), "{info}");
    assert!(line("toolchains").contains(" 1 files"), "{info}");
    assert!(!line("builds").contains(" 0 files"), "{info}");

    let cleared = cache(&["clear"]);
    assert!(cleared.contains("and 1 build directories"), "{cleared}");
    assert!(!root.join("results").exists());
    assert!(!root.join("toolchains").exists());
    let builds: Vec<_> = std::fs::read_dir(root.join("builds")).unwrap().collect();
    assert!(builds.is_empty(), "{builds:?}");

    let (again, _) = c.run(&yaml, &[], |t| t);
    assert!(!again.cached, "{again:#?}");
    assert_eq!(c.runs(), 2);
}

/// A cache root restored elsewhere but reached through the same link, as
/// `ci gitlab` uses the GitLab cache of a checkout whose path names the
/// runner's concurrent slot: Go is told the build directory through the
/// link (PWD), so the build is the one it made before, not linked again.
#[test]
fn builds_under_a_moved_root_reached_through_one_link_are_up_to_date() {
    let c = Cache::new();
    let yaml = c.matrix(host_target(), PROBE, "");
    let (link, slots) = (c.dir.path().join("link"), c.dir.path().join("slots"));
    std::fs::create_dir_all(slots.join("0")).unwrap();
    std::os::unix::fs::symlink(slots.join("0"), &link).unwrap();
    let binary = || {
        let builds = link.join("xdg/crossprobe/builds");
        let dir = std::fs::read_dir(&builds)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.is_dir())
            .expect("a build directory");
        std::fs::read(dir.join("probe")).unwrap()
    };
    let run = || {
        let (cell, _) = c.run(&yaml, &["--no-cache"], |t| {
            t.env("XDG_CACHE_HOME", link.join("xdg"))
        });
        assert_eq!(cell.outcome, Outcome::Pass, "{cell:#?}");
    };
    run();
    let built = binary();
    // As a cache restores it: mtimes kept, at another path.
    let cp = Command::new("cp")
        .arg("-a")
        .arg(slots.join("0"))
        .arg(slots.join("1"))
        .status()
        .unwrap();
    assert!(cp.success());
    std::fs::remove_dir_all(slots.join("0")).unwrap();
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(slots.join("1"), &link).unwrap();
    run();
    assert_eq!(c.runs(), 2, "--no-cache runs the probe again");
    // Go touches an up-to-date binary, so its mtime says nothing; linked in
    // another directory, its build ID and DWARF paths would differ.
    assert!(
        binary() == built,
        "go build linked the probe again, in the directory the link resolves to"
    );
}

/// What the go on PATH says of itself (`go env`, `go tool dist list`, `go
/// help buildmode`) is asked once and kept while the binary and the
/// variables go reads stay the same: a rerun starts none of the three.
/// Another GOMODCACHE, or the go binary rewritten, asks again.
#[test]
fn go_is_asked_what_it_is_once_until_it_or_its_environment_changes() {
    let c = Cache::new();
    let yaml = c.matrix(host_target(), PROBE, "");
    let bin = c.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let go = bin.join("go");
    let log = c.dir.path().join("go.log");
    let write_go = |release: &str| {
        std::fs::write(
            &go,
            format!(
                "#!/bin/sh\n# {release}\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
                log.display(),
                common::tool_path("go").display()
            ),
        )
        .unwrap();
        make_executable(&go);
    };
    // The questions go was asked since the last look.
    let asked = || -> Vec<&'static str> {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        ["env -json GOROOT", "tool dist list", "help buildmode"]
            .into_iter()
            .filter(|q| text.lines().any(|l| l.starts_with(q)))
            .collect()
    };
    let all = ["env -json GOROOT", "tool dist list", "help buildmode"];

    write_go("one");
    let (first, _) = c.run(&yaml, &[], |t| t.path_with(&bin));
    assert_eq!(first.outcome, Outcome::Pass, "{first:#?}");
    assert_eq!(asked(), all, "a first run asks go what it is");

    let (again, _) = c.run(&yaml, &[], |t| t.path_with(&bin));
    assert!(again.cached, "{again:#?}");
    assert_eq!(asked(), Vec::<&str>::new(), "a rerun asks go nothing");

    let modcache = c.dir.path().join("modcache");
    let (r, _) = c.run(&yaml, &[], |t| {
        t.path_with(&bin).env("GOMODCACHE", &modcache)
    });
    assert_eq!(r.outcome, Outcome::Pass, "{r:#?}");
    assert_eq!(
        asked(),
        all,
        "another GOMODCACHE may change go env's answer"
    );

    write_go("two");
    let (r, _) = c.run(&yaml, &[], |t| t.path_with(&bin));
    assert_eq!(r.outcome, Outcome::Pass, "{r:#?}");
    assert_eq!(asked(), all, "a rewritten go is asked again");
}
