//! Mach-O: platform and deployment target, code signature, segments.

use object::macho;
use object::read::macho::{
    FatArch, LoadCommandVariant, MachHeader, MachOFatFile32, MachOFatFile64, Nlist, Section,
    Segment,
};
use object::{Endian, Endianness};

use super::goinfo::{Image, Region};
use super::Inspection;

pub(super) fn inspect<'a>(data: &'a [u8], out: &mut Inspection) -> Image<'a> {
    match data.get(..4) {
        Some([0xca, 0xfe, 0xba, 0xbe | 0xbf]) => fat(data, out),
        Some([0xcf, ..] | [.., 0xcf]) => inspect_as::<macho::MachHeader64<Endianness>>(data, out),
        _ => inspect_as::<macho::MachHeader32<Endianness>>(data, out),
    }
}

/// Universal binaries: report the first architecture, as Go's reader does.
fn fat<'a>(data: &'a [u8], out: &mut Inspection) -> Image<'a> {
    let first = if data.get(3) == Some(&0xbf) {
        MachOFatFile64::parse(data)
            .ok()
            .and_then(|f| Some((f.arches().len(), f.arches().first()?.data(data).ok()?)))
    } else {
        MachOFatFile32::parse(data)
            .ok()
            .and_then(|f| Some((f.arches().len(), f.arches().first()?.data(data).ok()?)))
    };
    match first {
        Some((n, thin)) => {
            out.set("macho.fat_arches", n);
            if n > 1 {
                out.note(format!(
                    "universal binary with {n} architectures: facts are for the first"
                ));
            }
            inspect(thin, out)
        }
        None => {
            out.note(
                "universal Mach-O header unreadable (or a Java class file): nothing else read",
            );
            Image::default()
        }
    }
}

fn inspect_as<'a, Mach: MachHeader<Endian = Endianness>>(
    data: &'a [u8],
    out: &mut Inspection,
) -> Image<'a> {
    let mut img = Image::default();
    let header = match Mach::parse(data, 0) {
        Ok(h) => h,
        Err(e) => {
            out.note(format!("Mach-O header unreadable ({e}): nothing else read"));
            return img;
        }
    };
    let Ok(endian) = header.endian() else {
        out.note("Mach-O header has an unknown byte order: nothing else read");
        return img;
    };
    out.set("binary.bits", if header.is_type_64() { 64 } else { 32 });
    out.set(
        "binary.endian",
        if endian.is_little_endian() {
            "little"
        } else {
            "big"
        },
    );
    let cpu = header.cputype(endian);
    out.set(
        "binary.arch",
        match cpu {
            macho::CPU_TYPE_X86_64 => "amd64".to_owned(),
            macho::CPU_TYPE_X86 => "386".to_owned(),
            macho::CPU_TYPE_ARM64 => "arm64".to_owned(),
            macho::CPU_TYPE_ARM64_32 => "arm64_32".to_owned(),
            macho::CPU_TYPE_ARM => "arm".to_owned(),
            macho::CPU_TYPE_POWERPC64 => "ppc64".to_owned(),
            macho::CPU_TYPE_POWERPC => "ppc".to_owned(),
            other => format!("cpu0x{other:x}"),
        },
    );

    let mut commands = match header.load_commands(endian, data, 0) {
        Ok(c) => c,
        Err(e) => {
            out.note(format!(
                "Mach-O load commands unreadable ({e}): nothing else read"
            ));
            return img;
        }
    };
    let (mut signed, mut platform, mut dwarf, mut symbols, mut dylibs) =
        (false, false, false, None, Vec::new());
    loop {
        let command = match commands.next() {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                out.note(format!(
                    "Mach-O load commands cut short ({e}): later ones not read"
                ));
                break;
            }
        };
        let Ok(variant) = command.variant() else {
            continue;
        };
        match variant {
            LoadCommandVariant::Segment32(seg, sects) => {
                segment(seg, sects, endian, data, &mut img, &mut dwarf)
            }
            LoadCommandVariant::Segment64(seg, sects) => {
                segment(seg, sects, endian, data, &mut img, &mut dwarf)
            }
            LoadCommandVariant::BuildVersion(bv) => {
                platform = true;
                out.set("macho.platform", platform_name(bv.platform.get(endian)));
                out.set("macho.minos", version(bv.minos.get(endian)));
                out.set("macho.sdk", version(bv.sdk.get(endian)));
            }
            // Older toolchains (and Go before 1.21 or so) write these instead of LC_BUILD_VERSION.
            LoadCommandVariant::VersionMin(vm) => {
                platform = true;
                let name = match vm.cmd.get(endian) {
                    macho::LC_VERSION_MIN_MACOSX => "macos",
                    macho::LC_VERSION_MIN_IPHONEOS => "ios",
                    macho::LC_VERSION_MIN_TVOS => "tvos",
                    _ => "watchos",
                };
                out.set("macho.platform", name);
                out.set("macho.minos", version(vm.version.get(endian)));
                out.set("macho.sdk", version(vm.sdk.get(endian)));
            }
            LoadCommandVariant::LinkeditData(le) => {
                signed |= le.cmd.get(endian) == macho::LC_CODE_SIGNATURE
            }
            LoadCommandVariant::Symtab(st) => symbols = Some(st.symbols::<Mach, _>(endian, data)),
            LoadCommandVariant::Dylib(d) => {
                if let Ok(name) = command.string(endian, d.dylib.name) {
                    dylibs.push(serde_json::Value::from(
                        String::from_utf8_lossy(name).into_owned(),
                    ));
                }
            }
            _ => {}
        }
    }
    if !platform {
        out.note("no LC_BUILD_VERSION or LC_VERSION_MIN_*: no platform or deployment target");
    }
    out.set("macho.signed", signed);
    out.set("macho.dylibs", dylibs);
    out.set("binary.dwarf", dwarf);
    // A stripped Mach-O still lists the symbols it imports; what strip
    // removes are the defined ones.
    let defined = match symbols {
        Some(Ok(table)) => table.iter().any(|n| {
            let t = n.n_type();
            t & macho::N_STAB == 0 && t & macho::N_TYPE != macho::N_UNDF
        }),
        Some(Err(e)) => {
            out.note(format!("Mach-O symbol table unreadable ({e})"));
            false
        }
        None => false,
    };
    out.set("binary.stripped", !defined);
    img
}

fn segment<'a, S: Segment<Endian = Endianness>>(
    seg: &S,
    sects: &'a [u8],
    endian: Endianness,
    data: &'a [u8],
    img: &mut Image<'a>,
    dwarf: &mut bool,
) {
    // __PAGEZERO maps no file bytes; Go's reader skips it too.
    let (off, size) = seg.file_range(endian);
    if seg.name() == b"__DWARF" {
        *dwarf = true;
    }
    if size == 0 {
        return;
    }
    let bytes = super::clipped(data, off, size);
    let addr = seg.vmaddr(endian).into();
    img.regions.push(Region { addr, bytes });
    // Go's reader prefers the __go_buildinfo section, then the first
    // segment mapped read-write (and no more than that).
    const RW: u32 = macho::VM_PROT_READ | macho::VM_PROT_WRITE;
    if img.preferred.is_none() && seg.initprot(endian) == RW && seg.maxprot(endian) == RW {
        img.preferred = Some(Region { addr, bytes });
    }
    if let Ok(sections) = seg.sections(endian, sects) {
        for s in sections {
            let name = s.name();
            *dwarf |= name.starts_with(b"__debug_") || name.starts_with(b"__zdebug_");
            if name == b"__go_buildinfo" {
                if let Some((off, size)) = s.file_range(endian) {
                    let bytes = super::clipped(data, off, size);
                    img.preferred = Some(Region {
                        addr: s.addr(endian).into(),
                        bytes,
                    });
                }
            }
        }
    }
}

fn platform_name(p: u32) -> String {
    match p {
        macho::PLATFORM_MACOS => "macos",
        macho::PLATFORM_IOS => "ios",
        macho::PLATFORM_TVOS => "tvos",
        macho::PLATFORM_WATCHOS => "watchos",
        macho::PLATFORM_BRIDGEOS => "bridgeos",
        macho::PLATFORM_MACCATALYST => "maccatalyst",
        macho::PLATFORM_IOSSIMULATOR => "iossimulator",
        macho::PLATFORM_TVOSSIMULATOR => "tvossimulator",
        macho::PLATFORM_WATCHOSSIMULATOR => "watchossimulator",
        macho::PLATFORM_DRIVERKIT => "driverkit",
        11 => "visionos",
        12 => "visionossimulator",
        other => return format!("platform{other}"),
    }
    .to_owned()
}

/// X.Y.Z packed in nibbles as xxxx.yy.zz; the patch is shown only when set.
fn version(v: u32) -> String {
    let (major, minor, patch) = (v >> 16, (v >> 8) & 0xff, v & 0xff);
    if patch == 0 {
        format!("{major}.{minor}")
    } else {
        format!("{major}.{minor}.{patch}")
    }
}
