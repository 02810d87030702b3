//! Render a report [`Document`] to PDF with printpdf: A4, the built-in Helvetica and Courier,
//! charts as images. Text is measured with Helvetica's widths, so cells wrap instead of being cut;
//! tables repeat their header on a new page and never leave a few rows alone on one; a heading
//! stays with what follows it; every page is numbered.

use printpdf::{
    BuiltinFont, Color, Mm, Op, PaintMode, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions,
    Point, Pt, RawImage, RawImageData, RawImageFormat, Rect, Rgb, TextItem, XObjectTransform,
};

use super::chart::Chart;
use super::document::{Align, Block, Column, Document, Figure};

const W: f32 = 595.0;
const H: f32 = 842.0;
const MARGIN: f32 = 42.0;
const TOP: f32 = H - 50.0;
const BOTTOM: f32 = 56.0;
const BODY: f32 = 9.0;
const CELL: f32 = 7.5;

/// Helvetica's advance widths (per 1000 em) of ASCII 32..=126, from its font metrics.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/// The width of `s` in points at `size` (bold is about 6% wider).
fn width(s: &str, size: f32, bold: bool) -> f32 {
    let units: u32 = s
        .chars()
        .map(|c| {
            let i = c as u32;
            if (32..=126).contains(&i) {
                HELVETICA[(i - 32) as usize] as u32
            } else {
                556
            }
        })
        .sum();
    units as f32 * size / 1000.0 * if bold { 1.06 } else { 1.0 }
}

/// `s` broken into lines no wider than `max` points; a word longer than a line is split.
fn wrap(s: &str, size: f32, bold: bool, max: f32) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in s.split_whitespace() {
        let mut word = word.to_string();
        loop {
            let cur = lines.last_mut().expect("non-empty");
            let candidate = if cur.is_empty() {
                word.clone()
            } else {
                format!("{cur} {word}")
            };
            if width(&candidate, size, bold) <= max {
                *cur = candidate;
                break;
            }
            if !cur.is_empty() {
                lines.push(String::new());
                continue;
            }
            // A single word wider than the line: cut it where it fits.
            let mut cut = word.len();
            while cut > 1 && width(&word[..cut], size, bold) > max {
                cut = word[..cut - 1]
                    .char_indices()
                    .last()
                    .map_or(1, |(i, c)| i + c.len_utf8());
            }
            *cur = word[..cut].to_string();
            word = word[cut..].to_string();
            if word.is_empty() {
                break;
            }
            lines.push(String::new());
        }
    }
    lines
}

fn rgb(r: f32, g: f32, b: f32) -> Color {
    Color::Rgb(Rgb::new(r, g, b, None))
}

/// Built-in fonts speak WinAnsi only: keep Latin-1, replace the rest.
fn latin1(s: &str) -> String {
    s.chars()
        .map(|c| if (c as u32) < 256 { c } else { '?' })
        .collect()
}

/// Pages being filled top to bottom.
struct Writer<'a> {
    pages: Vec<Vec<Op>>,
    ops: Vec<Op>,
    y: f32,
    doc: &'a mut PdfDocument,
    charts: &'a [Chart],
}

impl Writer<'_> {
    fn text_font(&mut self, x: f32, y: f32, size: f32, font: BuiltinFont, s: &str) {
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::Builtin(font),
                size: Pt(size),
            },
            Op::SetTextCursor {
                pos: Point { x: Pt(x), y: Pt(y) },
            },
            Op::ShowText {
                items: vec![TextItem::Text(latin1(s))],
            },
            Op::EndTextSection,
        ]);
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, s: &str) {
        let font = if bold {
            BuiltinFont::HelveticaBold
        } else {
            BuiltinFont::Helvetica
        };
        self.text_font(x, y, size, font, s);
    }

    fn fill(&mut self, color: Color) {
        self.ops.push(Op::SetFillColor { col: color });
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32) {
        let mut r = Rect::from_xywh(Pt(x), Pt(y), Pt(w), Pt(h));
        r.mode = Some(PaintMode::Fill);
        self.ops.push(Op::DrawRectangle { rectangle: r });
    }

    fn new_page(&mut self) {
        let ops = std::mem::take(&mut self.ops);
        self.pages.push(ops);
        self.y = TOP;
    }

    /// Start a new page unless `h` points fit below the cursor.
    fn need(&mut self, h: f32) {
        if self.y - h < BOTTOM {
            self.new_page();
        }
    }

    fn paragraph(&mut self, s: &str, size: f32, color: Color) {
        let lines = wrap(s, size, false, W - 2.0 * MARGIN);
        for line in lines {
            self.need(size * 1.45);
            self.fill(color.clone());
            self.text(MARGIN, self.y - size, size, false, &line);
            self.y -= size * 1.45;
        }
        self.y -= 3.0;
    }

    fn figures(&mut self, figures: &[Figure]) {
        let h = 62.0;
        self.need(h + 10.0);
        let n = figures.len().max(1) as f32;
        let w = (W - 2.0 * MARGIN - 8.0 * (n - 1.0)) / n;
        for (i, f) in figures.iter().enumerate() {
            let x = MARGIN + i as f32 * (w + 8.0);
            self.fill(rgb(0.93, 0.95, 0.98));
            self.rect(x, self.y - h, w, h);
            self.fill(rgb(0.3, 0.3, 0.3));
            self.text(x + 8.0, self.y - 14.0, 8.0, false, &f.label);
            self.fill(rgb(0.0, 0.2, 0.45));
            let size = if width(&f.value, 13.0, true) > w - 16.0 {
                10.5
            } else {
                13.0
            };
            self.text(x + 8.0, self.y - 33.0, size, true, &f.value);
            self.fill(rgb(0.35, 0.35, 0.35));
            for (j, line) in wrap(&f.note, 7.0, false, w - 16.0)
                .iter()
                .take(2)
                .enumerate()
            {
                self.text(x + 8.0, self.y - 46.0 - 8.5 * j as f32, 7.0, false, line);
            }
        }
        self.y -= h + 10.0;
    }

    fn chart(&mut self, chart: &Chart) {
        let w = W - 2.0 * MARGIN;
        let h = w * chart.height as f32 / chart.width as f32;
        self.need(h + 6.0);
        let image = RawImage {
            pixels: RawImageData::U8(chart.rgb.clone()),
            width: chart.width as usize,
            height: chart.height as usize,
            data_format: RawImageFormat::RGB8,
            tag: Vec::new(),
        };
        let id = self.doc.add_image(&image);
        self.ops.push(Op::UseXobject {
            id,
            transform: XObjectTransform {
                translate_x: Some(Pt(MARGIN)),
                translate_y: Some(Pt(self.y - h)),
                dpi: Some(chart.width as f32 * 72.0 / w),
                ..Default::default()
            },
        });
        self.y -= h + 6.0;
    }

    /// A table: header in bold on a grey rule, rows striped; cells wrap within their column.
    fn table(&mut self, columns: &[Column], rows: &[Vec<String>]) {
        let total: f32 = columns.iter().map(|c| c.weight).sum();
        let inner = W - 2.0 * MARGIN;
        let widths: Vec<f32> = columns.iter().map(|c| inner * c.weight / total).collect();
        let line = CELL * 1.3;
        let laid: Vec<Vec<Vec<String>>> = rows
            .iter()
            .map(|r| {
                r.iter()
                    .zip(&widths)
                    .map(|(cell, w)| wrap(cell, CELL, false, w - 6.0))
                    .collect()
            })
            .collect();
        let height = |cells: &Vec<Vec<String>>| {
            cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * line + 3.0
        };
        let header_h = line + 4.0;
        // The header and at least three rows (or all, if fewer) start together.
        let first: f32 = laid.iter().take(3).map(height).sum();
        self.need(header_h + first);
        self.header(columns, &widths, header_h);
        for (i, cells) in laid.iter().enumerate() {
            let h = height(cells);
            // When the rest of the table breaks onto the next page, its last rows (up to three)
            // go over together rather than one or two alone.
            let rest: f32 = laid[i..].iter().map(height).sum();
            let remaining = laid.len() - i;
            if self.y - h < BOTTOM || (i > 0 && remaining <= 3 && self.y - rest < BOTTOM) {
                self.new_page();
                self.header(columns, &widths, header_h);
            }
            if i % 2 == 1 {
                self.fill(rgb(0.955, 0.955, 0.955));
                self.rect(MARGIN - 2.0, self.y - h, inner + 4.0, h);
            }
            self.fill(rgb(0.0, 0.0, 0.0));
            let mut x = MARGIN;
            for ((lines, w), c) in cells.iter().zip(&widths).zip(columns) {
                for (j, text) in lines.iter().enumerate() {
                    let y = self.y - CELL - 1.5 - j as f32 * line;
                    let tx = match c.align {
                        Align::Left => x + 2.0,
                        Align::Right => x + w - 2.0 - width(text, CELL, false),
                    };
                    self.text(tx, y, CELL, false, text);
                }
                x += w;
            }
            self.y -= h;
        }
        self.y -= 8.0;
    }

    fn header(&mut self, columns: &[Column], widths: &[f32], h: f32) {
        self.fill(rgb(0.86, 0.89, 0.94));
        self.rect(MARGIN - 2.0, self.y - h, W - 2.0 * MARGIN + 4.0, h);
        self.fill(rgb(0.0, 0.0, 0.0));
        let mut x = MARGIN;
        for (c, w) in columns.iter().zip(widths) {
            let tx = match c.align {
                Align::Left => x + 2.0,
                Align::Right => x + w - 2.0 - width(&c.title, CELL, true),
            };
            self.text(tx, self.y - CELL - 2.0, CELL, true, &c.title);
            x += w;
        }
        self.y -= h;
    }

    fn code(&mut self, lines: &[String]) {
        let size = 7.0;
        // Courier: every character 600/1000 em wide.
        let per_line = ((W - 2.0 * MARGIN) / (size * 0.6)) as usize;
        for l in lines {
            let chars: Vec<char> = l.chars().collect();
            for (k, chunk) in chars.chunks(per_line.max(1)).enumerate() {
                self.need(size * 1.4);
                let text: String = chunk.iter().collect();
                let bold = k == 0 && l.starts_with('#');
                self.fill(if bold {
                    rgb(0.3, 0.3, 0.3)
                } else {
                    rgb(0.0, 0.0, 0.0)
                });
                self.text_font(
                    MARGIN + if k > 0 { 12.0 } else { 0.0 },
                    self.y - size,
                    size,
                    BuiltinFont::Courier,
                    &text,
                );
                self.y -= size * 1.4;
            }
        }
    }
}

/// The whole report as PDF bytes.
pub fn render(d: &Document, charts: &[Chart], created: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    let mut doc = PdfDocument::new(&d.title);
    if let Ok(t) = printpdf::OffsetDateTime::from_unix_timestamp(created.timestamp()) {
        doc.metadata.info.creation_date = t;
        doc.metadata.info.modification_date = t;
        doc.metadata.info.metadata_date = t;
    }
    doc.metadata.info.creator = "cloudoptima".into();
    doc.metadata.info.producer = concat!("cloudoptima ", env!("CARGO_PKG_VERSION")).into();
    let mut w = Writer {
        pages: Vec::new(),
        ops: Vec::new(),
        y: TOP,
        doc: &mut doc,
        charts,
    };
    w.fill(rgb(0.0, 0.0, 0.0));
    w.text(MARGIN, w.y - 20.0, 20.0, true, &d.title);
    w.fill(rgb(0.3, 0.3, 0.3));
    w.text(MARGIN, w.y - 36.0, 9.0, false, &d.subtitle);
    w.y -= 50.0;
    let blocks = &d.blocks;
    for (i, block) in blocks.iter().enumerate() {
        match block {
            Block::Heading(s) => {
                // Keep the heading with the start of what follows.
                let next = match blocks.get(i + 1) {
                    Some(Block::Chart(_)) => 230.0,
                    Some(Block::Table { .. }) => 60.0,
                    _ => 40.0,
                };
                w.need(22.0 + next);
                w.y -= 8.0;
                w.fill(rgb(0.0, 0.2, 0.45));
                w.text(MARGIN, w.y - 12.0, 12.0, true, s);
                w.y -= 20.0;
            }
            Block::Paragraph(s) => w.paragraph(s, BODY, rgb(0.0, 0.0, 0.0)),
            Block::Note(s) => w.paragraph(s, 7.0, rgb(0.35, 0.35, 0.35)),
            Block::Figures(f) => w.figures(f),
            Block::Chart(i) => {
                if let Some(c) = w.charts.get(*i) {
                    w.chart(c)
                }
            }
            Block::Table { columns, rows } => w.table(columns, rows),
            Block::Code(lines) => w.code(lines),
        }
    }
    w.new_page();
    let pages = std::mem::take(&mut w.pages);
    let n = pages.len();
    let pages: Vec<PdfPage> = pages
        .into_iter()
        .enumerate()
        .map(|(i, mut ops)| {
            let footer = format!("{} - page {} of {n}", d.title, i + 1);
            ops.extend([
                Op::SetFillColor {
                    col: rgb(0.45, 0.45, 0.45),
                },
                Op::StartTextSection,
                Op::SetFont {
                    font: PdfFontHandle::Builtin(BuiltinFont::Helvetica),
                    size: Pt(7.0),
                },
                Op::SetTextCursor {
                    pos: Point {
                        x: Pt(MARGIN),
                        y: Pt(30.0),
                    },
                },
                Op::ShowText {
                    items: vec![TextItem::Text(latin1(&footer))],
                },
                Op::EndTextSection,
            ]);
            PdfPage::new(Mm(210.0), Mm(297.0), ops)
        })
        .collect();
    let mut warnings = Vec::new();
    doc.with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_wraps_at_the_width_and_splits_long_words() {
        let lines = wrap("Virtual machine idle for fourteen days", 10.0, false, 100.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert!(lines.iter().all(|l| width(l, 10.0, false) <= 100.0));
        assert_eq!(lines.join(" "), "Virtual machine idle for fourteen days");
        let id = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Compute/disks/d";
        let lines = wrap(id, 8.0, false, 80.0);
        assert_eq!(lines.concat(), id);
        assert!(lines.iter().all(|l| width(l, 8.0, false) <= 80.0));
    }
}
