//! Build dedupe: cells that differ only in how they run share one build.
#![cfg(target_os = "linux")]

mod common;

use serde_json::Value;

#[test]
fn cells_that_differ_only_in_their_cpu_share_one_build() {
    let r = common::run_yaml(
        "name: d\nprobes: [hello]\nmatrix:\n  goos: [linux]\n  goarch: [arm64]\n  cpu: [cortex-a53, cortex-a72, max]\n",
        &["run", "@"],
    );
    assert_eq!(r.code(), 0, "{}\n{}", r.stdout(), r.stderr());
    let results = r.results("d");
    let cells: Vec<&Value> = results["cells"].as_array().unwrap().iter().collect();
    assert_eq!(cells.len(), 3);
    assert_eq!(results["perf"]["builds"], 1, "{:#}", results["perf"]);
    assert_eq!(results["perf"]["builds_shared"], 2);

    let phase = |c: &Value, name: &str| -> Value {
        c["phases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} phase: {c:#}"))
    };
    let builder: Vec<&&Value> = cells.iter().filter(|c| c["build_of"].is_null()).collect();
    assert_eq!(builder.len(), 1, "exactly one cell built");
    let builder = builder[0];
    let build = phase(builder, "build")["commands"][0].clone();
    for c in &cells {
        assert_eq!(c["outcome"], "pass", "{c:#}");
        assert_eq!(phase(c, "build")["commands"][0], build, "one build command");
        if c["build_of"].is_string() {
            assert_eq!(c["build_of"], builder["cell"]["id"]);
        }
        // Each ran under its own CPU model.
        let argv = &phase(c, "run")["commands"][0]["argv"];
        let cpu = c["cell"]["cpu"].as_str().unwrap();
        assert_eq!(argv[1], "-cpu", "{argv}");
        assert_eq!(argv[2], cpu, "{argv}");
        assert_eq!(c["facts"]["probe.goarch"], "arm64");
    }
    let junit = std::fs::read_to_string(r.reports("d").join("junit.xml")).unwrap();
    assert!(junit.contains(": build_of\""), "{junit}");
    common::validate_junit(&r.reports("d").join("junit.xml"));
}
