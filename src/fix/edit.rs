//! Line edits of one configuration file: computed from the facts' file and line, checked
//! by applying them here first (the result must still parse), then written as calls of the
//! script's helpers.

use super::shell::{quote, rooted};
use crate::host::Host;

/// One change to a file, by the line numbers of the file as it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Line `line` reads `old`; it becomes `new`.
    Replace { line: u32, old: String, new: String },
    /// A line `text` goes after line `line`, which reads `anchor`.
    InsertAfter {
        line: u32,
        anchor: String,
        text: String,
    },
    /// The bytes `old` at byte `column` (1-based) of line `line` become `new`; the rest of the
    /// line is left as it is on the host. For files whose lines hold more than the setting
    /// (a JSON file on one line, a line with a redacted secret): the script never writes back
    /// any of the line but the part it changes.
    Splice {
        line: u32,
        column: u32,
        old: String,
        new: String,
    },
    /// Lines added at the end, unless the file already has a line that reads `lines[0]`.
    Append { lines: Vec<String> },
}

impl Op {
    /// The line of the file as it was read that the op names (none for an append).
    pub fn line(&self) -> Option<u32> {
        match self {
            Op::Replace { line, .. } | Op::InsertAfter { line, .. } | Op::Splice { line, .. } => {
                Some(*line)
            }
            Op::Append { .. } => None,
        }
    }

    /// The text of the host's file that the op's command carries, to be matched or written.
    pub fn texts(&self) -> Vec<&str> {
        match self {
            Op::Replace { old, new, .. } | Op::Splice { old, new, .. } => vec![old, new],
            Op::InsertAfter { anchor, text, .. } => vec![anchor, text],
            Op::Append { lines } => lines.iter().map(String::as_str).collect(),
        }
    }
}

/// The edits of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEdit {
    pub path: String,
    pub ops: Vec<Op>,
}

impl FileEdit {
    pub fn new(path: &str) -> Self {
        FileEdit {
            path: path.to_string(),
            ops: Vec::new(),
        }
    }

    /// Bottom-up and right to left, appends last: an insert never moves a line (or a splice
    /// a column) that a later op names.
    fn ordered(&self) -> Vec<&Op> {
        let mut ops: Vec<&Op> = self.ops.iter().collect();
        ops.sort_by_key(|op| match op {
            Op::Replace { line, .. } | Op::InsertAfter { line, .. } => {
                (0, u32::MAX - line, u32::MAX)
            }
            Op::Splice { line, column, .. } => (0, u32::MAX - line, u32::MAX - column),
            Op::Append { .. } => (1, 0, 0),
        });
        ops
    }

    /// The file's text after the edits, or why they do not fit it.
    pub fn apply(&self, text: &str) -> Result<String, String> {
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        for op in self.ordered() {
            match op {
                Op::Replace { line, old, new } => {
                    let i = *line as usize - 1;
                    match lines.get_mut(i) {
                        Some(l) if l == old => *l = new.clone(),
                        _ => return Err(format!("{}:{line} does not read {old:?}", self.path)),
                    }
                }
                Op::InsertAfter { line, anchor, text } => {
                    let i = *line as usize - 1;
                    if lines.get(i) != Some(anchor) {
                        return Err(format!("{}:{line} does not read {anchor:?}", self.path));
                    }
                    lines.insert(i + 1, text.clone());
                }
                Op::Splice {
                    line,
                    column,
                    old,
                    new,
                } => {
                    let at = (*column as usize).saturating_sub(1);
                    let target = (*line as usize)
                        .checked_sub(1)
                        .and_then(|i| lines.get_mut(i))
                        .filter(|l| {
                            l.get(at..)
                                .is_some_and(|rest| rest.starts_with(old.as_str()))
                        });
                    let Some(l) = target else {
                        return Err(format!(
                            "{}:{line}:{column} does not read {old:?}",
                            self.path
                        ));
                    };
                    l.replace_range(at..at + old.len(), new);
                }
                Op::Append { lines: new } => lines.extend(new.iter().cloned()),
            }
        }
        let mut out = lines.join("\n");
        out.push('\n');
        Ok(out)
    }

    /// The helper calls that make the edits.
    pub fn commands(&self) -> Vec<String> {
        let file = rooted(&self.path);
        self.ordered()
            .into_iter()
            .map(|op| match op {
                Op::Replace { line, old, new } => {
                    format!("np_replace {file} {line} {} {}", quote(old), quote(new))
                }
                Op::InsertAfter { line, anchor, text } => format!(
                    "np_insert_after {file} {line} {} {}",
                    quote(anchor),
                    quote(text)
                ),
                Op::Splice {
                    line,
                    column,
                    old,
                    new,
                } => format!(
                    "np_splice {file} {line} {column} {} {}",
                    quote(old),
                    quote(new)
                ),
                Op::Append { lines } => {
                    let words: Vec<String> = lines.iter().map(|l| quote(l)).collect();
                    format!(
                        "np_append {file} {} {}",
                        quote(lines.first().map_or("", String::as_str)),
                        words.join(" ")
                    )
                }
            })
            .collect()
    }
}

/// The file a path names, following symbolic links inside the host (as the facts read it),
/// so that the script writes the file itself and never through a link.
pub fn resolve(host: &dyn Host, path: &str) -> String {
    let mut path = path.to_string();
    for _ in 0..8 {
        let Ok(target) = host.read_link(&path) else {
            break;
        };
        path = if target.starts_with('/') {
            target
        } else {
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            crate::host::clean_path(&format!("{dir}/{target}"))
        };
    }
    path
}

/// The 1-based line `n` of a text.
pub fn line_of(text: &str, n: u32) -> Option<&str> {
    text.lines().nth((n as usize).checked_sub(1)?)
}

/// The leading blanks of a line.
pub fn indent(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_apply_bottom_up_so_line_numbers_hold() {
        let mut edit = FileEdit::new("/f");
        edit.ops.push(Op::InsertAfter {
            line: 1,
            anchor: "[a]".into(),
            text: "  x = 1".into(),
        });
        edit.ops.push(Op::Replace {
            line: 3,
            old: "y = 0".into(),
            new: "y = 1".into(),
        });
        edit.ops.push(Op::Append {
            lines: vec!["[c]".into(), "z = 1".into()],
        });
        let out = edit.apply("[a]\n[b]\ny = 0\n").unwrap();
        assert_eq!(out, "[a]\n  x = 1\n[b]\ny = 1\n[c]\nz = 1\n");
        assert!(edit.apply("[a]\n[b]\ny = 2\n").is_err());
        let cmds = edit.commands();
        assert!(cmds[0].starts_with("np_replace \"$ROOT\"/f 3 "), "{cmds:?}");
        assert!(
            cmds[1].starts_with("np_insert_after \"$ROOT\"/f 1 "),
            "{cmds:?}"
        );
        assert!(cmds[2].starts_with("np_append "), "{cmds:?}");
    }

    #[test]
    fn relative_links_resolve_against_their_directory() {
        assert_eq!(
            crate::host::clean_path("/etc/sysctl.d/../sysctl.conf"),
            "/etc/sysctl.conf"
        );
    }
}
