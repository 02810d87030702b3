//! The demo's metrics: one Monitor `metrics:getBatch` response with hourly values for 35 days.

use chrono::Duration;
use serde_json::{Value, json};

use super::estate::{Kind, Power};
use super::{DemoTenant, METRIC_DAYS, Rng, hash, round};

impl DemoTenant {
    /// The first hour of generated metrics: `METRIC_DAYS` before the run date's midnight.
    pub(super) fn metrics_start(&self) -> chrono::NaiveDateTime {
        self.as_of.and_hms_opt(0, 0, 0).expect("midnight exists") - Duration::days(METRIC_DAYS)
    }

    /// The Monitor `metrics:getBatch` response: hourly `Percentage CPU` for running VMs, and the
    /// metrics a resource is given in `Resource::metrics`.
    pub fn metrics_batch(&self) -> Vec<u8> {
        let start = self.metrics_start();
        let end = start + Duration::days(METRIC_DAYS);
        let mut values = Vec::new();
        for r in &self.resources {
            let mut series: Vec<(&str, &str, f64)> = r.metrics.to_vec();
            if let Kind::Vm {
                power: Power::Running { cpu: base },
                ..
            } = r.kind
            {
                series.insert(0, ("Percentage CPU", "Percent", base));
            }
            if series.is_empty() {
                continue;
            }
            let mut rng = Rng::new(self.spec.seed ^ hash(&r.name) ^ hash(&r.group));
            let id = self.id(r);
            let metrics: Vec<Value> = series
                .iter()
                .map(|&(name, unit, base)| {
                    let cap = if unit == "Percent" { 100.0 } else { f64::MAX };
                    // Memory barely moves through the day; load does.
                    let (swing, noise) = if unit == "Bytes" {
                        (0.05, 0.03)
                    } else {
                        (0.4, 0.15)
                    };
                    let points: Vec<Value> = (0..METRIC_DAYS * 24)
                        .map(|h| {
                            let t = start + Duration::hours(h);
                            let hour = (h % 24) as f64;
                            let daily =
                                1.0 + swing * ((hour - 14.0) / 24.0 * std::f64::consts::TAU).cos();
                            let avg = (base * daily * (1.0 + noise * rng.normal())).clamp(0.1, cap);
                            let max = (avg * (1.3 + 0.4 * rng.unit())).min(cap);
                            json!({
                                "timeStamp": t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                                "average": round(avg, 4), "minimum": round(avg * 0.6, 4),
                                "maximum": round(max, 4), "total": round(avg, 4),
                            })
                        })
                        .collect();
                    json!({
                        "id": format!("{id}/providers/Microsoft.Insights/metrics/{name}"),
                        "type": "Microsoft.Insights/metrics",
                        "name": {"value": name, "localizedValue": name},
                        "unit": unit,
                        "errorCode": "Success",
                        "timeseries": [{"metadatavalues": [], "data": points}],
                    })
                })
                .collect();
            values.push(json!({
                "starttime": start.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "endtime": end.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "interval": "PT1H",
                "namespace": crate::open_data::resource_type(&id),
                "resourceregion": r.region,
                "resourceid": id,
                "value": metrics,
            }));
        }
        serde_json::to_vec(&json!({ "values": values })).expect("JSON values serialize")
    }
}
