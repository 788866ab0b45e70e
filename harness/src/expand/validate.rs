//! Step 4 of [`super`]: each combination's target and buildmode against
//! what its Go supports, and the `cc` values no cell would use.

use std::collections::BTreeMap;

use miette::SourceSpan;

use crate::errors::{did_you_mean, Error, InputError};
use crate::load::Matrix;
use crate::model::Cell;
use crate::toolchain::go::GoToolchain;

use super::{AxisSpans, Combo, Spans};

/// A target is valid when at least one Go of the matrix knows it (broken
/// ports included): every Go then gets its cells, and a Go that does not
/// know it refuses the build in its own words ("go: unsupported GOOS/GOARCH
/// pair openbsd/riscv64"). A target no Go of the matrix knows is an input
/// error.
pub(super) fn check_target(
    m: &Matrix,
    gos: &BTreeMap<String, GoToolchain>,
    go: &GoToolchain,
    c: &Combo,
    spans: &Spans,
) -> miette::Result<()> {
    let (goos, goarch) = (&c["goos"], &c["goarch"]);
    let target = format!("{goos}/{goarch}");
    let of_matrix: Vec<&GoToolchain> = m
        .values("go")
        .iter()
        .filter_map(|g| gos.get(&g.value))
        .chain(std::iter::once(go))
        .collect();
    // A Go that could not be had, with no local Go to borrow targets from:
    // its cells skip anyway, with the reason.
    if of_matrix.iter().any(|g| g.targets.contains_key(&target))
        || (go.unavailable.is_some() && go.targets.is_empty())
    {
        return Ok(());
    }
    let known: BTreeMap<&str, &crate::toolchain::go::DistTarget> = of_matrix
        .iter()
        .flat_map(|g| g.targets.iter().map(|(k, t)| (k.as_str(), t)))
        .collect();
    let mut versions: Vec<&str> = of_matrix.iter().map(|g| g.version.as_str()).collect();
    versions.sort();
    versions.dedup();
    let who = match versions.as_slice() {
        [one] => one.to_string(),
        many => format!("none of {}", many.join(", ")),
    };
    let oses: Vec<&str> = {
        let mut v: Vec<&str> = known.values().map(|t| t.goos.as_str()).collect();
        v.sort();
        v.dedup();
        v
    };
    let no_span = SourceSpan::new(0.into(), 0);
    let (span, msg, help) = if !oses.contains(&goos.as_str()) {
        (
            spans.0.get("goos").copied().unwrap_or(no_span),
            format!("unknown GOOS {goos:?}"),
            format!(
                "{who} {} it{}; `go tool dist list` shows the valid targets",
                if versions.len() == 1 {
                    "does not know"
                } else {
                    "knows"
                },
                did_you_mean(goos, oses.iter().copied())
            ),
        )
    } else {
        let archs: Vec<&str> = known
            .values()
            .filter(|t| t.goos == *goos)
            .map(|t| t.goarch.as_str())
            .collect();
        let supports = if versions.len() == 1 {
            format!("{who} supports")
        } else {
            format!("{} support between them", versions.join(", "))
        };
        (
            spans.0.get("goarch").copied().unwrap_or(no_span),
            format!("invalid target {goos}/{goarch}"),
            format!(
                "{supports} GOARCH {} for GOOS {goos}{}",
                archs.join(", "),
                did_you_mean(goarch, archs.iter().copied())
            ),
        )
    };
    let label = if versions.len() == 1 {
        "not a target of this Go"
    } else {
        "not a target of any Go of the matrix"
    };
    Err(Error::from(InputError::new(&m.source, span, msg, label, Some(help))).into())
}

/// `buildmode` must be one that this Go lists in `go help buildmode`.
pub(super) fn check_buildmode(
    m: &Matrix,
    go: &GoToolchain,
    c: &Combo,
    spans: &Spans,
) -> miette::Result<()> {
    let mode = &c["buildmode"];
    if go.buildmodes.is_empty() || go.buildmodes.contains(mode) {
        return Ok(());
    }
    let span = spans
        .0
        .get("buildmode")
        .copied()
        .unwrap_or(SourceSpan::new(0.into(), 0));
    Err(Error::from(InputError::new(
        &m.source,
        span,
        format!("invalid buildmode {mode:?}"),
        "not listed by `go help buildmode`",
        Some(format!(
            "{} has -buildmode={}{}",
            go.version,
            go.buildmodes.join(", "),
            did_you_mean(mode, go.buildmodes.iter().map(String::as_str))
        )),
    ))
    .into())
}

/// A cc value on Go cells with cgo 0 does nothing: Go then builds without
/// a C compiler (only c-archive and c-shared still link a C host program).
/// Worth a warning, not an error: a matrix may cross cgo with cc on purpose.
pub(super) fn idle_cc(m: &Matrix, cells: &[Cell], spans: &AxisSpans) -> Vec<String> {
    let mut idle: BTreeMap<&str, usize> = BTreeMap::new();
    // A snippet's own default (`default` with cgo on) is not the user's.
    let named = m.listed.contains("cc") || m.include.iter().any(|i| i.value.contains_key("cc"));
    if !named {
        return Vec::new();
    }
    for c in cells {
        let host_program = matches!(c.buildmode.as_str(), "c-archive" | "c-shared");
        let named = !matches!(c.cc.as_str(), "auto" | "");
        if c.lang == crate::model::Lang::Go && c.cgo == "0" && named && !host_program {
            *idle.entry(c.cc.as_str()).or_default() += 1;
        }
    }
    idle.into_iter()
        .map(|(cc, n)| {
            let offset = spans
                .0
                .get(&("cc".to_string(), cc.to_string()))
                .map_or(0, |s| s.offset());
            format!(
                "{}: cc {cc:?} does nothing for cgo 0 ({n} Go cell{}): Go builds without \
                 a C compiler there; pair it with cgo 1 or default, or exclude {{cgo: 0, cc: {cc:?}}}",
                m.source.position(offset),
                if n == 1 { "" } else { "s" },
            )
        })
        .collect()
}
