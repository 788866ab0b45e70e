//! How a CI job gets crossprobe: a pinned release, the way a user's
//! repository would (it has no crossprobe source to build), kept in the
//! CI's cache under its version.
//!
//! The release archives are named as cargo-dist names them (the "reach"
//! side of issue 23 publishes them): `crossprobe-<triple>.tar.gz`, its
//! `.sha256` beside it, the binary at `crossprobe-<triple>/crossprobe`
//! inside, under `<repository>/releases/download/v<version>/`. Where no
//! archive is built (Windows, other arches) the job builds that version
//! from crates.io with `cargo install --locked`.

/// What a job runs to have crossprobe in `$CROSSPROBE_HOME/bin`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Install {
    /// This version of crossprobe: its release archive where one is built
    /// for the runner, else `cargo install crossprobe --locked --version`.
    Pinned {
        version: String,
        /// Where the `v<version>/` directories of archives are; None when
        /// the crate names no repository: then only cargo installs it.
        releases: Option<String>,
    },
    /// The user's own command (`--install`), e.g. crossprobe's repository
    /// building it from the checkout.
    Command(String),
}

/// The release archives by what `uname -s` and `uname -m` say.
pub const RELEASE_TARGETS: &[(&str, &[&str], &str)] = &[
    ("Linux", &["x86_64"], "x86_64-unknown-linux-gnu"),
    ("Linux", &["aarch64", "arm64"], "aarch64-unknown-linux-gnu"),
    ("Darwin", &["arm64"], "aarch64-apple-darwin"),
    ("Darwin", &["x86_64"], "x86_64-apple-darwin"),
];

/// The archive of one target, and the directory inside it.
pub fn archive(triple: &str) -> (String, String) {
    (
        format!("crossprobe-{triple}.tar.gz"),
        format!("crossprobe-{triple}"),
    )
}

/// Where this build's own release is published: the crate's repository
/// (Cargo.toml `repository`), GitHub's release download path under it.
pub fn default_releases() -> Option<String> {
    let repo = env!("CARGO_PKG_REPOSITORY").trim_end_matches('/');
    (!repo.is_empty()).then(|| format!("{repo}/releases/download"))
}

impl Install {
    /// `version` from `releases`; by default the version of crossprobe
    /// that writes the configuration, from its own releases.
    pub fn pinned(version: Option<String>, releases: Option<String>) -> Install {
        Install::Pinned {
            version: version.unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_string()),
            releases: releases.or_else(default_releases),
        }
    }

    /// The version, when pinned: what the caches are keyed on.
    pub fn version(&self) -> Option<&str> {
        match self {
            Install::Pinned { version, .. } => Some(version),
            Install::Command(_) => None,
        }
    }

    /// Variables the script reads, as (name, value): set once per
    /// configuration, so that a project can override them (a mirror of the
    /// releases; the tests point them at a local archive).
    pub fn variables(&self) -> Vec<(&'static str, String)> {
        match self {
            Install::Pinned { version, releases } => {
                let mut v = vec![("CROSSPROBE_VERSION", version.clone())];
                if let Some(r) = releases {
                    v.push(("CROSSPROBE_RELEASES", r.clone()));
                }
                v
            }
            Install::Command(_) => Vec::new(),
        }
    }

    /// The bash that puts crossprobe in `$CROSSPROBE_HOME/bin`, unless the
    /// pinned version is already there (restored from the cache).
    pub fn script(&self) -> String {
        match self {
            Install::Command(c) => c.clone(),
            Install::Pinned { releases, .. } => {
                let download = if releases.is_some() {
                    download_script()
                } else {
                    "triple=\"\"".to_string()
                };
                format!(
                    r#"exe="$CROSSPROBE_HOME/bin/crossprobe"
if [ "$("$exe" --version 2>/dev/null)" = "crossprobe $CROSSPROBE_VERSION" ]; then
  echo "crossprobe $CROSSPROBE_VERSION: from the cache"
else
{download}
  if [ -z "$triple" ]; then
    if ! command -v cargo >/dev/null; then
      echo "crossprobe: no release build for $(uname -sm), and no cargo to build crossprobe $CROSSPROBE_VERSION with; give \`crossprobe ci --install CMD\`" >&2
      exit 1
    fi
    cargo install crossprobe --locked --version "$CROSSPROBE_VERSION" --root "$CROSSPROBE_HOME"
  fi
fi
"$exe" --version"#,
                    download = super::block(&download, 2)
                )
            }
        }
    }
}

/// Picks the runner's archive, downloads it and its checksum, checks one
/// against the other and unpacks the binary; leaves `triple` empty where
/// no archive is built.
fn download_script() -> String {
    let cases: String = RELEASE_TARGETS
        .iter()
        .map(|(os, machines, triple)| {
            let pats = machines
                .iter()
                .map(|m| format!("{os}/{m}"))
                .collect::<Vec<_>>()
                .join("|");
            format!("  {pats}) triple={triple} ;;\n")
        })
        .collect();
    let (archive, dir) = archive("$triple");
    format!(
        r#"case "$(uname -s)/$(uname -m)" in
{cases}  *) triple="" ;;
esac
if [ -n "$triple" ]; then
  tmp=$(mktemp -d)
  url="$CROSSPROBE_RELEASES/v$CROSSPROBE_VERSION/{archive}"
  for f in "$url" "$url.sha256"; do
    curl --fail --silent --show-error --location --retry 3 --output "$tmp/${{f##*/}}" "$f"
  done
  want=$(cut -d' ' -f1 < "$tmp/{archive}.sha256")
  if command -v sha256sum >/dev/null; then
    got=$(sha256sum "$tmp/{archive}")
  else
    got=$(shasum -a 256 "$tmp/{archive}")
  fi
  if [ "${{got%% *}}" != "$want" ]; then
    echo "crossprobe: $url does not match its .sha256" >&2
    exit 1
  fi
  tar -xzf "$tmp/{archive}" -C "$tmp"
  mkdir -p "$CROSSPROBE_HOME/bin"
  mv -f "$tmp/{dir}/crossprobe" "$exe"
  rm -rf "$tmp"
fi"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_names_every_release_target() {
        let i = Install::Pinned {
            version: "1.2.3".into(),
            releases: Some("https://example.com/r".into()),
        };
        let s = i.script();
        for (_, _, triple) in RELEASE_TARGETS {
            assert!(s.contains(&format!(") triple={triple} ;;")), "{s}");
        }
        assert!(s.contains("  Linux/aarch64|Linux/arm64) triple=aarch64-unknown-linux-gnu ;;"));
        assert!(s.contains(
            r#"url="$CROSSPROBE_RELEASES/v$CROSSPROBE_VERSION/crossprobe-$triple.tar.gz""#
        ));
        assert!(s.contains(r#"cargo install crossprobe --locked --version "$CROSSPROBE_VERSION""#));
        assert_eq!(
            i.variables(),
            [
                ("CROSSPROBE_VERSION", "1.2.3".to_string()),
                ("CROSSPROBE_RELEASES", "https://example.com/r".to_string())
            ]
        );
        // No repository: crates.io only.
        let c = Install::Pinned {
            version: "1.2.3".into(),
            releases: None,
        };
        assert!(!c.script().contains("curl"));
        assert_eq!(c.variables().len(), 1);
    }
}
