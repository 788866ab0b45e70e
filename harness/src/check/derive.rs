//! Facts made by comparing what the phases saw, so a report shows the
//! answer rather than two numbers to compare:
//! - `build.warnings`: the warnings of every build command, one entry each
//!   (the static-glibc `getaddrinfo` warning, a C compiler's warnings);
//! - `cgo.binary`: CGO_ENABLED as the binary's build settings recorded it;
//! - `cgo.note`: for `cgo: default`, why cgo went off, when it did;
//! - `layout.mismatch`: each `probe.go.X` that differs from `probe.c.X`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Observed;
use crate::model::{Cell, Lang};

pub fn derive(
    cell: &Cell,
    obs: &Observed,
    facts: &BTreeMap<String, Value>,
) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    if !obs.builds.is_empty() {
        let warnings = warnings(obs.builds.iter().map(|c| c.stderr.text.as_str()));
        out.insert(
            "build.warnings".into(),
            Value::Array(warnings.into_iter().map(Value::String).collect()),
        );
    }
    if cell.lang == Lang::Go {
        let recorded = ["buildinfo.CGO_ENABLED", "probe.build.CGO_ENABLED"]
            .iter()
            .find_map(|k| facts.get(*k));
        if let Some(v) = recorded {
            out.insert("cgo.binary".into(), Value::String(text(v)));
        }
        let go_env = facts.get("cgo.go_env").map(text);
        if cell.cgo == "default" && go_env.as_deref() == Some("0") {
            out.insert(
                "cgo.note".into(),
                Value::String(
                    "cgo is off: CGO_ENABLED was unset, and Go turns cgo off when \
                     cross-compiling or when it finds no C compiler; cgo-only \
                     packages then fail with \"build constraints exclude all Go \
                     files\" (golang/go#24068). Set cgo: 1 to build with cgo."
                        .into(),
                ),
            );
        }
    }
    let mismatch = mismatch(facts);
    if let Some(m) = mismatch {
        out.insert(
            "layout.mismatch".into(),
            Value::Array(m.into_iter().map(Value::String).collect()),
        );
    }
    out
}

/// A fact as text: strings bare, anything else as compact JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The text after `warning:` on each line that has one, without repeats.
/// The location before it is a temporary path (`/tmp/go-link-123/000004.o`)
/// that would differ on every run.
fn warnings<'a>(streams: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in streams.flat_map(str::lines) {
        if let Some((_, msg)) = line.split_once("warning: ") {
            let msg = msg.trim().to_string();
            if !msg.is_empty() && !out.contains(&msg) {
                out.push(msg);
            }
        }
    }
    out
}

/// `offsetof_b: go 4, c 8` for each key the probe reported for both sides
/// that differs; `None` when the probe did not report two sides.
fn mismatch(facts: &BTreeMap<String, Value>) -> Option<Vec<String>> {
    let mut any = false;
    let mut out = Vec::new();
    for (k, go) in facts.range("probe.go.".to_string()..) {
        let Some(field) = k.strip_prefix("probe.go.") else {
            break;
        };
        if let Some(c) = facts.get(&format!("probe.c.{field}")) {
            any = true;
            if c != go {
                out.push(format!("{field}: go {}, c {}", text(go), text(c)));
            }
        }
    }
    any.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn linker_warnings_lose_their_temporary_paths() {
        let stderr = "# crossprobe.probe/static-net\n\
            /usr/bin/ld: /tmp/go-link-1/000004.o: in function `_cgo_x_C2func_getaddrinfo':\n\
            /tmp/go-build/cgo_unix_cgo.cgo2.c:60: warning: Using 'getaddrinfo' in statically linked applications requires at runtime the shared libraries from the glibc version used for linking\n\
            /tmp/go-build/other.c:61: warning: Using 'getaddrinfo' in statically linked applications requires at runtime the shared libraries from the glibc version used for linking\n";
        assert_eq!(
            warnings([stderr].into_iter()),
            ["Using 'getaddrinfo' in statically linked applications requires at runtime the shared libraries from the glibc version used for linking"]
        );
        assert!(warnings(["ok\n"].into_iter()).is_empty());
    }

    #[test]
    fn layouts_compare_key_by_key() {
        let facts: BTreeMap<String, Value> = [
            ("probe.c.offsetof_b", json!(8)),
            ("probe.c.sizeof", json!(16)),
            ("probe.go.offsetof_b", json!(4)),
            ("probe.go.sizeof", json!(16)),
            ("probe.goarch", json!("arm")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(mismatch(&facts).unwrap(), ["offsetof_b: go 4, c 8"]);
        assert_eq!(mismatch(&BTreeMap::new()), None);
    }
}
