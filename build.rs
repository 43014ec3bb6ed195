//! Embeds every `checks/*.toml` file into the binary, so adding a catalog file needs no
//! code change.
//!
//! Each file is embedded converted to JSON, which is what a run parses: parsing ~50 KB of
//! TOML was over half of a whole check's instructions, and the same data as JSON parses
//! several times faster. Remedies and rationales are dedented here too. A TOML syntax error
//! in the catalog fails the build; the catalog's meaning (predicates, ids) is still validated
//! when it loads, and its facts by the tests (`every_builtin_fact_is_known`).

use std::fs;
use std::path::Path;

// The same dedenting as a `--checks` file gets at run time, done here once.
#[path = "src/rules/dedent.rs"]
mod dedent;

fn main() {
    println!("cargo:rerun-if-changed=checks");
    println!("cargo:rerun-if-changed=src/rules/dedent.rs");
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let dir = Path::new(&manifest).join("checks");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("checks/ exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut out = String::from("&[\n");
    for path in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().expect("a file name").to_string_lossy();
        let text = fs::read_to_string(&path).expect("a catalog file is readable");
        let mut table: toml::Table = toml::from_str(&text)
            .unwrap_or_else(|e| panic!("checks/{name} is not valid TOML: {e}"));
        if let Some(toml::Value::Array(checks)) = table.get_mut("check") {
            for check in checks.iter_mut().filter_map(toml::Value::as_table_mut) {
                for field in ["rationale", "remediation"] {
                    if let Some(toml::Value::String(text)) = check.get_mut(field) {
                        *text = dedent::dedent(text);
                    }
                }
            }
        }
        let json = serde_json::to_string(&table).expect("TOML converts to JSON");
        let json_path = Path::new(&out_dir).join(format!("{name}.json"));
        fs::write(&json_path, json).expect("OUT_DIR is writable");
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            json_path.display().to_string()
        ));
    }
    out.push_str("]\n");
    fs::write(Path::new(&out_dir).join("builtin_checks.rs"), out).expect("OUT_DIR is writable");
}
