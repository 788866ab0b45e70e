//! The inspect phase: what a built binary says about itself.
//!
//! Reads ELF, Mach-O, PE and wasm headers and the Go build info blob into
//! flat dotted facts (`binary.arch`, `elf.float_abi`, `buildinfo.GOARM`, …)
//! that `check` compares with a cell's expectations. Whatever cannot be read
//! becomes a note instead of an error, so a damaged binary still says what
//! it can; only I/O failures and unknown formats are errors.
//!
//! One submodule per format (`elf_abi` holds the per-CPU ELF bits), plus
//! `goinfo` and `modinfo` for Go build info, which every format may carry,
//! and `render` for `crossprobe inspect BINARY`.

mod elf;
mod elf_abi;
mod goinfo;
mod macho;
mod modinfo;
mod pe;
mod render;
mod wasm;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use render::render_text;

/// Files larger than this are refused rather than read into memory: no
/// probe binary comes near it, and a device such as /dev/zero never ends.
const MAX_FILE_SIZE: u64 = 2 << 30;

/// What could be read from one binary.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inspection {
    /// Flat dotted keys (`binary.arch`, `buildinfo.GOOS`) to JSON values.
    pub facts: BTreeMap<String, Value>,
    /// What could not be read, and why, one sentence each.
    pub notes: Vec<String>,
}

impl Inspection {
    fn set(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        self.facts.insert(key.into(), value.into());
    }

    fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: not a regular file\nhint: pass the path of a built executable", path.display())]
    NotAFile { path: PathBuf },

    #[error(
        "{}: {size} bytes is more than the {limit} bytes crossprobe will read\n\
         hint: is this really a probe binary?",
        path.display()
    )]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },

    #[error("{}is empty (0 bytes)\nhint: did the build fail or get interrupted?", at(.path))]
    Empty { path: Option<PathBuf> },

    #[error(
        "{}unrecognised binary format: starts with \"{start}\", expected ELF, Mach-O, PE or wasm\n\
         hint: pass a linked executable, not a script, archive or object file",
        at(.path)
    )]
    Unrecognised {
        path: Option<PathBuf>,
        start: String,
    },
}

fn at(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map(|p| format!("{}: ", p.display()))
        .unwrap_or_default()
}

/// Reads the file; never panics on hostile input (truncated, garbage, huge).
/// Err only for I/O errors or an unrecognised format.
pub fn inspect_file(path: &Path) -> Result<Inspection, InspectError> {
    let io = |source| InspectError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(InspectError::NotAFile {
            path: path.to_owned(),
        });
    }
    if meta.len() > MAX_FILE_SIZE {
        return Err(InspectError::TooLarge {
            path: path.to_owned(),
            size: meta.len(),
            limit: MAX_FILE_SIZE,
        });
    }
    let data = std::fs::read(path).map_err(io)?;
    inspect_bytes(&data).map_err(|e| match e {
        InspectError::Empty { .. } => InspectError::Empty {
            path: Some(path.to_owned()),
        },
        InspectError::Unrecognised { start, .. } => InspectError::Unrecognised {
            path: Some(path.to_owned()),
            start,
        },
        e => e,
    })
}

/// As [`inspect_file`], for bytes already in memory.
pub fn inspect_bytes(data: &[u8]) -> Result<Inspection, InspectError> {
    let mut out = Inspection::default();
    let format = Format::sniff(data)?;
    out.set("binary.format", format.name());
    out.set("binary.size", data.len());
    let image = match format {
        Format::Elf => elf::inspect(data, &mut out),
        Format::MachO => macho::inspect(data, &mut out),
        Format::Pe => pe::inspect(data, &mut out),
        Format::Wasm => wasm::inspect(data, &mut out),
    };
    goinfo::read(data, &image, &mut out);
    Ok(out)
}

/// The file bytes a header points at, cut short at the end of a truncated file.
fn clipped(data: &[u8], offset: u64, size: u64) -> &[u8] {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let end = usize::try_from(offset.saturating_add(size))
        .unwrap_or(usize::MAX)
        .min(data.len());
    &data[start..end]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Elf,
    MachO,
    Pe,
    Wasm,
}

impl Format {
    fn sniff(data: &[u8]) -> Result<Format, InspectError> {
        let magic = data.get(..4).unwrap_or(data);
        Ok(match magic {
            [] => return Err(InspectError::Empty { path: None }),
            [0x7f, b'E', b'L', b'F'] => Format::Elf,
            [0xfe, 0xed, 0xfa, 0xce | 0xcf] | [0xce | 0xcf, 0xfa, 0xed, 0xfe] => Format::MachO,
            // Fat (universal) Mach-O; Java class files share the magic, and
            // the Mach-O reader says so if the architecture count is absurd.
            [0xca, 0xfe, 0xba, 0xbe | 0xbf] => Format::MachO,
            [b'M', b'Z', ..] => Format::Pe,
            [0, b'a', b's', b'm'] => Format::Wasm,
            _ => {
                let start = data
                    .iter()
                    .take(8)
                    .copied()
                    .flat_map(std::ascii::escape_default);
                let start = String::from_utf8(start.collect()).unwrap_or_default();
                return Err(InspectError::Unrecognised { path: None, start });
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            Format::Elf => "elf",
            Format::MachO => "macho",
            Format::Pe => "pe",
            Format::Wasm => "wasm",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages() {
        let err = |data: &[u8]| inspect_bytes(data).unwrap_err().to_string();
        insta::assert_snapshot!(err(b"#!/bin/sh\necho hi\n"), @r##"
        unrecognised binary format: starts with "#!/bin/s", expected ELF, Mach-O, PE or wasm
        hint: pass a linked executable, not a script, archive or object file
        "##);
        insta::assert_snapshot!(err(b"!<arch>\n"), @r#"
        unrecognised binary format: starts with "!<arch>\n", expected ELF, Mach-O, PE or wasm
        hint: pass a linked executable, not a script, archive or object file
        "#);
        insta::assert_snapshot!(err(b""), @r"
        is empty (0 bytes)
        hint: did the build fail or get interrupted?
        ");
        let missing = Path::new("/nonexistent/probe");
        insta::assert_snapshot!(inspect_file(missing).unwrap_err().to_string(),
            @"cannot read /nonexistent/probe: No such file or directory (os error 2)");
        insta::assert_snapshot!(inspect_file(Path::new("/")).unwrap_err().to_string(), @r"
        /: not a regular file
        hint: pass the path of a built executable
        ");
    }

    #[test]
    fn short_headers_are_notes_not_errors() {
        for data in [
            &b"\x7fELF"[..],
            b"MZ",
            b"\0asm",
            b"\xcf\xfa\xed\xfe",
            b"\xca\xfe\xba\xbe",
        ] {
            let insp = inspect_bytes(data).unwrap();
            assert!(!insp.notes.is_empty(), "{data:?} gave no notes: {insp:?}");
        }
    }
}
