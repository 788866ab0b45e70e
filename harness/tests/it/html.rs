//! report.html in a real browser: headless Chromium draws the grid from a
//! real run, opens a cell's popover from `#cell=`, filters, and copes with
//! a thousand cells. Screenshots land in target/test-artifacts/:
//! report-grid-popover.png and report-1000.png.

use crate::common::{self, Test};

use std::path::{Path, PathBuf};
use std::process::Command;

/// pass, expected failure (golang/go#599 on 386), not as expected (an
/// expectation wrong on purpose) and skip (windows forced to no runner).
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

fn screenshot(page: &Path, fragment: &str, name: &str, size: &str) -> PathBuf {
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
fn grid(dom: &str) -> &str {
    let start = dom.find("<table id=\"grid\"").expect("the grid is drawn");
    let end = start + dom[start..].find("</table>").unwrap();
    &dom[start..end]
}

/// The grid's squares of one status ("" for all).
fn squares(dom: &str, status: &str) -> usize {
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
            squares(&d, "skip")
        ),
        (2, 1, 1, 2)
    );
    assert!(d.contains("6 cells"), "the count is shown");
    // Rows are targets, columns probe × cgo × ldflags.
    for row in ["linux/386", "linux/amd64", "windows/amd64"] {
        assert!(d.contains(&format!(">{row}</th>")), "row {row}");
    }
    assert!(
        d.contains(">atomic64</th>") && d.contains(">cgo0</th>") && d.contains(">no ldflags</th>"),
        "column headers"
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

    // The filter dims what does not match and hides empty rows.
    let d = dom(&page, "#filter=status:fail");
    assert!(d.contains("1 of 6 cells match"), "filter count");
    assert_eq!(d.matches(" dim\"").count(), 5);
    assert!(
        d.contains("<tr class=\"hide\"><th title=\"goos=windows goarch=amd64\""),
        "rows with no match hide"
    );

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
    assert_eq!(d.matches("<tr><th title=\"goos=").count(), 25);
    assert_eq!(grid(&d).matches("<td>").count(), 25 * 40);
    eprintln!("1000 cells: dumped in {:.1}s", t.elapsed().as_secs_f64());

    // Other axes on request: rows by probe, columns by goarch.
    let d = dom(&page, "#rows=probe&cols=goarch");
    assert_eq!(d.matches("<tr><th title=\"probe=").count(), 5);
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
