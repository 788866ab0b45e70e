//! `crossprobe report ...`: merge, compare and draw results.json files.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::escape;
use crate::model::exit;
use crate::report::{self, diff, html, merge};

#[derive(Subcommand)]
pub enum ReportCmd {
    /// One junit.xml, results.json and report.html from the results of
    /// several runs: shards, runners, or both. A journal
    /// (results.partial.jsonl, from a killed run) counts too: its missing
    /// cells are interrupted.
    Merge {
        #[arg(required = true, value_name = "RESULTS")]
        files: Vec<PathBuf>,
        /// Where the merged reports go.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Cells newly failing, fixed, newly flaky, new and removed since BASE.
    /// Exits 1 on a regression.
    Diff {
        #[arg(value_name = "BASE")]
        base: PathBuf,
        #[arg(value_name = "HEAD")]
        head: PathBuf,
        /// Markdown, for a PR comment or $GITHUB_STEP_SUMMARY.
        #[arg(long)]
        markdown: bool,
    },
    /// report.html from a results.json (or a killed run's journal), with
    /// the axes of your choice, and what changed since BASE.
    Html {
        #[arg(value_name = "RESULTS")]
        results: PathBuf,
        /// Default: report.html beside RESULTS.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Axes that make the rows, e.g. goos,goarch,GOARM or package,test.
        #[arg(long, value_name = "AXES", value_delimiter = ',')]
        rows: Vec<String>,
        /// Axes that make the columns, e.g. probe,cgo,ldflags.
        #[arg(long, value_name = "AXES", value_delimiter = ',')]
        cols: Vec<String>,
        /// An earlier run's results.json (last night's): the page shows
        /// what changed since, as `report diff BASE RESULTS` does.
        #[arg(long, value_name = "BASE")]
        diff: Option<PathBuf>,
    },
}

pub fn main(cmd: ReportCmd) -> miette::Result<i32> {
    match cmd {
        ReportCmd::Merge { files, out } => cmd_merge(&files, &out),
        ReportCmd::Diff {
            base,
            head,
            markdown,
        } => cmd_diff(&base, &head, markdown),
        ReportCmd::Html {
            results,
            out,
            rows,
            cols,
            diff,
        } => cmd_html(&results, out, html::Layout { rows, cols }, diff.as_deref()),
    }
}

fn cmd_merge(files: &[PathBuf], out: &Path) -> miette::Result<i32> {
    let merged = merge::merge_files(files)?;
    for w in &merged.warnings {
        eprintln!("warning: {}", escape::Line(w));
    }
    report::prepare_root(out)?;
    report::prepare_dir(out)?;
    report::write_reports(out, &merged.results)?;
    let r = &merged.results;
    eprintln!(
        "merged {} cells from {} runs ({} runners)",
        r.cells.len(),
        r.merged_from.len(),
        r.merged_from
            .iter()
            .map(|s| &s.host.runner)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
    println!(
        "reports: {0}/junit.xml, {0}/results.json, {0}/report.html",
        escape::Line(&out.display().to_string())
    );
    Ok(exit::OK)
}

fn cmd_diff(base: &Path, head: &Path, markdown: bool) -> miette::Result<i32> {
    let (b, h) = (report::read_results(base)?, report::read_results(head)?);
    let d = diff::diff(&b, &h);
    if markdown {
        for w in &d.warnings {
            eprintln!("warning: {}", escape::Line(w));
        }
        print!(
            "{}",
            escape::text(&diff::render_markdown(
                &d,
                &base.display().to_string(),
                &head.display().to_string()
            ))
        );
    } else {
        print!("{}", escape::text(&diff::render_text(&d)));
    }
    Ok(if d.regressions() > 0 {
        exit::UNMET
    } else {
        exit::OK
    })
}

fn cmd_html(
    results: &Path,
    out: Option<PathBuf>,
    layout: html::Layout,
    base: Option<&Path>,
) -> miette::Result<i32> {
    let r = report::read_results(results)?;
    layout.check(&r)?;
    let base = match base {
        Some(p) => Some((report::read_results(p)?, p.display().to_string())),
        None => None,
    };
    let out = out.unwrap_or_else(|| results.with_file_name("report.html"));
    let page = html::render(&r, &layout, base.as_ref().map(|(b, l)| (b, l.as_str())));
    report::write_atomic(&out, page.as_bytes())?;
    println!("{}", escape::Line(&out.display().to_string()));
    Ok(exit::OK)
}
