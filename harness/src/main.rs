fn main() {
    println!("crossprobe {}", env!("CARGO_PKG_VERSION"));
}
