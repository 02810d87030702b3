//! The report's charts, drawn with plotters into an RGB bitmap: the same pixels go into the PDF
//! (as an image) and the HTML (as PNG). Text is DejaVu Sans, carried in the binary.

use std::sync::Once;

use chrono::{Duration, NaiveDate};
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::model::{Band, ReportModel};
use crate::format::money;

/// A drawn chart: RGB pixels, row by row.
#[derive(Debug, Clone)]
pub struct Chart {
    pub title: String,
    /// What the colours mean, for the text beside the image.
    pub caption: String,
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

impl Chart {
    /// The chart as a PNG file.
    pub fn png(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("a PNG header to memory");
        writer
            .write_image_data(&self.rgb)
            .expect("PNG data to memory");
        writer.finish().expect("a PNG to memory");
        out
    }
}

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const WIDTH: u32 = 1400;
const HEIGHT: u32 = 560;

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .unwrap_or_else(|_| panic!("the bundled font is a valid TrueType font"));
    });
}

/// Short axis numbers: `1,250`, `12.5k`, `3.4M`.
fn axis_number(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 100.0 {
        money(v).trim_end_matches(".00").to_string()
    } else {
        format!("{v:.1}")
    }
}

/// One chart per billing currency: its daily cost over the last 90 days, then the forecast with
/// its 80% and 95% intervals.
pub fn daily_cost(m: &ReportModel) -> Vec<Chart> {
    m.daily
        .iter()
        .map(|(currency, days)| {
            let forecast: Vec<(NaiveDate, Band)> =
                m.forecast_of(currency).map(|f| (f.date, f.band)).collect();
            draw_daily(currency, days, &forecast)
        })
        .collect()
}

fn draw_daily(currency: &str, days: &[(NaiveDate, f64)], forecast: &[(NaiveDate, Band)]) -> Chart {
    register_font();
    let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    let first = days
        .first()
        .map(|d| d.0)
        .or(forecast.first().map(|f| f.0))
        .unwrap_or_default();
    let last = forecast
        .last()
        .map(|f| f.0)
        .or(days.last().map(|d| d.0))
        .unwrap_or(first);
    let x = |d: NaiveDate| (d - first).num_days();
    let top = days
        .iter()
        .map(|d| d.1)
        .chain(forecast.iter().map(|f| f.1.upper_95))
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.08;
    let bottom = days
        .iter()
        .map(|d| d.1)
        .chain(forecast.iter().map(|f| f.1.lower_95))
        .fold(0.0f64, f64::min);
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        let drawn = (|| -> Result<(), Box<dyn std::error::Error + '_>> {
            let mut chart = ChartBuilder::on(&root)
                .margin(24)
                .x_label_area_size(56)
                .y_label_area_size(110)
                .build_cartesian_2d(0i64..x(last).max(1), bottom..top)?;
            chart
                .configure_mesh()
                .x_labels(10)
                .y_labels(8)
                .x_label_formatter(&|i| (first + Duration::days(*i)).format("%b %d").to_string())
                .y_label_formatter(&|v| axis_number(*v))
                .y_desc(currency.to_string())
                .label_style(("sans-serif", 24))
                .axis_desc_style(("sans-serif", 26))
                .light_line_style(RGBColor(236, 236, 236))
                .bold_line_style(RGBColor(210, 210, 210))
                .draw()?;
            let band = |lo: fn(&Band) -> f64, hi: fn(&Band) -> f64| {
                let mut pts: Vec<(i64, f64)> =
                    forecast.iter().map(|(d, b)| (x(*d), hi(b))).collect();
                pts.extend(forecast.iter().rev().map(|(d, b)| (x(*d), lo(b))));
                pts
            };
            if !forecast.is_empty() {
                chart.draw_series(std::iter::once(Polygon::new(
                    band(|b| b.lower_95, |b| b.upper_95),
                    RGBColor(222, 233, 249).filled(),
                )))?;
                chart.draw_series(std::iter::once(Polygon::new(
                    band(|b| b.lower_80, |b| b.upper_80),
                    RGBColor(189, 212, 245).filled(),
                )))?;
                chart.draw_series(LineSeries::new(
                    forecast.iter().map(|(d, b)| (x(*d), b.point)),
                    RGBColor(217, 115, 26).stroke_width(3),
                ))?;
            }
            chart.draw_series(LineSeries::new(
                days.iter().map(|(d, v)| (x(*d), *v)),
                RGBColor(0, 77, 166).stroke_width(3),
            ))?;
            root.present()?;
            Ok(())
        })();
        if let Err(e) = drawn {
            tracing::warn!(error = %e, "The daily cost chart could not be drawn.");
        }
    }
    Chart {
        title: format!("Daily cost ({currency}), last 90 days and forecast"),
        caption: "Blue: actual daily cost. Orange: forecast, with its 80% (darker) and 95% intervals shaded.".into(),
        width: WIDTH,
        height: HEIGHT,
        rgb,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_draws_lines_and_labels_on_white() {
        let d0 = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let days: Vec<(NaiveDate, f64)> = (0..30)
            .map(|i| (d0 + Duration::days(i), 100.0 + i as f64))
            .collect();
        let band = Band {
            point: 130.0,
            lower_80: 120.0,
            upper_80: 140.0,
            lower_95: 110.0,
            upper_95: 150.0,
        };
        let forecast: Vec<(NaiveDate, Band)> =
            (30..40).map(|i| (d0 + Duration::days(i), band)).collect();
        let chart = draw_daily("USD", &days, &forecast);
        let pixels: Vec<&[u8]> = chart.rgb.chunks(3).collect();
        let count = |c: [u8; 3]| pixels.iter().filter(|p| **p == c).count();
        assert!(count([0, 77, 166]) > 500, "the actual line is drawn");
        assert!(count([217, 115, 26]) > 100, "the forecast line is drawn");
        assert!(count([189, 212, 245]) > 1000, "the 80% band is shaded");
        // Axis labels: dark anti-aliased text pixels that are neither line colour.
        let text = pixels
            .iter()
            .filter(|p| p[0] < 90 && p[1] < 90 && p[2] < 90)
            .count();
        assert!(text > 2000, "labels are drawn: {text} dark pixels");
        let png = chart.png();
        assert_eq!(&png[1..4], b"PNG");
    }
}
