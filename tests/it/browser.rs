//! A real browser looks at the HTML report: headless Chromium (Debian's `chromium`) takes a
//! screenshot, which must show a page, not a blank one.

use std::path::Path;
use std::process::Command;

/// The Chromium binary: `CLOUDOPTIMA_TEST_CHROMIUM`, else `chromium` on the PATH.
fn chromium() -> String {
    std::env::var("CLOUDOPTIMA_TEST_CHROMIUM").unwrap_or_else(|_| "chromium".into())
}

/// Render `html` in headless Chromium and check the screenshot: mostly drawn by the page (not
/// one colour), with text, tables and the chart's colours on it.
pub fn assert_renders(html: &Path, scratch: &Path) {
    let shot = scratch.join("screenshot.png");
    let profile = scratch.join("chromium-profile");
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--window-size=900,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("headless Chromium is installed (Debian package chromium)");
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    let pixels: Vec<[u8; 3]> = buf[..info.buffer_size()]
        .chunks(step)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    let mut counts = std::collections::HashMap::new();
    for p in &pixels {
        *counts.entry(*p).or_insert(0usize) += 1;
    }
    let commonest = counts.values().max().copied().unwrap_or(0);
    assert!(
        commonest < pixels.len() * 9 / 10,
        "the screenshot is nearly one colour: {commonest} of {} pixels",
        pixels.len()
    );
    assert!(counts.len() > 200, "only {} colours", counts.len());
    // The chart's line colour (the actual cost) is on the page: the image loaded.
    let near = |p: &[u8; 3], c: [u8; 3]| p.iter().zip(c).all(|(a, b)| a.abs_diff(b) < 40);
    let line = pixels.iter().filter(|p| near(p, [0, 77, 166])).count();
    assert!(
        line > 100,
        "the chart is not on the screenshot ({line} line pixels)"
    );
    // Dark text pixels: the tables and paragraphs rendered.
    let dark = pixels
        .iter()
        .filter(|p| p[0] < 80 && p[1] < 80 && p[2] < 80)
        .count();
    assert!(
        dark > 5000,
        "little text on the screenshot: {dark} dark pixels"
    );
}
