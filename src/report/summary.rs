//! The executive summary: written from the numbers ([`deterministic`]), or by a language model
//! from the report's facts as JSON ([`facts`]) and used only when every number in its text is one
//! of those facts ([`check_numbers`]); otherwise the deterministic one, with the reason.

use serde_json::{Value, json};

use super::model::{CostRow, ReportModel};
use crate::format::money;
use crate::llm::Llm;

/// Who wrote the summary, and why the model's text was not used when it was not.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Sentences (the deterministic summary) or paragraphs (the model's).
    pub lines: Vec<String>,
    /// Set when a model wrote it.
    pub model: Option<String>,
    /// Why the model's summary was not used, when one was asked for.
    pub fallback: Option<String>,
}

/// ` (+12.3%)`, or empty without a percentage.
pub fn pct_note(pct: Option<f64>) -> String {
    pct.map_or(String::new(), |p| format!(" ({p:+.1}%)"))
}

/// A few plain sentences from the numbers, every amount in its own currency.
pub fn deterministic(m: &ReportModel) -> Vec<String> {
    let mut s = Vec::new();
    let Some(last) = m.last_day else {
        return vec!["The lake holds no cost before this report's date.".into()];
    };
    for h in &m.headlines {
        let c = &h.currency;
        s.push(format!(
            "Month-to-date cost is {} {c}, against {} {c} at the same point last month{}; {last} cost {} {c}.",
            money(h.month_to_date),
            money(h.previous_month_to_date),
            pct_note(h.change_pct()),
            money(h.last_day_cost),
        ));
        if let Some(end) = h.month_end {
            s.push(format!(
                "At the current trend the month ends near {} {c} (80% interval {} to {} {c}).",
                money(end.point),
                money(end.lower_80),
                money(end.upper_80)
            ));
        }
    }
    if (m.as_of - last).num_days() > 1 {
        let behind = (m.as_of - last).num_days() - 1;
        s.push(format!(
            "The cost data end on {last}, {behind} day(s) before this report's date: the forecast starts the day after, so its first {behind} day(s) are already past."
        ));
    }
    for b in &m.budgets {
        s.push(format!(
            "Budget {}: {} of {} {} spent, forecast {} by {} ({}).",
            b.name,
            money(b.actual),
            money(b.amount),
            b.currency,
            money(b.forecast),
            b.period_end,
            b.status.replace('_', " ")
        ));
    }
    for a in m.anomalies.iter().take(3) {
        s.push(format!(
            "Cost {} in {} {} since {}: {} {} {} than expected{}.",
            if a.direction == "spike" {
                "rose"
            } else {
                "fell"
            },
            a.dimension.replace('_', " "),
            a.value,
            a.first_day,
            money(a.impact.abs()),
            a.currency,
            if a.impact >= 0.0 { "more" } else { "less" },
            if a.cause.is_empty() {
                String::new()
            } else {
                format!(", mostly from {}", a.cause_name())
            }
        ));
    }
    if m.anomalies.len() > 3 {
        s.push(format!(
            "{} more anomalies are listed under What changed.",
            m.anomalies.len() - 3
        ));
    }
    if let Some(service) = m.showback.iter().find(|s| s.label == "Service") {
        for currency in m.headlines.iter().map(|h| &h.currency) {
            let rows: Vec<&CostRow> = service
                .rows
                .iter()
                .filter(|r| &r.currency == currency)
                .collect();
            let total: f64 = rows.iter().map(|r| r.current).sum();
            if let Some(top) = rows.first().filter(|_| total > 0.0) {
                s.push(format!(
                    "{} is the largest service over the last 30 days ({} {currency}, {:.0}% of spend).",
                    top.name,
                    money(top.current),
                    100.0 * top.current / total
                ));
            }
        }
    }
    if m.findings.is_empty() {
        s.push("No waste findings in this run.".into());
    } else {
        for h in m.headlines.iter().filter(|h| h.savings_found > 0.0) {
            let n = m
                .findings
                .iter()
                .filter(|f| f.currency == h.currency)
                .count();
            s.push(format!(
                "{n} findings could save about {} {c} a month ({} {c} a year), each resource counted once.",
                money(h.savings_found),
                money(h.savings_found * 12.0),
                c = h.currency
            ));
        }
    }
    for h in m.headlines.iter().filter(|h| h.savings_realized > 0.0) {
        s.push(format!(
            "Fixes this month already save {} {} a month.",
            money(h.savings_realized),
            h.currency
        ));
    }
    s
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// What the model may say, as JSON: aggregates only; resource names only when `names` is set.
pub fn facts(m: &ReportModel, names: bool) -> Value {
    let name = |s: &str| {
        if names {
            Value::from(s)
        } else {
            Value::from("(withheld)")
        }
    };
    let rows = |rows: &[CostRow], n: usize| -> Vec<Value> {
        rows.iter()
            .take(n)
            .map(|r| {
                json!({
                    "name": r.name, "currency": r.currency, "last_30_days": round2(r.current),
                    "previous_30_days": round2(r.previous), "change": round2(r.change()),
                    "change_pct": r.change_pct().map(|p| (p * 10.0).round() / 10.0),
                })
            })
            .collect()
    };
    json!({
        "report_date": m.as_of.to_string(),
        "last_day_with_cost": m.last_day.map(|d| d.to_string()),
        "currencies": m.headlines.iter().map(|h| json!({
            "currency": h.currency,
            "last_day_cost": round2(h.last_day_cost),
            "month_to_date": round2(h.month_to_date),
            "previous_month_same_point": round2(h.previous_month_to_date),
            "month_to_date_change_pct": h.change_pct().map(|p| (p * 10.0).round() / 10.0),
            "forecast_month_end": h.month_end.map(|b| json!({
                "point": round2(b.point), "lower_80": round2(b.lower_80), "upper_80": round2(b.upper_80),
            })),
            "monthly_savings_found": round2(h.savings_found),
            "annual_savings_found": round2(h.savings_found * 12.0),
            "monthly_savings_realized_this_month": round2(h.savings_realized),
        })).collect::<Vec<_>>(),
        "forecast_totals": m.horizons.iter().map(|h| json!({
            "currency": h.currency, "days": h.days, "point": round2(h.band.point),
            "lower_80": round2(h.band.lower_80), "upper_80": round2(h.band.upper_80),
        })).collect::<Vec<_>>(),
        "budgets": m.budgets.iter().map(|b| json!({
            "name": b.name, "currency": b.currency, "amount": round2(b.amount), "spent": round2(b.actual),
            "forecast": round2(b.forecast), "status": b.status, "period_end": b.period_end,
        })).collect::<Vec<_>>(),
        "anomalies": m.anomalies.iter().take(10).map(|a| json!({
            "scope": a.dimension, "value": a.value, "currency": a.currency, "direction": a.direction,
            "since": a.first_day, "impact": round2(a.impact), "severity": a.severity,
            "largest_cause": name(a.cause_name()), "cause_share_pct": (a.cause_share * 1000.0).round() / 10.0,
        })).collect::<Vec<_>>(),
        "anomaly_count": m.anomalies.len(),
        "findings": {
            "count": m.findings.len(),
            "high_priority": m.findings.iter().filter(|f| f.priority == "high").count(),
            "new_today": m.changes.iter().filter(|c| c.status == "new").count(),
            "resolved_today": m.changes.iter().filter(|c| c.status == "resolved").count(),
            "largest": m.findings.iter().filter(|f| f.counted).take(5).map(|f| json!({
                "rule": f.title, "resource": name(&f.resource_name),
                "monthly_savings": round2(f.est_monthly_savings), "currency": f.currency,
            })).collect::<Vec<_>>(),
        },
        "services_last_30_days": m.showback.iter().find(|s| s.label == "Service")
            .map(|s| rows(&s.rows, 5)).unwrap_or_default(),
        "subscriptions_last_30_days": m.showback.iter().find(|s| s.label == "Subscription")
            .map(|s| rows(&s.rows, 5)).unwrap_or_default(),
    })
}

/// Every number inside `v` (numbers, and the digits in strings such as dates).
fn numbers_in(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Number(n) => out.extend(n.as_f64().map(f64::abs)),
        Value::String(s) => out.extend(tokens(s).into_iter().map(|t| t.value)),
        Value::Array(items) => items.iter().for_each(|i| numbers_in(i, out)),
        Value::Object(map) => map.values().for_each(|i| numbers_in(i, out)),
        _ => {}
    }
}

/// A number as written in text: its value, how many decimals it shows, and its scale
/// (`12.6k` = 12.6 × 1000).
#[derive(Debug, Clone, PartialEq)]
struct Token {
    text: String,
    value: f64,
    decimals: i32,
    scale: f64,
}

/// The numbers in `text`: digit runs with `,` thousands separators and a `.` fraction, followed
/// by an optional `k`, `thousand`, `M` or `million`. Signs are ignored (a drop of 45 is written
/// as 45).
fn tokens(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() || (i > 0 && chars[i - 1].is_alphabetic()) {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = String::new();
        let mut decimals = 0;
        let mut in_fraction = false;
        while i < chars.len() {
            let c = chars[i];
            let next_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
            if c.is_ascii_digit() {
                digits.push(c);
                if in_fraction {
                    decimals += 1;
                }
            } else if c == ',' && !in_fraction && next_digit {
            } else if c == '.' && !in_fraction && next_digit {
                in_fraction = true;
                digits.push('.');
            } else {
                break;
            }
            i += 1;
        }
        let rest: String = chars[i..].iter().take(9).collect::<String>().to_lowercase();
        let trimmed = rest.trim_start();
        let word_end = |w: &str| {
            trimmed.starts_with(w)
                && !trimmed[w.len()..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric)
        };
        let scale = if word_end("k") || word_end("thousand") {
            1e3
        } else if word_end("m") || word_end("million") {
            1e6
        } else {
            1.0
        };
        if let Ok(value) = digits.parse::<f64>() {
            out.push(Token {
                text: chars[start..i].iter().collect(),
                value: value * scale,
                decimals,
                scale,
            });
        }
    }
    out
}

/// `Err(the first number in `text` that is none of the facts)`. A number matches a fact when it
/// is the fact rounded to the decimals it shows (at its scale): `12,587` and `12.6k` both match
/// 12,586.91.
pub fn check_numbers(text: &str, facts: &Value) -> Result<(), String> {
    let mut known = Vec::new();
    numbers_in(facts, &mut known);
    for t in tokens(text) {
        let tolerance = 0.5 * 10f64.powi(-t.decimals) * t.scale + 1e-9;
        if !known.iter().any(|k| (k - t.value).abs() <= tolerance) {
            return Err(t.text);
        }
    }
    Ok(())
}

const SYSTEM: &str = "You write the executive summary of a cloud cost report for a FinOps lead. \
Use only the facts in the JSON you are given; never compute new numbers (no sums, differences or \
percentages that are not in the facts). Write 3 to 6 plain sentences, no lists, no headings, no \
markdown. Give every amount with its currency as written in the facts. Mention the month-to-date \
cost against last month, the month-end forecast, budgets at risk, the largest anomalies and the \
savings found.";

/// The longest summary taken from a model.
const MAX_CHARS: usize = 2000;

/// The summary by the model, checked; the deterministic one when the model is not asked, fails,
/// is late, or writes a number that is not a fact.
pub async fn write(m: &ReportModel, llm: Option<(&Llm, &str)>, names: bool) -> Summary {
    let fallback = |reason: String| {
        tracing::warn!(reason = %reason, "The model's summary is not used; the report has the deterministic one.");
        Summary {
            lines: deterministic(m),
            model: None,
            fallback: Some(reason),
        }
    };
    let Some((llm, model)) = llm else {
        return Summary {
            lines: deterministic(m),
            model: None,
            fallback: None,
        };
    };
    let facts = facts(m, names);
    let text = match llm
        .complete(
            SYSTEM,
            &serde_json::to_string_pretty(&facts).expect("facts serialize"),
        )
        .await
    {
        Ok(t) => t.trim().to_string(),
        Err(e) => return fallback(format!("the model gave no summary: {e}")),
    };
    if text.chars().count() > MAX_CHARS {
        return fallback(format!(
            "the model's summary is {} characters long (at most {MAX_CHARS})",
            text.chars().count()
        ));
    }
    if text.contains("```") || text.trim_start().starts_with('{') || text.contains('#') {
        return fallback("the model's summary is not plain prose".into());
    }
    if let Err(number) = check_numbers(&text, &facts) {
        return fallback(format!(
            "the model's summary gives {number}, which is not among the report's figures"
        ));
    }
    Summary {
        lines: text
            .split("\n\n")
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|p| !p.is_empty())
            .collect(),
        model: Some(model.to_string()),
        fallback: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Value {
        json!({"month_to_date": 12586.91, "since": "2026-06-18", "change_pct": 12.3, "count": 6})
    }

    #[test]
    fn numbers_written_as_the_facts_round_them_pass() {
        for text in [
            "Month to date: 12,586.91 USD.",
            "About 12,587 USD so far, up 12.3% since 2026-06-18.",
            "Roughly 12.6k USD; 6 findings.",
            "Spend is near 12.59 thousand dollars.",
            "No figures at all.",
        ] {
            assert_eq!(check_numbers(text, &facts()), Ok(()), "{text}");
        }
    }

    #[test]
    fn an_invented_number_is_named() {
        assert_eq!(
            check_numbers(
                "Month to date: 12,586.91 USD, savings 4,100.00 USD.",
                &facts()
            ),
            Err("4,100.00".into())
        );
        // Rounded the wrong way, or computed (a percentage not in the facts).
        assert_eq!(
            check_numbers("About 12,580 USD.", &facts()),
            Err("12,580".into())
        );
        assert_eq!(
            check_numbers("Up 15% on last month.", &facts()),
            Err("15".into())
        );
        assert_eq!(check_numbers("Around 14k USD.", &facts()), Err("14".into()));
    }

    #[test]
    fn words_with_digits_are_not_numbers() {
        assert_eq!(
            check_numbers("The vm-b2s and sqlsrv1 look idle.", &facts()),
            Ok(())
        );
    }
}
