//! A containerd config file as a tree whose every value remembers the file and line it came
//! from, and the two ways containerd merges one file into another.
//!
//! containerd decodes each file into its `Config` struct (go-toml v2) and merges the structs
//! with mergo. The merge is reproduced here on plain trees, following containerd's source:
//! - 1.x, `services/server/config/config.go` `mergeConfig`: `mergo.Merge(WithOverride,
//!   WithAppendSlice)`, then every top-level key of `plugins` (and of `proxy_plugins`,
//!   `timeouts`, `stream_processors`) in the imported file REPLACES the whole section;
//! - 2.x, `cmd/containerd/server/config/config.go` `mergeConfig` (since containerd PR #9982,
//!   in 2.0): the plugin loop is gone, so mergo merges `plugins` DEEPLY: tables key by key,
//!   values (arrays included) replaced; top-level arrays are a union (`sliceTransformer`).
//!
//! In both, a top-level struct field (`version`, `root`, `[grpc] address`, …) is overridden
//! only by a non-empty value: mergo's WithOverride does not copy empty source values.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Where a value was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: Arc<str>,
    pub line: u32,
}

/// A value that is not a table.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    Str(String),
    Int(i64),
    Bool(bool),
    /// Floats, datetimes and tables inside arrays: kept as text, no fact reads them.
    Other(String),
    Array(Vec<Scalar>),
}

impl Scalar {
    /// The zero value of Go's type, which mergo's WithOverride never copies over a value.
    fn is_empty(&self) -> bool {
        match self {
            Scalar::Str(s) | Scalar::Other(s) => s.is_empty(),
            Scalar::Int(i) => *i == 0,
            Scalar::Bool(b) => !b,
            Scalar::Array(items) => items.is_empty(),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Scalar::Str(_) => "a string",
            Scalar::Int(_) => "an integer",
            Scalar::Bool(_) => "a boolean",
            Scalar::Other(_) => "a value of another type",
            Scalar::Array(_) => "an array",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Leaf {
    pub value: Scalar,
    pub origin: Origin,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Table(Table),
    Leaf(Leaf),
}

pub type Table = BTreeMap<String, Node>;

/// A TOML syntax error, positioned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Parses a file into a tree; `file` names it in every origin.
pub fn parse(file: &str, text: &str) -> Result<Table, SyntaxError> {
    let lines = LineIndex::new(text);
    let doc = DeTable::parse(text).map_err(|e| {
        let (line, column) = lines.position(e.span().map_or(0, |s| s.start));
        SyntaxError {
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })?;
    let file: Arc<str> = Arc::from(file);
    Ok(convert_table(doc.get_ref(), &file, &lines))
}

fn convert_table(table: &DeTable<'_>, file: &Arc<str>, lines: &LineIndex) -> Table {
    table
        .iter()
        .map(|(key, value)| {
            (
                key.get_ref().to_string(),
                convert(value, key.span(), file, lines),
            )
        })
        .collect()
}

/// A value's origin is the line of its key: for a multi-line array that is where it starts.
fn convert(
    value: &Spanned<DeValue<'_>>,
    key_span: Range<usize>,
    file: &Arc<str>,
    lines: &LineIndex,
) -> Node {
    match value.get_ref() {
        DeValue::Table(table) => Node::Table(convert_table(table, file, lines)),
        other => Node::Leaf(Leaf {
            value: scalar(other),
            origin: Origin {
                file: file.clone(),
                line: lines.position(key_span.start).0,
            },
        }),
    }
}

fn scalar(value: &DeValue<'_>) -> Scalar {
    match value {
        DeValue::String(s) => Scalar::Str(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .map(Scalar::Int)
            .unwrap_or_else(|_| Scalar::Other(i.to_string())),
        DeValue::Boolean(b) => Scalar::Bool(*b),
        DeValue::Float(f) => Scalar::Other(f.to_string()),
        DeValue::Datetime(d) => Scalar::Other(d.to_string()),
        DeValue::Array(items) => Scalar::Array(items.iter().map(|i| scalar(i.get_ref())).collect()),
        DeValue::Table(_) => Scalar::Other("(table)".to_string()),
    }
}

/// Byte offset to 1-based line and column.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    fn position(&self, offset: usize) -> (u32, u32) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let column = offset - self.starts[line - 1] + 1;
        (line as u32, column as u32)
    }
}

/// The node at a dotted path of table keys.
pub fn get<'a>(table: &'a Table, path: &[&str]) -> Option<&'a Node> {
    let (first, rest) = path.split_first()?;
    let node = table.get(*first)?;
    if rest.is_empty() {
        return Some(node);
    }
    match node {
        Node::Table(inner) => get(inner, rest),
        Node::Leaf(_) => None,
    }
}

/// The leaf at a path, if the path ends on a value.
pub fn leaf<'a>(table: &'a Table, path: &[&str]) -> Option<&'a Leaf> {
    match get(table, path)? {
        Node::Leaf(leaf) => Some(leaf),
        Node::Table(_) => None,
    }
}

/// Which containerd's merge to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeStyle {
    /// containerd 1.x: an imported file's plugin section replaces the whole section.
    ReplacePlugins,
    /// containerd 2.x: plugin sections merge key by key, at any depth.
    DeepPlugins,
}

/// Top-level maps whose entries containerd replaces whole, in 1.x and 2.x alike.
const REPLACED_MAPS: &[&str] = &["proxy_plugins", "timeouts", "stream_processors"];

/// Merges one decoded file into the configuration built so far.
pub fn merge_config(to: &mut Table, from: Table, style: MergeStyle) {
    for (key, node) in from {
        if key == "plugins" && style == MergeStyle::DeepPlugins {
            deep_merge_entry(to, key, node);
        } else if key == "plugins" || REPLACED_MAPS.contains(&key.as_str()) {
            replace_entries(to, key, node);
        } else {
            merge_struct_field(to, key, node, style);
        }
    }
}

/// `map[string]X` fields: each entry of `from` replaces the entry of the same name.
fn replace_entries(to: &mut Table, key: String, node: Node) {
    match (to.get_mut(&key), node) {
        (Some(Node::Table(existing)), Node::Table(entries)) => existing.extend(entries),
        (_, node) => {
            to.insert(key, node);
        }
    }
}

/// mergo inside a `map[string]any`: tables merge, anything else is replaced, even by an
/// empty value (map values are always copied under WithOverride).
fn deep_merge_entry(to: &mut Table, key: String, node: Node) {
    match (to.get_mut(&key), node) {
        (Some(Node::Table(existing)), Node::Table(entries)) => {
            for (k, v) in entries {
                deep_merge_entry(existing, k, v);
            }
        }
        (_, node) => {
            to.insert(key, node);
        }
    }
}

/// A field of containerd's `Config` struct (or of a nested struct such as `[grpc]`).
fn merge_struct_field(to: &mut Table, key: String, node: Node, style: MergeStyle) {
    match (to.get_mut(&key), node) {
        (Some(Node::Table(existing)), Node::Table(fields)) => {
            for (k, v) in fields {
                merge_struct_field(existing, k, v, style);
            }
        }
        (
            Some(Node::Leaf(existing)),
            Node::Leaf(Leaf {
                value: Scalar::Array(items),
                origin,
            }),
        ) => {
            if let Scalar::Array(existing_items) = &mut existing.value {
                for item in items {
                    // 1.x appends (WithAppendSlice); 2.x appends what is not there yet.
                    if style == MergeStyle::ReplacePlugins || !existing_items.contains(&item) {
                        existing_items.push(item);
                        existing.origin = origin.clone();
                    }
                }
            } else if !items.is_empty() {
                *existing = Leaf {
                    value: Scalar::Array(items),
                    origin,
                };
            }
        }
        (Some(Node::Leaf(existing)), Node::Leaf(leaf)) => {
            if !leaf.value.is_empty() {
                *existing = leaf;
            }
        }
        (Some(_), node) => {
            if !matches!(&node, Node::Leaf(l) if l.value.is_empty()) {
                to.insert(key, node);
            }
        }
        (None, node) => {
            to.insert(key, node);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(files: &[&str], style: MergeStyle) -> Table {
        let mut out = Table::new();
        for (i, text) in files.iter().enumerate() {
            let table = parse(&format!("f{i}.toml"), text).unwrap();
            merge_config(&mut out, table, style);
        }
        out
    }

    const BASE: &str = r#"
version = 2
disabled_plugins = ["a"]
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "pause:base"
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/base/bin"
"#;
    const DROP_IN: &str = r#"
disabled_plugins = ["a", "b"]
[plugins."io.containerd.grpc.v1.cri".cni]
  conf_dir = "/drop/net.d"
"#;

    #[test]
    fn containerd_1x_replaces_a_plugins_whole_section() {
        let out = merged(&[BASE, DROP_IN], MergeStyle::ReplacePlugins);
        let cri = ["plugins", "io.containerd.grpc.v1.cri"];
        // The drop-in's CRI section replaced the base's: sandbox_image and bin_dir are gone.
        assert!(leaf(&out, &[cri[0], cri[1], "sandbox_image"]).is_none());
        assert!(leaf(&out, &[cri[0], cri[1], "cni", "bin_dir"]).is_none());
        let conf = leaf(&out, &[cri[0], cri[1], "cni", "conf_dir"]).unwrap();
        assert_eq!(conf.value, Scalar::Str("/drop/net.d".into()));
        assert_eq!(&*conf.origin.file, "f1.toml");
        // WithAppendSlice keeps duplicates.
        let disabled = leaf(&out, &["disabled_plugins"]).unwrap();
        assert_eq!(
            disabled.value,
            Scalar::Array(vec![
                Scalar::Str("a".into()),
                Scalar::Str("a".into()),
                Scalar::Str("b".into())
            ])
        );
    }

    #[test]
    fn containerd_2x_merges_plugins_deeply() {
        let out = merged(&[BASE, DROP_IN], MergeStyle::DeepPlugins);
        let sandbox = leaf(
            &out,
            &["plugins", "io.containerd.grpc.v1.cri", "sandbox_image"],
        )
        .unwrap();
        assert_eq!(sandbox.value, Scalar::Str("pause:base".into()));
        assert_eq!(sandbox.origin.line, 5);
        assert!(leaf(
            &out,
            &["plugins", "io.containerd.grpc.v1.cri", "cni", "bin_dir"]
        )
        .is_some());
        assert!(leaf(
            &out,
            &["plugins", "io.containerd.grpc.v1.cri", "cni", "conf_dir"]
        )
        .is_some());
        // The union of top-level arrays.
        let disabled = leaf(&out, &["disabled_plugins"]).unwrap();
        assert_eq!(
            disabled.value,
            Scalar::Array(vec![Scalar::Str("a".into()), Scalar::Str("b".into())])
        );
    }

    #[test]
    fn deep_merge_overrides_values_even_with_false() {
        let a = "[plugins.x.opts]\nSystemdCgroup = true\nBinaryName = \"runc\"\n";
        let b = "[plugins.x.opts]\nSystemdCgroup = false\n";
        let out = merged(&[a, b], MergeStyle::DeepPlugins);
        let v = leaf(&out, &["plugins", "x", "opts", "SystemdCgroup"]).unwrap();
        assert_eq!(v.value, Scalar::Bool(false));
        assert_eq!(&*v.origin.file, "f1.toml");
        assert!(leaf(&out, &["plugins", "x", "opts", "BinaryName"]).is_some());
    }

    #[test]
    fn empty_top_level_values_do_not_override() {
        let out = merged(
            &["version = 2\nroot = \"/a\"", "version = 0\nroot = \"\""],
            MergeStyle::DeepPlugins,
        );
        assert_eq!(leaf(&out, &["version"]).unwrap().value, Scalar::Int(2));
        assert_eq!(
            leaf(&out, &["root"]).unwrap().value,
            Scalar::Str("/a".into())
        );
    }

    #[test]
    fn syntax_errors_are_positioned() {
        let err = parse("c.toml", "version = 2\n[plugins\nx = 1\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(!err.message.is_empty());
    }
}
