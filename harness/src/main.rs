fn main() {
    let code = crossprobe::cli::main();
    // The run's memory cgroups' directory, now that every cell is over.
    crossprobe::process::cgroup::cleanup();
    std::process::exit(code);
}
