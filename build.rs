//! Compiles the SQL the binary carries into it: every rule (`sql/rules/*.sql`), shared view
//! (`sql/rules/views/*.sql`) and report query (`sql/report/*.sql`), as `(path, text)` lists in
//! `$OUT_DIR/assets.rs`, read by `src/assets.rs`. Cargo re-runs this when anything under `sql/`
//! changes, so an edited or added rule is in the next build.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=sql");
    let mut out = String::new();
    for (name, dir) in [
        ("RULES", "sql/rules"),
        ("RULE_VIEWS", "sql/rules/views"),
        ("REPORT_QUERIES", "sql/report"),
    ] {
        let mut files: Vec<String> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|e| e.expect("readable directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .map(|p| {
                let file = p.file_name().expect("a file name").to_string_lossy();
                format!("{dir}/{file}")
            })
            .collect();
        files.sort();
        writeln!(out, "pub static {name}: &[(&str, &str)] = &[").unwrap();
        // The path is completed when the crate compiles, not here, so the files included are
        // always those of the checkout being built.
        for file in files {
            writeln!(
                out,
                "    ({file:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{file}\"))),"
            )
            .unwrap();
        }
        writeln!(out, "];").unwrap();
    }
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("assets.rs");
    std::fs::write(dest, out).expect("write assets.rs");
}
