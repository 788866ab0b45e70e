//! The machine crossprobe runs on, and what it finds there:
//!
//! - here, the host's facts ([`Host`], [`detect`]): OS, architecture,
//!   kernel and CPU, named the way Go names targets;
//! - [`tools`]: the emulators and runtimes a runner can use, found once per
//!   run ([`discover`]);
//! - [`versions`]: their `--version` answers, asked concurrently and, for
//!   qemu-user, kept between runs;
//! - [`dirs`]: where crossprobe keeps things ([`cache_dir`], [`SHARE_DIR`]);
//! - [`install`]: how each tool a cell may need is installed, the one table
//!   the run's skips and doctor's fixes read.
//!
//! [`detect`] and [`discover`] run once per run; the run phase decides with
//! what they found and never looks at the machine again. Discovery only
//! looks at files, except for one `--version` per tool, run concurrently.

mod dirs;
pub mod install;
mod tools;
mod versions;

pub use crate::model::Host;
pub use dirs::{cache_dir, SHARE_DIR};
pub use tools::{
    discover, discover_for, discover_targets, parse_cpu_models, wasm_exec_node, Tools, Wasi, Wine,
};

/// This machine, as Go would name it.
pub fn detect() -> Host {
    let (machine, kernel) = uname();
    Host {
        goos: goos().to_string(),
        goarch: host_goarch(&machine),
        kernel,
        cpu: cpu_model().unwrap_or(machine),
        runner: String::new(),
    }
}

/// This host's GOOS.
pub fn goos() -> &'static str {
    // std's names match Go's for every OS crossprobe can run on, except
    // that Go calls it "darwin".
    match std::env::consts::OS {
        "macos" => "darwin",
        os => os,
    }
}

/// Maps `uname -m` to GOARCH. Unknown machines keep their own name.
pub fn goarch_of_machine(machine: &str) -> String {
    crate::target::goarch_of_cpu(machine)
        .unwrap_or(machine)
        .to_string()
}

fn host_goarch(machine: &str) -> String {
    // An x86_64 crossprobe under Rosetta sees uname say x86_64; the machine
    // is still arm64, and arm64 binaries run natively on it.
    #[cfg(target_os = "macos")]
    if sysctl_string("sysctl.proc_translated").as_deref() == Some("1") {
        return "arm64".to_string();
    }
    goarch_of_machine(machine)
}

#[cfg(unix)]
fn uname() -> (String, String) {
    // SAFETY: utsname is plain old data, and uname fills it in.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return (std::env::consts::ARCH.to_string(), String::new());
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    (field(&u.machine), field(&u.release))
}

#[cfg(not(unix))]
fn uname() -> (String, String) {
    (std::env::consts::ARCH.to_string(), String::new())
}

#[cfg(target_os = "linux")]
fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    // x86 says "model name"; arm64 kernels often give no name at all, and
    // riscv, ppc and s390x each have their own key.
    ["model name", "uarch", "cpu model", "cpu", "Hardware"]
        .iter()
        .find_map(|key| {
            info.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == *key && !v.trim().is_empty()).then(|| v.trim().to_string())
            })
        })
}

#[cfg(target_os = "macos")]
fn cpu_model() -> Option<String> {
    sysctl_string("machdep.cpu.brand_string")
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn cpu_model() -> Option<String> {
    None
}

#[cfg(target_os = "macos")]
fn sysctl_string(name: &str) -> Option<String> {
    let cname = std::ffi::CString::new(name).ok()?;
    let mut buf = [0u8; 256];
    let mut len = buf.len();
    // SAFETY: buf and len describe a writable buffer that sysctlbyname fills.
    let rc = unsafe {
        libc::sysctlbyname(
            cname.as_ptr(),
            buf.as_mut_ptr().cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    if rc != 0 {
        return None;
    }
    // Integer sysctls (proc_translated) come back as 4 little-endian bytes.
    if len == 4 && !name.starts_with("machdep") {
        return Some(u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]).to_string());
    }
    let s = &buf[..len];
    let s = s.split(|&b| b == 0).next().unwrap_or(s);
    Some(String::from_utf8_lossy(s).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_names_map_to_goarch() {
        assert_eq!(goarch_of_machine("x86_64"), "amd64");
        assert_eq!(goarch_of_machine("aarch64"), "arm64");
        assert_eq!(goarch_of_machine("armv7l"), "arm");
        assert_eq!(goarch_of_machine("i686"), "386");
        assert_eq!(goarch_of_machine("loongarch64"), "loong64");
        assert_eq!(goarch_of_machine("mips64el"), "mips64le");
    }

    #[test]
    fn detect_names_this_machine_like_go() {
        let h = detect();
        assert_eq!(h.goos, goos());
        assert!(!h.goarch.is_empty() && !h.kernel.is_empty() && !h.cpu.is_empty());
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            assert_eq!(h.target(), "linux/amd64");
        }
    }
}
