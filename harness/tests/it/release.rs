//! The release pipeline: the workflow passes actionlint and GitHub's
//! schema, and the script it runs passes shellcheck. The archives
//! themselves are built by `scripts/release` (minutes per target), not here.

use std::process::Command;

use crate::common;

fn check(tool: &str, args: &[&str]) {
    let o = match Command::new(tool)
        .args(args)
        .current_dir(common::repo())
        .output()
    {
        Ok(o) => o,
        Err(_) => return common::tool_missing(tool, "the release pipeline is not checked"),
    };
    assert!(
        o.status.success(),
        "{tool} {args:?}:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_release_workflow_passes_actionlint_and_the_schema() {
    check("actionlint", &[".github/workflows/release.yml"]);
    check(
        "check-jsonschema",
        &[
            "--builtin-schema",
            "vendor.github-workflows",
            ".github/workflows/release.yml",
        ],
    );
}

#[test]
fn the_release_script_passes_shellcheck() {
    check("shellcheck", &["scripts/release"]);
}
