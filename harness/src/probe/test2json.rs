//! The JSON events of `go tool test2json` (and of `go test -c -json`'s
//! build) made into one [`TestResult`] per Go test and subtest.
//!
//! A test binary runs with `-test.v=test2json` under the cell's runner,
//! its stdout captured to a file; Go's test2json ([`command`]) reads it and
//! prints the events parsed here. The conversion follows gotestsum's
//! junitxml where both have a rule:
//!
//! - each test and subtest (`TestX/sub`) is its own result; a parent fails
//!   when a subtest fails, as Go reports it;
//! - a failing test's output is its own `output` events, framing lines
//!   (`=== RUN`, `--- FAIL`) left out;
//! - a skipped test's message is its output (what `t.Skip` said);
//! - a test that started and never ended (a panic outside the test's
//!   goroutine, `-test.timeout`, an emulator that died) is a failure that
//!   says so, with the binary's stderr: the panic or the timeout names it;
//! - build failures arrive as `build-output` and `build-fail` events
//!   (Go 1.24+): [`build_error`] reads the compiler's first error from them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde::Deserialize;

use crate::model::{TestOutcome, TestResult};
use crate::toolchain::go::GoToolchain;

/// The most of one test's output a result keeps.
pub const TEST_OUTPUT_CAP: usize = 16 * 1024;

/// What a test that never ended gets in its output, before the stderr.
pub const RUNNING_NOTE: &str = "[crossprobe: the test binary ended while this test was running]";

/// The command that converts a test binary's `-test.v=test2json` output:
/// the test2json executable `go tool -n test2json` names, asked once per
/// Go and run; else `go tool test2json`. Called directly, it spares each
/// test cell a go command's start (about 0.1 s of CPU).
pub fn command(go: &GoToolchain) -> Vec<String> {
    static FOUND: OnceLock<Mutex<BTreeMap<PathBuf, Option<PathBuf>>>> = OnceLock::new();
    let mut found = FOUND
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let exe = found
        .entry(go.go.clone())
        .or_insert_with(|| {
            let go_s = go.go.display().to_string();
            crate::process::query(
                &[&go_s, "tool", "-n", "test2json"],
                &go.env,
                Duration::from_secs(120),
            )
            .ok()
            .map(|out| PathBuf::from(out.trim()))
        })
        .clone();
    match exe.filter(|p| crate::fsutil::is_executable(p)) {
        Some(p) => vec![p.display().to_string()],
        None => vec![
            go.go.display().to_string(),
            "tool".into(),
            "test2json".into(),
        ],
    }
}

/// How much larger than the binary's output test2json's may grow: short
/// lines (a verbose test's) grow most, by about a hundred bytes each.
const TEST2JSON_GROWTH: usize = 16;

/// The events of a test binary whose output is in `DIR/LOG.stdout`,
/// converted by `go`'s test2json for package `import_path`: from the
/// capture file, not a pipe, since wine keeps pipes open. The converter's
/// own output is captured as `LOG-test2json`. Err says why it failed.
pub fn read(
    go: &GoToolchain,
    import_path: &str,
    dir: &Path,
    log_name: &str,
    timeout: Duration,
    cap: usize,
) -> Result<String, ConvertError> {
    let mut argv = command(go);
    argv.extend(["-t".into(), "-p".into(), import_path.to_string()]);
    let convert = crate::process::Spec {
        argv,
        env: go.env.clone(),
        env_remove: Vec::new(),
        cwd: Some(dir.to_path_buf()),
        timeout,
        log_dir: dir.to_path_buf(),
        log_name: format!("{log_name}-test2json"),
        // test2json wraps each line the binary printed in an event
        // (`{"Time":…,"Action":"output","Package":…,"Test":…,"Output":…}`):
        // several times the bytes of a binary that was within its own
        // bound (compress's s2 and zstd tests went past 4 MiB so).
        cap: cap.saturating_mul(TEST2JSON_GROWTH),
        daemons: false,
        confine: crate::process::Confine::default(),
    };
    let stdout = dir.join(format!("{log_name}.stdout"));
    let c = crate::process::run_fed(&convert, Some(&stdout)).map_err(ConvertError::Spawn)?;
    let file = dir.join(format!("{}.stdout", convert.log_name));
    match c.exit.success() {
        true => std::fs::read_to_string(&file).map_err(ConvertError::Read),
        false => Err(ConvertError::Failed {
            stderr: c.stderr.text.trim().to_string(),
            exit: c.exit.to_string(),
        }),
    }
}

/// Why test2json gave no events.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("{0}")]
    Spawn(std::io::Error),
    /// Its capture could not be read back.
    #[error("{0}")]
    Read(std::io::Error),
    #[error("{stderr} ({exit})")]
    Failed { stderr: String, exit: String },
}

/// One line of test2json's output (`go doc test2json`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Event {
    pub action: String,
    pub package: String,
    pub test: String,
    pub elapsed: Option<f64>,
    pub output: String,
    /// On `build-output` and `build-fail` events, the package being built.
    pub import_path: String,
}

/// What a test binary's events say.
#[derive(Debug, Default, PartialEq)]
pub struct Converted {
    /// In the order they started.
    pub tests: Vec<TestResult>,
    /// The package's own end: `pass` once the binary printed PASS.
    pub package: Option<TestOutcome>,
    /// Tests that started and never ended.
    pub running: Vec<String>,
}

/// Reads the events of one test binary. Lines that are not events are
/// ignored: a runner may print before the binary starts.
pub fn convert(events: &str, stderr: &str) -> Converted {
    let mut out = Converted::default();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut ended: Vec<bool> = Vec::new();
    let mut failed: Vec<bool> = Vec::new();
    for line in events.lines() {
        let Ok(ev) = serde_json::from_str::<Event>(line) else {
            continue;
        };
        if ev.test.is_empty() {
            match ev.action.as_str() {
                "pass" => out.package = Some(TestOutcome::Pass),
                "fail" => out.package = Some(TestOutcome::Fail),
                "skip" => out.package = Some(TestOutcome::Skip),
                // A benchmark's figures come as the package's output
                // (`BenchmarkX-2 \t 1000 \t 852 ns/op`): they are its output.
                "output" => {
                    let name = ev.output.split_whitespace().next().unwrap_or("");
                    let bench = name
                        .rsplit_once('-')
                        .filter(|(_, n)| n.parse::<u32>().is_ok())
                        .map_or(name, |(b, _)| b);
                    if let Some(&i) = index.get(bench).filter(|_| bench.starts_with("Benchmark")) {
                        out.tests[i].output.push_str(&ev.output);
                    }
                }
                _ => {}
            }
            continue;
        }
        let i = *index.entry(ev.test.clone()).or_insert_with(|| {
            out.tests.push(TestResult {
                name: ev.test.clone(),
                package: ev.package.clone(),
                outcome: TestOutcome::Pass,
                duration_ms: 0,
                output: String::new(),
                met: true,
                message: String::new(),
            });
            ended.push(false);
            failed.push(false);
            out.tests.len() - 1
        });
        let t = &mut out.tests[i];
        match ev.action.as_str() {
            "output" if !framing(&ev.output) && t.output.len() < TEST_OUTPUT_CAP => {
                t.output.push_str(&ev.output);
            }
            // Run again (`count`, `cpu`): it must end again.
            "run" => ended[i] = false,
            "pass" | "fail" | "skip" => {
                let now = match ev.action.as_str() {
                    "pass" => TestOutcome::Pass,
                    "fail" => TestOutcome::Fail,
                    _ => TestOutcome::Skip,
                };
                // One failing run of several fails the test, as go test
                // says FAIL.
                if !failed[i] {
                    t.outcome = now;
                }
                failed[i] |= now == TestOutcome::Fail;
                t.duration_ms += ev.elapsed.map_or(0, |s| (s * 1000.0).round() as u64);
                ended[i] = true;
            }
            _ => {}
        }
    }
    let passed = out.package == Some(TestOutcome::Pass);
    for (t, done) in out.tests.iter_mut().zip(&ended) {
        // A benchmark has no end event of its own; the binary's PASS is it.
        if *done || (passed && t.name.starts_with("Benchmark")) {
            continue;
        }
        out.running.push(t.name.clone());
        t.outcome = TestOutcome::Fail;
        t.output.push_str(RUNNING_NOTE);
        t.output.push('\n');
        t.output.push_str(&cap_tail(stderr, TEST_OUTPUT_CAP));
    }
    for t in &mut out.tests {
        if t.output.len() > TEST_OUTPUT_CAP {
            let mut end = TEST_OUTPUT_CAP;
            while !t.output.is_char_boundary(end) {
                end -= 1;
            }
            t.output.truncate(end);
            t.output.push_str("\n[crossprobe: output cut]\n");
        }
    }
    out
}

/// The lines the testing package writes to frame a test, which every
/// report shows in its own way.
fn framing(line: &str) -> bool {
    let l = line.trim_start();
    [
        "=== RUN",
        "=== PAUSE",
        "=== CONT",
        "=== NAME",
        "--- PASS",
        "--- FAIL",
        "--- SKIP",
    ]
    .iter()
    .any(|p| l.starts_with(p))
}

fn cap_tail(s: &str, cap: usize) -> String {
    if s.len() <= cap {
        return s.to_string();
    }
    let mut start = s.len() - cap;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    s[start..].to_string()
}

/// The compiler's first error, from the `build-output` events of a failed
/// `go test -c -json`: the first line that is not a `# package` header.
pub fn build_error(events: &str) -> Option<String> {
    let mut failed = false;
    let mut first = None;
    for line in events.lines() {
        let Ok(ev) = serde_json::from_str::<Event>(line) else {
            continue;
        };
        match ev.action.as_str() {
            "build-output" if first.is_none() => {
                let l = ev.output.trim();
                if !l.is_empty() && !l.starts_with('#') {
                    first = Some(l.to_string());
                }
            }
            "build-fail" => failed = true,
            _ => {}
        }
    }
    first.filter(|_| failed)
}

/// `panic: test timed out after 1s` and the tests it lists as running.
pub fn timed_out(stderr: &str) -> Option<String> {
    let at = stderr.find("panic: test timed out after ")?;
    let rest = &stderr[at + "panic: ".len()..];
    let head = rest.lines().next().unwrap_or("").trim().to_string();
    let running: Vec<&str> = rest
        .lines()
        .skip(1)
        .skip_while(|l| l.trim() != "running tests:")
        .skip(1)
        .take_while(|l| l.starts_with("\t\t"))
        .map(|l| l.trim().split(' ').next().unwrap_or(""))
        .collect();
    Some(if running.is_empty() {
        head
    } else {
        format!("{head} while running {}", running.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Each event shape below is a line that `go tool test2json -t -p PKG`
    // (go1.26.8) printed for a test binary run with -test.v=test2json, or
    // that `go test -c -json` printed for a failed build.

    const PKG: &str = "example.com/portable/sizes";

    fn ev(action: &str, test: &str, extra: &str) -> String {
        let test = if test.is_empty() {
            String::new()
        } else {
            format!(",\"Test\":\"{test}\"")
        };
        format!("{{\"Time\":\"2026-12-01T19:32:20.390683512Z\",\"Action\":\"{action}\",\"Package\":\"{PKG}\"{test}{extra}}}")
    }

    fn out(test: &str, text: &str) -> String {
        ev(
            "output",
            test,
            &format!(",\"Output\":{}", serde_json::to_string(text).unwrap()),
        )
    }

    #[test]
    fn a_passing_test_with_its_elapsed_time() {
        let lines = [
            ev("start", "", ""),
            ev("run", "TestBits", ""),
            out("TestBits", "=== RUN   TestBits\n"),
            out("TestBits", "    sizes_test.go:5: bits 64\n"),
            out("TestBits", "--- PASS: TestBits (0.25s)\n"),
            ev("pass", "TestBits", ",\"Elapsed\":0.25"),
            out("", "PASS\n"),
            ev("pass", "", ",\"Elapsed\":0.3"),
        ];
        let c = convert(&lines.join("\n"), "");
        assert_eq!(c.package, Some(TestOutcome::Pass));
        assert_eq!(c.tests.len(), 1);
        let t = &c.tests[0];
        assert_eq!((t.name.as_str(), t.package.as_str()), ("TestBits", PKG));
        assert_eq!((t.outcome, t.duration_ms), (TestOutcome::Pass, 250));
        assert_eq!(t.output, "    sizes_test.go:5: bits 64\n");
        assert!(c.running.is_empty());
    }

    #[test]
    fn subtests_are_results_of_their_own_and_fail_their_parent() {
        let lines = [
            ev("run", "TestSub", ""),
            out("TestSub", "=== RUN   TestSub\n"),
            ev("run", "TestSub/a", ""),
            out("TestSub/a", "=== RUN   TestSub/a\n"),
            out("TestSub/a", "--- PASS: TestSub/a (0.00s)\n"),
            ev("pass", "TestSub/a", ",\"Elapsed\":0"),
            ev("run", "TestSub/b", ""),
            out("TestSub/b", "    sizes_test.go:8: b fails\n"),
            out("TestSub/b", "--- FAIL: TestSub/b (0.00s)\n"),
            ev("fail", "TestSub/b", ",\"Elapsed\":0"),
            out("TestSub", "--- FAIL: TestSub (0.00s)\n"),
            ev("fail", "TestSub", ",\"Elapsed\":0"),
            out("", "FAIL\n"),
            ev("fail", "", ",\"Elapsed\":0"),
        ];
        let c = convert(&lines.join("\n"), "");
        let got: Vec<(&str, TestOutcome)> = c
            .tests
            .iter()
            .map(|t| (t.name.as_str(), t.outcome))
            .collect();
        assert_eq!(
            got,
            [
                ("TestSub", TestOutcome::Fail),
                ("TestSub/a", TestOutcome::Pass),
                ("TestSub/b", TestOutcome::Fail)
            ]
        );
        assert_eq!(c.tests[2].output, "    sizes_test.go:8: b fails\n");
        assert_eq!(c.package, Some(TestOutcome::Fail));
    }

    #[test]
    fn a_skip_keeps_its_message() {
        let lines = [
            ev("run", "TestSkip", ""),
            out("TestSkip", "    sizes_test.go:10: not on windows\n"),
            out("TestSkip", "--- SKIP: TestSkip (0.00s)\n"),
            ev("skip", "TestSkip", ",\"Elapsed\":0"),
        ];
        let c = convert(&lines.join("\n"), "");
        assert_eq!(c.tests[0].outcome, TestOutcome::Skip);
        assert_eq!(c.tests[0].output.trim(), "sizes_test.go:10: not on windows");
    }

    #[test]
    fn a_test_run_several_times_fails_when_one_run_fails() {
        // -test.count=2 (or -test.cpu=1,2): the same name runs twice.
        let lines = [
            ev("run", "TestFlaky", ""),
            ev("fail", "TestFlaky", ""),
            ev("run", "TestFlaky", ""),
            ev("pass", "TestFlaky", ""),
            ev("run", "TestOK", ""),
            ev("pass", "TestOK", ""),
            ev("run", "TestOK", ""),
            ev("fail", "", ""),
        ];
        let c = convert(&lines.join("\n"), "");
        assert_eq!(c.tests.len(), 2, "{c:?}");
        assert_eq!(c.tests[0].outcome, TestOutcome::Fail);
        // Its second run never ended.
        assert_eq!(c.running, ["TestOK"]);
    }

    #[test]
    fn a_benchmark_passes_with_the_binary_and_keeps_its_figures() {
        // What a `-test.bench=.` binary gives test2json (go 1.26): a run
        // event, output, and the figures as the package's output.
        let lines = [
            ev("run", "BenchmarkX", ""),
            out("BenchmarkX", "=== RUN   BenchmarkX\n"),
            out("BenchmarkX", "BenchmarkX\n"),
            out("", "BenchmarkX-2   \t       1\t       852.0 ns/op\n"),
            out("", "PASS\n"),
            ev("pass", "", ""),
        ];
        let c = convert(&lines.join("\n"), "");
        assert!(c.running.is_empty(), "{c:?}");
        assert_eq!(c.tests[0].outcome, TestOutcome::Pass);
        assert!(c.tests[0].output.contains("852.0 ns/op"), "{c:?}");
    }

    #[test]
    fn a_panic_fails_the_test_that_panicked() {
        // The testing package prints the panicking test's FAIL line, then
        // the panic goes to stderr; test2json, reading stdout alone, sees
        // no end event for the test.
        let lines = [
            ev("start", "", ""),
            ev("run", "TestPanic", ""),
            out("TestPanic", "=== RUN   TestPanic\n"),
            out("TestPanic", "--- FAIL: TestPanic (0.00s)\n"),
        ];
        let stderr = "panic: boom [recovered, repanicked]\n\ngoroutine 18 [running]:\n";
        let c = convert(&lines.join("\n"), stderr);
        assert_eq!(c.running, ["TestPanic"]);
        assert_eq!(c.tests[0].outcome, TestOutcome::Fail);
        assert!(
            c.tests[0].output.contains("panic: boom"),
            "{:?}",
            c.tests[0]
        );
        assert_eq!(timed_out(stderr), None);
    }

    #[test]
    fn a_test_that_never_ended_is_a_failure_naming_it() {
        // -test.timeout: the alarm's panic goes to stderr and the events stop
        // after the test's run line.
        let lines = [
            ev("run", "TestSlow", ""),
            out("TestSlow", "=== RUN   TestSlow\n"),
        ];
        let stderr = "panic: test timed out after 1s\n\trunning tests:\n\t\tTestSlow (1s)\n\ngoroutine 5 [running]:\n";
        let c = convert(&lines.join("\n"), stderr);
        assert_eq!(c.running, ["TestSlow"]);
        assert_eq!(c.tests[0].outcome, TestOutcome::Fail);
        assert!(c.tests[0].output.contains("panic: test timed out"));
        assert_eq!(c.package, None);
        assert_eq!(
            timed_out(stderr).unwrap(),
            "test timed out after 1s while running TestSlow"
        );
    }

    #[test]
    fn build_failures_give_the_compilers_first_error() {
        // `GOARCH=386 go test -c -json` of a constant that overflows int.
        let events = r##"{"ImportPath":"example.com/portable/big [example.com/portable/big.test]","Action":"build-output","Output":"# example.com/portable/big [example.com/portable/big.test]\n"}
{"ImportPath":"example.com/portable/big [example.com/portable/big.test]","Action":"build-output","Output":"big/big.go:3:15: cannot use 1 \u003c\u003c 32 (untyped int constant 4294967296) as int value in variable declaration (overflows)\n"}
{"ImportPath":"example.com/portable/big [example.com/portable/big.test]","Action":"build-fail"}"##;
        assert_eq!(
            build_error(events).unwrap(),
            "big/big.go:3:15: cannot use 1 << 32 (untyped int constant 4294967296) as int value in variable declaration (overflows)"
        );
        // Output with no build-fail is not a failure.
        assert_eq!(
            build_error(&events.lines().take(2).collect::<Vec<_>>().join("\n")),
            None
        );
    }

    #[test]
    fn lines_that_are_not_events_are_ignored() {
        let c = convert("qemu: warning\n{not json\n", "");
        assert!(c.tests.is_empty());
        assert_eq!(c.package, None);
    }
}
