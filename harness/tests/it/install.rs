//! What a user does who has no checkout: package the crate, install it with
//! cargo from the package, then `init` and `run` in a fresh Go module.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use crate::common;

/// Runs `c`, which must exit 0; else fails showing what it printed.
trait Succeeds {
    fn succeeds(&mut self) -> Output;
}

impl Succeeds for Command {
    #[track_caller]
    fn succeeds(&mut self) -> Output {
        let out = self.output().unwrap();
        assert!(
            out.status.success(),
            "{self:?} exited {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

/// The workspace's target directory: where this test binary was built
/// (`target/debug/deps/it-HASH`), so CARGO_TARGET_DIR is honoured too.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// cargo, without the variables `cargo test` gives this process: the
/// install must see the package alone, never this checkout.
fn cargo(cwd: &Path) -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(cwd);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("CARGO_") && k != "CARGO_HOME" {
            c.env_remove(k);
        }
    }
    c
}

#[test]
fn the_packaged_crate_installs_and_runs_in_a_fresh_module() {
    let version = env!("CARGO_PKG_VERSION");
    let tmp = tempfile::tempdir().unwrap();
    let t0 = Instant::now();

    // The package, as `cargo publish` would upload it. --no-verify: the
    // install below is its build; verifying would build it twice.
    cargo(&common::repo())
        .args([
            "package",
            "-p",
            "crossprobe",
            "--no-verify",
            "--allow-dirty",
            "--offline",
        ])
        .arg("--target-dir")
        .arg(tmp.path().join("package"))
        .succeeds();
    let krate = tmp
        .path()
        .join(format!("package/package/crossprobe-{version}.crate"));
    let size = std::fs::metadata(&krate).unwrap().len();
    let packaged = t0.elapsed();

    // Unpacked where a stable path keeps cargo's fingerprints from run to
    // run, outside any workspace, as ~/.cargo/registry/src holds it.
    let target = target_dir();
    let src_root = std::env::temp_dir().join(format!(
        "crossprobe-install-test-{:x}",
        fnv(target.to_string_lossy().as_bytes())
    ));
    let _ = std::fs::remove_dir_all(&src_root);
    std::fs::create_dir_all(&src_root).unwrap();
    Command::new("tar")
        .arg("xzf")
        .arg(&krate)
        .arg("-C")
        .arg(&src_root)
        .succeeds();
    let unpacked = src_root.join(format!("crossprobe-{version}"));
    for absent in ["tests", "harness", "matrices", "docs"] {
        assert!(
            !unpacked.join(absent).exists(),
            "the package holds {absent}/, which it does not need"
        );
    }
    assert!(unpacked.join("templates/probes/hello/probe.yaml").is_file());

    // From an empty directory, into a root of its own. A debug build, in a
    // target directory of its own beside the workspace's (so its
    // target/debug/crossprobe, which the other tests run, is never
    // replaced under them) that later runs reuse.
    let empty = tmp.path().join("empty");
    let root = tmp.path().join("root");
    std::fs::create_dir_all(&empty).unwrap();
    cargo(&empty)
        .args(["install", "--locked", "--offline", "--debug", "--path"])
        .arg(&unpacked)
        .arg("--root")
        .arg(&root)
        .env("CARGO_TARGET_DIR", target.join("install-test"))
        // No debug info: a third less to compile and link, and nothing
        // here reads it.
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .succeeds();
    let installed = t0.elapsed() - packaged;
    let bin = root.join("bin/crossprobe");
    assert!(bin.is_file());

    // A fresh module, nothing of this repository's around it.
    let m = tmp.path().join("hello");
    std::fs::create_dir_all(m.join("cmd/hello")).unwrap();
    std::fs::write(m.join("go.mod"), "module example.com/hello\n\ngo 1.22\n").unwrap();
    std::fs::write(
        m.join("cmd/hello/main.go"),
        "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n",
    )
    .unwrap();
    std::fs::write(
        m.join("word.go"),
        "package hello\n\nfunc Word() string { return \"hello\" }\n",
    )
    .unwrap();
    std::fs::write(
        m.join("word_test.go"),
        "package hello\n\nimport \"testing\"\n\nfunc TestWord(t *testing.T) {\n\tif Word() != \"hello\" {\n\t\tt.Fatal(Word())\n\t}\n}\n",
    )
    .unwrap();
    let user = |args: &[&str]| {
        let mut c = Command::new(&bin);
        c.current_dir(&m)
            .args(args)
            .env("NO_COLOR", "1")
            .env("CROSSPROBE_NO_CACHE", "1")
            .env_remove("CARGO_MANIFEST_DIR");
        c
    };
    user(&["init"]).succeeds();
    let yaml = std::fs::read_to_string(m.join("crossprobe.yaml")).unwrap();
    assert!(
        yaml.starts_with("# yaml-language-server: $schema=https://"),
        "{yaml}"
    );
    // Natively and under qemu: the linux cells, windows and darwin aside.
    let out = user(&["run", "--filter", "linux/a*"]).succeeds();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let results: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(m.join("reports/hello/results.json")).unwrap(),
    )
    .unwrap();
    let cells = results["cells"].as_array().unwrap();
    let passed: Vec<&str> = cells
        .iter()
        .filter(|c| c["outcome"] == "pass")
        .map(|c| c["cell"]["id"].as_str().unwrap())
        .collect();
    // init writes a command's probe `run: false` (it cannot know the
    // command's arguments): those cells are built and inspected, not run;
    // every other cell passes.
    for c in cells {
        let id = c["cell"]["id"].as_str().unwrap();
        let want = if id.ends_with("/unit/hello") {
            "pass"
        } else {
            "built"
        };
        assert_eq!(c["standing"], want, "{id}:\n{stdout}");
    }
    assert!(
        passed.contains(&"linux/arm64/cgo0/unit/hello"),
        "the unit tests did not pass under qemu:\n{stdout}"
    );
    eprintln!(
        "package: {size} bytes in {:.1}s; install: {:.1}s; init and run: {:.1}s",
        packaged.as_secs_f64(),
        installed.as_secs_f64(),
        (t0.elapsed() - packaged - installed).as_secs_f64()
    );
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}
