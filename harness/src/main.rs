fn main() {
    std::process::exit(crossprobe::cli::main());
}
