//! The module dependency rule: the stages (`extract`, `transform`, `analyze`, `report`) talk only
//! through the lake, so none of them may name another stage, `pipeline` or `cli`. They may use
//! `lake`, `azure`, `config` and the small shared helpers. Only `pipeline` and `cli` see every stage.

use std::path::{Path, PathBuf};

use crate::support::repo;

const STAGES: &[&str] = &["extract", "transform", "analyze", "report"];
const ABOVE_STAGES: &[&str] = &["pipeline", "cli"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a file names through `crate::` paths, including grouped imports
/// (`use crate::{lake, extract::Dataset}`).
fn crate_modules(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let end = group
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(group.len(), |(i, _)| i);
            let mut depth = 0;
            let mut item = String::new();
            for c in group[..end].chars().chain([',']) {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(first_ident(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
        } else {
            out.push(first_ident(rest));
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

fn first_ident(text: &str) -> String {
    text.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

#[test]
fn the_scanner_sees_plain_and_grouped_paths() {
    let text = "use crate::lake::Lake;\nuse crate::{Error, extract::{Dataset, Landed}, config};\nx = crate::report::pdf::render(m);";
    assert_eq!(
        crate_modules(text),
        ["lake", "Error", "extract", "config", "report"]
    );
}

#[test]
fn no_stage_imports_another_stage() {
    let mut violations = Vec::new();
    for stage in STAGES {
        let mut files = Vec::new();
        rust_files(&repo().join("src").join(stage), &mut files);
        assert!(!files.is_empty(), "src/{stage} has no Rust files");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let forbidden: Vec<String> = crate_modules(&text)
                .into_iter()
                .filter(|m| {
                    m != stage
                        && (STAGES.contains(&m.as_str()) || ABOVE_STAGES.contains(&m.as_str()))
                })
                .collect();
            for m in forbidden {
                violations.push(format!(
                    "{} uses crate::{m}",
                    file.strip_prefix(repo()).unwrap().display()
                ));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "stages must talk through the lake (see CONTRIBUTING.md, module dependency rule):\n{}",
        violations.join("\n")
    );
}
