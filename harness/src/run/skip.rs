//! A runner that is a skip: no runner can exist for the target here
//! ([`none`]), or one would once a tool doctor can install is there
//! ([`missing`]). The tools' versions say whether one is new enough.

use crate::model::Runner;

/// A structural skip: no tool would give this target a runner here.
pub(super) fn none(reason: String) -> Runner {
    Runner::None {
        reason,
        missing: None,
    }
}

/// An environmental skip: `tool`, which doctor can install, is missing.
pub(super) fn missing(tool: &str, reason: String) -> Runner {
    Runner::None {
        reason,
        missing: Some(crate::host::install::missing(tool)),
    }
}

/// "8.0 (Debian ...)", "20.20.2" → (major, minor).
pub(super) fn parse_version(s: &str) -> Option<(u32, u32)> {
    let mut parts = s.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}
