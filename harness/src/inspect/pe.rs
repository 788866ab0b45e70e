//! PE (Windows): machine, subsystem, imported DLLs.

use object::pe;
use object::read::pe::{ImageNtHeaders, ImageOptionalHeader, PeFile};
use object::{LittleEndian as LE, Object, ObjectSection};
use serde_json::Value;

use super::goinfo::{Image, Region};
use super::{clipped, Inspection};

pub(super) fn inspect<'a>(data: &'a [u8], out: &mut Inspection) -> Image<'a> {
    match object::read::pe::optional_header_magic(data) {
        Ok(pe::IMAGE_NT_OPTIONAL_HDR64_MAGIC) => inspect_as::<pe::ImageNtHeaders64>(data, out),
        Ok(pe::IMAGE_NT_OPTIONAL_HDR32_MAGIC) => inspect_as::<pe::ImageNtHeaders32>(data, out),
        Ok(magic) => {
            out.note(format!(
                "PE optional header magic 0x{magic:x} is neither PE32 nor PE32+: nothing else read"
            ));
            Image::default()
        }
        Err(e) => {
            // An MZ header alone is also a DOS program.
            out.note(format!(
                "no PE header after the MZ stub ({e}): nothing else read"
            ));
            Image::default()
        }
    }
}

fn inspect_as<'a, Pe: ImageNtHeaders>(data: &'a [u8], out: &mut Inspection) -> Image<'a> {
    let mut img = Image::default();
    let file = match PeFile::<Pe, &[u8]>::parse(data) {
        Ok(f) => f,
        Err(e) => {
            out.note(format!("PE headers unreadable ({e}): nothing else read"));
            return img;
        }
    };
    let headers = file.nt_headers();
    let fh = headers.file_header();
    let machine = fh.machine.get(LE);
    let arch = match machine {
        pe::IMAGE_FILE_MACHINE_AMD64 => "amd64".to_owned(),
        pe::IMAGE_FILE_MACHINE_I386 => "386".to_owned(),
        pe::IMAGE_FILE_MACHINE_ARM64 => "arm64".to_owned(),
        pe::IMAGE_FILE_MACHINE_ARMNT
        | pe::IMAGE_FILE_MACHINE_ARM
        | pe::IMAGE_FILE_MACHINE_THUMB => "arm".to_owned(),
        other => format!("machine0x{other:04x}"),
    };
    out.set("binary.arch", arch.as_str());
    out.set("pe.machine", arch);
    out.set("binary.bits", if headers.is_type_64() { 64 } else { 32 });
    out.set("binary.endian", "little");
    let oh = headers.optional_header();
    let subsystem = match oh.subsystem() {
        pe::IMAGE_SUBSYSTEM_WINDOWS_CUI => "console".to_owned(),
        pe::IMAGE_SUBSYSTEM_WINDOWS_GUI => "gui".to_owned(),
        pe::IMAGE_SUBSYSTEM_NATIVE => "native".to_owned(),
        pe::IMAGE_SUBSYSTEM_EFI_APPLICATION => "efi".to_owned(),
        other => format!("subsystem{other}"),
    };
    out.set("pe.subsystem", subsystem);
    out.set(
        "pe.dll",
        fh.characteristics.get(LE) & pe::IMAGE_FILE_DLL != 0,
    );
    // Go and gcc both leave a COFF symbol table unless told to strip (-s).
    out.set(
        "binary.stripped",
        fh.pointer_to_symbol_table.get(LE) == 0 || fh.number_of_symbols.get(LE) == 0,
    );

    let image_base = oh.image_base();
    let mut dwarf = false;
    for section in file.sections() {
        let name = section.name_bytes().unwrap_or_default();
        dwarf |= name.starts_with(b".debug_") || name.starts_with(b".zdebug_");
        let header = section.pe_section();
        let (off, size) = header.pe_file_range();
        let bytes = clipped(data, off.into(), size.into());
        let va = header.virtual_address.get(LE);
        let region = Region {
            addr: image_base.wrapping_add(va.into()),
            bytes,
        };
        img.regions.push(region);
        // Go's reader takes the first initialized read-write data section,
        // ignoring only the 32-byte alignment bits the Go linker sets.
        const DATA: u32 =
            pe::IMAGE_SCN_CNT_INITIALIZED_DATA | pe::IMAGE_SCN_MEM_READ | pe::IMAGE_SCN_MEM_WRITE;
        let chars = header.characteristics.get(LE) & !pe::IMAGE_SCN_ALIGN_32BYTES;
        if img.preferred.is_none() && va != 0 && size != 0 && chars == DATA {
            img.preferred = Some(region);
        }
    }
    out.set("binary.dwarf", dwarf);

    let mut imports = Vec::new();
    match file.import_table() {
        Ok(Some(table)) => match table.descriptors() {
            Ok(mut descriptors) => {
                while let Ok(Some(d)) = descriptors.next() {
                    match table.name(d.name.get(LE)) {
                        Ok(name) => {
                            imports.push(Value::from(String::from_utf8_lossy(name).to_lowercase()))
                        }
                        Err(e) => out.note(format!("an imported DLL name is unreadable ({e})")),
                    }
                }
            }
            Err(e) => out.note(format!("PE import descriptors unreadable ({e})")),
        },
        Ok(None) => {}
        Err(e) => out.note(format!("PE import table unreadable ({e}): no pe.imports")),
    }
    out.set("pe.imports", imports);
    img
}
