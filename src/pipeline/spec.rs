//! `pipelines/*.toml`: what one pipeline extracts, which rules it runs, what it forecasts and reports.
//! Config says *what* a pipeline does; CLI flags only change how this process runs it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::describe_toml_error;
use crate::extract::SourceSpec;
use crate::{Error, Result};

/// Default folder for pipeline files.
pub const DEFAULT_DIR: &str = "pipelines";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    /// Unique name, used in run ids, logs and `cloudoptima run NAME`.
    pub name: String,
    /// Cron with a seconds field (`sec min hour dom month dow`), UTC, for the built-in scheduler
    /// (`daemon`, not built yet); kept so pipelines need no change when it arrives.
    pub schedule: Option<String>,
    /// Exit 1 when any input row was quarantined.
    #[serde(default)]
    pub strict: bool,
    /// Where data comes from. With none, the demo tenant is used.
    #[serde(default)]
    pub sources: Vec<SourceSpec>,
    #[serde(default)]
    pub rules: RuleSelection,
    #[serde(default)]
    pub forecast: ForecastSpec,
    #[serde(default)]
    pub report: ReportSpec,
    /// Set by the loader: the file this spec came from.
    #[serde(skip)]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSelection {
    /// Run the rules at all (off for an ingest-only pipeline). Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Rule ids or categories to run; empty means every stable rule.
    #[serde(default)]
    pub select: Vec<String>,
    /// With an empty `select`, also run the preview rules. Default false.
    #[serde(default)]
    pub preview: bool,
    /// Per-rule parameter overrides: `[rules.params.compute_vm_idle] cpu_threshold_pct = 3`.
    #[serde(default)]
    pub params: BTreeMap<String, BTreeMap<String, toml::Value>>,
    /// A suppressions file (`[[suppress]]` entries that snooze or dismiss findings), relative to
    /// the working directory.
    pub suppressions: Option<PathBuf>,
}

impl Default for RuleSelection {
    fn default() -> Self {
        RuleSelection {
            enabled: true,
            select: Vec::new(),
            preview: false,
            params: BTreeMap::new(),
            suppressions: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastSpec {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Days ahead to forecast (30, 60 and 90-day totals are reported when they fit). Default 90.
    #[serde(default = "default_horizon")]
    pub horizon_days: u32,
}

impl Default for ForecastSpec {
    fn default() -> Self {
        ForecastSpec {
            enabled: true,
            horizon_days: default_horizon(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSpec {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Report title on the first page. Default "Azure cost report".
    #[serde(default = "default_title")]
    pub title: String,
    /// Addresses the report is sent to. Empty: the report is only written to disk.
    #[serde(default)]
    pub recipients: Vec<String>,
}

impl Default for ReportSpec {
    fn default() -> Self {
        ReportSpec {
            enabled: true,
            title: default_title(),
            recipients: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_horizon() -> u32 {
    90
}

fn default_title() -> String {
    "Azure cost report".into()
}

impl PipelineSpec {
    /// The pipeline used when `pipelines/` holds none: the demo tenant, every rule (preview ones too), a
    /// report.
    pub fn builtin_demo() -> Self {
        PipelineSpec {
            name: "daily".into(),
            schedule: Some("0 0 6 * * *".into()),
            strict: false,
            sources: vec![SourceSpec::Demo(Default::default())],
            rules: RuleSelection {
                preview: true,
                ..RuleSelection::default()
            },
            forecast: ForecastSpec::default(),
            report: ReportSpec {
                recipients: vec!["finops@example.com".into()],
                ..ReportSpec::default()
            },
            file: PathBuf::from("<built-in>"),
        }
    }

    pub fn parse(text: &str, file: &Path) -> Result<Self> {
        let mut spec: PipelineSpec = toml::from_str(text).map_err(|e| Error::Config {
            file: file.display().to_string(),
            message: describe_toml_error(&e, text),
        })?;
        spec.file = file.to_path_buf();
        if spec.sources.is_empty() {
            spec.sources.push(SourceSpec::Demo(Default::default()));
        }
        Ok(spec)
    }
}

/// Load every `*.toml` in `dir`, sorted by file name. All problems are reported together.
pub fn load_dir(dir: &Path) -> Result<Vec<PipelineSpec>> {
    if !dir.exists() {
        return Ok(vec![PipelineSpec::builtin_demo()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let (mut specs, mut problems) = (Vec::new(), Vec::new());
    for file in files {
        let parsed = std::fs::read_to_string(&file)
            .map_err(|e| Error::io(&file, e))
            .and_then(|text| PipelineSpec::parse(&text, &file));
        match parsed {
            Ok(spec) => specs.push(spec),
            Err(e) => problems.push(e.to_string()),
        }
    }
    let mut names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    names.sort();
    for pair in names.windows(2).filter(|w| w[0] == w[1]) {
        problems.push(format!(
            "{}: more than one pipeline is named `{}`",
            dir.display(),
            pair[0]
        ));
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    if specs.is_empty() {
        specs.push(PipelineSpec::builtin_demo());
    }
    Ok(specs)
}
