//! results.json read as the library's own types, so a test reads a field the
//! way every reporter does, and a renamed field breaks the test at compile
//! time instead of reading as null.

use std::collections::BTreeMap;
use std::path::Path;

use crossprobe::model::{CellResult, Command, PhaseName, Results};

/// A results file (or a directory holding `results.json`), typed.
pub fn read_results(path: &Path) -> Results {
    parse(path)
}

/// A results file as untyped JSON: only for a test that checks the file's
/// own shape on purpose (schema compatibility, what an outside reader of
/// the file sees), never for reading a field.
pub fn read_results_json(path: &Path) -> serde_json::Value {
    parse(path)
}

fn parse<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let file = if path.is_dir() {
        path.join("results.json")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// The cells of a journal (`results.partial.jsonl`): every whole line but
/// its header (`{"journal": ...}`), read as the results' own type; a line
/// still being written is left out.
pub fn journal_cells(text: &str) -> Vec<CellResult> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("cell").is_some())
        .map(|v| serde_json::from_value(v).expect("a journal line is a CellResult"))
        .collect()
}

/// Cell id → its result.
pub fn by_id(results: Results) -> BTreeMap<String, CellResult> {
    results
        .cells
        .into_iter()
        .map(|c| (c.cell.id.clone(), c))
        .collect()
}

/// What tests ask of a cell's result beyond its fields.
pub trait CellExt {
    /// A fact by its dotted key; JSON null when the cell has no such fact,
    /// as indexing untyped JSON gave.
    fn fact(&self, key: &str) -> &serde_json::Value;
    /// The commands one phase ran, in order.
    fn commands_of(&self, phase: PhaseName) -> Vec<&Command>;
}

impl CellExt for CellResult {
    fn fact(&self, key: &str) -> &serde_json::Value {
        static NULL: serde_json::Value = serde_json::Value::Null;
        self.facts.get(key).unwrap_or(&NULL)
    }

    fn commands_of(&self, phase: PhaseName) -> Vec<&Command> {
        self.commands()
            .filter(|(p, _)| *p == phase)
            .map(|(_, c)| c)
            .collect()
    }
}
