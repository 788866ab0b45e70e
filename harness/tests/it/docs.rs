//! What crossprobe generates about itself: the book's reference pages and
//! the JSON Schema are current, the schema holds every shipped matrix and
//! refuses a broken one, completions complete in real shells, man pages
//! render, and the book builds with no broken link.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{self, Test};

/// `CROSSPROBE_BLESS=1` rewrites a generated file instead of failing, as
/// insta's INSTA_UPDATE does for snapshots.
fn current(rel: &str, generated: &str) {
    let path = common::repo().join(rel);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed == generated {
        return;
    }
    if std::env::var_os("CROSSPROBE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let first = committed
        .lines()
        .zip(generated.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
    panic!(
        "{rel} is not what crossprobe generates (first difference at line {}): \
         run `CROSSPROBE_BLESS=1 cargo test -p crossprobe --test it -- docs::` and commit it\n\
         generated: {:?}\ncommitted: {:?}",
        first + 1,
        generated.lines().nth(first),
        committed.lines().nth(first)
    );
}

fn stdout(args: &[&str]) -> String {
    Test::new().args(args).run().stdout()
}

#[test]
fn reference_pages_are_current() {
    current(
        "docs/src/reference/axes.md",
        &crossprobe::cli::docs::axes_page(),
    );
    current(
        "docs/src/reference/cli.md",
        &crossprobe::cli::docs::cli_page(&crossprobe::cli::command()),
    );
}

/// `bench/benchlib/book.py`, which makes the performance page from the
/// recorded bench runs (bench/results/*.json) and its template; None when
/// python3 is missing.
fn performance_page(args: &[&str]) -> Option<std::process::Output> {
    match Command::new("python3")
        .args(["-m", "benchlib.book", "page"])
        .args(args)
        .current_dir(common::repo().join("bench"))
        .output()
    {
        Ok(o) => Some(o),
        Err(_) => {
            common::tool_missing("python3", "the performance page is not made");
            None
        }
    }
}

#[test]
fn the_performance_page_is_made_from_the_recorded_bench_runs() {
    let Some(o) = performance_page(&["--stdout"]) else {
        return;
    };
    let page = String::from_utf8(o.stdout).unwrap();
    assert!(
        o.status.success(),
        "the performance page could not be made:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    current("docs/src/performance.md", &page);
    // Every recorded run is on it, with its commit.
    for e in std::fs::read_dir(common::repo().join("bench/results")).unwrap() {
        let p = e.unwrap().path();
        let run: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let commit = &run["repo"]["commit"].as_str().unwrap()[..10];
        let file = format!("bench/results/{}", p.file_name().unwrap().to_str().unwrap());
        assert!(
            page.contains(&file) && page.contains(commit),
            "no {file} at {commit} on the page"
        );
    }
}

/// A copy of the recorded runs, to make the page from what a test changed.
fn recorded_runs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(common::repo().join("bench/results")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    dir
}

#[test]
fn a_missed_target_reads_as_missed_on_the_performance_page() {
    let dir = recorded_runs();
    let file = dir.path().join("sandbox.json");
    let mut run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let target = run["targets"][0]["target"].as_str().unwrap().to_string();
    run["targets"][0]["met"] = false.into();
    run["targets"][0]["shown"] = "+31.0%".into();
    std::fs::write(&file, serde_json::to_string(&run).unwrap()).unwrap();
    let results = dir.path().to_str().unwrap();
    let Some(o) = performance_page(&["--stdout", "--results", results]) else {
        return;
    };
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page = String::from_utf8(o.stdout).unwrap();
    assert!(
        page.contains(&format!("| {target} | +31.0% | **missed** |")),
        "{page}"
    );
    let n = run["targets"].as_array().unwrap().len();
    assert!(page.contains(&format!("{} of {n} target", n - 1)), "{page}");
}

#[test]
fn the_performance_page_refuses_a_run_it_does_not_quote_and_a_directive_it_does_not_know() {
    let dir = recorded_runs();
    let results = dir.path().to_str().unwrap();
    let template = dir.path().join("page.tmpl.md");
    let cases = [
        // A recorded run no section of the page quotes.
        ("# P\n{{ run exec }}\n", "quotes no recorded run of"),
        // A section no mode prints.
        (
            "# P\n\n{{ table exec exce }}\n",
            "page.tmpl.md:3: no mode prints a section 'exce'",
        ),
        (
            "{{ run execc }}\n",
            "page.tmpl.md:1: '{{ run execc }}' names no mode",
        ),
        ("{{ if recorded exec }}\n", "an `if` with no `end`"),
        (
            "Text {{ run exec }}\n",
            "a directive stands alone on its line",
        ),
    ];
    for (text, why) in cases {
        std::fs::write(&template, text).unwrap();
        let tmpl = template.to_str().unwrap();
        let Some(o) = performance_page(&["--stdout", "--results", results, "--template", tmpl])
        else {
            return;
        };
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{text:?}: {err}");
        assert!(err.contains(why), "{text:?}: no {why:?} in {err}");
        assert!(o.stdout.is_empty(), "{text:?}: half a page written");
    }
}

/// The exit codes are written once, in `crossprobe::exit::TABLE`: the
/// book's table (docs/src/commands.md) and both `--help` texts are made
/// from it.
#[test]
fn the_exit_codes_are_the_tables() {
    let rel = "docs/src/commands.md";
    let page = std::fs::read_to_string(common::repo().join(rel)).unwrap();
    let head = "## Exit codes\n\n";
    let start = page
        .find(head)
        .expect("commands.md has an Exit codes section")
        + head.len();
    let end = page[start..]
        .find("\n## ")
        .map_or(page.len(), |i| start + i + 1);
    let generated = format!(
        "{}{}{}",
        &page[..start],
        crossprobe::exit::markdown(),
        &page[end..]
    );
    current(rel, &generated);
    assert!(stdout(&["--help"]).contains(&crossprobe::exit::help(false)));
    assert!(stdout(&["repro", "--help"]).contains(&crossprobe::exit::help(true)));
}

#[test]
fn the_published_schema_is_current() {
    current("docs/src/crossprobe.schema.json", &stdout(&["schema"]));
}

fn check_jsonschema(files: &[PathBuf]) -> Option<std::process::Output> {
    let schema = common::repo().join("docs/src/crossprobe.schema.json");
    match Command::new("check-jsonschema")
        .arg("--schemafile")
        .arg(schema)
        .args(files)
        .output()
    {
        Ok(o) => Some(o),
        Err(_) => {
            common::tool_missing("check-jsonschema", "the schema is not checked");
            None
        }
    }
}

/// Every shipped matrix, and every repro file that is a full matrix rather
/// than a snippet (a snippet has neither `probes:` nor `matrix:`).
fn shipped_matrices() -> Vec<PathBuf> {
    let repo = common::repo();
    let mut files = Vec::new();
    for dir in ["matrices", "matrices/repro"] {
        for e in std::fs::read_dir(repo.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") {
                let text = std::fs::read_to_string(&p).unwrap();
                let full = text
                    .lines()
                    .any(|l| l.starts_with("probes:") || l.starts_with("matrix:"));
                if dir == "matrices" || full {
                    files.push(p);
                }
            }
        }
    }
    for e in std::fs::read_dir(repo.join("examples")).unwrap() {
        let p = e.unwrap().path().join("crossprobe.yaml");
        if p.is_file() {
            files.push(p);
        }
    }
    files.sort();
    files
}

#[test]
fn the_schema_holds_every_shipped_matrix() {
    let files = shipped_matrices();
    assert!(files.len() >= 10, "{files:?}");
    assert!(files
        .iter()
        .any(|f| f.ends_with("examples/portable/crossprobe.yaml")));
    let Some(o) = check_jsonschema(&files) else {
        return;
    };
    assert!(
        o.status.success(),
        "check-jsonschema refused a shipped matrix:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_schema_refuses_what_load_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // A misspelt axis.
        ("gooss", "probes: [hello]\nmatrix:\n  gooss: [linux]\n  goos: [linux]\n  goarch: [amd64]\n", "'gooss' was unexpected"),
        // No matrix at all.
        ("nomatrix", "probes: [hello]\n", "'matrix' is a required property"),
        // An inline probe's unknown key.
        ("inline", "probes:\n  - name: x\n    sorce: 'package main'\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n", "sorce"),
        // args must be strings.
        ("args", "probes:\n  - name: x\n    package: .\n    args: [[1]]\nmatrix:\n  goos: [linux]\n  goarch: [amd64]\n", "args"),
    ];
    for (name, yaml, why) in cases {
        let file = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&file, yaml).unwrap();
        // crossprobe refuses it too: the schema is never stricter than load.
        Test::at(dir.path())
            .args(["plan", file.to_str().unwrap()])
            .status(2)
            .run();
        let Some(o) = check_jsonschema(std::slice::from_ref(&file)) else {
            return;
        };
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(o.status.code(), Some(1), "{name}: {text}");
        assert!(text.contains(why), "{name}: no {why:?} in\n{text}");
    }
}

/// Runs `script` in `shell`, or says the shell is missing.
fn shell(shell: &str, script: &str) -> Option<String> {
    match Command::new(shell).arg("-c").arg(script).output() {
        Ok(o) => {
            assert!(
                o.status.success(),
                "{shell} failed:\n{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            Some(String::from_utf8(o.stdout).unwrap())
        }
        Err(_) => {
            common::tool_missing(shell, "its completions are not tried");
            None
        }
    }
}

fn completion_script(sh: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("crossprobe.{sh}"));
    std::fs::write(&path, stdout(&["completions", sh])).unwrap();
    (dir, path)
}

#[test]
fn bash_completes_commands_and_options() {
    let (_d, script) = completion_script("bash");
    let complete = |words: &str| {
        shell(
            "bash",
            &format!(
                "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
                 _crossprobe crossprobe \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
                 printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                script.display()
            ),
        )
    };
    let Some(subs) = complete("crossprobe ru") else {
        return;
    };
    assert_eq!(subs.trim(), "run", "{subs}");
    let opts = complete("crossprobe run --no-c").unwrap();
    assert_eq!(opts.trim(), "--no-cache", "{opts}");
}

#[test]
fn fish_completes_commands_and_options() {
    let (_d, script) = completion_script("fish");
    let Some(subs) = shell(
        "fish",
        &format!("source {}; complete -C 'crossprobe li'", script.display()),
    ) else {
        return;
    };
    assert!(subs.starts_with("list-probes"), "{subs}");
    let opts = shell(
        "fish",
        &format!(
            "source {}; complete -C 'crossprobe run --no-c'",
            script.display()
        ),
    )
    .unwrap();
    assert!(opts.starts_with("--no-cache"), "{opts}");
}

#[test]
fn zsh_loads_its_completion() {
    let (d, script) = completion_script("zsh");
    // zsh finds a completion function by file name on $fpath.
    let func = d.path().join("_crossprobe");
    std::fs::rename(&script, &func).unwrap();
    let Some(out) = shell(
        "zsh",
        &format!(
            "fpath=({} $fpath); autoload -Uz compinit; compinit -u -d {}/zcompdump; \
             print -r -- ${{_comps[crossprobe]}}",
            d.path().display(),
            d.path().display()
        ),
    ) else {
        return;
    };
    assert_eq!(out.trim(), "_crossprobe", "{out}");
    let text = std::fs::read_to_string(&func).unwrap();
    for want in ["'--no-cache[", "list-probes", "completions"] {
        assert!(text.contains(want), "no {want} in the zsh completion");
    }
}

#[test]
fn man_pages_render_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    Test::at(dir.path())
        .args(["man", "--dir", dir.path().to_str().unwrap()])
        .run();
    let main = stdout(&["man"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("crossprobe.1")).unwrap(),
        main
    );
    // grotty emboldens by overstriking: `X\bX`.
    let overstrike = regex::Regex::new(".\u{8}").unwrap();
    for page in [
        "crossprobe.1",
        "crossprobe-run.1",
        "crossprobe-report-merge.1",
    ] {
        let path = dir.path().join(page);
        let o = match Command::new("groff")
            .args(["-man", "-Tascii", "-ww"])
            .arg(&path)
            .env("LC_ALL", "C.UTF-8")
            .output()
        {
            Ok(o) => o,
            Err(_) => return common::tool_missing("groff", "man pages are not rendered"),
        };
        assert!(o.status.success());
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            "",
            "groff warns about {page}"
        );
        let text = String::from_utf8_lossy(&o.stdout);
        let plain = overstrike.replace_all(&text, "");
        let want = match page {
            "crossprobe-run.1" => "no-cache",
            "crossprobe-report-merge.1" => "merge",
            _ => "list-probes",
        };
        assert!(plain.contains(want), "{page} has no {want}:\n{plain}");
    }
}

/// mdBook builds the book (into a directory of the test's, never docs/),
/// and every relative link in it, and every `#anchor`, points at something.
#[test]
fn the_book_builds_and_its_links_resolve() {
    let out = tempfile::tempdir().unwrap();
    let o = match Command::new("mdbook")
        .arg("build")
        .arg(common::repo().join("docs"))
        .arg("--dest-dir")
        .arg(out.path())
        .output()
    {
        Ok(o) => o,
        Err(_) => return common::tool_missing("mdbook", "the book is not built"),
    };
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "mdbook build failed:\n{log}");
    assert!(!log.contains("WARN") && !log.contains("ERROR"), "{log}");
    let broken = broken_links(out.path());
    assert!(
        broken.is_empty(),
        "broken links in the book:\n{}",
        broken.join("\n")
    );
    assert!(out.path().join("crossprobe.schema.json").is_file());
    for page in [
        "index.html",
        "reference/axes.html",
        "reference/cli.html",
        "probes/align.html",
    ] {
        assert!(out.path().join(page).is_file(), "no {page}");
    }
}

/// Relative links of every HTML page under `root` that lead nowhere: a
/// missing file, or an `#id` the target page does not have.
fn broken_links(root: &Path) -> Vec<String> {
    let href = regex::Regex::new(r#"(?:href|src)="([^"]*)""#).unwrap();
    let id = regex::Regex::new(r#"\bid="([^"]*)""#).unwrap();
    let mut pages = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "html") {
                pages.push(p);
            }
        }
    }
    let ids = |p: &Path| -> Vec<String> {
        let text = std::fs::read_to_string(p).unwrap_or_default();
        id.captures_iter(&text).map(|c| c[1].to_string()).collect()
    };
    let mut broken = Vec::new();
    for page in &pages {
        // mdBook's print.html repeats every page with rewritten links.
        if page.ends_with("print.html") || page.ends_with("404.html") {
            continue;
        }
        let text = std::fs::read_to_string(page).unwrap();
        for c in href.captures_iter(&text) {
            let link = html_unescape(&c[1]);
            if link.is_empty()
                || link.contains("://")
                || link.starts_with("mailto:")
                || link.starts_with("javascript:")
                || link.starts_with("data:")
            {
                continue;
            }
            let (path, anchor) = match link.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (link.as_str(), None),
            };
            let path = path.split('?').next().unwrap();
            let target = if path.is_empty() {
                page.clone()
            } else if let Some(abs) = path.strip_prefix('/') {
                root.join(abs)
            } else {
                page.parent().unwrap().join(path)
            };
            let target = if target.is_dir() {
                target.join("index.html")
            } else {
                target
            };
            let rel = page.strip_prefix(root).unwrap().display().to_string();
            if !target.exists() {
                broken.push(format!("{rel}: {link} (no such file)"));
                continue;
            }
            if let Some(a) = anchor.filter(|a| !a.is_empty()) {
                if target.extension().is_some_and(|x| x == "html")
                    && !ids(&target).iter().any(|i| i == a)
                {
                    broken.push(format!("{rel}: {link} (no #{a} there)"));
                }
            }
        }
    }
    broken.sort();
    broken.dedup();
    broken
}

fn html_unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}
