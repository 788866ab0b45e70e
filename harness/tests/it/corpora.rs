//! Hostile inputs that nobody here wrote (issue 24): the Big List of
//! Naughty Strings, the YAML test suite's documents, terminal injection
//! sequences and YAML/JSON bombs, through load, plan, run, repro and
//! report. Whatever they hold: no panic; exit 2 with a short, clear error,
//! or a correct run; no raw control character on the terminal. The corpora
//! and where they come from: tests/hostile/README.md.

use crossprobe::repro::snippet;

use crate::common::{self, CellExt, Test};
use crate::escapes::{assert_shown_escaped, go_quoted, yaml_quoted, HOSTILE};

/// The naughty strings, with terminal injection sequences from the public
/// record added: OSC 2 and OSC 8, the window-title report (CSI 21 t) and
/// DECRQSS that make a terminal type an answer back, a full reset, the
/// alternate screen, DECALN, and C1 CSI and OSC.
fn naughty() -> Vec<String> {
    let mut v: Vec<String> = serde_json::from_str(include_str!("../hostile/blns.json")).unwrap();
    assert!(v.len() > 500, "{}", v.len());
    v.extend(
        [
            HOSTILE,
            "\u{1b}]2;retitled\u{1b}\\",
            "\u{1b}]8;;https://example.invalid/\u{1b}\\click\u{1b}]8;;\u{1b}\\",
            "\u{1b}[21t\u{1b}P$qm\u{1b}\\",
            "\u{1b}c\u{1b}[?1049h\u{1b}#8",
            "\u{9b}2J\u{9d}0;c1 title\u{9c}",
            "ok\r\u{1b}[K\u{1b}[1A\u{1b}[2Kforged line",
            "\u{1b}[8mhidden\u{1b}[0m",
        ]
        .map(String::from),
    );
    v
}

struct Doc {
    id: String,
    fail: bool,
    yaml: String,
}

fn yaml_test_suite() -> Vec<Doc> {
    let v: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../hostile/yaml-test-suite.json")).unwrap();
    v.into_iter()
        .map(|d| Doc {
            id: d["id"].as_str().unwrap().to_string(),
            fail: d["fail"].as_bool().unwrap(),
            yaml: d["yaml"].as_str().unwrap().to_string(),
        })
        .collect()
}

/// Loads `text` as `crossprobe run` and `plan` load a matrix, and as
/// `crossprobe repro` loads a snippet; a refusal is drawn as crossprobe
/// prints it. Returns how many loaded.
#[track_caller]
fn load_both(what: &str, text: &str) -> usize {
    let mut loaded = 0;
    match crossprobe::load::load_str("matrix.yaml", "matrix", text.to_string(), None) {
        Ok(_) => loaded += 1,
        Err(report) => refused(what, &report),
    }
    let input = snippet::Input {
        name: "snippet.yaml".into(),
        stem: "snippet".into(),
        text: text.to_string(),
        yaml: text.to_string(),
    };
    match snippet::load(&input, None, false) {
        Ok(_) => loaded += 1,
        Err(report) => refused(what, &report),
    }
    loaded
}

/// A refusal as `main` prints it: some words, not too many, all shown.
#[track_caller]
fn refused(what: &str, report: &miette::Report) {
    let text = crossprobe::errors::render(report);
    assert!(!text.trim().is_empty(), "{what}: an empty error");
    assert!(text.len() < 20_000, "{what}: {} bytes of error", text.len());
    assert_shown_escaped(what, &text);
}

/// Every YAML test suite document, as a matrix and as a snippet (in
/// process, as the binary loads and prints them); the invalid ones, and a
/// sample of the rest, through the binary's plan and repro too.
#[test]
fn the_yaml_test_suite_is_refused_clearly_or_read() {
    let docs = yaml_test_suite();
    assert_eq!(docs.len(), 402);
    for d in &docs {
        load_both(&format!("yaml-test-suite {}", d.id), &d.yaml);
    }
    let dir = tempfile::tempdir().unwrap();
    for (i, d) in docs
        .iter()
        .enumerate()
        .filter(|(i, d)| d.fail || i % 8 == 0)
    {
        let file = format!("{}-{i}.yaml", d.id);
        std::fs::write(dir.path().join(&file), &d.yaml).unwrap();
        for cmd in ["plan", "repro"] {
            let r = Test::at(dir.path()).args([cmd, &file]).any_status().run();
            let what = format!("{cmd} {} ({})", d.id, d.yaml.escape_debug());
            assert_eq!(r.code(), 2, "{what}: exit {}\n{}", r.code(), r.stderr());
            assert_shown_escaped(&what, &r.stderr());
            assert_shown_escaped(&what, &r.stdout());
        }
    }
}

/// Every naughty string in every place of a matrix or snippet a stranger
/// writes: as the value (YAML-escaped), and raw, bytes and all, where YAML
/// takes a plain line.
#[test]
fn naughty_strings_anywhere_in_a_matrix_are_refused_clearly_or_read() {
    let src = "      package main\n      func main() {}\n";
    let mut loaded = 0;
    for s in naughty() {
        let q = yaml_quoted(&s);
        let head = "name: m\nprobes: [hello]\n";
        let axes = "matrix:\n  goos: [linux]\n  goarch: [amd64]\n";
        for (field, text) in [
            ("name", format!("name: {q}\nprobes: [hello]\n{axes}")),
            (
                "probe name",
                format!("name: m\nprobes:\n  - name: {q}\n    source: |\n{src}{axes}"),
            ),
            ("env value", format!("{head}{axes}  env: {{X: [{q}]}}\n")),
            ("ldflags", format!("{head}{axes}  ldflags: [{q}]\n")),
            ("tags", format!("{head}{axes}  tags: [{q}]\n")),
            ("goos", format!("{head}matrix:\n  goos: [{q}]\n  goarch: [amd64]\n")),
            ("a key", format!("{head}{axes}  {q}: [x]\n")),
            ("env name", format!("{head}{axes}  env: {{{q}: [x]}}\n")),
            (
                "reason and match",
                format!("{head}{axes}expect:\n  - when: {{goos: linux}}\n    outcome: run-fail\n    reason: {q}\n    match: {q}\n"),
            ),
            (
                "snippet title",
                format!("title: {q}\ngoos: linux\ngoarch: amd64\nsource: |\n  package main\n  func main() {{}}\n"),
            ),
            ("raw", format!("name: m\ntitle: {s}\n{s}: {s}\n")),
        ] {
            loaded += load_both(&format!("{field} {:?}", s), &text);
        }
    }
    // The strings that are plain words load: the test is not all refusals.
    assert!(loaded > 1000, "{loaded}");
}

/// The binary's printers, fed every naughty string at once: plan's cell
/// ids (an env axis of them), a run whose probe prints them all and fails
/// (progress, summary, JUnit, HTML), repro's title and verdict line, and
/// report diff and merge of those results.
#[test]
fn naughty_strings_through_plan_run_repro_and_report() {
    let all = naughty();
    // The values plan takes one by one; they are taken all at once too.
    let taken: Vec<&String> = all
        .iter()
        .filter(|s| {
            let yaml = format!(
                "name: m\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  env: {{X: [{}]}}\n",
                yaml_quoted(s)
            );
            crossprobe::load::load_str("m.yaml", "m", yaml, None).is_ok()
        })
        .collect();
    assert!(taken.len() > 400, "{}", taken.len());
    let mut unique: Vec<&String> = Vec::new();
    for s in taken {
        if !unique.contains(&s) {
            unique.push(s);
        }
    }
    let values: Vec<String> = unique.iter().map(|s| yaml_quoted(s)).collect();
    let plan = Test::new()
        .matrix(&format!(
            "name: naughty\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  env: {{NAUGHTY: [{}]}}\n",
            values.join(", ")
        ))
        .args(["plan", "@"])
        .any_status()
        .run();
    assert!(matches!(plan.code(), 0 | 2), "{}", plan.stderr());
    assert_shown_escaped("plan stdout", &plan.stdout());
    assert_shown_escaped("plan stderr", &plan.stderr());

    // A probe that prints every string, on both streams, and fails; its
    // cells' ids hold a few of them.
    let joined: String = all.join("\n");
    let printed = go_quoted(&joined);
    let yaml = format!(
        "name: loud\nprobes:\n  - name: loud\n    source: |\n      package main\n      import \"os\"\n      func main() {{ os.Stdout.WriteString({printed}); os.Stderr.WriteString({printed}); os.Exit(3) }}\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  env: {{N: [{}, {}, {}]}}\n",
        yaml_quoted(HOSTILE),
        yaml_quoted("\u{202e}txt.exe"),
        yaml_quoted("Ṱ̺̺̕o͞ ̷i̲̬͇̪͙n̝̗͕v̟̜̘̦͟o̶̙̰̠kè͚̮̺̪̹̱̤ ̖t̝͕̳̣̻̪͞h̼͓̲̦̳̘̲e͇̣̰̦̬͎ ̢̼̻̱̘h͚͎͙̜̣̲ͅi̦̲̣̰̤v̻͍e̺̭̳̪̰-m̢iͅn̖̺̞̲̯̰d̵̼̟͙̩̼̘̳ ̞̥̱̳̭r̛̗̘e͙p͠r̼̞̻̭̗e̺̠̣͟s̘͇̳͍̝͉e͉̥̯̞̲͚̬͜ǹ̬͎͎̟̖͇̤t͍̬̤͓̼̭͘ͅi̪̱n͠g̴͉ ͏͉ͅc̬̟h͡a̫̻̯͘o̫̟̖͍̙̝͉s̗̦̲.̨̹͈̣")
    );
    let r = Test::new().matrix(&yaml).failure().run();
    assert_shown_escaped("run stdout", &r.stdout());
    assert_shown_escaped("run stderr", &r.stderr());
    let cells = r.cells("loud");
    assert_eq!(cells.len(), 3);
    for c in cells.values() {
        // The program's words are kept in the results as it wrote them.
        let out = &c.commands_of(crossprobe::model::PhaseName::Run)[0]
            .stdout
            .text;
        assert!(out.contains(HOSTILE), "{}", out.escape_debug());
    }
    common::validate_junit(&r.reports("loud").join("junit.xml"));
    let html = std::fs::read_to_string(r.reports("loud").join("report.html")).unwrap();
    assert!(!html.contains('\u{1b}'), "raw ESC in report.html");

    // diff and merge of those results against a night they all passed.
    let results = r.reports("loud").join("results.json");
    let base = r.path().join("base.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    for c in v["cells"].as_array_mut().unwrap() {
        c["outcome"] = "pass".into();
        c["verdict"]["met"] = true.into();
    }
    std::fs::write(&base, v.to_string()).unwrap();
    for args in [
        vec!["report", "diff", "base.json", "reports/loud/results.json"],
        vec![
            "report",
            "diff",
            "--markdown",
            "base.json",
            "reports/loud/results.json",
        ],
        vec![
            "report",
            "merge",
            "reports/loud/results.json",
            "--out",
            "merged",
        ],
        vec![
            "report",
            "html",
            "reports/loud/results.json",
            "--out",
            "r.html",
        ],
    ] {
        let d = Test::at(r.path()).args(&args).any_status().run();
        assert!(matches!(d.code(), 0 | 1), "{args:?}: {}", d.stderr());
        assert_shown_escaped(&format!("{args:?} stdout"), &d.stdout());
        assert_shown_escaped(&format!("{args:?} stderr"), &d.stderr());
    }

    // repro: every string in the title and in the probe's stderr.
    let snippet = format!(
        "name: naughty\ntitle: {}\ngoos: linux\ngoarch: amd64\nexpect:\n  outcome: run-fail\n  match: {}\nsource: |\n  package main\n  import \"os\"\n  func main() {{ os.Stderr.WriteString({printed}); os.Exit(3) }}\n",
        yaml_quoted(&all.join(" ")),
        yaml_quoted(&regex::escape(HOSTILE))
    );
    let r = Test::new()
        .file("s.yaml", snippet)
        .args(["repro", "s.yaml"])
        .stdout_contains("reproduced: run-fail")
        .run();
    assert_shown_escaped("repro stdout", &r.stdout());
    assert_shown_escaped("repro stderr", &r.stderr());
}

/// The "billion laughs" and its kin, in YAML through plan and repro (a
/// file and stdin), and in JSON through report: refused by name, without a
/// panic or a stack overflow (how fast: bench/, not here).
#[test]
fn yaml_and_json_bombs_are_refused_quickly() {
    let laughs = "name: lol\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n".to_string();
    let bombs: Vec<(&str, String)> = vec![
        ("billion laughs", laughs.clone()),
        (
            "billion laughs inside the matrix",
            format!(
                "name: lol\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n  env: {{X: &x [a, b, c, d, e, f, g, h]}}\n  tags: [*x, *x, *x, *x, *x, *x, *x, *x, *x, *x]\n{}",
                laughs.replace("name: lol\n", "")
            ),
        ),
        ("a recursive alias", "name: &a [*a]\n".into()),
        ("flow nesting 100,000 deep", format!("name: {}{}\n", "[".repeat(100_000), "]".repeat(100_000))),
        ("block nesting 5,000 deep", (0..5_000).map(|i| format!("{}-\n", " ".repeat(i))).collect()),
        ("100,000 documents", "---\na: 1\n".repeat(100_000)),
        ("100,000 anchors", (0..100_000).map(|i| format!("k{i}: &a{i} v\n")).collect()),
        ("a 900 KB key", format!("{}: 1\n", "k".repeat(900_000))),
        ("a 900 KB scalar of escapes", format!("name: \"{}\"\n", "\\u001b".repeat(150_000))),
        ("a tag", "name: !!binary \"gIGC\"\nprobes: !<tag:yaml.org,2002:python/object/apply:os.system> [\"id\"]\n".into()),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (what, yaml) in &bombs {
        load_both(what, yaml);
        std::fs::write(dir.path().join("bomb.yaml"), yaml).unwrap();
        for args in [
            &["plan", "bomb.yaml"][..],
            &["repro", "bomb.yaml"][..],
            &["repro", "-"][..],
        ] {
            let mut t = Test::at(dir.path()).args(args);
            if args[1] == "-" {
                t = t.stdin(yaml.as_bytes());
            }
            let r = t.any_status().run();
            assert_eq!(r.code(), 2, "{what}: {args:?}: {}", r.stderr());
            assert!(
                r.stderr().len() < 20_000,
                "{what}: {} bytes",
                r.stderr().len()
            );
            assert_shown_escaped(what, &r.stderr());
        }
    }
    // JSON: nesting past serde_json's limit, a huge number, a duplicate
    // key, a results.json of the wrong shape.
    for (what, json) in [
        (
            "nesting",
            format!("{}{}", "[".repeat(200_000), "]".repeat(200_000)),
        ),
        (
            "a deep object",
            format!(
                "{{\"schema\": {}1{}}}",
                "{\"a\":".repeat(10_000),
                "}".repeat(10_000)
            ),
        ),
        (
            "a huge number",
            format!("{{\"schema\": 1{}}}", "0".repeat(100_000)),
        ),
        (
            "a duplicate key",
            "{\"schema\": 1, \"schema\": 1, \"cells\": []}".into(),
        ),
        (
            "escapes in a string",
            format!("{{\"schema\": \"{}\"}}", "\\u001b]0;x\\u0007".repeat(1000)),
        ),
    ] {
        std::fs::write(dir.path().join("r.json"), &json).unwrap();
        for args in [
            &["report", "diff", "r.json", "r.json"][..],
            &["report", "merge", "r.json", "--out", "m"][..],
            &["report", "html", "r.json", "--out", "r.html"][..],
        ] {
            let r = Test::at(dir.path()).args(args).any_status().run();
            assert_eq!(r.code(), 2, "{what}: {args:?}: {}", r.stderr());
            assert!(
                r.stderr().len() < 20_000,
                "{what}: {} bytes",
                r.stderr().len()
            );
            assert_shown_escaped(what, &r.stderr());
        }
    }
}
