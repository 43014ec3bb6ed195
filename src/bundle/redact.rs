//! Redaction: registry credentials and tokens are replaced before a file reaches a bundle.
//!
//! Runtime configurations can hold secrets: containerd's
//! `plugins.*.registry.configs.*.auth` (`username`, `password`, `auth`, `identitytoken`), the
//! `auths` of Docker's and Podman's `config.json`/`auth.json` (`auth`, `identitytoken`,
//! `registrytoken`, `password`), a kubelet credential-provider config. The value of every key
//! of those names is replaced by a fixed marker of the same type (a string), in place: the
//! file keeps its layout and line numbers, so it still parses and every finding that cites
//! `file:line` cites the same line from the bundle.
//!
//! Two passes. A structural scan of TOML, JSON or YAML gives each redaction its key path.
//! Then, because a file that does not parse can hold a secret too, a lexical pass replaces
//! any string that still follows one of those key names, whatever the structure around it.
//! Last, in every file that is not the kernel's, whatever its syntax, the credentials of any
//! URL that has some (`http://user:password@proxy:3128`, a proxy in daemon.json or in a unit's
//! `Environment=`) are replaced too.

use super::manifest::Redaction;

/// What replaces a secret (a string in every format).
pub const MARKER: &str = "REDACTED";

/// Key names whose string values are credentials (compared case-insensitively).
const SECRET_KEYS: &[&str] = &[
    "username",
    "password",
    "auth",
    "identitytoken",
    "registrytoken",
];

fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Syntax {
    Toml,
    Json,
    Yaml,
}

/// The syntax a file is redacted as, from its path; `None` for files that hold no
/// configuration (/proc, /sys, plain lists).
fn syntax_of(path: &str) -> Option<Syntax> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if path.starts_with("/proc/") || path.starts_with("/sys/") {
        return None;
    }
    if name.ends_with(".json") {
        Some(Syntax::Json)
    } else if name.ends_with(".yaml") || name.ends_with(".yml") {
        Some(Syntax::Yaml)
    } else if name.ends_with(".toml")
        || path.starts_with("/etc/containerd/")
        || path.starts_with("/etc/crio/")
        || path.starts_with("/etc/containers/")
    {
        Some(Syntax::Toml)
    } else {
        None
    }
}

/// A replacement of `start..end` of the file.
struct Edit {
    start: usize,
    end: usize,
    text: Vec<u8>,
    key: String,
}

/// The file with its secrets replaced, and what was replaced. Files that need nothing come
/// back unchanged.
pub fn redact(path: &str, bytes: &[u8]) -> (Vec<u8>, Vec<Redaction>) {
    if path.starts_with("/proc/") || path.starts_with("/sys/") {
        return (bytes.to_vec(), Vec::new());
    }
    let mut edits = match syntax_of(path) {
        Some(syntax) => {
            let mut edits = match syntax {
                Syntax::Toml => toml_scan(bytes),
                Syntax::Json => json_scan(bytes),
                Syntax::Yaml => yaml_scan(bytes),
            };
            let extra: Vec<Edit> = lexical_scan(bytes, syntax)
                .into_iter()
                .filter(|e| !edits.iter().any(|s| s.start <= e.start && e.start < s.end))
                .collect();
            edits.extend(extra);
            edits
        }
        None => Vec::new(),
    };
    // Credentials in URLs (a proxy's `http://user:password@proxy:3128` in daemon.json or in a
    // unit's Environment=), in any file that is not the kernel's.
    let urls: Vec<Edit> = url_scan(bytes)
        .into_iter()
        .filter(|e| !edits.iter().any(|s| s.start < e.end && e.start < s.end))
        .collect();
    edits.extend(urls);
    edits.sort_by_key(|e| e.start);
    // Overlaps cannot come from the scans above, but a replacement must never garble the
    // file: keep the first of any two that overlap.
    let mut kept: Vec<Edit> = Vec::new();
    for e in edits {
        if kept.last().is_none_or(|k| k.end <= e.start) {
            kept.push(e);
        }
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut redactions = Vec::new();
    let mut at = 0;
    for e in &kept {
        out.extend_from_slice(&bytes[at..e.start]);
        out.extend_from_slice(&e.text);
        at = e.end;
        redactions.push(Redaction {
            file: path.to_string(),
            key: e.key.clone(),
            line: line_of(bytes, e.start),
        });
    }
    out.extend_from_slice(&bytes[at..]);
    (out, redactions)
}

fn line_of(bytes: &[u8], at: usize) -> u32 {
    let n = bytes[..at].iter().filter(|b| **b == b'\n').count();
    u32::try_from(n + 1).unwrap_or(u32::MAX)
}

/// A quoted replacement spanning as many lines as the original, so later lines keep their
/// numbers.
fn replacement(original: &[u8], syntax: Syntax) -> Vec<u8> {
    let newlines = original.iter().filter(|b| **b == b'\n').count();
    if newlines == 0 || syntax != Syntax::Toml {
        return format!("\"{MARKER}\"").into_bytes();
    }
    // A TOML multi-line string drops the newline right after its opening quotes.
    format!("\"\"\"{}{MARKER}\"\"\"", "\n".repeat(newlines)).into_bytes()
}

/// `a."b.c".d`: keys joined, quoted where they are not bare.
fn key_path(keys: &[String]) -> String {
    keys.iter()
        .map(|k| {
            if !k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                || k == "[]"
            {
                k.clone()
            } else {
                format!("{k:?}")
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

// ---------------------------------------------------------------------------------------------
// Shared lexing.

fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t' || b[i] == b'\r') {
        i += 1;
    }
    i
}

/// The end (exclusive) of a string starting at `i` (at its opening quote), and its text.
/// `None` when it never ends.
fn string_at(b: &[u8], i: usize) -> Option<(usize, String)> {
    let quote = b[i];
    let triple = b.len() >= i + 3 && b[i + 1] == quote && b[i + 2] == quote;
    if triple {
        let close = [quote, quote, quote];
        let from = i + 3;
        let mut j = from;
        while j + 3 <= b.len() {
            if quote == b'"' && b[j] == b'\\' {
                j += 2;
                continue;
            }
            if b[j..j + 3] == close {
                // Up to two more quotes may belong to the content (`""""x""""`).
                let mut end = j + 3;
                while end < b.len() && b[end] == quote && end < j + 5 {
                    end += 1;
                }
                return Some((end, String::from_utf8_lossy(&b[from..end - 3]).into_owned()));
            }
            j += 1;
        }
        return None;
    }
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' if quote == b'"' => j += 2,
            b'\n' => return None,
            c if c == quote => {
                return Some((j + 1, String::from_utf8_lossy(&b[i + 1..j]).into_owned()))
            }
            _ => j += 1,
        }
    }
    None
}

fn to_eol(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i] != b'\n' {
        i += 1;
    }
    i
}

// ---------------------------------------------------------------------------------------------
// TOML.

fn toml_scan(b: &[u8]) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut header: Vec<String> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        i = skip_spaces(b, i);
        if i >= b.len() {
            break;
        }
        match b[i] {
            b'\n' => {
                i += 1;
                continue;
            }
            b'#' => {
                i = to_eol(b, i);
                continue;
            }
            b'[' => {
                let open = if b.get(i + 1) == Some(&b'[') { 2 } else { 1 };
                match toml_keys(b, i + open, b']') {
                    Some((keys, _)) => header = keys,
                    None => header = vec!["?".into()],
                }
                i = to_eol(b, i);
                continue;
            }
            _ => {}
        }
        let mut path = header.clone();
        let next = toml_keys(b, i, b'=').and_then(|(keys, end)| {
            path.extend(keys);
            toml_value(b, skip_spaces(b, end + 1), &path, &mut edits)
        });
        // Whatever follows the value (a comment), or the rest of a line that did not parse.
        i = to_eol(b, next.unwrap_or(i));
    }
    edits
}

/// A dotted key ending at `stop` (`=` or `]`): the keys, and the index of `stop`.
fn toml_keys(b: &[u8], mut i: usize, stop: u8) -> Option<(Vec<String>, usize)> {
    let mut keys = Vec::new();
    loop {
        i = skip_spaces(b, i);
        let c = *b.get(i)?;
        if c == b'"' || c == b'\'' {
            let (end, text) = string_at(b, i)?;
            keys.push(text);
            i = end;
        } else {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
                i += 1;
            }
            if i == start {
                return None;
            }
            keys.push(String::from_utf8_lossy(&b[start..i]).into_owned());
        }
        i = skip_spaces(b, i);
        match b.get(i) {
            Some(b'.') => i += 1,
            Some(c) if *c == stop => return Some((keys, i)),
            _ => return None,
        }
    }
}

/// Scans one value at `i` under `path`; returns where it ends.
fn toml_value(b: &[u8], i: usize, path: &[String], edits: &mut Vec<Edit>) -> Option<usize> {
    let c = *b.get(i)?;
    match c {
        b'"' | b'\'' => {
            let (end, _) = string_at(b, i)?;
            if path.last().is_some_and(|k| is_secret_key(k)) {
                edits.push(Edit {
                    start: i,
                    end,
                    text: replacement(&b[i..end], Syntax::Toml),
                    key: key_path(path),
                });
            }
            Some(end)
        }
        b'{' => {
            let mut j = i + 1;
            loop {
                j = skip_spaces(b, j);
                match b.get(j)? {
                    b'}' => return Some(j + 1),
                    b',' => j += 1,
                    _ => {
                        let (keys, eq) = toml_keys(b, j, b'=')?;
                        let mut inner = path.to_vec();
                        inner.extend(keys);
                        j = toml_value(b, skip_spaces(b, eq + 1), &inner, edits)?;
                    }
                }
            }
        }
        b'[' => {
            let mut inner = path.to_vec();
            inner.push("[]".into());
            let mut j = i + 1;
            loop {
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                match b.get(j)? {
                    b']' => return Some(j + 1),
                    b',' => j += 1,
                    b'#' => j = to_eol(b, j),
                    _ => j = toml_value(b, j, &inner, edits)?,
                }
            }
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b']' | b'}' | b'\n' | b'#') {
                j += 1;
            }
            Some(j)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JSON.

fn json_scan(b: &[u8]) -> Vec<Edit> {
    struct Frame {
        /// The key this container is the value of (`[]` inside an array).
        key: String,
        /// The member key read and not yet given its value.
        pending: Option<String>,
        array: bool,
    }
    let mut edits = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let path = |stack: &[Frame], last: &str| {
        let mut keys: Vec<String> = stack.iter().skip(1).map(|f| f.key.clone()).collect();
        keys.push(last.to_string());
        key_path(&keys)
    };
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let Some((end, text)) = string_at(b, i) else {
                    break;
                };
                let after = {
                    let mut j = end;
                    while j < b.len() && b[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    j
                };
                if let Some(top) = stack.last_mut() {
                    if !top.array && b.get(after) == Some(&b':') {
                        top.pending = Some(text);
                        i = after + 1;
                        continue;
                    }
                    if let Some(key) = top.pending.take() {
                        if is_secret_key(&key) {
                            edits.push(Edit {
                                start: i,
                                end,
                                text: replacement(&b[i..end], Syntax::Json),
                                key: path(&stack, &key),
                            });
                        }
                    }
                }
                i = end;
            }
            c @ (b'{' | b'[') => {
                let key = match stack.last_mut() {
                    Some(top) if top.array => "[]".to_string(),
                    Some(top) => top.pending.take().unwrap_or_default(),
                    None => String::new(),
                };
                stack.push(Frame {
                    key,
                    pending: None,
                    array: c == b'[',
                });
                i += 1;
            }
            b'}' | b']' => {
                stack.pop();
                i += 1;
            }
            b',' => {
                if let Some(top) = stack.last_mut() {
                    top.pending = None;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    edits
}

// ---------------------------------------------------------------------------------------------
// YAML (block style, as kubelet configurations are written).

fn yaml_scan(b: &[u8]) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    // A block scalar (`password: |`) being replaced: lines indented deeper than this.
    let mut block: Option<(usize, String)> = None;
    let mut start = 0;
    while start < b.len() {
        let end = to_eol(b, start);
        let line = &b[start..end];
        let indent = line.iter().take_while(|c| **c == b' ').count();
        let blank = line[indent..].iter().all(u8::is_ascii_whitespace);
        if let Some((min, key)) = &block {
            if blank || indent > *min {
                if !blank {
                    edits.push(Edit {
                        start: start + indent,
                        end,
                        text: MARKER.as_bytes().to_vec(),
                        key: key.clone(),
                    });
                }
                start = end + 1;
                continue;
            }
            block = None;
        }
        if blank || line[indent] == b'#' {
            start = end + 1;
            continue;
        }
        // `- key: value` opens a mapping two columns in.
        let mut col = indent;
        while line.get(col) == Some(&b'-') && line.get(col + 1) == Some(&b' ') {
            col = skip_spaces(line, col + 1);
        }
        if let Some((key, value_at)) = yaml_key(line, col) {
            while stack.last().is_some_and(|(d, _)| *d >= col) {
                stack.pop();
            }
            let mut keys: Vec<String> = stack.iter().map(|(_, k)| k.clone()).collect();
            keys.push(key.clone());
            let value = skip_spaces(line, value_at);
            let value_end = {
                let mut e = line.len();
                while e > value && line[e - 1].is_ascii_whitespace() {
                    e -= 1;
                }
                e
            };
            if is_secret_key(&key) && value < value_end && line[value] != b'#' {
                if matches!(line[value], b'|' | b'>') {
                    block = Some((col, key_path(&keys)));
                } else {
                    edits.push(Edit {
                        start: start + value,
                        end: start + value_end,
                        text: format!("\"{MARKER}\"").into_bytes(),
                        key: key_path(&keys),
                    });
                }
            }
            stack.push((col, key));
        }
        start = end + 1;
    }
    edits
}

/// `key:` at `col` (bare or quoted): the key and where its value starts.
fn yaml_key(line: &[u8], col: usize) -> Option<(String, usize)> {
    let c = *line.get(col)?;
    let (key, after) = if c == b'"' || c == b'\'' {
        let (end, text) = string_at(line, col)?;
        (text, end)
    } else {
        let mut j = col;
        while j < line.len() && line[j] != b':' {
            j += 1;
        }
        let key = String::from_utf8_lossy(&line[col..j]).trim().to_string();
        (key, j)
    };
    let after = skip_spaces(line, after);
    if line.get(after) != Some(&b':') {
        return None;
    }
    let next = line.get(after + 1);
    if next.is_some() && !next.is_some_and(u8::is_ascii_whitespace) {
        return None;
    }
    Some((key, after + 1))
}

// ---------------------------------------------------------------------------------------------
// URLs with credentials: `scheme://userinfo@host`.

/// The userinfo of every URL that has one, replaced by the marker (unquoted: it is inside a
/// string or a word already). The scheme must look like one (`http`, `https`, `socks5`, …);
/// the authority ends at the first `/`, `?`, `#`, blank or quote.
fn url_scan(b: &[u8]) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut from = 0;
    while let Some(found) = find(&b[from..], b"://") {
        let sep = from + found;
        from = sep + 3;
        let scheme_start = b[..sep]
            .iter()
            .rposition(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')))
            .map_or(0, |i| i + 1);
        if scheme_start == sep || !b[scheme_start].is_ascii_alphabetic() {
            continue;
        }
        let start = sep + 3;
        let end = b[start..]
            .iter()
            .position(|c| {
                c.is_ascii_whitespace()
                    || matches!(
                        c,
                        b'/' | b'?' | b'#' | b'"' | b'\'' | b'`' | b'<' | b'>' | b'\\'
                    )
            })
            .map_or(b.len(), |i| start + i);
        let Some(at) = b[start..end].iter().rposition(|c| *c == b'@') else {
            continue;
        };
        if at == 0 || b[start..start + at] == *MARKER.as_bytes() {
            continue;
        }
        edits.push(Edit {
            start,
            end: start + at,
            text: MARKER.as_bytes().to_vec(),
            key: "credentials in a URL (user:password@)".to_string(),
        });
        from = start + at;
    }
    edits
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// The safety net: any string right after a secret key's name.

fn lexical_scan(b: &[u8], syntax: Syntax) -> Vec<Edit> {
    let mut edits = Vec::new();
    let lower: Vec<u8> = b.to_ascii_lowercase();
    let mut i = 0;
    while i < b.len() {
        let found = SECRET_KEYS
            .iter()
            .find(|k| lower[i..].starts_with(k.as_bytes()));
        let Some(key) = found else {
            i += 1;
            continue;
        };
        let end = i + key.len();
        let word = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
        if (i > 0 && word(b.get(i - 1))) || word(b.get(end)) {
            i += 1;
            continue;
        }
        let mut j = end;
        if matches!(b.get(j), Some(b'"' | b'\'')) {
            j += 1;
        }
        j = skip_spaces(b, j);
        if !matches!(b.get(j), Some(b'=' | b':')) {
            i = end;
            continue;
        }
        j = skip_spaces(b, j + 1);
        if matches!(b.get(j), Some(b'"' | b'\'')) {
            if let Some((close, text)) = string_at(b, j) {
                if text != MARKER {
                    edits.push(Edit {
                        start: j,
                        end: close,
                        text: replacement(&b[j..close], syntax),
                        key: format!("{key} (found outside the file's structure)"),
                    });
                }
                i = close;
                continue;
            }
        }
        i = end;
    }
    edits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(path: &str, text: &str) -> (String, Vec<(String, u32)>) {
        let (out, r) = redact(path, text.as_bytes());
        (
            String::from_utf8(out).unwrap(),
            r.into_iter().map(|r| (r.key, r.line)).collect(),
        )
    }

    #[test]
    fn containerd_registry_auth_in_every_toml_form() {
        let text = r#"version = 2
# auth = "oldsecret" (a credential commented out is still a credential)
[plugins."io.containerd.grpc.v1.cri".registry.configs."gcr.io".auth]
  username = "alice"
  password = 'hunter2'
  auth = "YWxpY2U6aHVudGVyMg=="
  identitytoken = """
tokxyz"""
[plugins."io.containerd.grpc.v1.cri".registry.configs."r.example".tls]
  insecure_skip_verify = true
[plugins."io.containerd.grpc.v1.cri".registry.configs]
  "q.example".auth = { username = "bob", password = "pw2" }
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true
"#;
        let (out, keys) = run("/etc/containerd/config.toml", text);
        for secret in [
            "oldsecret",
            "alice",
            "hunter2",
            "YWxpY2U6",
            "tokxyz",
            "bob",
            "pw2",
        ] {
            assert!(!out.contains(secret), "{secret} left in:\n{out}");
        }
        assert_eq!(out.lines().count(), text.lines().count());
        let parsed: toml::Table = toml::from_str(&out).unwrap();
        let auth = &parsed["plugins"]["io.containerd.grpc.v1.cri"]["registry"]["configs"]["gcr.io"]
            ["auth"];
        assert_eq!(auth["password"].as_str(), Some(MARKER));
        assert!(out.contains("SystemdCgroup = true"));
        let prefix = r#"plugins."io.containerd.grpc.v1.cri".registry.configs"#;
        assert_eq!(
            keys,
            vec![
                ("auth (found outside the file's structure)".to_string(), 2),
                (format!("{prefix}.\"gcr.io\".auth.username"), 4),
                (format!("{prefix}.\"gcr.io\".auth.password"), 5),
                (format!("{prefix}.\"gcr.io\".auth.auth"), 6),
                (format!("{prefix}.\"gcr.io\".auth.identitytoken"), 7),
                (format!("{prefix}.\"q.example\".auth.username"), 12),
                (format!("{prefix}.\"q.example\".auth.password"), 12),
            ]
        );
    }

    #[test]
    fn docker_auths_in_json() {
        let text = r#"{
  "auths": {
    "https://index.docker.io/v1/": { "auth": "c2VjcmV0", "identitytoken": "idt" },
    "r.example": {"registrytoken": "rt", "password": "p\"w"}
  },
  "exec-opts": ["native.cgroupdriver=systemd"]
}"#;
        let (out, keys) = run("/root/.docker/config.json", text);
        for secret in ["c2VjcmV0", "idt", "\"rt\"", "p\\\"w"] {
            assert!(!out.contains(secret), "{secret} left in:\n{out}");
        }
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["auths"]["r.example"]["password"], MARKER);
        assert_eq!(v["exec-opts"][0], "native.cgroupdriver=systemd");
        assert_eq!(
            keys[0],
            ("auths.\"https://index.docker.io/v1/\".auth".into(), 3)
        );
        assert_eq!(keys[3], ("auths.\"r.example\".password".into(), 4));
        assert_eq!(keys.len(), 4);
    }

    #[test]
    fn yaml_and_block_scalars() {
        let text = "providers:\n  - name: ecr\n    password: s3cret\n    auth: |\n      line1\n      line2\n    args: [a]\n";
        let (out, keys) = run("/etc/kubernetes/credential-provider.yaml", text);
        assert!(!out.contains("s3cret") && !out.contains("line1") && !out.contains("line2"));
        assert_eq!(out.lines().count(), text.lines().count());
        assert_eq!(keys[0], ("providers.password".into(), 3));
        assert!(out.contains("name: ecr"));
    }

    #[test]
    fn a_file_that_does_not_parse_is_redacted_all_the_same() {
        let text = "[broken\npassword = \"leak\" garbage {\n";
        let (out, keys) = run("/etc/containerd/config.toml", text);
        assert!(!out.contains("leak"), "{out}");
        assert_eq!(keys.len(), 1);
        let text = "{\"auths\": {\"x\": {\"auth\": \"leak2\"";
        let (out, _) = run("/etc/docker/daemon.json", text);
        assert!(!out.contains("leak2"), "{out}");
    }

    #[test]
    fn credentials_in_urls_are_redacted_in_any_file() {
        let text = "{\"proxies\": {\"http-proxy\": \"http://alice:s3cret@proxy.example:3128\", \"no-proxy\": \"localhost\"}, \"exec-opts\": [\"native.cgroupdriver=systemd\"]}";
        let (out, keys) = run("/etc/docker/daemon.json", text);
        assert!(!out.contains("s3cret") && !out.contains("alice"), "{out}");
        assert!(out.contains("http://REDACTED@proxy.example:3128"), "{out}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap();
        assert_eq!(keys.len(), 1);
        let unit = "[Service]\nEnvironment=\"HTTPS_PROXY=https://tok%40en@proxy:8443/\"\nExecStart=/usr/bin/cri-dockerd --container-runtime-endpoint fd://\n";
        let (out, keys) = run("/etc/systemd/system/cri-docker.service.d/proxy.conf", unit);
        assert!(!out.contains("tok%40en"), "{out}");
        assert_eq!(
            keys,
            vec![("credentials in a URL (user:password@)".into(), 2)]
        );
        // URLs without credentials, sockets and image references stay as they are.
        for plain in [
            "endpoint = \"unix:///run/containerd/containerd.sock\"\n",
            "mirror = \"https://registry.example/v2/@x\"\n",
            "x = \"fd://\"\n",
            "a://@b\n",
        ] {
            let (out, keys) = run("/etc/containerd/config.toml", plain);
            assert_eq!(out, plain);
            assert!(keys.is_empty(), "{plain}: {keys:?}");
        }
    }

    #[test]
    fn files_that_hold_no_configuration_are_untouched() {
        let text = "password = \"x\"\n";
        let (out, keys) = run("/proc/cmdline", text);
        assert_eq!(out, text);
        assert!(keys.is_empty());
    }
}
