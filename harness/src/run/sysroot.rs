//! Debian cross sysroots (`/usr/<triple>`) for dynamically linked
//! binaries: the ld.so and libc a foreign ELF needs, natively or under qemu.

use std::fs;
use std::path::Path;

/// QEMU_LD_PREFIX for a dynamically linked binary, so qemu finds its
/// ld.so and libc. Static binaries (most Go probes) get none: qemu-user
/// tries every absolute path under the prefix first, so a probe opening
/// /lib/... would read the sysroot's file instead of the host's.
pub(super) fn qemu_sysroot(qemu: &str, binary: &Path) -> Option<String> {
    if is_static(binary) {
        return None;
    }
    let arch = qemu.strip_prefix("qemu-")?;
    // Debian/Ubuntu cross sysroots: /usr/<triple>.
    let triples = crate::target::ARCHES
        .iter()
        .find(|a| a.qemu == Some(arch))?
        .triples;
    triples
        .iter()
        .map(|t| Path::new("/usr").join(t))
        .find(|p| p.is_dir())
        .and_then(|p| p.to_str().map(str::to_string))
}

/// The sysroot's dynamic loader and library directory for an ELF whose
/// interpreter (`/lib/ld-linux.so.2`) the host lacks but a Debian cross
/// sysroot (`/usr/i686-linux-gnu`) has.
pub(super) fn sysroot_loader(binary: &Path) -> Option<(String, String)> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let interp = interpreter(binary)?;
    if Path::new(&interp).exists() {
        return None;
    }
    let rel = interp.trim_start_matches('/');
    crate::target::ARCHES
        .iter()
        .flat_map(|a| a.triples)
        .map(|t| Path::new("/usr").join(t))
        .find(|root| root.join(rel).is_file())
        .and_then(|root| {
            let loader = root.join(rel).to_str()?.to_string();
            let libs = root.join("lib").to_str()?.to_string();
            Some((loader, libs))
        })
}

/// The program interpreter an ELF names, if it names one.
fn interpreter(binary: &Path) -> Option<String> {
    use object::{Object, ObjectSection};
    let data = fs::read(binary).ok()?;
    let file = object::File::parse(&*data).ok()?;
    let interp = file.section_by_name(".interp")?.data().ok()?;
    let interp = interp.split(|&b| b == 0).next()?;
    Some(String::from_utf8_lossy(interp).into_owned()).filter(|s| s.starts_with('/'))
}

/// True when the file is an ELF without a program interpreter. A file that
/// cannot be read is not known to be static.
fn is_static(binary: &Path) -> bool {
    use object::{Object, ObjectSection};
    let Ok(file) = fs::File::open(binary) else {
        return false;
    };
    let cache = object::ReadCache::new(file);
    match object::File::parse(&cache) {
        Ok(elf) if elf.format() == object::BinaryFormat::Elf => {
            elf.section_by_name(".interp").is_none_or(|s| s.size() == 0)
        }
        _ => false,
    }
}
