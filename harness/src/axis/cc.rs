//! The `cc` axis as a typed request, parsed in one place: load checks a
//! matrix's values with it, and `toolchain::cc` resolves what it says.

use std::fmt;

/// What a cell asks of its C compiler.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Request {
    /// crossprobe's choice for the target (a Debian cross gcc, mingw-w64,
    /// zig for darwin).
    Auto,
    /// CC left unset: Go's own choice, as in a user's shell.
    Default,
    Gcc,
    Clang,
    Zig,
    /// A compiler command, split on white space as Go splits CC.
    Command(Vec<String>),
}

const NAMES: [&str; 5] = ["auto", "default", "gcc", "clang", "zig"];

impl Request {
    /// Reads a `cc` value: the five names, or something that reads as a
    /// compiler command. `Err` is the hint.
    pub fn parse(value: &str) -> Result<Request, NotACompiler> {
        match value {
            "auto" | "" => return Ok(Request::Auto),
            "default" => return Ok(Request::Default),
            "gcc" => return Ok(Request::Gcc),
            "clang" => return Ok(Request::Clang),
            "zig" => return Ok(Request::Zig),
            _ => {}
        }
        let mut words = value.split_whitespace();
        let first = words.next().unwrap_or("");
        let base = first.rsplit('/').next().unwrap_or(first);
        let compiler_like = first.contains('/')
            || (base == "zig" && words.next() == Some("cc"))
            || ["gcc", "clang", "cc"].iter().any(|c| {
                base.ends_with(c)
                    || base
                        .split_once(&format!("{c}-"))
                        .is_some_and(|(_, v)| v.chars().all(|ch| ch.is_ascii_digit() || ch == '.'))
            });
        if compiler_like {
            return Ok(Request::Command(
                value.split_whitespace().map(str::to_string).collect(),
            ));
        }
        Err(NotACompiler {
            did_you_mean: crate::errors::did_you_mean(value, NAMES),
        })
    }

    /// A value that passed [`Request::parse`] at load, or a CC env axis,
    /// which is a command whatever it says.
    pub fn of_checked(value: &str) -> Request {
        Request::parse(value).unwrap_or_else(|_| {
            Request::Command(value.split_whitespace().map(str::to_string).collect())
        })
    }
}

/// A `cc` value that is none of the names and reads as no compiler.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cc is auto, default, gcc, clang or zig, or a C compiler command such as aarch64-linux-gnu-gcc, clang-17 or \"zig cc -target x86_64-linux-musl\"{did_you_mean}")]
pub struct NotACompiler {
    /// ` (did you mean "gcc"?)`, or empty.
    pub did_you_mean: String,
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::Auto => f.write_str("auto"),
            Request::Default => f.write_str("default"),
            Request::Gcc => f.write_str("gcc"),
            Request::Clang => f.write_str("clang"),
            Request::Zig => f.write_str("zig"),
            Request::Command(w) => f.write_str(&w.join(" ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        assert_eq!(Request::parse("zig").unwrap(), Request::Zig);
        assert_eq!(
            Request::parse("zig cc -target x86_64-linux-musl").unwrap(),
            Request::Command(vec![
                "zig".into(),
                "cc".into(),
                "-target".into(),
                "x86_64-linux-musl".into()
            ])
        );
        assert!(Request::parse("clang-17").is_ok());
        assert!(Request::parse("/opt/x/bin/cc").is_ok());
        let e = Request::parse("gnuc").unwrap_err().to_string();
        assert!(e.contains("such as aarch64-linux-gnu-gcc"), "{e}");
        assert!(Request::parse("python").is_err());
    }
}
