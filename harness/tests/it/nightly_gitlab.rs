//! The pipeline `crossprobe ci gitlab` writes, run end to end by
//! gitlab-ci-local in a user's module (a fresh Go module, no crossprobe
//! source in it), two nights in a row:
//!
//! 1. the run jobs (two shards) install the pinned crossprobe from its
//!    release archive, let `doctor --fix` set the machine up (nothing left
//!    to install here), run their shard and keep it as an artifact; the
//!    report job merges both and, with no baseline yet, makes it one;
//! 2. the module regresses on arm64; the run jobs install crossprobe from
//!    the GitLab cache and start from the Go caches the first night left;
//!    the report job fetches night 1's merged results through GitLab's job
//!    artifacts API, and its diff fails the pipeline naming the cell.
//!
//! What stands in for GitLab: gitlab-ci-local runs the jobs with its shell
//! executor, each in its own copy of the checkout (`--shell-isolation`),
//! with GitLab's cache and artifacts semantics; its `image:` is not pulled
//! (the jobs use this machine's Go and tools, not golang:1.26's). The
//! release archive is this build, packed as the release is and served
//! from a file:// URL (CROSSPROBE_RELEASES, a pipeline variable); the job
//! artifacts API is a server on 127.0.0.1 that answers the URL the
//! pipeline builds from night 1's report artifacts, and checks the job
//! token is sent. Not covered: GitLab's own API and runners, the image,
//! the download from GitHub itself.

use crate::common::{self, Test};

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What GitLab gives each job as CI_JOB_TOKEN (gitlab-ci-local gives none).
const TOKEN: &str = "glcbt-test-token";

const GLCI: &str = "/usr/local/lib/crossprobe/gitlab-ci-local/node_modules/.bin";

const MATRIX: &str = r#"name: tiny
probes:
  - name: unit
    test: ./...
matrix:
  goos: [linux]
  goarch: [amd64, arm64]
  cgo: ["0"]
run:
  # A night starts with cold Go caches.
  timeout: 10m
"#;

const GREET_TEST: &str = r#"package greet

import "testing"

func TestHello(t *testing.T) {
	if Hello() == "" {
		t.Fatal("empty greeting")
	}
}
"#;

/// The module regresses on arm64.
const GREET_TEST_BROKEN: &str = r#"package greet

import (
	"runtime"
	"testing"
)

func TestHello(t *testing.T) {
	if runtime.GOARCH == "arm64" {
		t.Fatal("no greeting on arm64")
	}
}
"#;

fn sh(dir: &Path, argv: &[&str]) {
    let o = Command::new(argv[0])
        .args(&argv[1..])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    assert!(
        o.status.success(),
        "{argv:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// This build, as the release archive of this machine's target.
fn release(root: &Path) -> PathBuf {
    let triple = match std::env::consts::ARCH {
        "x86_64" => "x86_64-unknown-linux-gnu",
        "aarch64" => "aarch64-unknown-linux-gnu",
        other => panic!("no release archive for linux/{other}"),
    };
    let version = env!("CARGO_PKG_VERSION");
    let dir = root.join(format!("v{version}"));
    let inner = dir.join(format!("crossprobe-{triple}"));
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::copy(common::bin(), inner.join("crossprobe")).unwrap();
    let archive = format!("crossprobe-{triple}.tar.gz");
    sh(
        &dir,
        &["tar", "-czf", &archive, &format!("crossprobe-{triple}")],
    );
    let o = Command::new("sha256sum")
        .arg(&archive)
        .current_dir(&dir)
        .output()
        .unwrap();
    std::fs::write(dir.join(format!("{archive}.sha256")), o.stdout).unwrap();
    std::fs::remove_dir_all(&inner).unwrap();
    root.to_path_buf()
}

/// What the stand-in for GitLab's API was asked: the request line,
/// whether the job token came with it, and whether it found the file.
type Asked = Arc<Mutex<Vec<(String, bool, bool)>>>;

/// GitLab's "download a single artifact file from the latest successful
/// pipeline" endpoint, for gitlab-ci-local's project id and job
/// `crossprobe-report` on `main`, answered from `last`: the report job's
/// artifacts of the last successful pipeline, which the test keeps (each
/// run of gitlab-ci-local clears the jobs' artifacts it is about to make);
/// 404 otherwise, as GitLab answers before a first successful pipeline.
fn api(last: PathBuf) -> (String, Asked) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/api/v4", l.local_addr().unwrap());
    let asked: Asked = Arc::default();
    let log = asked.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            if r.read_line(&mut line).is_err() {
                continue;
            }
            let mut token = false;
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                    break;
                }
                token |= h.trim() == format!("JOB-TOKEN: {TOKEN}");
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let want = "/api/v4/projects/1217/jobs/artifacts/main/raw/merged/results.json?job=crossprobe-report";
            let body = (path == want && token)
                .then(|| std::fs::read(last.join("merged/results.json")).ok())
                .flatten();
            log.lock()
                .unwrap()
                .push((line.trim().to_string(), token, body.is_some()));
            let head = match &body {
                Some(b) => format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n", b.len()),
                None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n".to_string(),
            };
            let _ = s.write_all(format!("{head}Connection: close\r\n\r\n").as_bytes());
            let _ = s.write_all(body.as_deref().unwrap_or_default());
        }
    });
    (base, asked)
}

struct Night {
    ok: bool,
    output: String,
    took: f64,
}

fn night(module: &Path, vars: &[String]) -> Night {
    let path = format!("{GLCI}:{}", std::env::var("PATH").unwrap());
    let mut c = Command::new(Path::new(GLCI).join("gitlab-ci-local"));
    c.current_dir(module)
        .env("PATH", path)
        .env_remove("CROSSPROBE_RUNNER")
        .env_remove("CROSSPROBE_NO_CACHE")
        .args([
            "--force-shell-executor",
            "--shell-isolation",
            "--no-color",
            "--concurrency",
            "2",
            "--home",
        ])
        .arg(module.parent().unwrap().join("glci-home"));
    for v in vars {
        c.args(["--variable", v]);
    }
    let t = Instant::now();
    let o = c.output().unwrap();
    Night {
        ok: o.status.success(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        took: t.elapsed().as_secs_f64(),
    }
}

fn job_log(module: &Path, job: &str) -> String {
    let dir = module.join(".gitlab-ci-local/output");
    let mut logs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&job.replace([' ', ':', '[', ']'], ""))
        })
        .collect();
    logs.sort();
    logs.iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

fn merged(module: &Path) -> serde_json::Value {
    let p = module.join(".gitlab-ci-local/artifacts/crossprobe-report/merged/results.json");
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// Each cell's id, and whether it met its expectation.
fn verdicts(results: &serde_json::Value) -> Vec<(String, bool)> {
    let mut v: Vec<(String, bool)> = results["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["cell"]["id"].as_str().unwrap().to_string(),
                c["verdict"]["met"].as_bool().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_gitlab_pipeline_runs_two_nights_in_a_users_module() {
    for tool in ["gitlab-ci-local", "node"] {
        if !Path::new(GLCI).join(tool).is_file() {
            return common::tool_missing(
                &format!("{GLCI}/{tool}"),
                "the GitLab pipeline is not run end to end",
            );
        }
    }
    if Command::new("rsync").arg("--version").output().is_err() {
        return common::tool_missing("rsync", "the GitLab pipeline is not run end to end");
    }
    let tmp = tempfile::tempdir().unwrap();
    let module = tmp.path().join("tiny");
    std::fs::create_dir(&module).unwrap();
    sh(&module, &["go", "mod", "init", "example.com/tiny"]);
    write(
        &module,
        "greet/greet.go",
        "package greet\n\nimport \"runtime\"\n\nfunc Hello() string { return \"hello from \" + runtime.GOARCH }\n",
    );
    write(&module, "greet/greet_test.go", GREET_TEST);
    write(
        &module,
        "main.go",
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/tiny/greet\"\n)\n\nfunc main() { fmt.Println(greet.Hello()) }\n",
    );
    write(&module, "crossprobe.yaml", MATRIX);
    Test::at(&module)
        .args([
            "ci",
            "gitlab",
            "crossprobe.yaml",
            "--shards",
            "2",
            "--out",
            ".gitlab-ci.yml",
        ])
        .run();
    let pipeline = std::fs::read_to_string(module.join(".gitlab-ci.yml")).unwrap();
    assert!(!pipeline.contains("--path harness"), "{pipeline}");
    assert!(
        pipeline.contains(&format!(
            "CROSSPROBE_VERSION: \"{}\"",
            env!("CARGO_PKG_VERSION")
        )),
        "{pipeline}"
    );
    sh(&module, &["git", "init", "-q", "-b", "main"]);
    let commit = |msg: &str| {
        sh(&module, &["git", "add", "-A"]);
        sh(
            &module,
            &[
                "git",
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "commit",
                "-qm",
                msg,
            ],
        );
    };
    commit("a module and its nightly");

    let releases = release(&tmp.path().join("releases"));
    let last = tmp.path().join("last-successful");
    let (api_url, asked) = api(last.clone());
    let jobs_tmp = tmp.path().join("jobs-tmp");
    std::fs::create_dir(&jobs_tmp).unwrap();
    let vars = [
        "CI_PIPELINE_SOURCE=schedule".to_string(),
        format!("CI_API_V4_URL={api_url}"),
        format!("CI_JOB_TOKEN={TOKEN}"),
        format!("CROSSPROBE_RELEASES=file://{}", releases.display()),
        // The cache's link lives here, not in a /tmp other runs share.
        format!("TMPDIR={}", jobs_tmp.display()),
    ];

    // Night 1.
    let n1 = night(&module, &vars);
    eprintln!("night 1: {:.1} s", n1.took);
    assert!(n1.ok, "night 1 failed:\n{}", n1.output);
    let run1 = job_log(&module, "crossprobe-run");
    assert_eq!(
        run1.matches("nothing to fix").count(),
        2,
        "doctor --fix found everything in place, in both shards:\n{run1}"
    );
    assert!(!run1.contains("from the cache"), "{run1}");
    assert_eq!(
        run1.matches(&format!("crossprobe {}", env!("CARGO_PKG_VERSION")))
            .count(),
        2,
        "each shard installed the release archive:\n{run1}"
    );
    let report1 = job_log(&module, "crossprobe-report");
    assert!(report1.contains("merged 2 cells from 2 runs"), "{report1}");
    assert!(
        report1.contains("no baseline yet; these results become it"),
        "{report1}"
    );
    let v1 = verdicts(&merged(&module));
    assert_eq!(v1.len(), 2, "{v1:?}");
    assert!(v1.iter().all(|(_, met)| *met), "{v1:?}");
    {
        let a = asked.lock().unwrap();
        assert_eq!(a.len(), 3, "two run jobs and the report asked: {a:?}");
        assert!(
            a.iter().all(|(_, token, found)| *token && !found),
            "with the job token, and found nothing yet: {a:?}"
        );
    }
    // GitLab keeps the successful pipeline's artifacts.
    let kept = module.join(".gitlab-ci-local/artifacts/crossprobe-report/merged");
    std::fs::create_dir_all(last.join("merged")).unwrap();
    std::fs::copy(kept.join("results.json"), last.join("merged/results.json")).unwrap();

    // Night 2: the module regressed on arm64.
    write(&module, "greet/greet_test.go", GREET_TEST_BROKEN);
    commit("greet: break arm64");
    let n2 = night(&module, &vars);
    eprintln!("night 2: {:.1} s", n2.took);
    assert!(!n2.ok, "a regression fails the pipeline:\n{}", n2.output);
    let run2 = job_log(&module, "crossprobe-run");
    assert_eq!(
        run2.matches("from the cache").count(),
        2,
        "crossprobe came from the GitLab cache:\n{run2}"
    );
    assert!(
        n2.output.matches("imported cache").count() >= 4,
        "both shards restored crossprobe and the Go caches:\n{}",
        n2.output
    );
    let report2 = job_log(&module, "crossprobe-report");
    assert!(
        report2.contains("baseline: crossprobe-report of the last successful pipeline"),
        "{report2}"
    );
    assert!(report2.contains("Newly failing"), "{report2}");
    assert!(report2.contains("linux/arm64/cgo0/unit/greet"), "{report2}");
    let diff = std::fs::read_to_string(
        module.join(".gitlab-ci-local/artifacts/crossprobe-report/diff.md"),
    )
    .unwrap();
    assert!(diff.contains("linux/arm64/cgo0/unit/greet"), "{diff}");
    let v2 = verdicts(&merged(&module));
    let failing: Vec<&str> = v2
        .iter()
        .filter(|(_, met)| !met)
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(failing, ["linux/arm64/cgo0/unit/greet"], "{v2:?}");
    let a = asked.lock().unwrap();
    assert_eq!(a.len(), 6, "{a:?}");
    assert!(
        a[3..].iter().all(|(_, token, found)| *token && *found),
        "night 2's jobs had night 1's results (the run jobs to balance their shards): {a:?}"
    );
}
