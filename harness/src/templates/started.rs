//! The started proof written beside a user's own program (an inline probe),
//! so that a plain program passes without printing crossprobe's marker.
//!
//! The check phase wants a facts line from every run that exits 0: an
//! emulator can exit 0 without running the binary at all (wine without its
//! 32-bit half does), and that must never pass. Shipped probes print their
//! facts themselves; a bug report's `fmt.Println` program does not, so the
//! line comes from a file crossprobe adds: a Go file with an `init`, or a C
//! translation unit with a constructor. Both run before the user's `main`,
//! inside the binary, so only a binary that really started prints it.

use regex::Regex;

use crate::model::Lang;

/// The file name of the started proof in a probe's directory. A user's file
/// of that name is refused (see the snippet's `files:`).
pub fn file_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Go => GO_FILE,
        Lang::C => C_FILE,
    }
}

pub const GO_FILE: &str = "crossprobe_started.go";
pub const C_FILE: &str = "crossprobe_started.c";

const GO: &str = r#"// Written by crossprobe beside the program: the facts line below proves
// that the binary started, and names the Go that built it.
package PACKAGE

import (
	"os"
	"runtime"
)

func init() {
	os.Stdout.WriteString("CROSSPROBE-FACTS: {\"started\":true,\"go\":\"" + runtime.Version() +
		"\",\"goos\":\"" + runtime.GOOS + "\",\"goarch\":\"" + runtime.GOARCH + "\"}\n")
}
"#;

/// gcc, clang, zig cc and mingw all run a constructor before `main`. The
/// flush puts the line out even if the program then ends with `_exit`.
const C: &str = r#"/* Written by crossprobe beside the program: the facts line below proves
 * that the binary started. */
#include <stdio.h>

__attribute__((constructor)) static void crossprobe_started(void) {
	fputs("CROSSPROBE-FACTS: {\"started\":true}\n", stdout);
	fflush(stdout);
}
"#;

/// The started file for a program whose main source is `main`, as (name,
/// text).
pub fn file(lang: Lang, main: &str) -> (String, String) {
    let text = match lang {
        Lang::Go => format!(
            "{}{}",
            constraint_of(main).unwrap_or_default(),
            GO.replace("PACKAGE", &package_of(main))
        ),
        Lang::C => C.to_string(),
    };
    (file_name(lang).to_string(), text)
}

/// The build constraint the Go file needs to be compiled exactly when the
/// user's source is: a file that imports "C" is left out when cgo is off,
/// and then the build must fail as the user's did ("build constraints
/// exclude all Go files"), not for want of a main.
fn constraint_of(src: &str) -> Option<String> {
    let build = Regex::new(r"(?m)^//go:build\s+(.+?)\s*$").expect("valid regex");
    let cgo = Regex::new(r#"(?m)^\s*import\s+"C"|^\s*"C"\s*$"#).expect("valid regex");
    let mut parts: Vec<String> = build
        .captures(src)
        .map(|c| format!("({})", &c[1]))
        .into_iter()
        .collect();
    if cgo.is_match(src) {
        parts.push("cgo".into());
    }
    (!parts.is_empty()).then(|| format!("//go:build {}\n\n", parts.join(" && ")))
}

/// The package clause of a Go source, or `main`.
fn package_of(src: &str) -> String {
    let re = Regex::new(r"(?m)^\s*package\s+([A-Za-z_][A-Za-z0-9_]*)").expect("valid regex");
    re.captures(src)
        .map_or("main".to_string(), |c| c[1].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints() {
        assert_eq!(constraint_of("package main\nfunc main() {}"), None);
        assert_eq!(
            constraint_of("package main\n\nimport \"C\"\n"),
            Some("//go:build cgo\n\n".into())
        );
        assert_eq!(
            constraint_of("//go:build linux\n\npackage main\nimport (\n\t\"C\"\n\t\"fmt\"\n)\n"),
            Some("//go:build (linux) && cgo\n\n".into())
        );
    }

    #[test]
    fn packages() {
        assert_eq!(package_of("// x\npackage foo\n"), "foo");
        assert_eq!(package_of("func main() {}"), "main");
    }

    #[test]
    fn each_language_gets_its_own_file() {
        let (name, text) = file(Lang::C, "int main(void) { return 0; }");
        assert_eq!(name, "crossprobe_started.c");
        assert!(text.contains("__attribute__((constructor))"));
        let (name, text) = file(Lang::Go, "//go:build linux\n\npackage main\n");
        assert_eq!(name, "crossprobe_started.go");
        assert!(text.starts_with("//go:build (linux)\n"), "{text}");
    }
}
