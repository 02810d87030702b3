//! The per-file plan: one typed polars expression per target column, with the reasons a row cannot
//! be used and the changes made to it (`x_SourceChanges`) collected as expressions.

use polars::prelude::*;

use super::udf::{clean_text_udf, lowercase_udf, micros_udf, tags_udf};
use super::{JOIN_KEYS, VALUE_MARK, note_if, null_of};
use crate::lake::schema::ColumnTypes;
use crate::transform::dialect;
use crate::transform::parse::DateOrder;

/// The per-file plan: typed value per target column, and the reasons and changes collected.
pub(super) struct Plan<'a> {
    pub(super) schema: &'a Schema,
    pub(super) map: &'a dialect::ColumnMap,
    pub(super) typed: Vec<(String, Expr)>,
    pub(super) reasons: Vec<Expr>,
    pub(super) changes: Vec<Expr>,
    /// How the file's slashed dates are read.
    pub(super) order: DateOrder,
    pub(super) tag_aliases: &'a crate::transform::parse::TagAliases,
}

impl<'a> Plan<'a> {
    pub(super) fn new(
        schema: &'a Schema,
        map: &'a dialect::ColumnMap,
        order: DateOrder,
        tag_aliases: &'a crate::transform::parse::TagAliases,
    ) -> Self {
        Plan {
            schema,
            map,
            typed: Vec::new(),
            reasons: Vec::new(),
            changes: Vec::new(),
            order,
            tag_aliases,
        }
    }

    /// The cleaned text of header column `exact`: trimmed; empty and `NULL` become NULL.
    pub(super) fn text_of(&self, exact: &str) -> Expr {
        clean_text_udf(self.as_text(exact))
    }

    /// Header column `exact` as text, whatever its type (instants as RFC 3339 in UTC).
    pub(super) fn as_text(&self, exact: &str) -> Expr {
        let c = col(exact);
        match self.schema.get(exact).cloned().unwrap_or(DataType::String) {
            DataType::String => c,
            DataType::Datetime(_, _) => c
                .dt()
                .timestamp(TimeUnit::Microseconds)
                .cast(DataType::Datetime(TimeUnit::Microseconds, None))
                .dt()
                .strftime("%Y-%m-%dT%H:%M:%S%.fZ"),
            _ => c.cast(DataType::String),
        }
    }

    /// Text of a column the file may have, by (case-insensitive) name, with its exact header.
    pub(super) fn source_text(&self, name: &str) -> Option<(String, Expr)> {
        self.map
            .by_source
            .get(&name.to_lowercase())
            .map(|exact| (exact.clone(), self.text_of(exact)))
    }

    pub(super) fn legacy_text(&self, name: &str) -> Option<Expr> {
        self.source_text(name).map(|(_, e)| e)
    }

    /// The first source column feeding `target` and its type; `None` when the file has none.
    pub(super) fn source_dtype(&self, target: &str) -> Option<(String, DataType)> {
        let exact = self.map.by_target.get(target)?.first()?;
        Some((
            exact.clone(),
            self.schema.get(exact).cloned().unwrap_or(DataType::String),
        ))
    }

    /// How a value's column is named in a reason: the target, and the file's header when it
    /// differs by more than case (`x_SkuTierMinimumUnits (TierMinimumUnits)`).
    pub(super) fn label(&self, target: &str) -> String {
        match self.map.by_target.get(target).and_then(|s| s.first()) {
            Some(header) if dialect::normalize_name(header) != dialect::normalize_name(target) => {
                format!(
                    "{target} ({})",
                    header.trim_start_matches('\u{feff}').trim()
                )
            }
            _ => target.to_string(),
        }
    }

    /// The cleaned text feeding `target`: the first of its source columns that has a value.
    pub(super) fn target_text(&self, target: &str) -> Expr {
        let texts: Vec<Expr> = self.map.by_target[target]
            .iter()
            .map(|exact| self.text_of(exact))
            .collect();
        if texts.len() == 1 {
            texts.into_iter().next().expect("one")
        } else {
            coalesce(&texts)
        }
    }

    pub(super) fn set(&mut self, name: &str, e: Expr) {
        match self.typed.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = e,
            None => self.typed.push((name.to_string(), e)),
        }
    }

    pub(super) fn get(&self, name: &str) -> Expr {
        self.typed
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e.clone())
            .expect("typed columns are set before they are read")
    }

    /// Record why a present `text` gave no `value`. The reason is a literal (cheap on every row)
    /// naming the file's column between [`VALUE_MARK`]s; [`describe`] puts the value in its place
    /// for the few rows that are quarantined.
    pub(super) fn unreadable(
        &mut self,
        label: &str,
        header: &str,
        text: Expr,
        value: Expr,
        what: &str,
    ) {
        self.reasons.push(note_if(
            text.is_not_null().and(value.is_null()),
            format!("{label}: cannot read {VALUE_MARK}{header}{VALUE_MARK} as {what}"),
        ));
    }

    /// A number from text; a value that is not a finite number (`NaN`, `inf`, `1e309`) leaves a
    /// reason.
    pub(super) fn number(&mut self, label: &str, header: &str, text: Expr) -> Expr {
        let value = finite(text.clone().cast(DataType::Float64));
        self.unreadable(label, header, text, value.clone(), "a number");
        value
    }

    /// Microseconds since the epoch (UTC) from text; unreadable text leaves a reason.
    pub(super) fn micros(&mut self, label: &str, header: &str, text: Expr) -> Expr {
        let value = micros_udf(text.clone(), self.order);
        self.unreadable(label, header, text, value.clone(), "a date or time");
        value
    }

    /// The file's column feeding `target` (the first, when several do).
    pub(super) fn header(&self, target: &str) -> String {
        self.map.by_target[target][0].clone()
    }

    /// Type every target column from its source column (or NULL when the file lacks it).
    pub(super) fn type_columns(&mut self, types: &ColumnTypes, targets: &[&str]) {
        for &target in targets {
            let source = self.source_dtype(target);
            let e = if types.decimal.contains(&target) {
                match source {
                    None => null_of(DataType::Float64),
                    Some((exact, dt)) if dt.is_primitive_numeric() || dt.is_decimal() => {
                        let value = col(exact.as_str()).cast(DataType::Float64);
                        let kept = finite(value.clone());
                        self.reasons.push(note_if(
                            value.is_not_null().and(kept.clone().is_null()),
                            format!(
                                "{}: {VALUE_MARK}{exact}{VALUE_MARK} is not a finite number",
                                self.label(target)
                            ),
                        ));
                        kept
                    }
                    Some(_) => {
                        let text = self.target_text(target);
                        self.number(&self.label(target), &self.header(target), text)
                    }
                }
            } else if types.timestamp.contains(&target) {
                match source {
                    None => null_of(DataType::Int64),
                    Some((exact, DataType::Date)) => col(exact.as_str())
                        .cast(DataType::Datetime(TimeUnit::Microseconds, None))
                        .dt()
                        .timestamp(TimeUnit::Microseconds),
                    Some((exact, DataType::Datetime(_, _))) => {
                        col(exact.as_str()).dt().timestamp(TimeUnit::Microseconds)
                    }
                    Some(_) => {
                        let text = self.target_text(target);
                        self.micros(&self.label(target), &self.header(target), text)
                    }
                }
            } else if types.boolean.contains(&target) {
                match source {
                    None => null_of(DataType::Boolean),
                    Some((exact, DataType::Boolean)) => col(exact.as_str()),
                    Some(_) => {
                        let text = self.target_text(target);
                        self.boolean(&self.label(target), &self.header(target), text)
                    }
                }
            } else {
                match source {
                    None => null_of(DataType::String),
                    Some(_) => {
                        let text = self.target_text(target);
                        self.string(target, text)
                    }
                }
            };
            self.set(target, e);
        }
    }

    pub(super) fn boolean(&mut self, label: &str, header: &str, text: Expr) -> Expr {
        let lower = text.clone().str().to_lowercase();
        let is_any = |values: &[&str]| {
            values
                .iter()
                .map(|v| lower.clone().eq(lit(*v)))
                .reduce(|a, b| a.or(b))
                .expect("non-empty")
        };
        let value = when(is_any(&["true", "1", "yes"]))
            .then(lit(true))
            .when(is_any(&["false", "0", "no"]))
            .then(lit(false))
            .otherwise(null_of(DataType::Boolean));
        self.unreadable(label, header, text, value.clone(), "true/false");
        value
    }

    /// Text columns: join keys lowercased, tags canonicalized.
    pub(super) fn string(&mut self, target: &str, text: Expr) -> Expr {
        if JOIN_KEYS.contains(&target) {
            // ResourceId and SubAccountId carry other providers' ids too (AWS ARNs are
            // case-sensitive); the x_ keys are Azure's alone.
            let lower = lowercase_udf(text.clone(), target.starts_with("x_"));
            self.changes.push(note_if(
                lower.clone().neq(text),
                format!("{target}:lowercased"),
            ));
            return lower;
        }
        if target == "Tags" {
            let canonical = tags_udf(text.clone(), self.tag_aliases.clone());
            self.changes.push(note_if(
                canonical
                    .clone()
                    .is_not_null()
                    .and(canonical.clone().neq(text.clone())),
                "Tags:canonicalized",
            ));
            self.changes.push(note_if(
                canonical.clone().is_null().and(text.clone().is_not_null()),
                "Tags:kept-as-text (not a JSON object)",
            ));
            return coalesce(&[canonical, text]);
        }
        text
    }
    /// A charge needs its period and a cost, and cannot be dated more than a year after the run;
    /// other rows are quarantined.
    pub(super) fn require_period_and_cost(&mut self, as_of: chrono::NaiveDate) {
        let latest = (as_of + chrono::Duration::days(366))
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            .timestamp_micros();
        for column in ["ChargePeriodStart", "BillingPeriodStart"] {
            let value = self.get(column);
            self.reasons.push(note_if(
                value.gt(lit(latest)),
                format!("{column}: dated more than a year after the run date ({as_of})"),
            ));
        }
        let (bps, cps) = (
            self.get("BillingPeriodStart"),
            self.get("ChargePeriodStart"),
        );
        self.reasons.push(note_if(
            bps.is_null().and(cps.is_null()),
            "ChargePeriodStart: missing (a charge needs its period)",
        ));
        let (billed, effective) = (self.get("BilledCost"), self.get("EffectiveCost"));
        self.reasons.push(note_if(
            billed.is_null().and(effective.is_null()),
            "BilledCost and EffectiveCost: both missing",
        ));
    }

    /// CSV only: records whose every field is empty (blank lines between records) are not rows.
    pub(super) fn non_blank(&self, headers: &[String]) -> Expr {
        headers
            .iter()
            .map(|h| col(h.as_str()).is_not_null())
            .reduce(|a, b| a.or(b))
            .expect("a header has columns")
    }
}

/// `value` where it is a finite number, NULL where it is `NaN` or infinite.
pub(super) fn finite(value: Expr) -> Expr {
    when(value.clone().is_finite())
        .then(value)
        .otherwise(null_of(DataType::Float64))
}
