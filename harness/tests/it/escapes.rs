//! A stranger's text never reaches the terminal raw (issue 24): ESC, OSC
//! and the other control characters in a title, a YAML line echoed inside
//! an error, a cell id, a probe's output inside a verdict, progress or a
//! summary, and a report's cells are shown escaped (`\x1b`), never sent.

use crate::common::Test;

/// OSC 0 retitles the terminal, CSI 2J clears it, OSC 52 writes the
/// clipboard, DECRQSS and CSI 6n make the terminal type an answer back (the
/// classic injection), a bare CR and backspaces overwrite what was shown,
/// and 0x9b is the one-byte CSI of 8-bit terminals.
pub const HOSTILE: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}\u{1b}P$q\u{1b}\\\u{1b}[6n\rX\u{8}\u{8}\u{9b}31m\u{202e}";

/// The text holds no raw control character but newline and tab (nor a C1
/// control, nor a bidi override), and does show the escapes.
#[track_caller]
pub fn assert_shown_escaped(what: &str, text: &str) {
    let raw: Vec<(usize, char)> = text
        .char_indices()
        .filter(|(_, c)| is_raw_control(*c))
        .collect();
    assert!(
        raw.is_empty(),
        "{what}: raw control characters {:?} in:\n{}",
        raw.iter().take(10).collect::<Vec<_>>(),
        text.escape_debug()
    );
}

pub fn is_raw_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}')
}

/// `"..."` as a YAML double-quoted scalar with every control written as an
/// escape, so the file itself is clean and YAML puts the bytes back.
pub fn yaml_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' || !c.is_ascii() => {
                if (c as u32) <= 0xffff {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// repro: the snippet's title, a probe's stderr inside the verdict line
/// (and the progress lines and bundle), escaped.
#[test]
fn repro_shows_a_title_and_a_probes_stderr_escaped() {
    let snippet = format!(
        "name: esc\ntitle: {}\ngoos: linux\ngoarch: amd64\nexpect:\n  outcome: run-fail\nsource: |\n  package main\n  import \"os\"\n  func main() {{ os.Stderr.WriteString({}); os.Stderr.WriteString(\"\\npanic: x\\n\"); os.Exit(3) }}\n",
        yaml_quoted(&format!("title {HOSTILE} end")),
        go_quoted(HOSTILE)
    );
    let r = Test::new()
        .file("s.yaml", snippet)
        .args(["repro", "s.yaml"])
        .stdout_contains("\\x1b]0;pwned\\x07")
        .run();
    assert_shown_escaped("stdout", &r.stdout());
    assert_shown_escaped("stderr", &r.stderr());
    // A failing cell's verdict, showing the probe's own stderr.
    let r = Test::new()
        .file(
            "s.yaml",
            format!(
                "name: esc2\ngoos: linux\ngoarch: amd64\nsource: |\n  package main\n  import \"os\"\n  func main() {{ os.Stderr.WriteString({}); os.Exit(3) }}\n",
                go_quoted(HOSTILE)
            ),
        )
        .args(["repro", "s.yaml"])
        .failure()
        .stdout_contains("\\x1b[2J")
        .run();
    assert_shown_escaped("stdout", &r.stdout());
    assert_shown_escaped("stderr", &r.stderr());
}

/// run: a cell id made of a stranger's env value, in the progress lines and
/// the summary; a failing probe's stderr in the summary's reason.
#[test]
fn run_shows_cell_ids_and_reasons_escaped() {
    let yaml = format!(
        "name: escrun\nprobes:\n  - name: loud\n    source: |\n      package main\n      import \"os\"\n      func main() {{ os.Stderr.WriteString({}); os.Exit(3) }}\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  env: {{HOSTILE: [{}]}}\n",
        go_quoted(HOSTILE),
        yaml_quoted(HOSTILE)
    );
    let r = Test::new()
        .matrix(&yaml)
        .failure()
        .stderr_contains("\\x1b[2J")
        .run();
    assert_shown_escaped("stdout", &r.stdout());
    assert_shown_escaped("stderr", &r.stderr());
    // plan prints the same ids.
    let r = Test::new().matrix(&yaml).args(["plan", "@"]).run();
    assert_shown_escaped("plan stdout", &r.stdout());
    assert_shown_escaped("plan stderr", &r.stderr());
}

/// Errors: the YAML line miette echoes, the key serde names, a path.
#[test]
fn errors_show_the_offending_text_escaped() {
    for yaml in [
        // An unknown key made of escapes, on the line the snippet echoes.
        format!(
            "name: bad\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  {}: [x]\n",
            yaml_quoted(HOSTILE)
        ),
        // A value that is no GOOS.
        format!(
            "name: bad\nprobes: [hello]\nmatrix:\n  goos: [{}]\n  goarch: [amd64]\n",
            yaml_quoted(HOSTILE)
        ),
        // Raw bytes in the file itself: an ESC YAML refuses as it reads.
        format!("name: bad\ntitle: {HOSTILE}\n"),
    ] {
        let err = Test::new().matrix(&yaml).refuse();
        assert_shown_escaped("run's error", &err);
        assert!(err.contains("\\x1b") || err.contains("\\u{"), "{err}");
        let err = Test::new()
            .file("s.yaml", &yaml)
            .args(["repro", "s.yaml"])
            .refuse();
        assert_shown_escaped("repro's error", &err);
        let err = Test::new().matrix(&yaml).args(["plan", "@"]).refuse();
        assert_shown_escaped("plan's error", &err);
    }
    // A file name.
    let name = format!("m{HOSTILE}.yaml").replace('/', "_");
    let err = Test::new().args(["run", &name]).refuse();
    assert_shown_escaped("a missing file's name", &err);
}

/// `report diff` and `report merge` show cells of results.json files that
/// someone else wrote: their ids and reasons, escaped.
#[test]
fn reports_show_a_strangers_results_escaped() {
    let yaml = format!(
        "name: escrep\nprobes:\n  - name: loud\n    source: |\n      package main\n      import \"os\"\n      func main() {{ os.Stderr.WriteString({}); os.Exit(3) }}\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  env: {{HOSTILE: [{}]}}\n",
        go_quoted(HOSTILE),
        yaml_quoted(HOSTILE)
    );
    let r = Test::new().matrix(&yaml).failure().run();
    let results = r.reports("escrep").join("results.json");
    let before = r.path().join("before.json");
    // Last night all passed: today's failure is new, so diff names it.
    let text = std::fs::read_to_string(&results).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for c in v["cells"].as_array_mut().unwrap() {
        c["outcome"] = "pass".into();
        c["verdict"]["met"] = true.into();
        c["reason"] = serde_json::Value::Null;
    }
    std::fs::write(&before, serde_json::to_string(&v).unwrap()).unwrap();
    let d = Test::at(r.path())
        .arg("report")
        .arg("diff")
        .arg(&before)
        .arg(&results)
        .any_status()
        .run();
    assert!(d.stdout().contains("\\x1b"), "{}", d.stdout());
    assert_shown_escaped("diff stdout", &d.stdout());
    assert_shown_escaped("diff stderr", &d.stderr());
    let m = Test::at(r.path())
        .arg("report")
        .arg("merge")
        .arg(&results)
        .arg("--out")
        .arg(r.path().join("merged"))
        .any_status()
        .run();
    assert_shown_escaped("merge stdout", &m.stdout());
    assert_shown_escaped("merge stderr", &m.stderr());
}

/// `s` as a Go string literal, every control as an escape.
pub fn go_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}
