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
    let go = crate::toolchain::go::local().map_err(|message| Error::Toolchain {
        message,
        help: None,
    })?;
    match crate::init::write(&a.dir, &go, a.force) {
        Ok(path) => {
            println!(
                "wrote {}; run it with `crossprobe run`{}",
                path.display(),
                if a.dir == std::path::Path::new(".") {
                    String::new()
                } else {
                    format!(" in {}", a.dir.display())
                }
            );
            Ok(exit::OK)
        }
        Err((message, help)) => Err(Error::Usage { message, help }.into()),
    }
}
