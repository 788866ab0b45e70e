//! The text of `crossprobe inspect BINARY`.

use std::fmt::Write;
use std::path::Path;

use serde_json::Value;

use super::Inspection;

/// Groups in the order a reader asks about them: what it is, how it is
/// linked, then what Go recorded.
const GROUPS: [&str; 6] = ["binary", "elf", "macho", "pe", "wasm", "buildinfo"];

/// Keys shown first in their group, in this order; the rest follow sorted.
const FIRST: [&str; 16] = [
    "binary.format",
    "binary.arch",
    "binary.bits",
    "binary.endian",
    "binary.size",
    "binary.linkage",
    "binary.static",
    "binary.interp",
    "binary.needed",
    "binary.max_glibc",
    "buildinfo.go_version",
    "buildinfo.path",
    "buildinfo.main",
    "buildinfo.main_version",
    "buildinfo.GOOS",
    "buildinfo.GOARCH",
];

/// Human-readable multi-line text for `crossprobe inspect BINARY`: aligned
/// `key: value` lines grouped by prefix, then what could not be read.
pub fn render_text(path: &Path, insp: &Inspection) -> String {
    let mut out = format!("{}\n", path.display());
    let group_of = |key: &str| key.split_once('.').map_or("other", |(g, _)| g).to_owned();
    let mut groups: Vec<String> = GROUPS.iter().map(|g| g.to_string()).collect();
    for key in insp.facts.keys() {
        let g = group_of(key);
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    for group in groups {
        let mut keys: Vec<&String> = insp.facts.keys().filter(|k| group_of(k) == group).collect();
        if keys.is_empty() {
            continue;
        }
        let rank = |k: &str| FIRST.iter().position(|f| *f == k).unwrap_or(FIRST.len());
        keys.sort_by_key(|k| (rank(k), k.as_str()));
        let width = keys
            .iter()
            .map(|k| k.len() - group.len())
            .max()
            .unwrap_or(0);
        let _ = writeln!(out, "\n{group}:");
        for key in keys {
            let short = &key[group.len() + 1..];
            let label = format!("{short}:");
            let _ = writeln!(out, "  {label:<width$} {}", show(&insp.facts[key]));
        }
    }
    if !insp.notes.is_empty() {
        let _ = writeln!(out, "\nnot read:");
        for note in &insp.notes {
            let _ = writeln!(out, "  - {note}");
        }
    }
    out
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "(none)".to_owned(),
        Value::Array(items) => items.iter().map(show).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_align_and_list_what_was_not_read() {
        let mut insp = Inspection::default();
        insp.set("binary.format", "elf");
        insp.set("binary.arch", "arm");
        insp.set("binary.needed", Vec::<Value>::new());
        insp.set("binary.static", true);
        insp.set("elf.arm_eabi", 5);
        insp.set("elf.float_abi", "hard");
        insp.set(
            "pe.imports",
            vec![Value::from("kernel32.dll"), Value::from("msvcrt.dll")],
        );
        insp.note("no Go build info (not a Go binary)");
        insta::assert_snapshot!(render_text(Path::new("out/probe"), &insp), @r"
        out/probe

        binary:
          format: elf
          arch:   arm
          static: true
          needed: (none)

        elf:
          arm_eabi:  5
          float_abi: hard

        pe:
          imports: kernel32.dll, msvcrt.dll

        not read:
          - no Go build info (not a Go binary)
        ");
    }
}
