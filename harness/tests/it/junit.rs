//! The JUnit reporter: its output must validate against Jenkins' schema, read
//! back the same through python's junitparser, and be the same bytes for the
//! same results.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command as Process;

use crossprobe::model::{
    Captured, Cell, CellResult, Command, Exit, Expectation, Host, Lang, Outcome, Phase, PhaseName,
    Results, Runner, Verdict,
};
use crossprobe::report::junit;
use serde::Deserialize;
use serde_json::json;

const NASTY: &str = "cdata ]]> nul \u{0} ansi \u{1b}[31mred\u{1b}[0m fffe \u{FFFE} ffff \u{FFFF} \
                     xml <&>\"' bad utf-8 \u{FFFD}\u{FFFD} c1 \u{85} cr \r tab \t";
/// NASTY as a parser reads it back: forbidden characters become U+FFFD.
const NASTY_READ: &str =
    "cdata ]]> nul \u{FFFD} ansi \u{FFFD}[31mred\u{FFFD}[0m fffe \u{FFFD} ffff \u{FFFD} \
                          xml <&>\"' bad utf-8 \u{FFFD}\u{FFFD} c1 \u{85} cr \r tab \t";

fn cell(goos: &str, goarch: &str, rest: &str) -> Cell {
    Cell {
        id: format!("{goos}/{goarch}/{rest}"),
        slug: format!("{goos}-{goarch}-{rest}").replace(['/', '='], "-"),
        matrix: "hello".into(),
        probe: "hello".into(),
        lang: Lang::Go,
        goos: goos.into(),
        goarch: goarch.into(),
        go: "local".into(),
        cgo: "0".into(),
        ldflags: String::new(),
        tags: String::new(),
        flags: String::new(),
        cc: "auto".into(),
        buildmode: "exe".into(),
        env: BTreeMap::new(),
        runner: Runner::Native,
        expect: Expectation::default(),
        ..Cell::default()
    }
}

fn result(cell: Cell, outcome: Outcome, met: bool, message: &str) -> CellResult {
    CellResult {
        cell,
        outcome,
        reason: None,
        verdict: Verdict {
            met,
            message: message.into(),
        },
        facts: BTreeMap::new(),
        phases: Vec::new(),
        duration_ms: 1234,
        dir: None,
        cached: false,
        build_of: None,
        attempts: Vec::new(),
        ran_on: None,
        sandboxed: None,
        tests: Vec::new(),
        missing: None,
        not_run: None,
        key: None,
    }
}

fn captured(text: &str) -> Captured {
    Captured {
        text: text.into(),
        bytes: text.len() as u64,
        dropped: 0,
    }
}

fn command(argv: &[&str], stdout: &str, stderr: &str) -> Command {
    Command {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        env: BTreeMap::new(),
        cwd: None,
        exit: Exit {
            code: Some(0),
            ..Exit::default()
        },
        duration_ms: 10,
        stdout: captured(stdout),
        stderr: captured(stderr),
        sandboxed: false,
        peak_memory_kib: None,
    }
}

fn phase(name: PhaseName, commands: Vec<Command>) -> Phase {
    Phase {
        name,
        duration_ms: 10,
        commands,
    }
}

fn build(goarch: &str) -> Command {
    let mut c = command(&["go", "build", "-o", "hello", "."], "", "");
    c.env = [("GOOS", "linux"), ("GOARCH", goarch)]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into();
    c
}

fn results(cells: Vec<CellResult>) -> Results {
    Results {
        schema: crossprobe::model::SCHEMA_VERSION,
        crossprobe_version: "0.1.0".into(),
        matrices: vec!["hello".into()],
        started_at: "2025-01-02T03:04:05Z".into(),
        duration_ms: 61_500,
        host: Host {
            goos: "linux".into(),
            goarch: "amd64".into(),
            kernel: "6.1".into(),
            cpu: "test".into(),
            runner: "ci-1".into(),
        },
        tools: BTreeMap::new(),
        interrupted: true,
        cells,
        perf: None,
        shard: None,
        merged_from: Vec::new(),
        estimate: None,
        env_dropped: Vec::new(),
        env_passed: Vec::new(),
    }
}

/// One cell of every kind the reporter must tell apart, and output that
/// tries to break the XML.
fn every_kind() -> Results {
    let mut cells = Vec::new();

    let mut pass = result(
        cell("linux", "amd64", "cgo0/hello"),
        Outcome::Pass,
        true,
        "passed",
    );
    pass.facts.insert("probe.ptr_size".into(), json!(8));
    pass.facts.insert("probe.goos".into(), json!("linux"));
    pass.phases = vec![
        phase(PhaseName::Build, vec![build("amd64")]),
        phase(
            PhaseName::Run,
            vec![command(&["./hello"], "CROSSPROBE {\"ptr_size\":8}\n", "")],
        ),
    ];
    cells.push(pass);

    let mut xfail = cell("linux", "arm", "GOARM=5/cgo1/hello");
    xfail.env.insert("GOARM".into(), "5".into());
    xfail.cgo = "1".into();
    xfail.expect = Expectation {
        outcome: Outcome::BuildFail,
        r#match: Some("unrecognized".into()),
        reason: Some("https://go.dev/issue/12345".into()),
        source: Some("matrices/hello.yaml:12".into()),
        ..Expectation::default()
    };
    let mut xfail = result(xfail, Outcome::BuildFail, true, "build failed, as expected");
    xfail.reason = Some("gcc: error: unrecognized option '-marm'".into());
    xfail.phases = vec![phase(
        PhaseName::Build,
        vec![command(
            &["go", "build"],
            "",
            "gcc: error: unrecognized option '-marm'\n",
        )],
    )];
    cells.push(xfail);

    let mut upass = cell("windows", "arm64", "cgo0/hello");
    upass.expect.outcome = Outcome::BuildFail;
    cells.push(result(
        upass,
        Outcome::Pass,
        false,
        "expected build-fail, got pass",
    ));

    let mut bfail = result(
        cell("linux", "mips", "cgo0/hello"),
        Outcome::BuildFail,
        false,
        "expected pass, got build-fail",
    );
    bfail.reason = Some("./main.go:3:2: undefined: x\nmore detail".into());
    bfail.phases = vec![phase(
        PhaseName::Build,
        vec![command(
            &["go", "build", "-ldflags=-s -w"],
            "",
            "./main.go:3:2: undefined: x\n",
        )],
    )];
    cells.push(bfail);

    let mut rfail = cell("linux", "riscv64", "cgo0/hello");
    rfail.runner = Runner::Qemu {
        binary: "qemu-riscv64".into(),
        cpu: None,
    };
    let mut rfail = result(
        rfail,
        Outcome::RunFail,
        false,
        "expected pass, got run-fail",
    );
    rfail.reason = Some("SIGILL: illegal instruction".into());
    let mut run = command(
        &["qemu-riscv64", "./hello"],
        "",
        "SIGILL: illegal instruction\n",
    );
    run.exit = Exit {
        code: None,
        signal: Some("SIGILL".into()),
        ..Exit::default()
    };
    rfail.phases = vec![phase(PhaseName::Run, vec![run])];
    cells.push(rfail);

    let mut timeout = cell("windows", "amd64", "cgo0/hello");
    timeout.runner = Runner::Wine {
        binary: "wine64".into(),
    };
    let mut timeout = result(
        timeout,
        Outcome::Timeout,
        false,
        "expected pass, got timeout",
    );
    timeout.reason = Some("timed out after 60s".into());
    cells.push(timeout);

    let mut skip = cell("plan9", "amd64", "cgo0/hello");
    skip.runner = Runner::None {
        reason: "no runner for plan9/amd64".into(),
        missing: None,
    };
    cells.push(result(skip, Outcome::Skip, true, "skipped"));

    let mut interrupted = result(
        cell("linux", "s390x", "cgo0/hello"),
        Outcome::Interrupted,
        false,
        "interrupted before it finished",
    );
    interrupted.reason = Some("interrupted during the build".into());
    cells.push(interrupted);

    // Built and inspected; no runner for its target can exist here.
    let mut built = cell("ios", "arm64", "cgo0/hello");
    built.runner = Runner::None {
        reason: "no runner for ios/arm64 on linux/amd64".into(),
        missing: None,
    };
    let mut built = result(built, Outcome::Skip, true, "skipped: no runner");
    built.reason = Some("no runner for ios/arm64 on linux/amd64".into());
    built.phases = vec![
        phase(PhaseName::Build, vec![build("arm64")]),
        phase(PhaseName::Inspect, Vec::new()),
        phase(PhaseName::Run, Vec::new()),
    ];
    cells.push(built);

    // From the result cache: its time is the original run's.
    let mut cached = result(
        cell("netbsd", "amd64", "cgo0/hello"),
        Outcome::Pass,
        true,
        "passed",
    );
    cached.cached = true;
    cached.duration_ms = 4321;
    cells.push(cached);

    let mut nested = result(
        cell("linux", "386", "cgo0/hello"),
        Outcome::Pass,
        true,
        "passed",
    );
    nested
        .facts
        .insert("binary.sections".into(), json!([".text", ".data"]));
    nested.facts.insert(
        "probe.env".into(),
        json!({"GOARM": "5", "n": null, "deep": {"x": [1, 2.5, true]}}),
    );
    nested.facts.insert("probe.nasty".into(), json!(NASTY));
    cells.push(nested);

    let mut nasty = cell("linux", "ppc64le", "cgo0/nasty");
    nasty.expect.reason = Some(NASTY.into());
    let mut nasty = result(nasty, Outcome::RunFail, false, NASTY);
    nasty.reason = Some(NASTY.into());
    nasty.phases = vec![phase(
        PhaseName::Run,
        vec![command(&["./nasty", NASTY], NASTY, NASTY)],
    )];
    cells.push(nasty);

    let big: String = (0..1 << 20)
        .map(|i| if i % 64 == 63 { '\n' } else { 'x' })
        .collect();
    let mut huge = result(
        cell("linux", "arm64", "cgo0/huge"),
        Outcome::Pass,
        true,
        "passed",
    );
    huge.phases = vec![phase(
        PhaseName::Run,
        vec![command(&["./huge"], &format!("first\n{big}last\n"), &big)],
    )];
    cells.push(huge);

    for goos in [
        "aix",
        "android",
        "darwin",
        "dragonfly",
        "freebsd",
        "illumos",
    ] {
        for goarch in ["386", "amd64", "arm", "arm64", "loong64", "mips64le"] {
            let c = cell(goos, goarch, "cgo0/hello");
            cells.push(result(c, Outcome::Pass, true, "passed"));
        }
    }
    results(cells)
}

/// What python's junitparser reads back.
#[derive(Debug, Deserialize)]
struct Doc {
    name: String,
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: Option<usize>,
    suites: Vec<Suite>,
}

#[derive(Debug, Deserialize)]
struct Suite {
    name: String,
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    time: f64,
    timestamp: String,
    hostname: String,
    properties: Vec<(String, String)>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    classname: String,
    time: f64,
    result: Vec<CaseResult>,
    out: Option<String>,
    err: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CaseResult {
    kind: String,
    message: Option<String>,
    r#type: Option<String>,
    text: Option<String>,
}

impl Doc {
    fn case(&self, suite: &str, name: &str) -> &Case {
        let s = self.suites.iter().find(|s| s.name == suite).unwrap();
        s.cases.iter().find(|c| c.name == name).unwrap()
    }

    fn property(&self, suite: &str, name: &str) -> Option<&str> {
        let s = self.suites.iter().find(|s| s.name == suite).unwrap();
        let p = s.properties.iter().find(|(n, _)| n == name)?;
        Some(&p.1)
    }
}

const READ_BACK: &str = r#"
import json, sys
from junitparser import JUnitXml

xml = JUnitXml.fromfile(sys.argv[1])
doc = {k: getattr(xml, k) for k in ("name", "tests", "failures", "errors", "skipped")}
doc["suites"] = []
for s in xml:
    suite = {k: getattr(s, k) for k in
             ("name", "tests", "failures", "errors", "skipped", "time", "timestamp", "hostname")}
    suite["properties"] = [[p.name, p.value] for p in s.properties()]
    suite["cases"] = [{
        "name": c.name, "classname": c.classname, "time": c.time,
        "result": [{"kind": type(r).__name__, "message": r.message, "type": r.type, "text": r.text}
                   for r in c.result],
        "out": c.system_out, "err": c.system_err,
    } for c in s]
    doc["suites"].append(suite)
json.dump(doc, sys.stdout)
"#;

fn schema() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // shared/ sits next to the main checkout; a worktree is one level deeper.
    here.ancestors()
        .map(|dir| dir.join("shared/schemas/jenkins-junit-10.xsd"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no shared/schemas/jenkins-junit-10.xsd above {}",
                here.display()
            )
        })
}

fn run(program: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = Process::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (is it installed?): {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{program} failed: {}\n{stderr}",
        out.status
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Validates `results`' report against the schema and reads it back.
fn check(results: &Results) -> Doc {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    let file = std::fs::File::create(&path).unwrap();
    junit::write(results, std::io::BufWriter::new(file)).unwrap();

    let schema = schema();
    run(
        "xmllint",
        &[
            "--noout".as_ref(),
            "--schema".as_ref(),
            schema.as_os_str(),
            path.as_os_str(),
        ],
    );
    let json = run(
        "python3",
        &["-c".as_ref(), READ_BACK.as_ref(), path.as_os_str()],
    );
    serde_json::from_str(&json).unwrap()
}

#[test]
fn every_kind_of_cell_validates_and_reads_back() {
    let results = every_kind();
    let doc = check(&results);

    let n = results.cells.len();
    // Failures: the unexpected pass, build-fail, run-fail, timeout and
    // nasty cells; the error: the interrupted one; skips: the plan9 skip,
    // the expected failure and the built one.
    assert_eq!(
        (doc.tests, doc.failures, doc.errors, doc.skipped),
        (n, 5, 1, Some(3))
    );
    // The summary's count of the report, from the same testcases.
    let c = junit::counts(&results.cells);
    assert_eq!(
        (
            c.tests,
            c.failures,
            c.errors,
            c.skipped,
            c.expected_failures,
            c.built
        ),
        (n, 5, 1, 3, 1, 1)
    );
    assert_eq!(doc.name, "crossprobe hello");
    let suites: Vec<_> = doc.suites.iter().map(|s| s.name.as_str()).collect();
    let mut sorted = suites.clone();
    sorted.sort();
    assert_eq!(suites, sorted);
    assert_eq!(suites.len(), n);

    for s in &doc.suites {
        let count = |kind: &str| {
            let hits = s
                .cases
                .iter()
                .filter(|c| c.result.iter().any(|r| r.kind == kind));
            hits.count()
        };
        assert_eq!(s.tests, s.cases.len(), "{}", s.name);
        assert_eq!(s.failures, count("Failure"), "{}", s.name);
        assert_eq!(s.skipped, count("Skipped"), "{}", s.name);
        assert_eq!(s.errors, count("Error"), "{}", s.name);
        assert_eq!(
            (s.timestamp.as_str(), s.hostname.as_str()),
            ("2025-01-02T03:04:05Z", "ci-1")
        );
        let want = if s.name == "netbsd/amd64" {
            4.321
        } else {
            1.234
        };
        assert_eq!(s.time, want, "{}", s.name);
        let (goos, goarch) = s.name.split_once('/').unwrap();
        // Names unique in the file: xunitparser refuses a name twice.
        assert!(
            s.properties.iter().all(|(k, _)| k.starts_with(&s.name)),
            "{:?}",
            s.properties
        );
        for c in &s.cases {
            assert_eq!(c.classname, format!("crossprobe.hello.{goos}.{goarch}"));
            assert_eq!(c.time, want);
        }
    }

    let pass = doc.case("linux/amd64", "cgo0/hello");
    assert!(pass.result.is_empty());
    // Facts, axes and runners are results.json's: GitLab refuses a JUnit of
    // too many XML objects.
    for k in [
        "probe.ptr_size",
        "probe.goos",
        "runner",
        "ldflags",
        "reason",
        "goos",
        "expected",
    ] {
        assert_eq!(
            doc.property("linux/amd64", &format!("linux/amd64/cgo0/hello: {k}")),
            None,
            "{k}"
        );
    }
    assert_eq!(
        pass.out.as_deref(),
        Some("$ GOARCH=amd64 GOOS=linux go build -o hello .\n$ ./hello\nCROSSPROBE {\"ptr_size\":8}\n")
    );
    assert_eq!(pass.err, None, "no command wrote to stderr");

    // pytest's way: an expected failure is a skip of type pytest.xfail,
    // with the reason as its message, and what happened as its text.
    let xfail = "GOARM=5/cgo1/hello";
    let x = &doc.case("linux/arm", xfail).result[0];
    assert_eq!(
        (x.kind.as_str(), x.r#type.as_deref(), x.message.as_deref()),
        (
            "Skipped",
            Some("pytest.xfail"),
            Some("expected failure (build-fail): https://go.dev/issue/12345")
        )
    );
    assert_eq!(
        x.text.as_deref(),
        Some("build failed, as expected\ngcc: error: unrecognized option '-marm'\nexpectation: matrices/hello.yaml:12\n$ go build\n")
    );
    let prop = |k: &str| doc.property("linux/arm", &format!("linux/arm/{xfail}: {k}"));
    assert_eq!(prop("expected"), Some("build-fail"));
    assert_eq!(prop("reason"), Some("https://go.dev/issue/12345"));
    assert_eq!(prop("outcome"), None);
    assert_eq!(prop("GOARM"), None);

    let upass = &doc.case("windows/arm64", "cgo0/hello").result[0];
    assert_eq!(upass.kind, "Failure");
    assert_eq!(
        upass.message.as_deref(),
        Some("expected build-fail, got pass")
    );
    assert_eq!(upass.r#type.as_deref(), Some("pass"));

    let bfail = &doc.case("linux/mips", "cgo0/hello").result[0];
    assert_eq!(
        bfail.message.as_deref(),
        Some("./main.go:3:2: undefined: x")
    );
    assert_eq!(bfail.r#type.as_deref(), Some("build-fail"));
    assert_eq!(
        bfail.text.as_deref(),
        Some("expected pass, got build-fail\n./main.go:3:2: undefined: x\nmore detail\n$ go build '-ldflags=-s -w'\n")
    );

    let rfail = &doc.case("linux/riscv64", "cgo0/hello").result[0];
    assert_eq!(
        rfail.message.as_deref(),
        Some("SIGILL: illegal instruction")
    );
    assert_eq!(rfail.r#type.as_deref(), Some("run-fail"));

    let timeout = &doc.case("windows/amd64", "cgo0/hello").result[0];
    assert_eq!(timeout.r#type.as_deref(), Some("timeout"));
    assert_eq!(timeout.message.as_deref(), Some("timed out after 60s"));

    let skip = &doc.case("plan9/amd64", "cgo0/hello").result[0];
    assert_eq!(skip.kind, "Skipped");
    assert_eq!(skip.r#type.as_deref(), Some("skip"));
    assert_eq!(skip.message.as_deref(), Some("no runner for plan9/amd64"));

    let built = &doc.case("ios/arm64", "cgo0/hello").result[0];
    assert_eq!(
        (
            built.kind.as_str(),
            built.r#type.as_deref(),
            built.message.as_deref()
        ),
        (
            "Skipped",
            Some("built"),
            Some("built, not run: no runner for ios/arm64 on linux/amd64")
        )
    );

    // A CI job killed at its time limit: an error, never a skip.
    let interrupted = &doc.case("linux/s390x", "cgo0/hello").result[0];
    assert_eq!(interrupted.kind, "Error");
    assert_eq!(interrupted.r#type.as_deref(), Some("interrupted"));
    assert_eq!(
        interrupted.message.as_deref(),
        Some("interrupted during the build: the run was stopped (Ctrl-C or SIGTERM)")
    );

    let cached = doc.case("netbsd/amd64", "cgo0/hello");
    assert!(cached.result.is_empty());
    assert_eq!(
        cached.out.as_deref(),
        Some("crossprobe: CACHED: the result of an earlier run, reused; its time (4.321s) is what that run took (--no-cache runs it again)\n")
    );
    assert_eq!(
        doc.property("netbsd/amd64", "netbsd/amd64/cgo0/hello: cached"),
        Some("true")
    );

    assert!(doc
        .suites
        .iter()
        .find(|s| s.name == "linux/386")
        .unwrap()
        .properties
        .is_empty());

    let nasty = doc.case("linux/ppc64le", "cgo0/nasty");
    let failure = &nasty.result[0];
    assert_eq!(failure.message.as_deref(), Some(NASTY_READ.trim()));
    assert!(failure
        .text
        .as_deref()
        .unwrap()
        .starts_with(&format!("{NASTY_READ}\n{NASTY_READ}\n")));
    let header = format!("$ ./nasty '{}'\n", NASTY_READ.replace('\'', r"'\''"));
    assert_eq!(
        nasty.out.as_deref(),
        Some(format!("{header}{NASTY_READ}\n").as_str())
    );
    assert_eq!(
        nasty.err.as_deref(),
        Some(format!("{header}{NASTY_READ}\n").as_str())
    );
    assert_eq!(
        doc.property("linux/ppc64le", "linux/ppc64le/cgo0/nasty: reason"),
        Some(NASTY_READ)
    );

    let huge = doc.case("linux/arm64", "cgo0/huge");
    for (log, first) in [(&huge.out, "first\n"), (&huge.err, "xxx")] {
        let log = log.as_deref().unwrap();
        assert!(log.len() <= junit::OUTPUT_CAP, "{}", log.len());
        assert!(log.starts_with(&format!("$ ./huge\n{first}")));
        let marker = log.lines().find(|l| l.starts_with("[... ")).unwrap();
        let cut: usize = marker
            .strip_prefix("[... ")
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(cut > (1 << 20) - junit::OUTPUT_CAP, "{marker}");
    }
    assert!(huge.out.as_deref().unwrap().ends_with("x\nlast\n"));
}

#[test]
fn unmet_verdict_is_a_failure_with_its_message() {
    let mut r = result(
        cell("linux", "arm64", "cgo0/hello"),
        Outcome::Pass,
        false,
        "expected run-fail, got pass",
    );
    r.cell.expect.outcome = Outcome::RunFail;
    r.phases = vec![phase(
        PhaseName::Run,
        vec![command(&["./hello"], "ok\n", "")],
    )];
    let doc = check(&results(vec![r]));

    assert_eq!((doc.tests, doc.failures), (1, 1));
    let failure = &doc.case("linux/arm64", "cgo0/hello").result;
    assert_eq!(failure.len(), 1);
    assert_eq!(failure[0].kind, "Failure");
    assert_eq!(
        failure[0].message.as_deref(),
        Some("expected run-fail, got pass")
    );
    assert_eq!(failure[0].r#type.as_deref(), Some("pass"));
    assert_eq!(
        failure[0].text.as_deref(),
        Some("expected run-fail, got pass\n$ ./hello\n")
    );
}

#[test]
fn an_unexpected_skip_is_a_failure() {
    let mut skip = cell("linux", "loong64", "cgo0/hello");
    skip.runner = Runner::None {
        reason: "no qemu-loongarch64".into(),
        missing: None,
    };
    let mut r = result(skip, Outcome::Skip, false, "expected pass, got skip");
    r.reason = Some("no qemu-loongarch64".into());
    let doc = check(&results(vec![r]));
    assert_eq!((doc.failures, doc.suites[0].skipped), (1, 0));
}

#[test]
fn cells_of_two_matrices_keep_their_properties_apart() {
    let mut a = result(
        cell("linux", "arm", "cgo0/hello"),
        Outcome::Pass,
        true,
        "ok",
    );
    a.cell.expect.reason = Some("a's".into());
    let mut b = a.clone();
    b.cell.matrix = "cgo.v2".into();
    b.cell.expect.reason = Some("b's".into());
    let doc = check(&results(vec![a, b]));

    assert_eq!(
        doc.property("linux/arm", "hello:linux/arm/cgo0/hello: reason"),
        Some("a's")
    );
    assert_eq!(
        doc.property("linux/arm", "cgo.v2:linux/arm/cgo0/hello: reason"),
        Some("b's")
    );
    let classes: Vec<_> = doc.suites[0]
        .cases
        .iter()
        .map(|c| c.classname.as_str())
        .collect();
    assert_eq!(
        classes,
        ["crossprobe.cgo_v2.linux.arm", "crossprobe.hello.linux.arm"]
    );
}

#[test]
fn an_empty_run_validates() {
    let doc = check(&results(Vec::new()));
    assert_eq!((doc.tests, doc.suites.len()), (0, 0));
}

#[test]
fn same_results_same_bytes() {
    let results = every_kind();
    let first = junit::to_string(&results);
    assert_eq!(first, junit::to_string(&results));

    let mut written = Vec::new();
    junit::write(&results, &mut written).unwrap();
    assert_eq!(first.as_bytes(), written);

    // Workers finish cells in any order; the report must not show it.
    let mut shuffled = results.clone();
    shuffled.cells.reverse();
    shuffled.cells.rotate_left(7);
    assert_eq!(first, junit::to_string(&shuffled));
}

/// XML objects as GitLab counts them against its 250,000 limit, taken
/// generously: every element, every attribute, every text node (the
/// indentation's too).
fn xml_objects(xml: &str) -> usize {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(xml);
    let mut n = 0;
    loop {
        match r.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => n += 1 + e.attributes().count(),
            Event::Text(_) | Event::CData(_) | Event::Decl(_) => n += 1,
            Event::Eof => return n,
            _ => {}
        }
    }
}

/// A merged fleet: two runners ran the same `n` cells each. Every
/// `failing`th cell fails with a `log`-byte stderr, every 25th is skipped,
/// every 50th is flaky; all carry facts, as real cells do.
fn fleet(n: usize, log: usize, failing: usize) -> Results {
    let runners = ["ubuntu-latest", "ubuntu-24.04-arm"];
    let goarchs = [
        "amd64", "386", "arm64", "arm", "riscv64", "ppc64le", "s390x", "mips",
    ];
    let text: String = (0..log)
        .map(|i| if i % 80 == 79 { '\n' } else { 'e' })
        .collect();
    let mut cells = Vec::new();
    for i in 0..n {
        for on in runners {
            let goarch = goarchs[i % goarchs.len()];
            let mut c = cell("linux", goarch, &format!("cgo0/t{i}/hello"));
            c.id.push_str(&format!("@{on}"));
            let (outcome, met) = match i % 100 {
                k if k % failing == 0 => (Outcome::BuildFail, false),
                k if k % 25 == 1 => (Outcome::Skip, true),
                _ => (Outcome::Pass, true),
            };
            let mut r = result(c, outcome, met, "expected pass, got build-fail");
            r.ran_on = Some(on.into());
            for f in 0..20 {
                r.facts.insert(format!("probe.fact{f}"), json!(f));
            }
            let stderr = if met { "" } else { text.as_str() };
            r.phases = vec![
                phase(
                    PhaseName::Build,
                    vec![command(&["go", "build", "-o", "hello", "."], "", stderr)],
                ),
                phase(
                    PhaseName::Run,
                    vec![command(&["./hello"], &text[..log.min(200)], "")],
                ),
            ];
            if i % 50 == 2 {
                r.attempts = vec![crossprobe::model::Attempt {
                    outcome: Outcome::RunFail,
                    reason: Some("signal: killed".into()),
                    verdict: Verdict {
                        met: false,
                        message: "expected pass, got run-fail".into(),
                    },
                    phases: Vec::new(),
                    duration_ms: 10,
                    dir: None,
                }];
            }
            cells.push(r);
        }
    }
    let mut r = results(cells);
    r.host.runner = runners.join(", ");
    r
}

/// GitLab refuses a JUnit file over 30 MB, or of more than 250,000 XML
/// objects: a merged report of 10,000 cells stays under both, with
/// realistic logs and with every log far over its share.
#[test]
fn a_merged_fleet_of_10000_cells_stays_within_gitlabs_limits() {
    // Realistic, then every cell failing with a log far over its share.
    for (log, failing) in [(4 * 1024, 20), (8 * 1024, 1)] {
        let results = fleet(5000, log, failing);
        assert_eq!(results.cells.len(), 10_000);
        let xml = junit::to_string(&results);
        let objects = xml_objects(&xml);
        assert!(xml.len() < 30_000_000, "log {log}: {} bytes", xml.len());
        assert!(objects < 250_000, "log {log}: {objects} XML objects");
    }
}

/// Two runners ran the same cell: the runner joins the classname, so every
/// (classname, name) is unique; a cell only one runner ran keeps the plain
/// classname. A flaky cell says so in its system-out and a property.
#[test]
fn merged_cells_are_unique_and_flaky_ones_say_so() {
    let mut results = fleet(4, 200, 20);
    let mut only = result(
        cell("linux", "amd64", "cgo0/only/hello@ubuntu-latest"),
        Outcome::Pass,
        true,
        "ok",
    );
    only.ran_on = Some("ubuntu-latest".into());
    results.cells.push(only);
    let doc = check(&results);
    let mut ids = std::collections::BTreeSet::new();
    for s in &doc.suites {
        for c in &s.cases {
            assert!(
                ids.insert((c.classname.clone(), c.name.clone())),
                "{} {} twice",
                c.classname,
                c.name
            );
        }
    }
    assert_eq!(ids.len(), 9);
    let case = doc.case("linux/amd64", "cgo0/only/hello@ubuntu-latest");
    assert_eq!(case.classname, "crossprobe.hello.linux.amd64");
    let both = doc.case("linux/arm64", "cgo0/t2/hello@ubuntu-24.04-arm");
    assert_eq!(
        both.classname,
        "crossprobe.hello.linux.arm64.ubuntu-24_04-arm"
    );
    // t2 is flaky: a pass, but visibly.
    assert!(both.result.is_empty(), "{:?}", both.result);
    assert!(
        both.out.as_deref().unwrap().starts_with(
            "crossprobe: FLAKY: did not meet its expectation on 1 of 2 tries, then did\n"
        ),
        "{:?}",
        both.out
    );
    assert_eq!(
        doc.property(
            "linux/arm64",
            "linux/arm64/cgo0/t2/hello@ubuntu-24.04-arm: flaky"
        ),
        Some("true")
    );
    assert_eq!(
        doc.property(
            "linux/arm64",
            "linux/arm64/cgo0/t2/hello@ubuntu-24.04-arm: tries"
        ),
        Some("2")
    );
}
