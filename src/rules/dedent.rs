//! Remedies and rationales are written indented inside TOML strings; reports show them
//! dedented. Shared with build.rs, which dedents the built-in catalog once at build time.

/// Drops surrounding blank lines and the indentation all lines share, keeping the relative
/// indentation of commands in a remedy.
pub fn dedent(text: &str) -> String {
    let text = text.trim_matches('\n');
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(line.trim_end().get(indent..).unwrap_or(""));
    }
    out.truncate(out.trim_end().len());
    out
}
