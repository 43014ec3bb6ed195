//! Shell text: quoting values that come from the host, comments that cannot be escaped, and
//! the helper functions every script that changes files carries.

/// `s` as one POSIX shell word: bare when it holds only characters the shell never treats
/// specially, else in single quotes (a `'` inside becomes `'\''`). Nothing in single quotes
/// is expanded — not `$`, backquotes or newlines — so a hostile value stays a value.
pub fn quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c);
    if !s.is_empty() && s.chars().all(safe) && !s.starts_with('=') {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A path on the host, prefixed with `"$ROOT"` so that the script can work on a copy of a
/// root filesystem.
pub fn rooted(path: &str) -> String {
    format!("\"$ROOT\"{}", quote(path))
}

/// Comment lines for any text: every line (a value from the host may hold newlines or
/// carriage returns) starts with `# `, so none of it can become a command.
pub fn comment(text: &str) -> Vec<String> {
    text.split(['\n', '\r'])
        .map(|line| {
            let line: String = line
                .chars()
                .filter(|c| !c.is_control() || *c == '\t')
                .collect();
            if line.trim().is_empty() {
                "#".to_string()
            } else {
                format!("# {}", line.trim_end())
            }
        })
        .collect()
}

/// Lines that run only on the live machine (`ROOT` empty): the running kernel and services.
pub fn live_only(commands: &[String]) -> Vec<String> {
    let mut lines = vec!["if [ -z \"$ROOT\" ]; then".to_string()];
    for c in commands {
        lines.push(format!("  {c}"));
        lines.push(format!(
            "  echo {}",
            quote(&format!("node-preflight fix: ran {c}"))
        ));
    }
    lines.push("fi".to_string());
    lines
}

/// The helpers the commands call. Each one checks the state it is about to create first and
/// changes nothing when it is already there (a second run of the script is a no-op), writes
/// a file only when its content changes, in place (permissions and links kept), and says
/// what it changed.
pub const HELPERS: &str = r##"# --- helpers -------------------------------------------------------------
np_say() { echo "node-preflight fix: $*"; }
np_fail() { echo "node-preflight fix: $*" >&2; exit 1; }

# np_write FILE: make standard input the content of FILE, only if it differs.
np_write() {
  if [ -n "$ROOT" ] && [ -L "$1" ]; then
    np_fail "$1 is a symbolic link, which could lead out of ROOT: not writing through it"
  fi
  mkdir -p "$(dirname -- "$1")"
  np_tmp="$1.node-preflight.tmp"
  cat > "$np_tmp"
  if [ -f "$1" ] && cmp -s "$np_tmp" "$1"; then rm -f "$np_tmp"; return 0; fi
  cat "$np_tmp" > "$1"
  rm -f "$np_tmp"
  np_say "changed $1"
}

# np_append FILE MARKER LINE...: append the lines unless FILE has a line that reads MARKER.
np_append() {
  np_f=$1; np_m=$2; shift 2
  if [ -f "$np_f" ] && grep -qxF -- "$np_m" "$np_f"; then return 0; fi
  {
    if [ -s "$np_f" ]; then cat "$np_f"; [ -z "$(tail -c 1 "$np_f")" ] || echo; fi
    printf '%s\n' "$@"
  } | np_write "$np_f"
}

# np_replace FILE N OLD NEW: line N of FILE, which read OLD when the script was made, reads NEW.
np_replace() {
  np_l=$(sed -n "$2p" "$1")
  if [ "$np_l" = "$4" ]; then return 0; fi
  if [ "$np_l" != "$3" ]; then
    if grep -qxF -- "$4" "$1" && ! grep -qxF -- "$3" "$1"; then return 0; fi
    np_fail "$1:$2 has changed since the script was made: run node-preflight fix again"
  fi
  NP_TEXT=$4 awk -v n="$2" 'NR == n { print ENVIRON["NP_TEXT"]; next } { print }' "$1" | np_write "$1"
}

# np_insert_after FILE N ANCHOR TEXT: a line TEXT follows line N of FILE, which reads ANCHOR.
np_insert_after() {
  np_l=$(sed -n "$2p" "$1")
  np_next=$(sed -n "$(($2 + 1))p" "$1")
  if [ "$np_l" = "$3" ] && [ "$np_next" = "$4" ]; then return 0; fi
  if [ "$np_l" != "$3" ]; then
    if NP_A=$3 NP_T=$4 awk 'p == ENVIRON["NP_A"] && $0 == ENVIRON["NP_T"] { f = 1 } { p = $0 } END { exit !f }' "$1"; then
      return 0
    fi
    np_fail "$1:$2 has changed since the script was made: run node-preflight fix again"
  fi
  NP_TEXT=$4 awk -v n="$2" '{ print } NR == n { print ENVIRON["NP_TEXT"] }' "$1" | np_write "$1"
}

# np_splice FILE N COL OLD NEW: the bytes OLD at byte COL of line N of FILE become NEW; the rest
# of the line stays as it is on the host. When the line reads OLD elsewhere, once (a bundle's
# redacted copy of the line had other lengths before it), that is the place.
np_splice() {
  if np_at "$1" "$2" "$3" "$5"; then return 0; fi
  np_c=$3
  if ! np_at "$1" "$2" "$np_c" "$4"; then
    if np_at "$1" "$2" 0 "$5"; then return 0; fi
    np_c=$(NP_S=$4 LC_ALL=C awk -v n="$2" 'NR == n { s = ENVIRON["NP_S"]; r = $0; k = 0; while ((i = index(r, s)) > 0) { c = c ? c : k + i; k += i; r = substr(r, i + 1); m++ } } END { print (m == 1 ? c : 0) }' "$1")
    if [ "$np_c" -eq 0 ]; then
      np_fail "$1:$2 has changed since the script was made: run node-preflight fix again"
    fi
  fi
  NP_O=$4 NP_N=$5 LC_ALL=C awk -v n="$2" -v c="$np_c" 'NR == n { $0 = substr($0, 1, c - 1) ENVIRON["NP_N"] substr($0, c + length(ENVIRON["NP_O"])) } { print }' "$1" | np_write "$1"
}

# np_at FILE N COL TEXT: line N of FILE reads TEXT at byte COL (COL 0: anywhere on the line).
np_at() {
  NP_S=$4 LC_ALL=C awk -v n="$2" -v c="$3" 'NR == n && (c == 0 ? index($0, ENVIRON["NP_S"]) > 0 : substr($0, c, length(ENVIRON["NP_S"])) == ENVIRON["NP_S"]) { f = 1 } END { exit !f }' "$1"
}

# np_sysctl_set FILE KEY VALUE: FILE (a sysctl.d file of node-preflight's) sets KEY = VALUE.
np_sysctl_set() {
  if [ -f "$1" ]; then
    NP_K=$2 NP_V=$3 awk '
      { k = $0; sub(/^[ \t]*-?[ \t]*/, "", k); sub(/[ \t]*=.*$/, "", k) }
      k == ENVIRON["NP_K"] && index($0, "=") { if (!d) print ENVIRON["NP_K"] " = " ENVIRON["NP_V"]; d = 1; next }
      { print }
      END { if (!d) print ENVIRON["NP_K"] " = " ENVIRON["NP_V"] }' "$1" | np_write "$1"
  else
    printf '%s = %s\n' "$2" "$3" | np_write "$1"
  fi
}

# np_fstab_no_swap FILE: the swap entries of FILE are commented out.
np_fstab_no_swap() {
  [ -f "$1" ] || return 0
  awk '$0 !~ /^[ \t]*#/ && $3 == "swap" { print "# " $0; next } { print }' "$1" | np_write "$1"
}
# -------------------------------------------------------------------------"##;

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `sh -c 'printf %s WORD'` and returns what the shell made of the word.
    fn through_sh(word: &str) -> String {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {word}"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{word}");
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn plain_words_stay_bare() {
        assert_eq!(quote("net.ipv4.ip_forward"), "net.ipv4.ip_forward");
        assert_eq!(quote("/etc/sysctl.d/99-x.conf"), "/etc/sysctl.d/99-x.conf");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn hostile_values_come_back_verbatim() {
        let dir = tempfile::tempdir().unwrap();
        let canary = dir.path().join("pwned");
        let c = canary.display();
        for hostile in [
            format!("$(touch {c})"),
            format!("`touch {c}`"),
            format!("'; touch {c}; '"),
            format!("\"$(touch {c})\""),
            "a'b\"c\\d$HOME".to_string(),
            format!("line1\ntouch {c}\n"),
            format!("x; touch {c} # ' \" \\'"),
            "*".to_string(),
            "~root".to_string(),
            "-n".to_string(),
        ] {
            assert_eq!(through_sh(&quote(&hostile)), hostile);
        }
        assert!(!canary.exists(), "a quoted value ran a command");
    }

    #[test]
    fn comments_cannot_be_broken_out_of() {
        let lines = comment("ok\nrm -rf /\r\n$(x)");
        assert!(lines.iter().all(|l| l.starts_with('#')), "{lines:?}");
        assert_eq!(lines[1], "# rm -rf /");
    }

    /// Runs the helpers and then `commands` with `sh`, ROOT empty; returns (status, stdout).
    fn helpers_then(commands: &str) -> (bool, String) {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("set -eu\nROOT=\n{HELPERS}\n{commands}"))
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    #[test]
    fn np_splice_changes_only_its_bytes_once_and_finds_them_when_the_column_moved() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("daemon.json");
        let q = quote(&f.display().to_string());
        let splice = format!(
            "np_splice {q} 1 3 {} {}",
            quote("\"a=1\""),
            quote("\"a=2\"")
        );
        // At its column.
        std::fs::write(&f, "[ \"a=1\", \"é\" ]\nsecond\n").unwrap();
        let (ok, said) = helpers_then(&splice);
        assert!(ok && said.contains("changed"), "{said}");
        assert_eq!(
            std::fs::read_to_string(&f).unwrap(),
            "[ \"a=2\", \"é\" ]\nsecond\n"
        );
        // A second run changes nothing and says nothing.
        assert_eq!(helpers_then(&splice), (true, String::new()));
        // Elsewhere on the line, once (the node's line is longer than the bundle's copy).
        std::fs::write(&f, "[ \"secret-longer\", \"a=1\" ]\n").unwrap();
        assert!(helpers_then(&splice).0);
        assert_eq!(
            std::fs::read_to_string(&f).unwrap(),
            "[ \"secret-longer\", \"a=2\" ]\n"
        );
        assert_eq!(helpers_then(&splice), (true, String::new()));
        // Twice elsewhere, or not at all: it stops rather than guess.
        for text in ["[  \"a=1\", \"a=1\" ]\n", "[ \"b=1\" ]\n"] {
            std::fs::write(&f, text).unwrap();
            assert!(!helpers_then(&splice).0, "{text}");
            assert_eq!(std::fs::read_to_string(&f).unwrap(), text);
        }
    }

    #[test]
    fn rooted_paths_start_with_root() {
        assert_eq!(rooted("/etc/fstab"), "\"$ROOT\"/etc/fstab");
        assert_eq!(rooted("/etc/a b"), "\"$ROOT\"'/etc/a b'");
    }
}
