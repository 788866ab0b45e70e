//! TEMPORARY until the process module lands.
use std::collections::BTreeMap;
use std::time::Duration;

/// Runs a quick query (`go env`, `--version`) and returns its stdout.
pub fn query(
    argv: &[&str],
    env: &BTreeMap<String, String>,
    _timeout: Duration,
) -> Result<String, String> {
    let mut e = duct::cmd(argv[0], &argv[1..])
        .stdin_null()
        .stderr_capture()
        .stdout_capture()
        .unchecked();
    for (k, v) in env {
        e = e.env(k, v);
    }
    let out = e
        .run()
        .map_err(|err| format!("cannot run {}: {err}", argv.join(" ")))?;
    if !out.status.success() {
        return Err(format!(
            "`{}` failed: {}",
            argv.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
