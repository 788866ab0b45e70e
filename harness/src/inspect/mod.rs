//! TEMPORARY stand-in until the inspect module lands.
use std::collections::BTreeMap;
use std::path::Path;

pub struct Inspection {
    pub facts: BTreeMap<String, serde_json::Value>,
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("inspection is not available yet")]
pub struct InspectError;

pub fn inspect_file(_path: &Path) -> Result<Inspection, InspectError> {
    Err(InspectError)
}

pub fn render_text(_path: &Path, _insp: &Inspection) -> String {
    String::new()
}
