//! `pipelines/*.toml`: what one pipeline extracts, which rules it runs, what it forecasts and reports.
//! Config says *what* a pipeline does; CLI flags only change how this process runs it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::schedule::{self, Schedule};
use crate::alert::Route;
use crate::analyze::anomaly::AnomalySpec;
use crate::analyze::budget::{BudgetScope, BudgetSpec, Period};
pub use crate::analyze::forecast::ForecastSpec;
use crate::analyze::rules::RuleSelection;
use crate::config::describe_toml_error;
use crate::extract::SourceSpec;
use crate::{Error, Result};

/// What `file` says for the built-in demo pipeline.
const BUILT_IN: &str = "<built-in>";

/// Default folder for pipeline files.
pub const DEFAULT_DIR: &str = "pipelines";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    /// Unique name, used in run ids, logs and `cloudoptima run NAME`.
    pub name: String,
    /// Cron with a seconds field (`sec min hour dom month dow`) in `timezone`, for the built-in
    /// scheduler; checked when the file is read.
    pub schedule: Option<Schedule>,
    /// The time zone of `schedule` (an IANA name such as `Europe/Berlin`). Default UTC.
    #[serde(default = "utc", deserialize_with = "schedule::time_zone")]
    pub timezone: chrono_tz::Tz,
    /// Exit 1 when any input row was quarantined (the readable rows still land). Default true;
    /// `false` accepts quarantined rows with exit 0 (they are still in `quarantine`).
    #[serde(default = "strict_by_default")]
    pub strict: bool,
    /// Where data comes from. With none, the demo tenant is used.
    #[serde(default)]
    pub sources: Vec<SourceSpec>,
    #[serde(default)]
    pub rules: RuleSelection,
    #[serde(default)]
    pub forecast: ForecastSpec,
    /// Anomaly detection and the spike rule.
    #[serde(default)]
    pub anomalies: AnomalySpec,
    /// Budgets judged each run into `budget_status`.
    #[serde(default)]
    pub budgets: Vec<BudgetSpec>,
    /// Where alerts go: each route names a `[channels.NAME]` of the config.
    #[serde(default)]
    pub alerts: Vec<Route>,
    #[serde(default)]
    pub report: ReportSpec,
    /// Exports for BI tools written after each run (`[[exports]]`: `to`, `tables`, `format`).
    #[serde(default)]
    pub exports: Vec<crate::export::ExportSpec>,
    /// Set by the loader: the file this spec came from.
    #[serde(skip)]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSpec {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Report title on the first page. Default "Azure cost report".
    #[serde(default = "default_title")]
    pub title: String,
    /// Addresses the report is sent to (`a@b.c` or `Name <a@b.c>`), checked when the file is read.
    /// Empty: the report is only written to disk.
    #[serde(default, deserialize_with = "crate::config::mailboxes")]
    pub recipients: Vec<lettre::message::Mailbox>,
    /// A tag key (as the lake has it: trimmed, lowercased) to break cost down by, beside
    /// subscription, resource group and service (showback).
    #[serde(default)]
    pub showback_tag: Option<String>,
    /// Have the model in `[llm]` write the executive summary. Every number it writes is checked
    /// against the report's figures; anything else falls back to the deterministic summary.
    #[serde(default)]
    pub llm_summary: bool,
    /// Send resource names to the model (by default it sees aggregates only).
    #[serde(default)]
    pub llm_resource_names: bool,
}

impl Default for ReportSpec {
    fn default() -> Self {
        ReportSpec {
            enabled: true,
            title: default_title(),
            recipients: Vec::new(),
            showback_tag: None,
            llm_summary: false,
            llm_resource_names: false,
        }
    }
}

fn strict_by_default() -> bool {
    true
}

fn utc() -> chrono_tz::Tz {
    chrono_tz::UTC
}

fn yes() -> bool {
    true
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
            schedule: Some(Schedule::parse("0 0 6 * * *").expect("a valid schedule")),
            timezone: utc(),
            strict: true,
            sources: vec![SourceSpec::demo()],
            rules: RuleSelection {
                preview: true,
                ..RuleSelection::default()
            },
            forecast: ForecastSpec::default(),
            anomalies: AnomalySpec::default(),
            // The whole tenant at 10,000 USD a month, which the demo's spend (about 11,000 a
            // month) is forecast to exceed.
            budgets: vec![BudgetSpec {
                name: "tenant-monthly".into(),
                scope: BudgetScope::parse("total").expect("a valid scope"),
                amount: 10_000.0,
                currency: "USD".into(),
                period: Period::Month,
                thresholds: vec![50.0, 80.0, 100.0],
                forecast_thresholds: vec![100.0],
            }],
            alerts: Vec::new(),
            report: ReportSpec {
                recipients: vec!["finops@example.com".parse().expect("a valid address")],
                showback_tag: Some("costcenter".into()),
                ..ReportSpec::default()
            },
            exports: Vec::new(),
            file: PathBuf::from(BUILT_IN),
        }
    }

    pub fn parse(text: &str, file: &Path) -> Result<Self> {
        let mut spec: PipelineSpec = toml::from_str(text).map_err(|e| Error::Config {
            file: file.display().to_string(),
            message: describe_toml_error(&e, text),
        })?;
        spec.file = file.to_path_buf();
        let mut problems = spec.anomalies.problems();
        problems.extend(crate::analyze::budget::problems(&spec.budgets));
        problems.extend(spec.exports.iter().flat_map(|e| e.problems()));
        if !problems.is_empty() {
            return Err(Error::Invalid(
                problems
                    .into_iter()
                    .map(|p| format!("{}: {p}", file.display()))
                    .collect(),
            ));
        }
        if spec.sources.is_empty() {
            spec.sources.push(SourceSpec::demo());
        }
        Ok(spec)
    }
}

/// Where `specs` came from, for people: their folder, or the built-in demo pipeline.
pub fn origin(specs: &[PipelineSpec]) -> String {
    match specs.first().map(|s| s.file.as_path()) {
        Some(file) if file == Path::new(BUILT_IN) => "the built-in demo pipeline".into(),
        Some(file) => file
            .parent()
            .map_or(String::new(), |d| d.display().to_string()),
        None => "no pipeline".into(),
    }
}

/// The pipelines in `dir` when one is given (it must exist and hold at least one), else those in
/// [`DEFAULT_DIR`], else (no such folder, or none in it) the built-in demo pipeline.
pub fn load(dir: Option<&Path>) -> Result<Vec<PipelineSpec>> {
    let Some(dir) = dir else {
        let default = Path::new(DEFAULT_DIR);
        let specs = if default.is_dir() {
            load_dir(default)?
        } else {
            Vec::new()
        };
        return Ok(if specs.is_empty() {
            vec![PipelineSpec::builtin_demo()]
        } else {
            specs
        });
    };
    if !dir.is_dir() {
        return Err(Error::Config {
            file: "--pipelines".into(),
            message: format!(
                "folder `{}` does not exist (without --pipelines, ./pipelines or the built-in demo pipeline is used)",
                dir.display()
            ),
        });
    }
    let specs = load_dir(dir)?;
    if specs.is_empty() {
        return Err(Error::Config {
            file: "--pipelines".into(),
            message: format!("folder `{}` holds no pipeline (*.toml)", dir.display()),
        });
    }
    Ok(specs)
}

/// Load every `*.toml` in `dir`, sorted by file name. All problems are reported together.
fn load_dir(dir: &Path) -> Result<Vec<PipelineSpec>> {
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
    Ok(specs)
}
