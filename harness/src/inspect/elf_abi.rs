//! The per-CPU ABI bits of an ELF file: ARM float ABI and architecture,
//! MIPS ABI, ISA and float ABI, RISC-V float ABI. These are what tell a
//! hard-float binary from a soft-float one that would run but misbehave.

use object::elf;
use object::Endianness;

use super::Inspection;

/// e_flags float ABI bits; gcc's riscv64-linux-gnu default is double (lp64d).
pub(super) fn riscv(flags: u32, out: &mut Inspection) {
    let abi = match flags & elf::EF_RISCV_FLOAT_ABI {
        elf::EF_RISCV_FLOAT_ABI_SOFT => "soft",
        elf::EF_RISCV_FLOAT_ABI_SINGLE => "single",
        elf::EF_RISCV_FLOAT_ABI_DOUBLE => "double",
        _ => "quad",
    };
    out.set("elf.riscv_float_abi", abi);
}

/// Go's linker writes e_flags 0x05000002 (EABI version 5, entry point set,
/// no float-ABI bit) for every GOARM, and no .ARM.attributes: its comment
/// in cmd/link/internal/ld/elf.go says the float ABI only matters to the
/// dynamic linker, i.e. for cgo, where the host C objects supply it.
/// GOARM=5 emulates floating point in software; GOARM=6/7 use VFP, yet the
/// header looks the same. gcc for arm-linux-gnueabihf sets
/// EF_ARM_ABI_FLOAT_HARD (0x05000400) and writes Tag_ABI_VFP_args=1.
pub(super) fn arm(flags: u32, attributes: Option<&[u8]>, endian: Endianness, out: &mut Inspection) {
    let eabi = flags >> 24;
    if eabi != 0 {
        out.set("elf.arm_eabi", eabi);
    }
    let attrs = attributes.and_then(|s| arm_attributes(s, endian));
    let float = if flags & elf::EF_ARM_ABI_FLOAT_HARD != 0 {
        Some("hard")
    } else if flags & elf::EF_ARM_ABI_FLOAT_SOFT != 0 {
        Some("soft")
    } else {
        attrs.as_ref().and_then(|a| match a.vfp_args? {
            0 => Some("soft"),
            1 => Some("hard"),
            _ => None,
        })
    };
    match (float, &attrs) {
        (Some(f), _) => out.set("elf.float_abi", f),
        (None, None) => out.note(format!(
            "no ARM float ABI or architecture: e_flags 0x{flags:08x} has no EF_ARM_ABI_FLOAT_* bit and \
             there is no .ARM.attributes (Go's linker writes neither, whatever GOARM; see buildinfo.GOARM)"
        )),
        (None, Some(_)) => out.note("no ARM float ABI: neither e_flags nor Tag_ABI_VFP_args says"),
    }
    match attrs.map(|a| a.arch) {
        Some(Some(arch)) => out.set("elf.arm_arch", arch),
        Some(None) => out.note("no ARM architecture: no Tag_CPU_arch in .ARM.attributes"),
        None => {}
    }
}

#[derive(Default)]
struct ArmAttributes {
    arch: Option<String>,
    vfp_args: Option<u64>,
}

/// The "aeabi" file-scope attributes that say which ISA and float ABI the
/// code was built for.
fn arm_attributes(section: &[u8], endian: Endianness) -> Option<ArmAttributes> {
    const TAG_FILE: u8 = 1;
    const TAG_CPU_ARCH: u64 = 6;
    const TAG_CPU_ARCH_PROFILE: u64 = 7;
    const TAG_ABI_VFP_ARGS: u64 = 28;
    const TAG_COMPATIBILITY: u64 = 32;
    const ARCHS: [&str; 23] = [
        "pre-v4",
        "v4",
        "v4T",
        "v5T",
        "v5TE",
        "v5TEJ",
        "v6",
        "v6KZ",
        "v6T2",
        "v6K",
        "v7",
        "v6-M",
        "v6S-M",
        "v7E-M",
        "v8",
        "v8-R",
        "v8-M.baseline",
        "v8-M.mainline",
        "v8.1-A",
        "v8.2-A",
        "v8.3-A",
        "v8.1-M.mainline",
        "v9",
    ];
    let section =
        object::read::elf::AttributesSection::<elf::FileHeader32<Endianness>>::new(endian, section)
            .ok()?;
    let mut found = ArmAttributes::default();
    let (mut arch, mut profile) = (None, None);
    let mut subsections = section.subsections().ok()?;
    while let Ok(Some(sub)) = subsections.next() {
        if sub.vendor() != b"aeabi" {
            continue;
        }
        let mut subsubs = sub.subsubsections();
        while let Ok(Some(subsub)) = subsubs.next() {
            if subsub.tag() != TAG_FILE {
                continue;
            }
            let mut attrs = subsub.attributes();
            while let Ok(Some(tag)) = attrs.read_tag() {
                // The ABI says which tags hold strings: 4, 5 and 67 below 32
                // and odd tags from 32 up, where 32 is a number then a string.
                let ok = match tag {
                    4 | 5 | 67 => attrs.read_string().is_ok(),
                    TAG_COMPATIBILITY => {
                        attrs.read_integer().is_ok() && attrs.read_string().is_ok()
                    }
                    t if t > 32 && t % 2 == 1 => attrs.read_string().is_ok(),
                    t => match attrs.read_integer() {
                        Ok(v) => {
                            match t {
                                TAG_CPU_ARCH => arch = Some(v),
                                TAG_CPU_ARCH_PROFILE => profile = Some(v),
                                TAG_ABI_VFP_ARGS => found.vfp_args = Some(v),
                                _ => {}
                            }
                            true
                        }
                        Err(_) => false,
                    },
                };
                if !ok {
                    break;
                }
            }
        }
    }
    found.arch = arch.map(|a| {
        let name = usize::try_from(a)
            .ok()
            .and_then(|i| ARCHS.get(i))
            .map_or(format!("arch{a}"), |s| s.to_string());
        // Tag_CPU_arch_profile is 'A', 'R', 'M' or 'S' (or 0 for none).
        match profile
            .and_then(|p| u8::try_from(p).ok())
            .filter(u8::is_ascii_uppercase)
        {
            Some(p) if !name.contains('-') => format!("{name}-{}", p as char),
            _ => name,
        }
    });
    Some(found)
}

/// Not among object's constants.
pub(super) const SHT_MIPS_ABIFLAGS: u32 = 0x7000_002a;

/// MIPS keeps the ABI and ISA in e_flags, the float ABI in .MIPS.abiflags.
/// Go writes e_flags 0x50001004 (mips32, o32, CPIC) for both GOMIPS values
/// and says soft or hard only in .MIPS.abiflags fp_abi (3, or 1 for
/// hardfloat). mips64 gets e_flags 0x20000004 (mips3) and no abiflags.
pub(super) fn mips(flags: u32, bits: u32, abiflags: Option<&[u8]>, out: &mut Inspection) {
    let abi = if bits == 64 {
        "n64"
    } else if flags & elf::EF_MIPS_ABI2 != 0 {
        "n32"
    } else {
        match flags & elf::EF_MIPS_ABI {
            elf::EF_MIPS_ABI_O64 => "o64",
            elf::EF_MIPS_ABI_EABI32 => "eabi32",
            elf::EF_MIPS_ABI_EABI64 => "eabi64",
            _ => "o32",
        }
    };
    out.set("elf.mips_abi", abi);
    const ARCHS: [&str; 11] = [
        "mips1", "mips2", "mips3", "mips4", "mips5", "mips32", "mips64", "mips32r2", "mips64r2",
        "mips32r6", "mips64r6",
    ];
    let arch = (flags >> 28) as usize;
    out.set(
        "elf.mips_arch",
        ARCHS
            .get(arch)
            .map_or(format!("arch{arch}"), |s| s.to_string()),
    );
    // Elf_Internal_ABIFlags_v0: version u16, isa_level, isa_rev, gpr_size,
    // cpr1_size, cpr2_size, fp_abi (u8 each), ...
    let fp_abi = abiflags.and_then(|s| s.get(7).copied());
    match fp_abi {
        // Val_GNU_MIPS_ABI_FP_SOFT.
        Some(3) => out.set("elf.mips_float", "soft"),
        // DOUBLE, SINGLE, OLD_64, XX, 64, 64A: all pass floats in FPRs.
        Some(1 | 2 | 4..=7) => out.set("elf.mips_float", "hard"),
        Some(v) => out.note(format!(
            "no MIPS float ABI: .MIPS.abiflags fp_abi is {v} (none or unknown)"
        )),
        None => out.note("no MIPS float ABI: no .MIPS.abiflags section"),
    }
}
