//! The environment a cell's commands inherit: an allowlist, not the
//! caller's whole environment.
//!
//! A shell's environment holds tokens (`GITHUB_TOKEN`, cloud credentials),
//! and a probe, or a build running a program a snippet chose, would read
//! them; with any escape that is exfiltration. So builds and probes inherit
//! only what Go, the C toolchain and the runners read, and locale and
//! identity; the cell sets the rest itself (its `env`, CC, WINEPREFIX, ...).
//! Queries and downloads (`go env`, `go mod download`), which run no code
//! of a cell's, inherit everything: the proxy may need credentials.

use std::ffi::OsString;

/// Names inherited as they are.
const NAMES: [&str; 20] = [
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LANGUAGE",
    "TZ",
    "TMPDIR",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    // A toolchain installed outside the loader's path (/opt/gcc/lib64).
    "LD_LIBRARY_PATH",
    // macOS toolchains (xcrun, clang's sysroot).
    "SDKROOT",
    "DEVELOPER_DIR",
    "MACOSX_DEPLOYMENT_TARGET",
    "SOURCE_DATE_EPOCH",
    // Debian's gcc wrappers, ccache, distcc: none here, but their absence
    // must not break a build that names them through CC.
    "CCACHE_DIR",
    "CCACHE_DISABLE",
    "GCC_EXEC_PREFIX",
    "COMPILER_PATH",
    "LIBRARY_PATH",
];

/// Prefixes of names inherited: Go's own variables (none holds a secret:
/// `go help environment`; GOAUTH names a command, not a credential, and
/// builds run offline), cgo's flags, the locale, pkg-config, zig's caches,
/// Nix's compiler wrappers, and crossprobe's own.
const PREFIXES: [&str; 7] = [
    "GO",
    "CGO_",
    "LC_",
    "PKG_CONFIG",
    "ZIG_",
    "NIX_",
    "CROSSPROBE_",
];

/// Whether a build or a probe inherits `name` from crossprobe's caller.
pub fn allowed(name: &str) -> bool {
    NAMES.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Whether `name` is one a matrix's `run.pass_env` passes: a name, or a
/// prefix ending in `*`.
pub fn passed(name: &str, pass: &[String]) -> bool {
    pass.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == p,
    })
}

/// The caller's variables a cell inherits: the allowlist's and those
/// `pass` names.
pub(super) fn inherited(pass: &[String]) -> impl Iterator<Item = (OsString, OsString)> + '_ {
    std::env::vars_os()
        .filter(move |(k, _)| k.to_str().is_some_and(|k| allowed(k) || passed(k, pass)))
}

/// The names of the caller's variables no cell inherits (`dropped`), and
/// those inherited only because `pass` names them (`passed`), each sorted:
/// what results.json records, never a value.
pub fn names(pass: &[String]) -> (Vec<String>, Vec<String>) {
    let mut all: Vec<String> = std::env::vars_os()
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .filter(|k| !allowed(k))
        .collect();
    all.sort();
    all.dedup();
    all.into_iter().partition(|k| !passed(k, pass))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_dropped_and_the_toolchains_variables_kept() {
        for name in [
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "SSH_AUTH_SOCK",
            "CC",
            "CXX",
        ] {
            assert!(!allowed(name), "{name}");
        }
        for name in ["PATH", "GOCACHE", "GOFLAGS", "CGO_CFLAGS", "LC_ALL", "HOME"] {
            assert!(allowed(name), "{name}");
        }
    }

    #[test]
    fn pass_env_names_a_variable_or_a_prefix() {
        let pass = ["NPM_TOKEN".to_string(), "MYAPP_*".to_string()];
        assert!(passed("NPM_TOKEN", &pass));
        assert!(!passed("NPM_TOKENS", &pass));
        assert!(passed("MYAPP_URL", &pass));
        assert!(passed("MYAPP_", &pass));
        assert!(!passed("MYAPPURL", &pass));
        assert!(!passed("GITHUB_TOKEN", &pass));
    }
}
