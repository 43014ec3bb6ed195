//! Making untrusted text safe for a terminal and for XML.

/// Replaces control characters (terminal escape sequences among them) and bidirectional
/// formatting characters with a visible `\u{..}` form; newlines and tabs are kept when
/// `keep_newlines` is set.
pub fn printable(text: &str, keep_newlines: bool) -> String {
    if !text.chars().any(|c| c.is_control() || is_bidi(c)) {
        return text.to_string();
    }
    text.chars()
        .map(|c| match c {
            '\n' | '\t' if keep_newlines => c.to_string(),
            c if c.is_control() || is_bidi(c) => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// The characters that reorder the text around them on screen ("Trojan Source",
/// CVE-2021-42574): a value could make a line read other than what it says.
fn is_bidi(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// XML 1.0 cannot carry most control characters at all, escaped or not: replace them.
pub fn xml_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c.to_string(),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                c.escape_unicode().to_string()
            }
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_neutralised() {
        assert_eq!(printable("a\u{1b}[31mred", false), "a\\u{1b}[31mred");
        assert_eq!(printable("line\nnext", true), "line\nnext");
        assert_eq!(printable("line\nnext", false), "line\\u{a}next");
        assert_eq!(xml_safe("bell\u{7}"), "bell\\u{7}");
        assert_eq!(printable("abc\u{202e}fed", true), "abc\\u{202e}fed");
    }
}
