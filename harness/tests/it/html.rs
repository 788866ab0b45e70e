//! report.html in a real browser: headless Chromium draws the grid from a
//! real run, opens a cell's popover from `#cell=`, filters, shows what
//! changed since a base run (`report html --diff`), and copes with a
//! thousand cells. A module's packages and Go tests are drawn by the module
//! tests (`module.rs`) with the helpers here. Screenshots land in
//! target/test-artifacts/: report-grid-popover.png, report-diff.png,
//! report-1000.png, report-module-*.png.

use crate::common::{self, Test};

use std::path::{Path, PathBuf};
use std::process::Command;

/// pass, expected failure (golang/go#599 on 386), not as expected (an
/// expectation wrong on purpose) and built, not run (windows forced to no
/// runner).
const MATRIX: &str = r#"name: grid
probes: [hello, atomic64]
matrix:
  goos: [linux]
  goarch: [amd64, "386"]
  include:
    - {goos: windows, goarch: amd64}
run:
  runners: {"windows/*": none}
expect:
  - when: {goarch: "386", probe: atomic64}
    outcome: run-fail
    match: "unaligned 64-bit atomic operation"
    reason: https://github.com/golang/go/issues/599
  - when: {goarch: amd64, goos: linux, probe: hello, ldflags: ""}
    outcome: build-fail
    reason: wrong on purpose, to colour a square red
"#;

fn chromium() -> PathBuf {
    let p = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        p.is_file(),
        "{} is missing: scripts/setup installs Debian's chromium",
        p.display()
    );
    p
}

fn artifacts() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("test-artifacts");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Headless Chromium on a file URL, with nothing that reaches the network.
fn browse(page: &Path, fragment: &str, extra: &[String]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}{fragment}", page.display());
    let out = Command::new("timeout")
        .arg("120")
        .arg(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn dom(page: &Path, fragment: &str) -> String {
    browse(page, fragment, &["--dump-dom".into()])
}

pub(crate) fn screenshot(page: &Path, fragment: &str, name: &str, size: &str) -> PathBuf {
    let png = artifacts().join(name);
    let _ = std::fs::remove_file(&png);
    browse(
        page,
        fragment,
        &[
            format!("--screenshot={}", png.display()),
            format!("--window-size={size}"),
        ],
    );
    let head = std::fs::read(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
    assert!(
        head.starts_with(b"\x89PNG") && head.len() > 10_000,
        "{} is not a real screenshot",
        png.display()
    );
    png
}

/// The grid's table in a dumped DOM.
pub(crate) fn grid(dom: &str) -> &str {
    let start = dom.find("<table id=\"grid\"").expect("the grid is drawn");
    let end = start + dom[start..].find("</table>").unwrap();
    &dom[start..end]
}

/// The grid's squares of one status ("" for all).
pub(crate) fn squares(dom: &str, status: &str) -> usize {
    grid(dom)
        .matches(&format!("<button class=\"sq s-{status}"))
        .count()
}

pub(crate) fn fragment_for(id: &str) -> String {
    format!(
        "#cell={}",
        id.replace('%', "%25")
            .replace(' ', "%20")
            .replace('=', "%3D")
            .replace('&', "%26")
    )
}

#[test]
fn the_grid_of_a_real_run() {
    let r = common::Test::new()
        .matrix(MATRIX)
        .args(["run", "@", "-j2"])
        .status(1)
        .run();
    let page = r.reports("grid").join("report.html");
    assert!(r.stdout().contains("report.html"), "{}", r.stdout());
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: nothing to fetch.
    for pat in ["src=\"http", "href=\"http", "@import", "url(http", "fetch("] {
        assert!(!html.contains(pat), "report.html would fetch: {pat}");
    }

    let d = dom(&page, "");
    assert_eq!(squares(&d, ""), 6, "one square a cell");
    assert_eq!(
        (
            squares(&d, "pass"),
            squares(&d, "xfail"),
            squares(&d, "fail"),
            squares(&d, "built")
        ),
        (2, 1, 1, 2)
    );
    assert!(d.contains("6 cells"), "the count is shown");
    assert!(
        d.contains("built, not run 2"),
        "the legend names built cells"
    );
    // Rows are targets, columns the probes; cgo and ldflags never vary, so
    // they take no header row: the line under the title says cgo0, and
    // ldflags at its default is not worth a word.
    for row in ["linux/386", "linux/amd64", "windows/amd64"] {
        assert!(d.contains(&format!(">{row}</th>")), "row {row}");
    }
    assert!(d.contains(">atomic64</th>"), "column headers");
    assert!(
        !grid(&d).contains(">cgo0</th>") && !grid(&d).contains("no ldflags"),
        "axes that never vary take no header"
    );
    assert!(
        d.contains(r#"<p id="fixed">Every cell: <span title="cgo"><b>cgo0</b></span></p>"#),
        "{d}"
    );
    assert!(
        d.contains("id=\"popover\" role=\"dialog\" aria-modal=\"false\" hidden"),
        "no popover until a click"
    );

    // A cell's popover: reason, facts, log excerpt, replay command.
    let id = "linux/386/cgo0/atomic64";
    let d = dom(&page, &fragment_for(id));
    let pop = &d[d.find("id=\"popover\"").unwrap()..];
    let pop = &pop[..pop.find("</div>").unwrap()];
    assert!(
        !pop.starts_with("id=\"popover\" role=\"dialog\" aria-modal=\"false\" hidden"),
        "opened from #cell="
    );
    assert!(pop.contains(&format!("<h2>{id}</h2>")), "{pop}");
    assert!(pop.contains("expected failure"), "{pop}");
    assert!(
        pop.contains("panic: unaligned 64-bit atomic operation (exit status 2)"),
        "the reason: {pop}"
    );
    assert!(pop.contains("probe.counter_offset"), "the facts: {pop}");
    assert!(
        pop.contains("goroutine 1 [running]"),
        "the log excerpt: {pop}"
    );
    assert!(
        pop.contains("crossprobe run grid.yaml --filter linux/386/cgo0/atomic64 -j1 --keep"),
        "the replay: {pop}"
    );

    // The filter dims what does not match and leaves out empty rows.
    let d = dom(&page, "#filter=status:fail");
    assert!(d.contains("1 of 6 cells match"), "filter count");
    assert_eq!(squares(&d, ""), 2, "the matching row's squares");
    assert_eq!(grid(&d).matches(" dim\"").count(), 1);
    assert!(
        !d.contains("title=\"goos=windows goarch=amd64\""),
        "rows with no match are left out"
    );

    // An axis the results do not have is refused, with those they have.
    let err = Test::at(r.path())
        .args([
            "report",
            "html",
            "reports/grid/results.json",
            "--cols",
            "probe,pakage",
        ])
        .status(2)
        .stderr_contains(r#"--cols: unknown axis "pakage""#)
        .run()
        .stderr();
    assert!(
        err.contains("the axes of these results: matrix, goos, goarch, cgo"),
        "{err}"
    );

    // Last night's run, where atomic64 passed on amd64 and 386 was not
    // built: the page says what changed, and rings the squares.
    let head = r.reports("grid").join("results.json");
    let mut base: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&head).unwrap()).unwrap();
    base["started_at"] = "2026-12-06T02:00:00Z".into();
    let cells = base["cells"].as_array_mut().unwrap();
    cells.retain(|c| c["cell"]["goarch"] != "386");
    for c in cells.iter_mut() {
        if c["cell"]["id"] == "linux/amd64/cgo0/hello" {
            c["outcome"] = "build-fail".into();
            c["verdict"]["met"] = true.into();
        }
    }
    let base_file = r.path().join("last-night.json");
    std::fs::write(&base_file, serde_json::to_string(&base).unwrap()).unwrap();
    let diffed = r.path().join("diffed.html");
    Test::at(r.path())
        .args(["report", "html"])
        .arg(&head)
        .arg("--diff")
        .arg(&base_file)
        .arg("--out")
        .arg(&diffed)
        .run();
    let d = dom(&diffed, "");
    let pane = &d[d.find("<section id=\"diff\"").unwrap()..];
    let pane = &pane[..pane.find("</section>").unwrap()];
    assert!(
        pane.contains(&format!(
            "Since {} (2026-12-06T02:00:00Z): 1 regression: 1 newly failing, 0 newly flaky, 0 fixed, 0 newly skipped, 2 new, 0 removed, 3 unchanged",
            base_file.display()
        )),
        "{pane}"
    );
    assert!(pane.contains("<h3>Newly failing (1)</h3>"), "{pane}");
    assert!(
        pane.contains(r##"<a href="#" data-id="linux/amd64/cgo0/hello">linux/amd64/cgo0/hello</a> build-fail → pass"##),
        "{pane}"
    );
    assert!(pane.contains("<h3>New (2)</h3>"), "{pane}");
    assert_eq!(
        grid(&d).matches(" chg\"").count(),
        3,
        "three squares ringed"
    );
    let d = dom(&diffed, "#filter=change:newly-failing");
    assert!(d.contains("1 of 6 cells match"), "filter on the change");
    let d = dom(&diffed, &fragment_for("linux/amd64/cgo0/hello"));
    assert!(
        d.contains(&format!(
            "<p class=\"change\">Newly failing since {}: build-fail → pass</p>",
            base_file.display()
        )),
        "the popover says how the cell changed"
    );
    let shot = screenshot(&diffed, "", "report-diff.png", "1200,800");
    eprintln!("screenshot: {}", shot.display());

    let shot = screenshot(
        &page,
        &fragment_for(id),
        "report-grid-popover.png",
        "1200,900",
    );
    eprintln!("screenshot: {}", shot.display());
}

/// A thousand cells made from a real run's: 25 targets × 5 probes × 2 cgo ×
/// 4 ldflags, each a copy of a real cell so every status shows.
#[test]
fn a_thousand_cells_stay_readable() {
    let r = common::Test::new()
        .matrix(MATRIX)
        .args(["run", "@", "-j2"])
        .failure()
        .run();
    let mut results = r.results("grid");
    let real = results.cells.clone();
    let mut cells = Vec::new();
    let arches = [
        "amd64", "386", "arm64", "arm", "riscv64", "ppc64le", "s390x", "mips", "mipsle",
        "mips64le", "loong64", "ppc64", "mips64",
    ];
    for (t, (goos, goarch)) in arches
        .iter()
        .map(|a| ("linux", *a))
        .chain(arches.iter().take(12).map(|a| ("freebsd", *a)))
        .enumerate()
    {
        for p in 0..5 {
            for cgo in ["0", "1"] {
                for (l, ld) in ["", "-s -w", "-X main.v=1", "-linkmode=external"]
                    .iter()
                    .enumerate()
                {
                    let mut c = real[(t + p + l) % real.len()].clone();
                    let probe = format!("probe{p}");
                    let ldpart = if ld.is_empty() {
                        String::new()
                    } else {
                        format!("/ldflags={ld}")
                    };
                    let id = format!("{goos}/{goarch}/cgo{cgo}{ldpart}/{probe}");
                    let cell = &mut c.cell;
                    cell.slug = id.replace(['/', ' '], "_");
                    cell.id = id;
                    cell.goos = goos.into();
                    cell.goarch = goarch.into();
                    cell.probe = probe;
                    cell.cgo = cgo.into();
                    cell.ldflags = (*ld).into();
                    cells.push(c);
                }
            }
        }
    }
    assert_eq!(cells.len(), 1000);
    results.cells = cells;
    let page = r.path().join("big.html");
    Test::at(r.path())
        .file("big.json", serde_json::to_string(&results).unwrap())
        .args(["report", "html", "big.json", "--out", "big.html"])
        .run();

    let t = std::time::Instant::now();
    let d = dom(&page, "");
    assert_eq!(squares(&d, ""), 1000);
    assert!(d.contains("1000 cells"));
    // 25 rows, 5 × 2 × 4 = 40 columns.
    assert_eq!(
        d.matches("<tr><th class=\"lvl0\" title=\"goos=").count(),
        25
    );
    assert_eq!(grid(&d).matches("<td>").count(), 25 * 40);
    eprintln!("1000 cells: dumped in {:.1}s", t.elapsed().as_secs_f64());

    // Other axes on request: rows by probe, columns by goarch.
    let d = dom(&page, "#rows=probe&cols=goarch");
    assert_eq!(
        d.matches("<tr><th class=\"lvl0\" title=\"probe=").count(),
        5
    );
    let shot = screenshot(&page, "", "report-1000.png", "1600,1100");
    eprintln!("screenshot: {}", shot.display());
}

/// A rerun answered by the result cache says so: the count names the
/// cached cells, `cached:true` filters them, and a cached cell's popover
/// says where its result came from. The cell that did not meet its
/// expectation is never cached, so it ran again.
#[test]
fn cached_cells_are_marked() {
    let dir = tempfile::tempdir().unwrap();
    let xdg = dir.path().join("xdg");
    for _ in 0..2 {
        // The user's warm GOCACHE: under XDG_CACHE_HOME the first run would
        // start cold and can time out on 2 cores.
        Test::at(dir.path())
            .matrix(MATRIX)
            .args(["run", "@", "-j2"])
            .result_cache(&xdg)
            .failure()
            .run();
    }
    let page = dir.path().join("reports/grid/report.html");
    let d = dom(&page, "");
    assert!(d.contains("6 cells, 5 from the result cache"), "the count");
    let d = dom(&page, "#filter=cached:true");
    assert!(d.contains("5 of 6 cells match"), "filter on cached");
    let d = dom(&page, &fragment_for("linux/386/cgo0/atomic64"));
    let pop = &d[d.find("id=\"popover\"").unwrap()..];
    assert!(pop.contains("<dt>cached</dt>"), "{pop}");
}
