//! Where crossprobe keeps things on this machine.

use std::path::PathBuf;

/// Where `scripts/setup` installs the wine ProcessPrng stubs.
pub const SHARE_DIR: &str = "/usr/local/lib/crossprobe";

/// `$XDG_CACHE_HOME/crossprobe`, else the platform's cache directory.
pub fn cache_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("crossprobe");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    if cfg!(target_os = "macos") {
        home.join("Library/Caches/crossprobe")
    } else {
        home.join(".cache/crossprobe")
    }
}
