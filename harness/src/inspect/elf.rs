//! ELF: linkage, glibc versions, and the ARM/MIPS/RISC-V ABI bits.
//!
//! Built on object's low-level header API rather than `ElfFile` so that a
//! truncated file still yields its header and program headers when its
//! section table is gone.

use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader, SectionHeader, SectionTable};
use object::{Endian, Endianness};
use serde_json::Value;

use super::goinfo::{Image, Region};
use super::{clipped, elf_abi as abi, Inspection};

pub(super) fn inspect<'a>(data: &'a [u8], out: &mut Inspection) -> Image<'a> {
    // e_ident[EI_CLASS]
    match data.get(4) {
        Some(&elf::ELFCLASS32) => inspect_as::<elf::FileHeader32<Endianness>>(data, out),
        Some(&elf::ELFCLASS64) => inspect_as::<elf::FileHeader64<Endianness>>(data, out),
        _ => {
            out.note("ELF header truncated or has an unknown class: nothing else read");
            Image::default()
        }
    }
}

fn inspect_as<'a, Elf: FileHeader<Endian = Endianness>>(
    data: &'a [u8],
    out: &mut Inspection,
) -> Image<'a> {
    let mut img = Image::default();
    let header = match Elf::parse(data) {
        Ok(h) => h,
        Err(e) => {
            out.note(format!("ELF header unreadable ({e}): nothing else read"));
            return img;
        }
    };
    let Ok(endian) = header.endian() else {
        out.note("ELF header has an unknown byte order: nothing else read");
        return img;
    };
    let bits = if header.is_class_64() { 64 } else { 32 };
    out.set("binary.bits", bits);
    out.set(
        "binary.endian",
        if endian.is_little_endian() {
            "little"
        } else {
            "big"
        },
    );
    let machine = header.e_machine(endian);
    match goarch(machine, bits, endian.is_little_endian()) {
        Some(arch) => out.set("binary.arch", arch),
        None => {
            out.set("binary.arch", format!("em{machine}"));
            out.note(format!("ELF e_machine {machine} has no GOARCH name"));
        }
    }
    let e_type = header.e_type(endian);
    let type_name = match e_type {
        elf::ET_REL => "rel".to_owned(),
        elf::ET_EXEC => "exec".to_owned(),
        elf::ET_DYN => "dyn".to_owned(),
        elf::ET_CORE => "core".to_owned(),
        other => format!("0x{other:x}"),
    };
    out.set("elf.type", type_name);
    let flags = header.e_flags(endian);
    out.set("elf.flags", format!("0x{flags:08x}"));

    let phdrs = header.program_headers(endian, data).unwrap_or_else(|e| {
        out.note(format!(
            "ELF program headers unreadable ({e}): no linkage, interpreter or Go build info"
        ));
        &[]
    });
    let mut interp = None;
    let mut has_dynamic = false;
    for ph in phdrs {
        match ph.p_type(endian) {
            elf::PT_LOAD => {
                let bytes = clipped(data, ph.p_offset(endian).into(), ph.p_filesz(endian).into());
                let addr = ph.p_vaddr(endian).into();
                let writable = ph.p_flags(endian) & (elf::PF_W | elf::PF_X) == elf::PF_W;
                // Go's reader falls back to the first writable, non-executable
                // PT_LOAD when there is no .go.buildinfo section.
                if writable && img.preferred.is_none() {
                    img.preferred = Some(Region { addr, bytes });
                }
                img.regions.push(Region { addr, bytes });
            }
            elf::PT_INTERP => {
                let bytes = clipped(data, ph.p_offset(endian).into(), ph.p_filesz(endian).into());
                let path = bytes.split(|&b| b == 0).next().unwrap_or_default();
                interp = Some(String::from_utf8_lossy(path).into_owned());
            }
            elf::PT_DYNAMIC => has_dynamic = true,
            _ => {}
        }
    }

    let sections = match header.sections(endian, data) {
        Ok(s) if !s.is_empty() => Some(s),
        Ok(_) => {
            // sstrip and some packers drop the table; nothing to find in it then.
            out.set("binary.stripped", true);
            out.set("binary.dwarf", false);
            out.note("ELF has no section headers: no DT_NEEDED or glibc versions");
            None
        }
        Err(e) => {
            out.note(format!(
                "ELF section headers unreadable ({e}): no symbols, DWARF, DT_NEEDED or glibc versions"
            ));
            None
        }
    };
    let dynamic = sections
        .as_ref()
        .map(|s| read_dynamic(s, endian, data, out))
        .unwrap_or_default();

    let linkage = if interp.is_some() || !dynamic.needed.is_empty() {
        "dynamic"
    } else if has_dynamic && e_type == elf::ET_DYN {
        // Self-relocating with nothing to load: gcc -static-pie, or a
        // library without dependencies (which a static-pie resembles).
        "static-pie"
    } else {
        "static"
    };
    out.set("binary.linkage", linkage);
    out.set("binary.static", linkage != "dynamic");
    if let Some(interp) = interp {
        out.set("binary.interp", interp);
    }
    out.set(
        "binary.needed",
        dynamic
            .needed
            .iter()
            .map(|s| Value::from(s.as_str()))
            .collect::<Vec<_>>(),
    );
    if let Some(glibc) = dynamic.max_glibc {
        out.set("binary.max_glibc", glibc);
    } else if let Some(why) = dynamic.no_glibc {
        out.note(why);
    } else if linkage != "dynamic" {
        out.note(format!("no glibc symbol versions: the binary is {linkage}"));
    }

    if let Some(sections) = &sections {
        section_facts(sections, endian, data, &mut img, out);
    }
    let section = |sh_type| {
        let sh = sections
            .as_ref()?
            .iter()
            .find(|sh| sh.sh_type(endian) == sh_type)?;
        sh.data(endian, data).ok()
    };
    match machine {
        elf::EM_ARM => abi::arm(flags, section(elf::SHT_ARM_ATTRIBUTES), endian, out),
        elf::EM_MIPS => abi::mips(flags, bits, section(abi::SHT_MIPS_ABIFLAGS), out),
        elf::EM_RISCV => abi::riscv(flags, out),
        _ => {}
    }
    img
}

/// GOARCH for an ELF machine; object's `Architecture` does not say which
/// byte order a MIPS or POWER binary uses, so map e_machine directly. The
/// target table names crossprobe's targets; the rest are machines Go has
/// no port for, named so a wrong binary is told apart from an unknown one.
fn goarch(machine: u16, bits: u32, little: bool) -> Option<&'static str> {
    let class = if bits == 64 { 64 } else { 32 };
    crate::target::goarch_of_elf(machine, class, little).or(match (machine, bits) {
        (elf::EM_X86_64, 32) => Some("amd64p32"),
        (elf::EM_RISCV, _) => Some("riscv"),
        (elf::EM_PPC, _) => Some("ppc"),
        (elf::EM_S390, _) => Some("s390"),
        (elf::EM_SPARCV9, _) => Some("sparc64"),
        _ => None,
    })
}

#[derive(Default)]
struct Dynamic {
    needed: Vec<String>,
    max_glibc: Option<String>,
    /// Why there is no `max_glibc` for a dynamic binary.
    no_glibc: Option<String>,
}

fn read_dynamic<'a, Elf: FileHeader<Endian = Endianness>>(
    sections: &SectionTable<'a, Elf, &'a [u8]>,
    endian: Endianness,
    data: &'a [u8],
    out: &mut Inspection,
) -> Dynamic {
    let mut dynamic = Dynamic::default();
    match sections.dynamic(endian, data) {
        Ok(Some((entries, strtab))) => match sections.strings(endian, data, strtab) {
            Ok(strings) => {
                for d in entries
                    .iter()
                    .filter(|d| d.tag32(endian) == Some(elf::DT_NEEDED))
                {
                    match d.string(endian, strings) {
                        Ok(name) => dynamic
                            .needed
                            .push(String::from_utf8_lossy(name).into_owned()),
                        Err(e) => out.note(format!("a DT_NEEDED entry is unreadable ({e})")),
                    }
                }
            }
            Err(e) => out.note(format!(".dynstr unreadable ({e}): no DT_NEEDED")),
        },
        Ok(None) => {}
        Err(e) => out.note(format!(".dynamic unreadable ({e}): no DT_NEEDED")),
    }
    if dynamic.needed.is_empty() {
        return dynamic;
    }
    let mut versions = Vec::new();
    match sections.gnu_verneed(endian, data) {
        Ok(Some((mut iter, strtab))) => {
            let strings = sections.strings(endian, data, strtab).unwrap_or_default();
            while let Ok(Some((_, mut aux))) = iter.next() {
                while let Ok(Some(aux)) = aux.next() {
                    let Ok(name) = aux.name(endian, strings) else {
                        continue;
                    };
                    if let Some(v) = name.strip_prefix(b"GLIBC_").and_then(glibc_version) {
                        versions.push(v);
                    }
                }
            }
            if versions.is_empty() {
                dynamic.no_glibc = Some(
                    "no GLIBC_* version in .gnu.version_r: not linked against glibc".to_owned(),
                );
            }
        }
        Ok(None) => {
            dynamic.no_glibc = Some("no .gnu.version_r: no glibc symbol versions".to_owned());
        }
        Err(e) => {
            dynamic.no_glibc = Some(format!(
                ".gnu.version_r unreadable ({e}): no glibc versions"
            ))
        }
    }
    dynamic.max_glibc = versions
        .into_iter()
        .max()
        .map(|v| v.iter().map(u32::to_string).collect::<Vec<_>>().join("."));
    dynamic
}

/// `2.2.5` → [2, 2, 5]; None for `GLIBC_PRIVATE`, `GLIBC_ABI_DT_RELR` and the like.
fn glibc_version(v: &[u8]) -> Option<Vec<u32>> {
    std::str::from_utf8(v)
        .ok()?
        .split('.')
        .map(|p| p.parse().ok())
        .collect()
}

fn section_facts<'a, Elf: FileHeader<Endian = Endianness>>(
    sections: &SectionTable<'a, Elf, &'a [u8]>,
    endian: Endianness,
    data: &'a [u8],
    img: &mut Image<'a>,
    out: &mut Inspection,
) {
    let mut symtab = false;
    let mut dwarf = false;
    for sh in sections.iter() {
        let name = sections.section_name(endian, sh).unwrap_or_default();
        symtab |= sh.sh_type(endian) == elf::SHT_SYMTAB;
        dwarf |= name.starts_with(b".debug_") || name.starts_with(b".zdebug_");
        if name == b".go.buildinfo" {
            let bytes = clipped(data, sh.sh_offset(endian).into(), sh.sh_size(endian).into());
            img.preferred = Some(Region {
                addr: sh.sh_addr(endian).into(),
                bytes,
            });
        }
    }
    out.set("binary.stripped", !symtab);
    out.set("binary.dwarf", dwarf);
}
