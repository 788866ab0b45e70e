//! `crossprobe ci github` and `ci gitlab`: the configurations parse as
//! YAML, have the structure their CI requires, cache what a cold runner
//! would rebuild, and pass check-jsonschema's vendored schemas (and, for
//! GitHub, actionlint, with shellcheck on its scripts).

use crate::common::{self, Test};

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const RUNNERS: [&str; 4] = [
    "ubuntu-latest",
    "ubuntu-24.04-arm",
    "macos-14",
    "windows-latest",
];

/// A checkout with the shipped matrices, and the workflow written into it.
fn generate(extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("matrices");
    std::fs::create_dir(&m).unwrap();
    std::fs::copy(
        common::repo().join("matrices/linux-arches.yaml"),
        m.join("linux-arches.yaml"),
    )
    .unwrap();
    let mut args = vec![
        "ci",
        "github",
        "matrices/linux-arches.yaml",
        "--shards",
        "2",
        "--out",
        ".github/workflows/nightly.yml",
    ];
    for r in RUNNERS {
        args.extend(["--runner", r]);
    }
    args.extend_from_slice(extra);
    Test::at(dir.path()).args(&args).run();
    let wf = dir.path().join(".github/workflows/nightly.yml");
    (dir, wf)
}

fn parse(wf: &Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(wf).unwrap()).expect("the workflow is YAML")
}

fn steps(job: &Value) -> &Vec<Value> {
    job["steps"].as_array().expect("a job has steps")
}

fn script(job: &Value) -> String {
    steps(job)
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_workflow_has_the_structure_actions_requires() {
    let (_dir, wf) = generate(&[]);
    let w = parse(&wf);
    assert_eq!(w["on"]["schedule"][0]["cron"], "17 3 * * *");
    assert!(
        w["on"].get("workflow_dispatch").is_some(),
        "it can be started by hand"
    );
    assert_eq!(
        w["permissions"]["actions"], "read",
        "to download last night's artifact"
    );

    let jobs = w["jobs"].as_object().unwrap();
    assert_eq!(
        jobs.keys().collect::<Vec<_>>(),
        ["baseline", "report", "run"]
    );
    for (name, job) in jobs {
        assert!(job["runs-on"].is_string(), "{name}: runs-on");
        for s in steps(job) {
            assert!(
                s.get("uses").is_some() != s.get("run").is_some(),
                "{name}: a step either uses or runs: {s}"
            );
        }
        if let Some(needs) = job.get("needs") {
            let needs: Vec<&str> = match needs {
                Value::String(s) => vec![s.as_str()],
                v => v
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_str().unwrap())
                    .collect(),
            };
            assert!(
                needs.iter().all(|n| jobs.contains_key(*n) && *n != name),
                "{name}: needs {needs:?}"
            );
        }
    }

    // One job per runner and shard.
    let run = &jobs["run"];
    assert_eq!(run["runs-on"], "${{ matrix.runner }}");
    assert_eq!(run["strategy"]["fail-fast"], false);
    assert_eq!(
        run["strategy"]["matrix"]["runner"],
        serde_json::json!(RUNNERS)
    );
    assert_eq!(
        run["strategy"]["matrix"]["shard"],
        serde_json::json!([1, 2])
    );
    assert_eq!(run["env"]["CROSSPROBE_RUNNER"], "${{ matrix.runner }}");
    let s = script(run);
    assert!(
        s.contains("crossprobe doctor matrices/linux-arches.yaml --fix"),
        "{s}"
    );
    assert!(
        s.contains(r#"args=(--shard "$SHARD/2" --retries 1 --no-cache --out reports)"#),
        "{s}"
    );
    assert!(
        s.contains("args+=(--durations baseline/results.json)"),
        "{s}"
    );
    assert!(
        s.contains(r#"crossprobe run matrices/linux-arches.yaml "${args[@]}""#),
        "{s}"
    );
    let upload = steps(run)
        .iter()
        .find(|s| s["uses"] == "actions/upload-artifact@v4")
        .expect("uploads its reports");
    assert_eq!(upload["if"], "always()", "even when cells fail");
    assert_eq!(
        upload["with"]["name"],
        "crossprobe-run-${{ matrix.runner }}-${{ matrix.shard }}"
    );

    // The last job merges every shard, keeps the merge, diffs, summarises.
    let report = &jobs["report"];
    assert_eq!(report["if"], "always()");
    let download = steps(report)
        .iter()
        .find(|s| s["with"]["pattern"].is_string())
        .expect("downloads the shards");
    assert_eq!(download["with"]["pattern"], "crossprobe-run-*");
    let s = script(report);
    assert!(
        s.contains(r#"crossprobe report merge "${files[@]}" --out merged"#),
        "{s}"
    );
    assert!(
        s.contains(
            "crossprobe report diff baseline/results.json merged/results.json --markdown > diff.md"
        ),
        "{s}"
    );
    assert!(
        s.contains(r#"cat diff.md >> "$GITHUB_STEP_SUMMARY""#),
        "{s}"
    );
    let names: Vec<&str> = steps(report)
        .iter()
        .filter_map(|s| s["with"]["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "crossprobe-merged",
            "crossprobe-report-html",
            "crossprobe-merged"
        ],
        "uploads tonight's merge and its report.html alone, downloads last night's"
    );
    // The merged JUnit becomes a check run, through a well-known action
    // that reads it with junitparser (as tests/it/junit_consumers does).
    let publish = steps(report)
        .iter()
        .find(|s| s["uses"] == "EnricoMi/publish-unit-test-result-action@v2")
        .expect("publishes the JUnit");
    assert_eq!(publish["with"]["files"], "merged/junit.xml");
    assert_eq!(publish["with"]["comment_mode"], "off");
    assert_eq!(
        publish["if"],
        "always() && hashFiles('merged/junit.xml') != ''"
    );
    assert_eq!(report["permissions"]["checks"], "write");
    assert!(
        w["permissions"].get("checks").is_none(),
        "only the report job writes checks"
    );
}

/// Each job installs the pinned crossprobe the way a user's repository
/// can: its release archive, checked against its .sha256, else cargo
/// install of that version; cached under the version. Nothing is built
/// from a checkout of crossprobe.
#[test]
fn the_workflow_installs_a_pinned_crossprobe() {
    let (_dir, wf) = generate(&[]);
    let text = std::fs::read_to_string(&wf).unwrap();
    assert!(!text.contains("--path harness"), "{text}");
    let w = parse(&wf);
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(w["env"]["CROSSPROBE_VERSION"], version);
    assert_eq!(
        w["env"]["CROSSPROBE_RELEASES"],
        format!(
            "{}/releases/download",
            env!("CARGO_PKG_REPOSITORY").trim_end_matches('/')
        )
    );
    for job in ["run", "report"] {
        let j = &w["jobs"][job];
        let cache = steps(j)
            .iter()
            .find(|s| s["with"]["path"] == "~/.crossprobe\n")
            .unwrap_or_else(|| panic!("{job}: no cache of crossprobe"));
        assert_eq!(
            cache["with"]["key"],
            format!("crossprobe-{version}-${{{{ runner.os }}}}-${{{{ runner.arch }}}}")
        );
        let s = script(j);
        for want in [
            r#"url="$CROSSPROBE_RELEASES/v$CROSSPROBE_VERSION/crossprobe-$triple.tar.gz""#,
            r#"if [ "${got%% *}" != "$want" ]; then"#,
            r#"cargo install crossprobe --locked --version "$CROSSPROBE_VERSION" --root "$CROSSPROBE_HOME""#,
            r#"echo "$bin" >> "$GITHUB_PATH""#,
        ] {
            assert!(s.contains(want), "{job}: {want}\n{s}");
        }
    }
    // A version of one's choosing, or one's own command.
    let (_dir, wf) = generate(&["--crossprobe-version", "9.9.9"]);
    assert_eq!(parse(&wf)["env"]["CROSSPROBE_VERSION"], "9.9.9");
    let (_dir, wf) = generate(&["--install", "make install-crossprobe"]);
    let w = parse(&wf);
    assert!(w["env"].get("CROSSPROBE_VERSION").is_none());
    assert!(script(&w["jobs"]["run"]).contains("make install-crossprobe"));
}

/// The run job's actions/cache step keeps what a cold runner rebuilds,
/// keyed on the Go version, the runner and the shard's families.
#[test]
fn the_workflow_caches_what_a_cold_runner_rebuilds() {
    let (_dir, wf) = generate(&[]);
    let w = parse(&wf);
    let run = &w["jobs"]["run"];
    let cache = steps(run)
        .iter()
        .find(|s| {
            s["uses"] == "actions/cache@v4"
                && s["with"]["path"].as_str().unwrap().contains("go-build")
        })
        .expect("a cache step for Go and crossprobe");
    let paths = cache["with"]["path"].as_str().unwrap();
    for p in [
        "go-build",
        "go-mod",
        "xdg/crossprobe/builds",
        "xdg/crossprobe/zig",
    ] {
        assert!(
            paths.contains(&format!("${{{{ env.CROSSPROBE_CI_CACHE }}}}/{p}\n")),
            "{paths}"
        );
    }
    assert!(
        !paths.contains("results"),
        "no result cache by default: {paths}"
    );
    assert_eq!(cache["with"]["key"], "${{ steps.cache-key.outputs.key }}");
    assert_eq!(
        cache["with"]["restore-keys"],
        "${{ steps.cache-key.outputs.families }}-\n${{ steps.cache-key.outputs.runner }}-\n"
    );
    let s = script(run);
    for want in [
        r#"echo "GOCACHE=$root/go-build""#,
        r#"echo "XDG_CACHE_HOME=$root/xdg""#,
        r#"crossprobe plan matrices/linux-arches.yaml "${plan[@]}" | grep '"family":'"#,
        r#"runner="crossprobe-$(go env GOVERSION)-$CROSSPROBE_RUNNER-$RUNNER_ARCH""#,
    ] {
        assert!(s.contains(want), "{want}\n{s}");
    }
    let names: Vec<&str> = steps(run)
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    let at = |n: &str| names.iter().position(|x| x.starts_with(n)).unwrap();
    assert!(at("Last run's durations") < at("Where the caches live"));
    assert!(at("Warm caches") < at("Set up the runner"));

    let (_dir, wf) = generate(&["--result-cache"]);
    let w = parse(&wf);
    let s = script(&w["jobs"]["run"]);
    assert!(!s.contains("--no-cache"), "{s}");
    assert!(std::fs::read_to_string(&wf)
        .unwrap()
        .contains("xdg/crossprobe/results"));
}

fn check_jsonschema(schema: &str, file: &Path) {
    let out = Command::new("check-jsonschema")
        .args(["--builtin-schema", schema])
        .arg(file)
        .output()
        .expect(
            "check-jsonschema is missing: scripts/setup installs it (pip install check-jsonschema)",
        );
    assert!(
        out.status.success(),
        "check-jsonschema --builtin-schema {schema}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_workflow_passes_githubs_schema() {
    let (_dir, wf) = generate(&["--result-cache"]);
    check_jsonschema("vendor.github-workflows", &wf);
}

/// A checkout with the shipped matrices, and .gitlab-ci.yml written into it.
fn generate_gitlab(extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("matrices");
    std::fs::create_dir(&m).unwrap();
    for f in ["linux-arches.yaml", "quick.yaml"] {
        std::fs::copy(common::repo().join("matrices").join(f), m.join(f)).unwrap();
    }
    let mut args = vec![
        "ci",
        "gitlab",
        "matrices/linux-arches.yaml",
        "matrices/quick.yaml",
        "--out",
        ".gitlab-ci.yml",
    ];
    args.extend_from_slice(extra);
    Test::at(dir.path()).args(&args).run();
    let f = dir.path().join(".gitlab-ci.yml");
    (dir, f)
}

fn lines(v: &Value) -> String {
    v.as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_gitlab_pipeline_passes_its_schema_and_runs_each_tag_and_shard() {
    let (_dir, f) = generate_gitlab(&[
        "--shards",
        "2",
        "--tag",
        "linux-amd64",
        "--tag",
        "linux-arm64",
        "--image",
        "registry.example.com/go:1.26",
    ]);
    check_jsonschema("vendor.gitlab-ci", &f);
    let p = parse(&f);
    let run = &p["crossprobe-run"];
    assert_eq!(
        run["parallel"]["matrix"][0],
        serde_json::json!({"SHARD": ["1", "2"], "RUNNER_TAG": ["linux-amd64", "linux-arm64"]})
    );
    assert_eq!(run["tags"], serde_json::json!(["$RUNNER_TAG"]));
    assert_eq!(run["artifacts"]["when"], "always");
    assert_eq!(run["artifacts"]["reports"]["junit"], "shards/*/*/junit.xml");
    assert_eq!(p[".crossprobe"]["image"], "registry.example.com/go:1.26");
    let before = lines(&p[".crossprobe"]["before_script"]);
    assert!(!before.contains("--path harness"), "{before}");
    assert!(
        before.contains(r#"export CROSSPROBE_HOME="$PWD/.crossprobe-install""#),
        "{before}"
    );
    assert!(
        before.contains(
            r#"url="$CROSSPROBE_RELEASES/v$CROSSPROBE_VERSION/crossprobe-$triple.tar.gz""#
        ),
        "{before}"
    );
    assert_eq!(
        p["variables"]["CROSSPROBE_VERSION"],
        env!("CARGO_PKG_VERSION")
    );
    assert!(
        before.contains(r#"--header "JOB-TOKEN: $CI_JOB_TOKEN""#),
        "{before}"
    );
    assert!(
        before.contains("$CI_API_V4_URL/projects/$CI_PROJECT_ID/jobs/artifacts/$ref/raw/merged/results.json?job=crossprobe-report"),
        "{before}"
    );
    let s = lines(&run["script"]);
    assert!(
        s.contains(
            r#"args=(--shard "$SHARD/2" --retries 1 --no-cache --out "shards/$RUNNER_TAG-$SHARD")"#
        ),
        "{s}"
    );
    assert!(
        s.contains("crossprobe run matrices/linux-arches.yaml matrices/quick.yaml"),
        "{s}"
    );
    // The same caches as the GitHub workflow's, keyed so that no key holds
    // a '/' (GitLab refuses one).
    let caches = run["cache"].as_array().unwrap();
    let go = caches
        .iter()
        .find(|c| lines(&c["paths"]).contains("go-build"))
        .expect("a cache for Go and crossprobe");
    assert_eq!(
        lines(&go["paths"]),
        ".crossprobe-cache/go-build\n.crossprobe-cache/go-mod\n.crossprobe-cache/xdg/crossprobe/builds\n.crossprobe-cache/xdg/crossprobe/zig"
    );
    let install = caches
        .iter()
        .find(|c| lines(&c["paths"]) == ".crossprobe-install/")
        .expect("a cache for crossprobe itself");
    assert_eq!(install["key"], "crossprobe-$CROSSPROBE_VERSION-$RUNNER_TAG");
    assert_eq!(install["when"], "always");
    let key = go["key"].as_str().unwrap();
    assert_eq!(
        key,
        "crossprobe-registry.example.com-go-1.26-$RUNNER_TAG-2-$SHARD-$CI_COMMIT_REF_SLUG"
    );
    assert!(go["fallback_keys"][0]
        .as_str()
        .unwrap()
        .ends_with("-$CI_DEFAULT_BRANCH"));
    // Used through a link whose path stays when the checkout's names
    // another concurrent slot; before doctor, which makes the wine prefix.
    let script = run["script"].as_array().unwrap();
    let link = script[0].as_str().unwrap();
    for want in [
        r#"ln -s "$PWD/.crossprobe-cache" "$root""#,
        r#"export GOCACHE="$root/go-build" GOMODCACHE="$root/go-mod" XDG_CACHE_HOME="$root/xdg""#,
    ] {
        assert!(link.contains(want), "{want}\n{link}");
    }
    assert!(!link.contains("CI_CONCURRENT"), "{link}");
    assert!(script[1].as_str().unwrap().starts_with("crossprobe doctor"));
    assert!(p["variables"].get("GOCACHE").is_none());

    let report = &p["crossprobe-report"];
    assert_eq!(report["needs"], serde_json::json!(["crossprobe-run"]));
    assert_eq!(report["when"], "always");
    let s = lines(&report["script"]);
    assert!(
        s.contains(r#"crossprobe report merge "${files[@]}" --out merged"#),
        "{s}"
    );
    assert!(
        s.contains(
            "crossprobe report diff baseline/results.json merged/results.json --markdown > diff.md"
        ),
        "{s}"
    );
    assert!(lines(&report["artifacts"]["paths"]).contains("merged/"));
}

#[test]
fn the_gitlab_pipeline_without_tags_passes_its_schema() {
    let (_dir, f) = generate_gitlab(&["--result-cache"]);
    check_jsonschema("vendor.gitlab-ci", &f);
    let p = parse(&f);
    let run = &p["crossprobe-run"];
    assert!(run.get("tags").is_none());
    assert_eq!(
        run["parallel"]["matrix"][0],
        serde_json::json!({"SHARD": ["1"]})
    );
    assert!(!lines(&run["script"]).contains("--no-cache"));
}

#[test]
fn bad_gitlab_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("m")).unwrap();
    std::fs::copy(
        common::repo().join("matrices/quick.yaml"),
        dir.path().join("m/quick.yaml"),
    )
    .unwrap();
    let e = Test::at(dir.path())
        .args(["ci", "gitlab", "m/quick.yaml", "--tag", "a", "--tag", "a"])
        .refuse();
    insta::assert_snapshot!("gitlab_tag_twice", e);
}

fn actionlint() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    ["/usr/local/bin/actionlint".into(), home.join("go/bin/actionlint")]
        .into_iter()
        .find(|p: &PathBuf| p.is_file())
        .expect("actionlint is missing: scripts/setup installs it (go install github.com/rhysd/actionlint/cmd/actionlint)")
}

#[test]
fn actionlint_passes() {
    let (dir, wf) = generate(&["--cron", "0 2 * * 1-5", "--name", "cross: nightly"]);
    let out = Command::new(actionlint())
        .args(["-no-color", "-oneline"])
        .arg(&wf)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(parse(&wf)["name"], "cross: nightly");
}

#[test]
fn bad_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("m")).unwrap();
    std::fs::copy(
        common::repo().join("matrices/quick.yaml"),
        dir.path().join("m/quick.yaml"),
    )
    .unwrap();
    let refuse = |args: &[&str]| Test::at(dir.path()).args(args).refuse();
    let e = refuse(&["ci", "github", "m/quick.yaml", "--runner", "ubuntu latest"]);
    insta::assert_snapshot!("bad_runner", e);
    let abs = dir.path().join("m/quick.yaml");
    let e = refuse(&[
        "ci",
        "github",
        abs.to_str().unwrap(),
        "--runner",
        "ubuntu-latest",
    ]);
    assert!(e.contains("must be relative to the"), "{e}");
    let e = refuse(&[
        "ci",
        "github",
        "m/missing.yaml",
        "--runner",
        "ubuntu-latest",
    ]);
    assert!(e.contains("cannot read m/missing.yaml"), "{e}");
    let e = refuse(&["ci", "github", "m/quick.yaml"]);
    assert!(e.contains("--runner <LABEL>"), "{e}");
}
