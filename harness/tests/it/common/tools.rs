//! Whether a tool a test needs is here, and the one rule for when it is not:
//! under `CROSSPROBE_REQUIRE_TOOLS=1` (which `.ci/run` sets) a missing tool
//! fails the test, naming the tool; only a local run without it may shrink
//! the test, and it says what it leaves out.

use std::path::PathBuf;

/// Where `tool` is on this process's PATH: the first executable file of
/// that name.
pub fn which(tool: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Whether `tool` is on PATH. A test that needs it says so with
/// [`require_tool`]; this is for a test that only expects something
/// different without it (a hint that names the missing compiler).
pub fn have_tool(tool: &str) -> bool {
    which(tool).is_some()
}

/// The path of a tool the test cannot do without: scripts/setup installs
/// it, so its absence is a failure that names it, whatever the environment.
pub fn tool_path(tool: &str) -> PathBuf {
    which(tool).unwrap_or_else(|| panic!("{tool} is not on PATH (scripts/setup installs it)"))
}

/// True when `tool` is on PATH. When it is not: a failure naming it under
/// CROSSPROBE_REQUIRE_TOOLS, else a line saying what the test leaves out
/// (`what`), and false.
///
/// ```ignore
/// if !common::require_tool("qemu-aarch64", "the arm64 cells are left out") {
///     return;
/// }
/// ```
pub fn require_tool(tool: &str, what: &str) -> bool {
    if have_tool(tool) {
        return true;
    }
    tool_missing(tool, what);
    false
}

/// `CROSSPROBE_REQUIRE_TOOLS=1` (.ci/run sets it): a tool a test needs
/// that is missing fails the test instead of shrinking it.
pub fn require_tools() -> bool {
    std::env::var_os("CROSSPROBE_REQUIRE_TOOLS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// A test goes on without `tool` (a program, or something else the
/// machine lacks: root, a tmpfs): a failure naming it under
/// CROSSPROBE_REQUIRE_TOOLS, else a line saying what is left out.
pub fn tool_missing(tool: &str, what: &str) {
    assert!(
        !require_tools(),
        "{tool} is missing, so {what}: CROSSPROBE_REQUIRE_TOOLS is set (scripts/setup installs it)"
    );
    eprintln!("{tool} is missing, so {what}");
}
