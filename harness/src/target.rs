//! One table of the architectures crossprobe builds for: for each GOARCH
//! the names other tools give it (uname, qemu-user, Debian's cross gcc,
//! zig), its ELF machine and the environment variable Go reads for it.
//! host, toolchain, doctor, run, inspect and expand all read this table;
//! none keeps a mapping of its own.

use object::elf;

/// One GOARCH and what belongs to it.
#[derive(Debug)]
pub struct Arch {
    pub goarch: &'static str,
    /// The qemu-user suffix (`qemu-aarch64`), which is also the canonical
    /// `uname -m`. None where there is no qemu-user (wasm).
    pub qemu: Option<&'static str>,
    /// Debian's cross gcc triples, preferred first for a hard-float build;
    /// their `/usr/<triple>` directories are the sysroots qemu loads
    /// dynamically linked binaries from.
    pub triples: &'static [&'static str],
    /// zig's name for the architecture in `-target`.
    pub zig: Option<&'static str>,
    /// e_machine, class (32/64) and byte order of its ELF binaries; None
    /// where the machine alone says it.
    pub elf: Option<(u16, Option<u8>, Option<Endian>)>,
    /// The variable that picks the architecture level (GOARM=7), if any.
    pub env: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

const fn arch(
    goarch: &'static str,
    qemu: &'static str,
    triples: &'static [&'static str],
    zig: &'static str,
    elf: (u16, Option<u8>, Option<Endian>),
    env: Option<&'static str>,
) -> Arch {
    Arch {
        goarch,
        qemu: Some(qemu),
        triples,
        zig: Some(zig),
        elf: Some(elf),
        env,
    }
}

use Endian::{Big, Little};

/// Every GOARCH crossprobe knows, the qemu-user ones first.
#[rustfmt::skip]
pub const ARCHES: [Arch; 14] = [
    arch("amd64", "x86_64", &["x86_64-linux-gnu"], "x86_64", (elf::EM_X86_64, Some(64), None), Some("GOAMD64")),
    arch("386", "i386", &["i686-linux-gnu"], "x86", (elf::EM_386, None, None), Some("GO386")),
    arch("arm64", "aarch64", &["aarch64-linux-gnu"], "aarch64", (elf::EM_AARCH64, None, None), Some("GOARM64")),
    // armhf assumes ARMv7 with VFP; a soft-float (GOARM=5) build wants
    // armel's gcc, the second.
    arch("arm", "arm", &["arm-linux-gnueabihf", "arm-linux-gnueabi"], "arm", (elf::EM_ARM, None, None), Some("GOARM")),
    arch("riscv64", "riscv64", &["riscv64-linux-gnu"], "riscv64", (elf::EM_RISCV, Some(64), None), Some("GORISCV64")),
    arch("ppc64le", "ppc64le", &["powerpc64le-linux-gnu"], "powerpc64le", (elf::EM_PPC64, None, Some(Little)), Some("GOPPC64")),
    arch("ppc64", "ppc64", &["powerpc64-linux-gnu"], "powerpc64", (elf::EM_PPC64, None, Some(Big)), Some("GOPPC64")),
    arch("s390x", "s390x", &["s390x-linux-gnu"], "s390x", (elf::EM_S390, Some(64), None), None),
    arch("mips", "mips", &["mips-linux-gnu"], "mips", (elf::EM_MIPS, Some(32), Some(Big)), Some("GOMIPS")),
    arch("mipsle", "mipsel", &["mipsel-linux-gnu"], "mipsel", (elf::EM_MIPS, Some(32), Some(Little)), Some("GOMIPS")),
    arch("mips64", "mips64", &["mips64-linux-gnuabi64"], "mips64", (elf::EM_MIPS, Some(64), Some(Big)), Some("GOMIPS64")),
    arch("mips64le", "mips64el", &["mips64el-linux-gnuabi64"], "mips64el", (elf::EM_MIPS, Some(64), Some(Little)), Some("GOMIPS64")),
    arch("loong64", "loongarch64", &["loongarch64-linux-gnu"], "loongarch64", (elf::EM_LOONGARCH, Some(64), None), None),
    Arch {
        goarch: "wasm",
        qemu: None,
        triples: &[],
        zig: None,
        elf: None,
        env: Some("GOWASM"),
    },
];

/// The row of `goarch`.
pub fn arch_of(goarch: &str) -> Option<&'static Arch> {
    ARCHES.iter().find(|a| a.goarch == goarch)
}

/// The GOARCH another tool's name for an architecture stands for:
/// `uname -m` (`armv7l`, `i686`), a triple's first part (`powerpc64le`),
/// a qemu suffix or a zig arch. None for a name it cannot place.
pub fn goarch_of_cpu(name: &str) -> Option<&'static str> {
    let exact = ARCHES.iter().find(|a| {
        a.goarch == name
            || a.qemu == Some(name)
            || a.zig == Some(name)
            || a.triples.iter().any(|t| t.split('-').next() == Some(name))
    });
    if let Some(a) = exact {
        return Some(a.goarch);
    }
    match name {
        "i486" | "i586" => Some("386"),
        a if a.starts_with("arm") => Some("arm"),
        _ => None,
    }
}

/// The GOARCH of an ELF's e_machine, class and byte order.
pub fn goarch_of_elf(machine: u16, bits: u8, little: bool) -> Option<&'static str> {
    let endian = if little { Little } else { Big };
    ARCHES
        .iter()
        .find(|a| {
            a.elf.is_some_and(|(m, b, e)| {
                m == machine && b.is_none_or(|b| b == bits) && e.is_none_or(|e| e == endian)
            })
        })
        .map(|a| a.goarch)
}

/// Whether Go reads `var` for `goarch`. Variables no architecture claims
/// (GODEBUG, GOGC) apply to every target.
pub fn env_applies(var: &str, goarch: &str) -> bool {
    !is_arch_env(var) || arch_of(goarch).is_some_and(|a| a.env == Some(var))
}

/// Whether `var` picks an architecture level (GOARM, GOAMD64, ...).
pub fn is_arch_env(var: &str) -> bool {
    ARCHES.iter().any(|a| a.env == Some(var))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_tools_names_map_back_to_their_goarch() {
        for (name, goarch) in [
            ("x86_64", "amd64"),
            ("aarch64", "arm64"),
            ("armv7l", "arm"),
            ("i686", "386"),
            ("i386", "386"),
            ("x86", "386"),
            ("loongarch64", "loong64"),
            ("mips64el", "mips64le"),
            ("powerpc64le", "ppc64le"),
            ("arm64", "arm64"),
        ] {
            assert_eq!(goarch_of_cpu(name), Some(goarch), "{name}");
        }
        assert_eq!(goarch_of_cpu("sparc64"), None);
    }

    #[test]
    fn every_qemu_arch_has_a_triple_zig_name_and_elf_machine() {
        for a in ARCHES.iter().filter(|a| a.qemu.is_some()) {
            assert!(
                !a.triples.is_empty() && a.zig.is_some() && a.elf.is_some(),
                "{a:?}"
            );
            let (m, bits, e) = a.elf.unwrap();
            let bits = bits.unwrap_or(if a.goarch.ends_with("64") { 64 } else { 32 });
            let little = e != Some(Big);
            assert_eq!(goarch_of_elf(m, bits, little), Some(a.goarch), "{a:?}");
        }
    }

    #[test]
    fn arch_variables_apply_to_their_own_architectures() {
        assert!(env_applies("GOARM", "arm"));
        assert!(!env_applies("GOARM", "arm64"));
        assert!(env_applies("GOMIPS", "mipsle"));
        assert!(env_applies("GOWASM", "wasm"));
        assert!(env_applies("GODEBUG", "s390x"));
        assert!(is_arch_env("GOPPC64") && !is_arch_env("GODEBUG"));
    }
}
