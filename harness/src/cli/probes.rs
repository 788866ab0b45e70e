//! `crossprobe list-probes` and `crossprobe inspect`: what the shipped
//! probes are, and what a binary is.

use std::path::{Path, PathBuf};

use crate::errors::Error;
use crate::escape;
use crate::model::exit;
use crate::{inspect, templates};

pub fn list_probes(templates: Option<&Path>) -> miette::Result<i32> {
    use std::fmt::Write as _;
    use std::io::Write as _;
    let names = templates::names(templates);
    let w = names.iter().map(String::len).max().unwrap_or(0);
    let mut out = String::new();
    for n in names {
        let Some(p) = templates::find(&n, templates).map_err(|e| Error::Usage {
            message: e.to_string(),
            help: None,
        })?
        else {
            continue;
        };
        let lang = format!("{:?}", p.lang).to_lowercase();
        let _ = writeln!(
            out,
            "{:<w$}  {lang:<2}  {}",
            escape::Line(&n),
            escape::Line(&p.summary)
        );
        if let Some(page) = templates::docs_page(&n, templates) {
            let _ = writeln!(out, "{:<w$}      see {page}", "");
        }
    }
    // `crossprobe list-probes | head` closes the pipe early: not an error,
    // and println! would panic on it.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(exit::OK)
}

pub fn inspect_binaries(paths: &[PathBuf], json: bool) -> miette::Result<i32> {
    let mut all = serde_json::Map::new();
    let mut failed = false;
    for p in paths {
        match inspect::inspect_file(p) {
            Ok(insp) => {
                if json {
                    all.insert(
                        p.display().to_string(),
                        serde_json::json!({ "facts": insp.facts, "notes": insp.notes }),
                    );
                } else {
                    println!("{}", escape::text(&inspect::render_text(p, &insp)));
                }
            }
            Err(e) => {
                failed = true;
                eprintln!("error: {}", escape::Line(&e.to_string()));
            }
        }
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&all).expect("facts serialise")
        );
    }
    Ok(if failed { exit::INPUT } else { exit::OK })
}
