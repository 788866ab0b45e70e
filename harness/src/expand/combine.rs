//! Steps 1 to 3 of [`super`]: the product of the axes, `exclude`, and
//! `include` entries that extend combinations or add new ones.

use std::collections::{BTreeMap, HashSet};

use crate::axis::{self, Place};
use crate::errors::{did_you_mean, Error, InputError};
use crate::load::{Located, Matrix};

use super::{env_applies, too_many, AxisSpans, Combo, Spans};

pub(super) fn product(m: &Matrix, max: usize) -> miette::Result<(Vec<Combo>, AxisSpans)> {
    let mut spans = BTreeMap::new();
    for (axis, vals) in m
        .axes
        .iter()
        .map(|(k, v)| (*k, v))
        .chain(m.env.iter().map(|(k, v)| (k.as_str(), v)))
    {
        for v in vals {
            spans
                .entry((axis.to_string(), v.value.clone()))
                .or_insert(v.span);
        }
    }

    // A value listed twice would only make duplicate combinations; but the
    // loops would still walk them, and `goos: [linux, linux, ...]` a hundred
    // thousand times over would take hours to add nothing.
    let probes: Vec<&str> = m.probes.iter().map(|p| p.name.as_str()).collect();
    let mut combos = vec![Combo::new()];
    let multiply =
        |combos: Vec<Combo>, key: &str, vals: &[&str], applies: &dyn Fn(&Combo) -> bool| {
            let mut next = Vec::with_capacity(combos.len() * vals.len().max(1));
            for c in combos {
                if !applies(&c) {
                    next.push(c);
                    continue;
                }
                for v in vals {
                    let mut c = c.clone();
                    c.insert(key.to_string(), v.to_string());
                    next.push(c);
                }
                if next.len() > max {
                    return Err(too_many(m, max));
                }
            }
            Ok(next)
        };
    for a in axis::AXES {
        let vals = match a.place {
            Place::Probes => probes.clone(),
            _ => uniq(m.values(a.key)),
        };
        combos = multiply(combos, a.key, &vals, &|_| true)?;
    }
    for (k, vals) in &m.env {
        let applies = |c: &Combo| env_applies(k, &c["goarch"]);
        combos = multiply(combos, k, &uniq(vals), &applies)?;
    }
    Ok((combos, AxisSpans(spans)))
}

/// The values in their first order, each once.
fn uniq(vals: &[Located<String>]) -> Vec<&str> {
    let mut seen = HashSet::new();
    vals.iter()
        .map(|v| v.value.as_str())
        .filter(|v| seen.insert(*v))
        .collect()
}

pub(super) fn matches_all(c: &Combo, entry: &BTreeMap<String, Vec<String>>) -> bool {
    entry
        .iter()
        .all(|(k, vals)| c.get(k).is_some_and(|v| vals.contains(v)))
}

/// True when `inc` would overwrite one of the combination's original
/// values: those of the axes the matrix lists. An axis it does not list has
/// no original value, so an entry's value for it is added; values an
/// earlier entry added may be overwritten, as in GitHub Actions.
pub(super) fn contradicts(c: &Combo, inc: &BTreeMap<String, Located<String>>, m: &Matrix) -> bool {
    inc.iter().any(|(k, v)| {
        // A variable for other architectures would make a cell that means
        // nothing, and a listed one that the product left out here was left
        // out on purpose.
        if crate::target::is_arch_env(k) && !env_applies(k, &c["goarch"]) {
            return true;
        }
        match c.get(k) {
            Some(cur) => m.listed.contains(k) && *cur != v.value,
            None => m.env.contains_key(k),
        }
    })
}

pub(super) fn new_from_include(
    m: &Matrix,
    inc: &Located<BTreeMap<String, Located<String>>>,
) -> miette::Result<Vec<(Combo, Spans)>> {
    let required = axis::AXES
        .iter()
        .filter(|a| a.default.is_none() && a.place == Place::Matrix);
    for key in required.map(|a| a.key) {
        if !inc.value.contains_key(key) {
            return Err(Error::from(InputError::new(
                &m.source,
                inc.span,
                format!("this include entry adds a new cell but names no {key}"),
                "matches no existing cell",
                Some(format!("an include entry that extends no cell must name at least goos and goarch; add `{key}: ...`")),
            ))
            .into());
        }
    }
    let gos: Vec<String> = match inc.value.get("go") {
        Some(v) => vec![v.value.clone()],
        None => m.values("go").iter().map(|g| g.value.clone()).collect(),
    };
    let probes: Vec<String> = match inc.value.get("probe") {
        Some(v) => {
            if !m.probes.iter().any(|p| p.name == v.value) {
                return Err(Error::from(InputError::new(
                    &m.source,
                    v.span,
                    format!(
                        "include names probe {:?}, which is not in `probes`",
                        v.value
                    ),
                    "here",
                    Some(format!(
                        "add it to `probes`{}",
                        did_you_mean(&v.value, m.probes.iter().map(|p| p.name.as_str()))
                    )),
                ))
                .into());
            }
            vec![v.value.clone()]
        }
        None => m.probes.iter().map(|p| p.name.clone()).collect(),
    };
    let mut out = Vec::new();
    for go in &gos {
        for probe in &probes {
            let mut c: Combo = axis::AXES
                .iter()
                .filter_map(|a| Some((a.key.to_string(), a.default?.to_string())))
                .collect();
            c.insert("go".to_string(), go.clone());
            c.insert("probe".to_string(), probe.clone());
            let mut s = Spans::default();
            for (k, v) in &inc.value {
                c.insert(k.clone(), v.value.clone());
                s.0.insert(k.clone(), v.span);
            }
            out.push((c, s));
        }
    }
    Ok(out)
}
