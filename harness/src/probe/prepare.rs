//! What a run's probes need before their cells are expanded, once per
//! run: the matrices' module probes listed by `go list` (per target) and
//! their modules downloaded, and the go.sum of each inline probe that
//! brings a go.mod completed.

use std::collections::BTreeMap;

use crate::errors::Error;
use crate::expand;
use crate::load::{Located, Matrix};
use crate::toolchain::go::GoToolchain;

/// What `go list` says of the matrices' module probes, and their modules
/// downloaded once per module and Go, before anything is scheduled.
pub fn modules(
    matrices: &mut [Matrix],
    gos: &BTreeMap<String, GoToolchain>,
    strict: bool,
    max_cells: usize,
) -> miette::Result<Vec<String>> {
    let mut warnings = Vec::new();
    let mut downloaded: BTreeMap<
        (std::path::PathBuf, String),
        Result<(), super::module::download::DownloadError>,
    > = BTreeMap::new();
    for mx in matrices.iter_mut() {
        if mx.probes.iter().all(|p| p.module().is_none()) {
            continue;
        }
        let usable: Vec<&GoToolchain> = mx
            .values("go")
            .iter()
            .filter_map(|g| gos.get(&g.value))
            .filter(|g| g.unavailable.is_none())
            .collect();
        if usable.is_empty() {
            continue;
        }
        let targets = expand::listing_targets(mx, max_cells)?;
        let found = super::module::resolve(&mx.source, &mut mx.probes, &usable, &targets)?;
        if strict && !found.is_empty() {
            return Err(Error::Usage {
                message: found.join("\n"),
                help: Some("--strict refuses a test pattern that matches no package with tests: fix the pattern, or add tests".into()),
            }
            .into());
        }
        warnings.extend(found);
        let versions: Vec<Located<String>> = mx.values("go").to_vec();
        for probe in mx.probes.iter_mut() {
            let Some(m) = probe.module_mut() else {
                continue;
            };
            for g in &versions {
                let Some(go) = gos.get(&g.value).filter(|go| go.unavailable.is_none()) else {
                    continue;
                };
                let got = downloaded
                    .entry((m.root.clone(), g.value.clone()))
                    .or_insert_with(|| super::module::download::download(&m.root, &m.path, go));
                if let Err(why) = got {
                    m.download_errors.insert(g.value.clone(), why.to_string());
                }
            }
        }
    }
    for r in downloaded.values() {
        if let Err(why) = r {
            eprintln!("crossprobe: {}", crate::escape::Line(&why.to_string()));
        }
    }
    Ok(warnings)
}

/// Completes the go.sum of each probe that brings its own go.mod, once per
/// run, with the local Go (else the first one to hand). A failure is a
/// warning: the build then says what is missing, in Go's words.
pub fn complete_sums(matrices: &mut [Matrix], gos: &BTreeMap<String, GoToolchain>) -> Vec<String> {
    let Some(go) = gos
        .get("local")
        .filter(|g| g.unavailable.is_none())
        .or_else(|| gos.values().find(|g| g.unavailable.is_none()))
    else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    for mx in matrices {
        for p in &mut mx.probes {
            if let Err(e) = super::gosum::complete_sum(p, go) {
                warnings.push(format!(
                    "{}: probe {}: cannot complete its go.sum: {e}",
                    mx.name, p.name
                ));
            }
        }
    }
    warnings
}
