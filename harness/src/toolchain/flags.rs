//! Flags of Go and of the C compiler and linker that name a program to run
//! (or a plugin to load into one). A stranger's snippet may not pass them
//! (repro refuses it unless `--trust`), and a build's sandbox lets the build
//! see the program such a flag names where it lies.

/// The flags, as Go and gcc spell them (Go's also take two dashes).
pub const PROGRAM_FLAGS: [&str; 11] = [
    "-toolexec",
    "-exec",
    "-extld",
    "-extar",
    "-compiler",
    "-B",
    "-wrapper",
    "-fplugin",
    "-specs",
    "-fuse-ld",
    "-plugin",
];

/// Each flag in `text` that names a program to run, looked for in each
/// word and after each `=` in it (`-extldflags=-fuse-ld=x`).
fn program_flags(text: &str) -> impl Iterator<Item = &str> {
    let words = text.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ','));
    words
        .flat_map(|w| {
            let after_eq = w.match_indices('=').map(move |(i, _)| &w[i + 1..]);
            std::iter::once(w).chain(after_eq)
        })
        .filter(|w| {
            // Go's flags take one dash or two.
            let w = if w.starts_with("--") { &w[1..] } else { w };
            PROGRAM_FLAGS.iter().any(|f| match w.strip_prefix(f) {
                Some("") => true,
                Some(rest) if rest.starts_with('=') => true,
                // -Bdir, but not the linker's -Bstatic, -Bdynamic, -Bsymbolic.
                Some(rest) if *f == "-B" => !["static", "dynamic", "symbolic"]
                    .iter()
                    .any(|l| rest.starts_with(l)),
                _ => false,
            })
        })
}

/// The first flag in `text` that names a program to run.
pub fn program_flag(text: &str) -> Option<&str> {
    program_flags(text).next()
}

/// The programs `text` names through such flags, as `-flag=PROGRAM`
/// (`-toolexec=/tmp/x/wrapper` names `/tmp/x/wrapper`).
pub fn named_programs(text: &str) -> impl Iterator<Item = &str> {
    program_flags(text).filter_map(|w| w.split_once('=').map(|(_, v)| v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_that_run_programs_are_found() {
        assert_eq!(program_flag("-toolexec=env"), Some("-toolexec=env"));
        assert_eq!(program_flag("--toolexec=env"), Some("--toolexec=env"));
        assert_eq!(
            program_flag("-ldflags=-linkmode=external -Wl,-Bsymbolic"),
            None
        );
        assert_eq!(program_flag("--specs=x.specs"), Some("--specs=x.specs"));
        assert_eq!(program_flag("-s -w -extld=sh"), Some("-extld=sh"));
        assert_eq!(
            program_flag("-extldflags=-fuse-ld=evil"),
            Some("-fuse-ld=evil")
        );
        assert_eq!(program_flag("#cgo CFLAGS: -Bdir"), Some("-Bdir"));
        assert_eq!(
            program_flag("#cgo LDFLAGS: -Wl,-plugin,x.so"),
            Some("-plugin")
        );
        assert_eq!(program_flag("-s -w -X main.v=1 -buildid="), None);
        assert_eq!(program_flag("#cgo CFLAGS: -O2 -Iinclude"), None);
        assert_eq!(program_flag("-trimpath -race"), None);
    }

    #[test]
    fn the_programs_a_flag_names_are_its_values() {
        let named: Vec<&str> =
            named_programs("-toolexec=/tmp/x/wrapper -ldflags=-extld=/opt/cc -X main.v=/root/k")
                .collect();
        assert_eq!(named, ["/tmp/x/wrapper", "/opt/cc"]);
        assert_eq!(named_programs("-tags=/root/.ssh/id_rsa").count(), 0);
    }
}
