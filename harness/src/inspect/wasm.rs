//! WebAssembly: imports, exports, and the data segments Go's build info
//! hides in.
//!
//! A small reader of its own: it needs only section framing, imports,
//! exports, data segments and two custom sections, which is less code than
//! pulling in wasmparser through object's `wasm` feature.

use serde_json::Value;

use super::goinfo::{Image, Region};
use super::Inspection;

const CUSTOM: u8 = 0;
const IMPORT: u8 = 2;
const EXPORT: u8 = 7;
const DATA: u8 = 11;

pub(super) fn inspect<'a>(data: &'a [u8], out: &mut Inspection) -> Image<'a> {
    let mut img = Image {
        blobless: true,
        ..Image::default()
    };
    out.set("binary.arch", "wasm");
    out.set("binary.bits", 32);
    out.set("binary.endian", "little");
    match data.get(4..8) {
        Some([1, 0, 0, 0]) => {}
        Some(v) => {
            out.note(format!(
                "wasm binary version {v:?} is not 1: nothing else read"
            ));
            return img;
        }
        None => {
            out.note("wasm header truncated: nothing else read");
            return img;
        }
    }
    let (mut names, mut dwarf) = (false, false);
    let (mut modules, mut exports) = (Vec::new(), Vec::new());
    let mut r = Reader { data, pos: 8 };
    while !r.done() {
        let Some((id, body)) = r.byte().zip(r.bytes()) else {
            out.note("wasm section table cut short: later sections not read");
            break;
        };
        let mut s = Reader { data: body, pos: 0 };
        let complete = match id {
            CUSTOM => {
                let name = s.bytes().unwrap_or_default();
                names |= name == b"name";
                dwarf |= name.starts_with(b".debug_");
                if name == b"producers" {
                    img.toolchain = producers(&mut s);
                }
                true
            }
            IMPORT => imports(&mut s, &mut modules).is_some(),
            EXPORT => exports_of(&mut s, &mut exports).is_some(),
            DATA => segments(&mut s, &mut img.regions).is_some(),
            _ => true,
        };
        if !complete {
            out.note(format!(
                "wasm section {id} is malformed: read only its start"
            ));
        }
    }
    out.set("binary.stripped", !names);
    out.set("binary.dwarf", dwarf);
    modules.dedup();
    out.set(
        "wasm.imports_modules",
        modules.into_iter().map(Value::from).collect::<Vec<_>>(),
    );
    out.set(
        "wasm.exports",
        exports.into_iter().map(Value::from).collect::<Vec<_>>(),
    );
    img
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn leb(&mut self) -> Option<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    /// Signed LEB128, as in `i32.const`.
    fn sleb(&mut self) -> Option<i64> {
        let (mut v, mut shift) = (0i64, 0u32);
        loop {
            let b = self.byte()?;
            v |= i64::from(b & 0x7f).checked_shl(shift)?;
            shift += 7;
            if b < 0x80 {
                if shift < 64 && b & 0x40 != 0 {
                    v |= -1i64 << shift;
                }
                return Some(v);
            }
            if shift >= 70 {
                return None;
            }
        }
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.leb()?).ok()?;
        let b = self.data.get(self.pos..self.pos.checked_add(len)?)?;
        self.pos += len;
        Some(b)
    }

    fn string(&mut self) -> Option<String> {
        self.bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    fn limits(&mut self) -> Option<()> {
        let flags = self.byte()?;
        self.leb()?;
        if flags & 1 != 0 {
            self.leb()?;
        }
        Some(())
    }
}

fn imports(s: &mut Reader, modules: &mut Vec<String>) -> Option<()> {
    for _ in 0..s.leb()? {
        let module = s.string()?;
        s.bytes()?;
        match s.byte()? {
            0 => {
                s.leb()?;
            }
            1 => {
                s.byte()?;
                s.limits()?;
            }
            2 => s.limits()?,
            3 => {
                s.byte()?;
                s.byte()?;
            }
            4 => {
                s.byte()?;
                s.leb()?;
            }
            _ => return None,
        }
        if !modules.contains(&module) {
            modules.push(module);
        }
    }
    Some(())
}

fn exports_of(s: &mut Reader, exports: &mut Vec<String>) -> Option<()> {
    for _ in 0..s.leb()? {
        exports.push(s.string()?);
        s.byte()?;
        s.leb()?;
    }
    Some(())
}

/// Active data segments at constant offsets become regions; Go's linker
/// splits its data at long runs of zeroes, each piece at its own offset.
fn segments<'a>(s: &mut Reader<'a>, regions: &mut Vec<Region<'a>>) -> Option<()> {
    for _ in 0..s.leb()? {
        let offset = match s.leb()? {
            0 => offset(s)?,
            1 => None,
            2 => {
                s.leb()?;
                offset(s)?
            }
            _ => return None,
        };
        let bytes = s.bytes()?;
        if let Some(addr) = offset {
            regions.push(Region { addr, bytes });
        }
    }
    Some(())
}

/// A constant offset expression; Some(None) for one that is valid but not
/// a constant (e.g. `global.get`).
fn offset(s: &mut Reader) -> Option<Option<u64>> {
    let value = match s.byte()? {
        0x41 => Some(s.sleb()? as u32 as u64),
        0x42 => Some(s.sleb()? as u64),
        0x23 => {
            s.leb()?;
            None
        }
        _ => return None,
    };
    (s.byte()? == 0x0b).then_some(value)
}

/// The producers section's `language: Go <version>` entry, which Go's wasm
/// linker fills with the toolchain version.
fn producers(s: &mut Reader) -> Option<String> {
    for _ in 0..s.leb()? {
        let field = s.bytes()?;
        for _ in 0..s.leb()? {
            let (name, version) = (s.bytes()?, s.string()?);
            if field == b"language" && name == b"Go" {
                return Some(version);
            }
        }
    }
    None
}
