//! `crossprobe init`: a commented crossprobe.yaml for the module here.

use std::path::PathBuf;

use clap::Args;

use crate::errors::Error;
use crate::model::exit;

#[derive(Args)]
pub struct InitArgs {
    /// The module's root (default: the current directory).
    #[arg(long, value_name = "DIR", default_value = ".")]
    dir: PathBuf,
    /// Replace an existing crossprobe.yaml.
    #[arg(long)]
    force: bool,
}

pub fn main(a: InitArgs) -> miette::Result<i32> {
    let go = crate::toolchain::go::local().map_err(|e| Error::Toolchain {
        message: e.to_string(),
        help: None,
    })?;
    let path = crate::init::write(&a.dir, &go, a.force)?;
    let hint = match a.dir == std::path::Path::new(".") {
        true => String::new(),
        false => format!(" in {}", a.dir.display()),
    };
    let path = crate::escape::Line(&path.display().to_string());
    println!(
        "wrote {path}; run it with `crossprobe run`{}",
        crate::escape::Line(&hint)
    );
    Ok(exit::OK)
}
