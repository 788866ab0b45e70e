//! `crossprobe doctor [MATRIX...] [--json] [--fix]`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::doctor::{self, fix, Level, Need, Needs};
use crate::load;
use crate::model::exit;

#[derive(clap::Args)]
pub struct DoctorArgs {
    /// Check for what these matrices need; without any, for the targets
    /// of the shipped matrices.
    #[arg(value_name = "MATRIX")]
    matrices: Vec<PathBuf>,
    /// Print the findings as JSON.
    #[arg(long)]
    json: bool,
    /// Run the set-up steps that fix what can be fixed; print the rest.
    #[arg(long)]
    fix: bool,
    /// The reports root a run would write to (its free space is checked).
    #[arg(long, value_name = "DIR", default_value = "reports")]
    out: PathBuf,
    #[command(flatten)]
    m: super::MatrixArgs,
}

/// The targets and cgo cells of the matrices. Without a working Go the
/// session cannot prepare them; their axes still say which targets their
/// cells build for ([`crate::expand::targets`], each combination once: a
/// `test:` probe's packages are not counted), and that no Go is the first
/// thing to fix.
fn needs(a: &DoctorArgs) -> miette::Result<Needs> {
    if a.matrices.is_empty() {
        return Ok(Needs::defaults());
    }
    if let Ok(prep) = super::prepare(&a.matrices, &a.m) {
        return Ok(Needs::from_cells(&prep.cells, prep.compilers()));
    }
    let mut needs = Needs {
        from_matrices: true,
        ..Needs::default()
    };
    for p in &a.matrices {
        let mx = load::load_file(p, a.m.templates.as_deref())?;
        for t in crate::expand::targets(&mx, a.m.max_cells)? {
            let n: &mut Need = needs
                .targets
                .entry(format!("{}/{}", t.goos, t.goarch))
                .or_default();
            n.cells += 1;
            n.cgo_cells += usize::from(t.cgo);
        }
    }
    Ok(needs)
}

pub fn main(a: DoctorArgs) -> miette::Result<i32> {
    let needs = needs(&a)?;
    let mut findings = doctor::examine(&needs, &a.out);
    if a.fix {
        let mut tried = BTreeSet::new();
        let mut manual = BTreeSet::new();
        // Two rounds: a fix can make another possible (mingw-w64, then the
        // ProcessPrng stub built with it).
        for _ in 0..2 {
            let todo: Vec<_> = findings
                .iter()
                .filter(|f| {
                    f.level != Level::Ok && f.fix.as_ref().is_some_and(|c| !tried.contains(c))
                })
                .cloned()
                .collect();
            if todo.is_empty() {
                break;
            }
            tried.extend(todo.iter().filter_map(|f| f.fix.clone()));
            let applied = fix::apply(&todo);
            for (cmd, r) in &applied.steps {
                match r {
                    Ok(()) => eprintln!("fixed: {cmd}"),
                    Err(e) => eprintln!(
                        "could not: {cmd}\n  {}",
                        crate::escape::text(&e.to_string())
                    ),
                }
            }
            manual.extend(applied.manual);
            findings = doctor::examine(&needs, &a.out);
        }
        if !manual.is_empty() {
            eprintln!("\nfor you to do:");
            for m in &manual {
                eprintln!("  {m}");
            }
        }
        if tried.is_empty() {
            eprintln!("nothing to fix");
        }
    }
    if a.json {
        println!("{}", doctor::render_json(&findings));
    } else {
        // What tools on PATH answered to --version is shown as they said
        // it, escaped.
        print!("{}", crate::escape::text(&doctor::render_text(&findings)));
    }
    Ok(if doctor::worst(&findings) == Level::Fail {
        exit::UNMET
    } else {
        exit::OK
    })
}
