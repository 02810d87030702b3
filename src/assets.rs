//! The SQL the binary carries: the built-in rules, their shared views and the report queries,
//! compiled in from `sql/` (see `build.rs`), so `cloudoptima` runs from any folder. A folder given on
//! the command line (`--rules`, `--report-sql`) replaces the built-in set.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

mod built_in {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// Sub-folder of a rules folder holding the shared views.
pub const VIEWS_SUBDIR: &str = "views";

/// One SQL file and where it came from.
#[derive(Debug, Clone)]
pub struct SqlFile {
    /// The file's path, as a user would look for it: on disk, or `sql/rules/x.sql` inside the
    /// binary.
    pub path: PathBuf,
    pub text: String,
}

impl SqlFile {
    /// The file name without `.sql`.
    pub fn stem(&self) -> String {
        self.path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// A set of SQL files: compiled in, or the `*.sql` files of a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlSet {
    BuiltIn(&'static [(&'static str, &'static str)]),
    Dir(PathBuf),
}

impl SqlSet {
    /// The rules: the folder given, or the built-in ones.
    pub fn rules(dir: Option<&Path>) -> SqlSet {
        dir.map_or(SqlSet::BuiltIn(built_in::RULES), |d| SqlSet::Dir(d.into()))
    }

    /// The report queries: the folder given, or the built-in ones.
    pub fn report(dir: Option<&Path>) -> SqlSet {
        dir.map_or(SqlSet::BuiltIn(built_in::REPORT_QUERIES), |d| {
            SqlSet::Dir(d.into())
        })
    }

    /// The shared views that go with this set of rules (`views/` beside them).
    pub fn views(&self) -> SqlSet {
        match self {
            SqlSet::BuiltIn(_) => SqlSet::BuiltIn(built_in::RULE_VIEWS),
            SqlSet::Dir(d) => SqlSet::Dir(d.join(VIEWS_SUBDIR)),
        }
    }

    /// Where the files come from, for people: `built in (sql/rules)` or the folder.
    pub fn describe(&self) -> String {
        match self {
            SqlSet::BuiltIn(files) => {
                let dir = files
                    .first()
                    .and_then(|(p, _)| Path::new(p).parent())
                    .map_or(String::new(), |d| format!(" ({})", d.display()));
                format!("built into this binary{dir}")
            }
            SqlSet::Dir(d) => d.display().to_string(),
        }
    }

    /// Every file, sorted by name. A folder that does not exist has none when `optional` (views),
    /// and is an error otherwise.
    pub fn files(&self, optional: bool) -> Result<Vec<SqlFile>> {
        match self {
            SqlSet::BuiltIn(files) => Ok(files
                .iter()
                .map(|(path, text)| SqlFile {
                    path: PathBuf::from(path),
                    text: (*text).to_string(),
                })
                .collect()),
            SqlSet::Dir(dir) => {
                let entries = match std::fs::read_dir(dir) {
                    Ok(entries) => entries,
                    Err(e) if optional && e.kind() == std::io::ErrorKind::NotFound => {
                        return Ok(Vec::new());
                    }
                    Err(e) => return Err(Error::io(dir, e)),
                };
                let mut paths: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "sql"))
                    .collect();
                paths.sort();
                paths
                    .into_iter()
                    .map(|path| {
                        let text =
                            std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
                        Ok(SqlFile { path, text })
                    })
                    .collect()
            }
        }
    }

    /// The file `<name>.sql`.
    pub fn get(&self, name: &str) -> Result<SqlFile> {
        let file = format!("{name}.sql");
        match self {
            SqlSet::BuiltIn(files) => files
                .iter()
                .find(|(p, _)| Path::new(p).file_name().is_some_and(|f| f == file.as_str()))
                .map(|(path, text)| SqlFile {
                    path: PathBuf::from(path),
                    text: (*text).to_string(),
                })
                .ok_or_else(|| Error::Internal(format!("no built-in query {file}"))),
            SqlSet::Dir(dir) => {
                let path = dir.join(file);
                let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
                Ok(SqlFile { path, text })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_sets_hold_every_file_of_the_repository() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for (set, dir) in [
            (SqlSet::rules(None), "sql/rules"),
            (SqlSet::rules(None).views(), "sql/rules/views"),
            (SqlSet::report(None), "sql/report"),
        ] {
            let built_in = set.files(false).unwrap();
            let on_disk = SqlSet::Dir(root.join(dir)).files(false).unwrap();
            assert!(!built_in.is_empty(), "{dir}");
            assert_eq!(built_in.len(), on_disk.len(), "{dir}");
            for (b, d) in built_in.iter().zip(&on_disk) {
                assert_eq!(b.stem(), d.stem());
                assert_eq!(b.text, d.text, "{}", b.path.display());
            }
        }
    }

    #[test]
    fn a_folder_given_replaces_the_built_in_set_and_must_exist() {
        let missing = SqlSet::rules(Some(Path::new("/no/such/rules")));
        assert!(missing.files(false).is_err());
        assert!(missing.views().files(true).unwrap().is_empty());
    }
}
