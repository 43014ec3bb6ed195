//! `{ kind = "docker", setting = "cgroup-driver" }`: Docker's documented way to choose its
//! cgroup driver is `"exec-opts": ["native.cgroupdriver=systemd"]` in /etc/docker/daemon.json,
//! then a restart of docker (and of cri-dockerd, which talks to it).
//!
//! daemon.json holds much else (the documentation's full example has 75 keys), so the remedy
//! changes only the bytes that choose the driver and leaves every other byte as it is on the
//! host: the option's string when exec-opts has one (dockerd uses the first
//! `native.cgroupdriver=` option), else a new first item of exec-opts, else a new exec-opts
//! member. The edits are splices at a line and column (`np_splice`), or a line of their own
//! after a `{` alone on its line, so a file on one line, or a line with a secret redacted in a
//! bundle, is never written back whole. The result is parsed here first: it must choose the
//! driver and keep every other key's value, or the remedy refuses. A missing daemon.json is
//! created with the one key.

use super::edit::{self, FileEdit, Op};
use super::shell::{quote, rooted};
use super::{Ctx, Remedy};
use crate::facts::docker::DAEMON_JSON;
use crate::rules::DockerSetting;

const OPTION: &str = "native.cgroupdriver";

pub fn remedy(ctx: &Ctx, setting: DockerSetting) -> Result<Remedy, String> {
    let DockerSetting::CgroupDriver = setting;
    let want = ctx.recommended_driver()?;
    // The fact must be known: an unreadable or invalid daemon.json is not edited blindly.
    let fact = ctx.fact("docker.cgroup_driver")?;
    let wanted = format!("{OPTION}={want}");
    let mut remedy = Remedy::default();
    let path = edit::resolve(ctx.host, DAEMON_JSON);
    match ctx.host.read_text(&path) {
        Err(e) if e.is_not_found() => {
            remedy.notes.push(format!(
                "Create {DAEMON_JSON} with exec-opts {wanted} (the daemon now uses {}: {}).",
                fact.as_str().unwrap_or("its default"),
                fact.provenance
            ));
            let lines = [
                "{".to_string(),
                format!("  \"exec-opts\": [{}]", json_string(&wanted)),
                "}".to_string(),
            ];
            let words: Vec<String> = lines.iter().map(|l| quote(l)).collect();
            // A file created since the script was made is not overwritten.
            remedy.commands.push(format!(
                "[ -e {file} ] || printf '%s\\n' {} | np_write {file}",
                words.join(" "),
                file = rooted(&path)
            ));
        }
        Err(e) => return Err(e.to_string()),
        Ok(text) => {
            let file = plan(&path, &text, &wanted)?;
            verify(&path, &text, &file.apply(&text)?, &wanted)?;
            remedy.notes.push(format!(
                "Make dockerd use the {want} cgroup driver: exec-opts {wanted} in {path} (was {} at {}); \
                 the other keys stay as they are.",
                fact.as_str().unwrap_or("unknown"),
                fact.provenance
            ));
            remedy.commands.extend(ctx.commands(&file)?);
        }
    }
    remedy.live.push("systemctl restart docker".to_string());
    if ctx.bool_fact("cri_dockerd.installed") == Some(true) {
        remedy.live.push("systemctl restart cri-docker".to_string());
    }
    Ok(remedy)
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The edit of daemon.json's text that makes `wanted` its first cgroup-driver option.
fn plan(path: &str, text: &str, wanted: &str) -> Result<FileEdit, String> {
    let parsed: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("{path} is not valid JSON ({e}): edit it by hand"))?;
    if !parsed.is_object() {
        return Err(format!("{path} is not a JSON object: edit it by hand"));
    }
    let scan = Scanner { b: text.as_bytes() };
    let open = scan.skip_ws(0);
    let members = scan.members(open)?;
    let mut exec_opts = members.iter().filter(|m| m.key == "exec-opts");
    let member = exec_opts.next();
    if exec_opts.next().is_some() {
        return Err(format!(
            "{path} has exec-opts twice (dockerd reads one of them): edit it by hand"
        ));
    }
    let mut file = FileEdit::new(path);
    let literal = json_string(wanted);
    match member {
        Some(m) => {
            if text.as_bytes().get(m.value) != Some(&b'[') {
                return Err(format!("{path}: exec-opts is not a list: edit it by hand"));
            }
            let items = scan.items(m.value)?;
            let current = items.iter().find(|(start, end)| {
                serde_json::from_str::<String>(&text[*start..*end]).is_ok_and(|opt| {
                    let key = opt.split_once('=').map_or(opt.as_str(), |(k, _)| k);
                    key.trim().eq_ignore_ascii_case(OPTION)
                })
            });
            let (at, old, new) = match current {
                // dockerd uses the first option of the name: that one becomes the wanted one.
                Some((start, end)) => (*start, text[*start..*end].to_string(), literal),
                // None yet: the wanted option becomes the list's first item.
                None => {
                    let sep = if items.is_empty() { "" } else { ", " };
                    // From the key to the bracket when they share a line: text the line holds
                    // once, should a redaction before it move its column in a bundle.
                    let from = if text[m.start..m.value].contains('\n') {
                        m.value
                    } else {
                        m.start
                    };
                    let old = text[from..=m.value].to_string();
                    let new = format!("{old}{literal}{sep}");
                    (from, old, new)
                }
            };
            file.ops.push(splice(text, at, old, new));
        }
        None => {
            let sep = if members.is_empty() { "" } else { "," };
            let (line, line_text) = line_at(text, open);
            if line_text.trim() == "{" {
                // A `{` alone on its line: the new member gets a line of its own, indented as
                // the first member is.
                let indent = members
                    .first()
                    .map_or("  ", |m| edit::indent(line_at(text, m.start).1));
                file.ops.push(Op::InsertAfter {
                    line,
                    anchor: line_text.to_string(),
                    text: format!("{indent}\"exec-opts\": [{literal}]{sep}"),
                });
            } else {
                let new = format!(
                    "{{\"exec-opts\": [{literal}]{sep}{}",
                    if sep.is_empty() { "" } else { " " }
                );
                file.ops.push(splice(text, open, "{".to_string(), new));
            }
        }
    }
    Ok(file)
}

/// A splice of `old` (which starts at byte `at` of `text`) into `new`.
fn splice(text: &str, at: usize, old: String, new: String) -> Op {
    let (line, _) = line_at(text, at);
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    Op::Splice {
        line,
        column: u32::try_from(at - line_start + 1).unwrap_or(u32::MAX),
        old,
        new,
    }
}

/// The 1-based number and the text of the line holding byte `at`.
fn line_at(text: &str, at: usize) -> (u32, &str) {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let number = text[..at].matches('\n').count() + 1;
    (
        u32::try_from(number).unwrap_or(u32::MAX),
        text[start..end].trim_end_matches('\r'),
    )
}

/// The edited text chooses `wanted`, and every other key keeps its value.
fn verify(path: &str, before: &str, after: &str, wanted: &str) -> Result<(), String> {
    let refuse = |why: &str| Err(format!("{path} {why} after the change: edit it by hand"));
    let (Ok(serde_json::Value::Object(before)), Ok(serde_json::Value::Object(after))) = (
        serde_json::from_str::<serde_json::Value>(before),
        serde_json::from_str::<serde_json::Value>(after),
    ) else {
        return refuse("would not be a valid JSON object");
    };
    let first = after
        .get("exec-opts")
        .and_then(|o| o.as_array())
        .and_then(|opts| {
            opts.iter().filter_map(|o| o.as_str()).find(|o| {
                let key = o.split_once('=').map_or(*o, |(k, _)| k);
                key.trim().eq_ignore_ascii_case(OPTION)
            })
        });
    if first != Some(wanted) {
        return refuse(&format!("would not choose {wanted}"));
    }
    let others =
        |m: &serde_json::Map<String, serde_json::Value>| -> Vec<(String, serde_json::Value)> {
            m.iter()
                .filter(|(k, _)| *k != "exec-opts")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
    if others(&before) != others(&after) {
        return refuse("would not keep its other keys");
    }
    // The other exec-opts stay too, in their order.
    let other_opts = |m: &serde_json::Map<String, serde_json::Value>| -> Vec<serde_json::Value> {
        let mut opts = m
            .get("exec-opts")
            .and_then(|o| o.as_array())
            .cloned()
            .unwrap_or_default();
        let driver = opts.iter().position(|o| {
            o.as_str().is_some_and(|o| {
                let key = o.split_once('=').map_or(o, |(k, _)| k);
                key.trim().eq_ignore_ascii_case(OPTION)
            })
        });
        if let Some(i) = driver {
            opts.remove(i);
        }
        opts
    };
    let (old_opts, new_opts) = (other_opts(&before), other_opts(&after));
    if old_opts != new_opts {
        return refuse("would not keep its other exec-opts");
    }
    Ok(())
}

/// A JSON text already known to parse: where its members and items are.
struct Scanner<'a> {
    b: &'a [u8],
}

/// A member of the top-level object.
struct Member {
    key: String,
    /// Where its key starts.
    start: usize,
    /// Where its value starts.
    value: usize,
}

impl Scanner<'_> {
    fn skip_ws(&self, mut i: usize) -> usize {
        while self.b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
            i += 1;
        }
        i
    }

    /// The end (exclusive) of the value at `i`.
    fn value_end(&self, i: usize) -> Result<usize, String> {
        match self.b.get(i) {
            Some(b'"') => self.string_end(i),
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                let mut j = i;
                while let Some(&c) = self.b.get(j) {
                    match c {
                        b'"' => {
                            j = self.string_end(j)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                return Ok(j + 1);
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                Err("an unterminated JSON value".into())
            }
            Some(_) => {
                let mut j = i;
                while self
                    .b
                    .get(j)
                    .is_some_and(|c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace())
                {
                    j += 1;
                }
                Ok(j)
            }
            None => Err("a JSON value ends early".into()),
        }
    }

    fn string_end(&self, i: usize) -> Result<usize, String> {
        let mut j = i + 1;
        while let Some(&c) = self.b.get(j) {
            match c {
                b'\\' => j += 2,
                b'"' => return Ok(j + 1),
                _ => j += 1,
            }
        }
        Err("an unterminated JSON string".into())
    }

    /// The members of the object that opens at `open`.
    fn members(&self, open: usize) -> Result<Vec<Member>, String> {
        let mut out = Vec::new();
        let mut i = self.skip_ws(open + 1);
        while self.b.get(i) == Some(&b'"') {
            let key_end = self.string_end(i)?;
            let key: String = serde_json::from_slice(&self.b[i..key_end])
                .map_err(|e| format!("a JSON key: {e}"))?;
            let colon = self.skip_ws(key_end);
            let value = self.skip_ws(colon + 1);
            out.push(Member {
                key,
                start: i,
                value,
            });
            i = self.skip_ws(self.value_end(value)?);
            if self.b.get(i) == Some(&b',') {
                i = self.skip_ws(i + 1);
            }
        }
        Ok(out)
    }

    /// The items (start, end) of the array that opens at `open`.
    fn items(&self, open: usize) -> Result<Vec<(usize, usize)>, String> {
        let mut out = Vec::new();
        let mut i = self.skip_ws(open + 1);
        while self.b.get(i).is_some_and(|c| *c != b']') {
            let end = self.value_end(i)?;
            out.push((i, end));
            i = self.skip_ws(end);
            if self.b.get(i) == Some(&b',') {
                i = self.skip_ws(i + 1);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::testing::{host, run};
    use crate::rules::Fix;

    const WANTED: &str = "native.cgroupdriver=systemd";

    /// The text after the planned edit (checked as the remedy checks it), and the edit.
    fn edited(text: &str) -> (String, FileEdit) {
        let file = plan(DAEMON_JSON, text, WANTED).unwrap();
        let after = file.apply(text).unwrap();
        verify(DAEMON_JSON, text, &after, WANTED).unwrap();
        (after, file)
    }

    #[test]
    fn the_first_driver_option_is_replaced_in_place() {
        let (after, file) = edited(
            "{\n  \"exec-opts\": [\"a=b\", \"Native.CgroupDriver=cgroupfs\"],\n  \"debug\": true\n}\n",
        );
        assert_eq!(
            after,
            "{\n  \"exec-opts\": [\"a=b\", \"native.cgroupdriver=systemd\"],\n  \"debug\": true\n}\n"
        );
        assert_eq!(
            file.ops,
            [Op::Splice {
                line: 2,
                column: 24,
                old: "\"Native.CgroupDriver=cgroupfs\"".into(),
                new: "\"native.cgroupdriver=systemd\"".into(),
            }]
        );
    }

    #[test]
    fn exec_opts_without_the_driver_get_it_first() {
        let (after, _) = edited("{\"exec-opts\": []}");
        assert_eq!(
            after,
            "{\"exec-opts\": [\"native.cgroupdriver=systemd\"]}\n"
        );
        let (after, _) = edited("{\n  \"exec-opts\": [\n    \"isolation=process\"\n  ]\n}\n");
        assert_eq!(
            after,
            "{\n  \"exec-opts\": [\"native.cgroupdriver=systemd\", \n    \"isolation=process\"\n  ]\n}\n"
        );
    }

    #[test]
    fn a_daemon_json_without_exec_opts_gets_the_member() {
        // `{` alone on its line: a line of its own, indented like the first member.
        let (after, file) = edited("{\n    \"debug\": true\n}\n");
        assert_eq!(
            after,
            "{\n    \"exec-opts\": [\"native.cgroupdriver=systemd\"],\n    \"debug\": true\n}\n"
        );
        assert!(matches!(file.ops[0], Op::InsertAfter { line: 1, .. }));
        let (after, _) = edited("{\n}\n");
        assert_eq!(
            after,
            "{\n  \"exec-opts\": [\"native.cgroupdriver=systemd\"]\n}\n"
        );
        // On one line: a splice after the brace.
        let (after, _) = edited("{\"debug\":true}");
        assert_eq!(
            after,
            "{\"exec-opts\": [\"native.cgroupdriver=systemd\"], \"debug\":true}\n"
        );
        let (after, _) = edited("  {}");
        assert_eq!(
            after,
            "  {\"exec-opts\": [\"native.cgroupdriver=systemd\"]}\n"
        );
    }

    #[test]
    fn files_it_cannot_edit_safely_are_refused() {
        for (text, why) in [
            (
                "{\"exec-opts\": [], \"exec-opts\": [\"x=y\"]}",
                "exec-opts twice",
            ),
            ("[1]", "not a JSON object"),
            (
                "{\"exec-opts\": \"native.cgroupdriver=cgroupfs\"}",
                "not a list",
            ),
            ("{", "not valid JSON"),
        ] {
            let err = plan(DAEMON_JSON, text, WANTED).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
        // The check after the edit: another key lost or changed is a refusal.
        let err = verify(
            DAEMON_JSON,
            "{\"a\": 1}",
            "{\"exec-opts\": [\"native.cgroupdriver=systemd\"]}",
            WANTED,
        )
        .unwrap_err();
        assert!(err.contains("would not keep its other keys"), "{err}");
    }

    fn remedy_on(files: &[(&str, &str)]) -> Result<Remedy, String> {
        let h = host(files);
        let fix = Fix::Docker(DockerSetting::CgroupDriver);
        run(&h, &[fix], &[], |ctx| {
            remedy(ctx, DockerSetting::CgroupDriver)
        })
    }

    #[test]
    fn the_remedy_splices_or_creates_daemon_json_and_restarts_what_runs() {
        let r = remedy_on(&[(
            DAEMON_JSON,
            "{\"exec-opts\": [\"native.cgroupdriver=cgroupfs\"]}\n",
        )])
        .unwrap();
        assert_eq!(
            r.commands,
            ["np_splice \"$ROOT\"/etc/docker/daemon.json 1 16 '\"native.cgroupdriver=cgroupfs\"' '\"native.cgroupdriver=systemd\"'"]
        );
        assert_eq!(r.live, ["systemctl restart docker"]);
        // No daemon.json: one is created, unless one appears before the script runs; with
        // cri-dockerd installed it restarts too.
        let r = remedy_on(&[
            ("/usr/bin/dockerd", ""),
            ("/usr/lib/systemd/system/cri-docker.service", "[Service]\n"),
        ])
        .unwrap();
        assert_eq!(
            r.commands,
            ["[ -e \"$ROOT\"/etc/docker/daemon.json ] || printf '%s\\n' '{' '  \"exec-opts\": [\"native.cgroupdriver=systemd\"]' '}' | np_write \"$ROOT\"/etc/docker/daemon.json"]
        );
        assert_eq!(
            r.live,
            ["systemctl restart docker", "systemctl restart cri-docker"]
        );
    }
}
