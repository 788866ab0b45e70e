//! Where crossprobe's published documentation lives: the book (the
//! package's `homepage`) and the JSON Schema beside it. A binary installed
//! with cargo has no checkout, so what it points a user at is an address.
//! It reads nothing of the crate's own: any layer may ask it.

/// The book's address, ending in `/`.
pub fn url() -> String {
    let home = env!("CARGO_PKG_HOMEPAGE");
    format!("{}/", home.trim_end_matches('/'))
}

/// A page of the book: `page("probes/align")` is its `probes/align.html`.
pub fn page(path: &str) -> String {
    format!("{}{path}.html", url())
}

/// The JSON Schema of crossprobe.yaml, as the book publishes it (copied
/// from `docs/src/crossprobe.schema.json`).
pub fn schema_url() -> String {
    format!("{}crossprobe.schema.json", url())
}

#[cfg(test)]
mod tests {
    #[test]
    fn addresses_are_absolute() {
        assert!(super::url().starts_with("https://"));
        assert!(super::url().ends_with('/'));
        assert_eq!(
            super::page("probes/align"),
            format!("{}probes/align.html", super::url())
        );
    }
}
