//! qemu-user: the emulator for a linux target, and the CPU model it is
//! asked for.

use std::collections::BTreeMap;

use super::skip::{missing, none};
use crate::host::{Host, Tools};
use crate::model::Runner;

pub(super) fn runner(
    goarch: &str,
    env: &BTreeMap<String, String>,
    host: &Host,
    tools: &Tools,
) -> Runner {
    if host.goos != "linux" {
        return none(format!(
            "no runner for linux/{goarch} on {}: qemu-user needs a Linux host",
            host.target()
        ));
    }
    let Some(arch) = crate::target::arch_of(goarch).and_then(|a| a.qemu) else {
        return none(format!("no qemu-user emulator for GOARCH={goarch}"));
    };
    let binary = format!("qemu-{arch}");
    if !tools.qemu.contains_key(&binary) {
        return missing(&binary, format!("no {binary}: install qemu-user"));
    }
    let needed = qemu_cpu(goarch, env).map(|(cpu, why)| (cpu, why.to_string()));
    with_cpu(binary, needed, tools)
}

/// A qemu runner asked for a CPU model: for a cell's `cpu` axis, or for
/// what its GOARCH level needs (`qemu_cpu`), with why. A model the
/// installed qemu lacks is never passed blindly: the cell's run is a skip
/// that names the model and those qemu has. (Run under the default CPU, the
/// binary would die of SIGILL, a false answer about a binary that is fine on
/// the CPU it was built for.) A qemu whose models could not be read gets
/// the model as asked, and speaks for itself.
pub fn with_cpu(binary: String, cpu: Option<(String, String)>, tools: &Tools) -> Runner {
    let Some((cpu, why)) = cpu else {
        return Runner::Qemu { binary, cpu: None };
    };
    // `max,v=true` or `Nehalem,+avx`: the model is the first word.
    let model = cpu.split(',').next().unwrap_or("");
    match tools.qemu_cpus.get(&binary) {
        Some(models) if !models.iter().any(|m| m.eq_ignore_ascii_case(model)) => {
            const SHOWN: usize = 16;
            let mut list = models
                .iter()
                .take(SHOWN)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if models.len() > SHOWN {
                list.push_str(&format!(
                    ", ... ({} more: {binary} -cpu help)",
                    models.len() - SHOWN
                ));
            }
            // `qemu-riscv64 version 7.2.22 (Debian ...)`
            let qemu = tools
                .versions
                .get(&binary)
                .filter(|v| v.starts_with(&binary))
                .unwrap_or(&binary);
            none(format!(
                "{qemu} has no CPU model {model:?}, which {why}; its models: {list}"
            ))
        }
        _ => Runner::Qemu {
            binary,
            cpu: Some(cpu),
        },
    }
}

/// The `-cpu` a GOARCH level needs, when qemu's default CPU lacks it, with
/// why. qemu-x86_64 needs none: linux-user defaults to `max`, which ran a
/// GOAMD64=v3 binary here.
fn qemu_cpu(goarch: &str, env: &BTreeMap<String, String>) -> Option<(String, &'static str)> {
    let level = |k: &str| env.get(k).map(String::as_str);
    match goarch {
        // qemu 7.2's default ppc64 CPU lacks ISA 3.1: a GOPPC64=power10
        // binary dies with SIGILL unless it asks for -cpu power10.
        "ppc64" | "ppc64le" => match level("GOPPC64") {
            Some("power9") => Some(("power9".into(), "GOPPC64=power9 needs")),
            Some("power10") => Some(("power10".into(), "GOPPC64=power10 needs")),
            _ => None,
        },
        // RVA23 needs V and Zicond, which the default rv64 CPU lacks (SIGILL).
        // qemu 7.2 has no `max` for riscv64: see `with_cpu`.
        "riscv64" if level("GORISCV64") == Some("rva23u64") => {
            Some(("max".into(), "GORISCV64=rva23u64 needs (V and Zicond)"))
        }
        _ => None,
    }
}
