//! Render a report [`Document`] as HTML the way email clients want it: one table layout, inline
//! CSS only, no script, no external resources; charts as `<img>` whose source the caller gives
//! (`cid:` parts in an email, `data:` URIs in the saved file).

use super::document::{Align, Block, Document};

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const FONT: &str = "font-family:Helvetica,Arial,sans-serif;";

/// The document as one HTML page; `image(i)` is the `src` of chart `i`.
pub fn render(d: &Document, image: &dyn Fn(usize) -> String) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    h.push_str(&format!("<title>{}</title></head>\n", escape(&d.title)));
    h.push_str(&format!(
        "<body style=\"margin:0;padding:0;background:#f3f4f6;{FONT}\">\n\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"background:#f3f4f6;\"><tr><td align=\"center\">\n\
         <table role=\"presentation\" width=\"720\" cellpadding=\"0\" cellspacing=\"0\" style=\"max-width:720px;width:100%;background:#ffffff;padding:24px;\">\n"
    ));
    h.push_str(&format!(
        "<tr><td style=\"padding:24px 24px 4px 24px;\"><h1 style=\"margin:0;font-size:24px;color:#111827;{FONT}\">{}</h1>\
         <p style=\"margin:4px 0 0 0;font-size:12px;color:#6b7280;\">{}</p></td></tr>\n",
        escape(&d.title),
        escape(&d.subtitle)
    ));
    for block in &d.blocks {
        h.push_str("<tr><td style=\"padding:4px 24px;\">");
        match block {
            Block::Heading(s) => h.push_str(&format!(
                "<h2 style=\"margin:18px 0 6px 0;font-size:17px;color:#003373;{FONT}\">{}</h2>",
                escape(s)
            )),
            Block::Paragraph(s) => h.push_str(&format!(
                "<p style=\"margin:0 0 6px 0;font-size:14px;line-height:1.45;color:#111827;\">{}</p>",
                escape(s)
            )),
            Block::Note(s) => h.push_str(&format!(
                "<p style=\"margin:2px 0 8px 0;font-size:11px;color:#6b7280;\">{}</p>",
                escape(s)
            )),
            Block::Figures(figures) => {
                h.push_str("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"6\"><tr>");
                for f in figures {
                    h.push_str(&format!(
                        "<td valign=\"top\" style=\"background:#edf2fa;padding:10px;width:25%;\">\
                         <div style=\"font-size:11px;color:#4b5563;\">{}</div>\
                         <div style=\"font-size:17px;font-weight:bold;color:#003373;margin-top:4px;\">{}</div>\
                         <div style=\"font-size:11px;color:#6b7280;margin-top:4px;\">{}</div></td>",
                        escape(&f.label),
                        escape(&f.value),
                        escape(&f.note)
                    ));
                }
                h.push_str("</tr></table>");
            }
            Block::Chart(i) => h.push_str(&format!(
                "<img src=\"{}\" width=\"672\" alt=\"Daily cost chart\" style=\"display:block;width:100%;max-width:672px;height:auto;border:0;\">",
                escape(&image(*i))
            )),
            Block::Table { columns, rows } => {
                h.push_str("<table width=\"100%\" cellpadding=\"4\" cellspacing=\"0\" style=\"border-collapse:collapse;font-size:12px;\">");
                h.push_str("<tr style=\"background:#dbe3f0;\">");
                for c in columns {
                    h.push_str(&format!(
                        "<th align=\"{}\" style=\"{FONT}font-size:12px;\">{}</th>",
                        align(c.align),
                        escape(&c.title)
                    ));
                }
                h.push_str("</tr>");
                for (i, row) in rows.iter().enumerate() {
                    let bg = if i % 2 == 1 { "#f4f4f4" } else { "#ffffff" };
                    h.push_str(&format!("<tr style=\"background:{bg};\">"));
                    for (cell, c) in row.iter().zip(columns) {
                        h.push_str(&format!(
                            "<td align=\"{}\" valign=\"top\" style=\"{}\">{}</td>",
                            align(c.align),
                            if c.align == Align::Right {
                                "white-space:nowrap;"
                            } else {
                                ""
                            },
                            escape(cell)
                        ));
                    }
                    h.push_str("</tr>");
                }
                h.push_str("</table>");
            }
            Block::Code(lines) => {
                h.push_str("<pre style=\"font-family:Courier,monospace;font-size:11px;white-space:pre-wrap;word-break:break-all;background:#f9fafb;padding:8px;\">");
                h.push_str(&escape(&lines.join("\n")));
                h.push_str("</pre>");
            }
        }
        h.push_str("</td></tr>\n");
    }
    h.push_str("</table></td></tr></table>\n</body></html>\n");
    h
}

fn align(a: Align) -> &'static str {
    match a {
        Align::Left => "left",
        Align::Right => "right",
    }
}

/// The document as plain text: the email's text part.
pub fn plain(d: &Document) -> String {
    let mut t = format!("{}\n{}\n", d.title, d.subtitle);
    for block in &d.blocks {
        match block {
            Block::Heading(s) => t.push_str(&format!("\n{s}\n{}\n", "-".repeat(s.chars().count()))),
            Block::Paragraph(s) | Block::Note(s) => t.push_str(&format!("{s}\n")),
            Block::Figures(f) => {
                for x in f {
                    t.push_str(&format!("{}: {} ({})\n", x.label, x.value, x.note));
                }
            }
            Block::Chart(_) => t.push_str("(chart in the HTML and PDF versions)\n"),
            Block::Table { columns, rows } => {
                t.push_str(
                    &columns
                        .iter()
                        .map(|c| c.title.as_str())
                        .collect::<Vec<_>>()
                        .join(" | "),
                );
                t.push('\n');
                for r in rows {
                    t.push_str(&r.join(" | "));
                    t.push('\n');
                }
            }
            Block::Code(lines) => {
                for l in lines {
                    t.push_str(&format!("    {l}\n"));
                }
            }
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_nothing_runs() {
        let d = Document {
            title: "<script>alert(1)</script>".into(),
            subtitle: "a & b".into(),
            blocks: vec![Block::Paragraph("\"quoted\" <b>".into())],
        };
        let html = render(&d, &|_| String::new());
        assert!(!html.to_lowercase().contains("<script"));
        assert!(html.contains("&lt;script&gt;") && html.contains("a &amp; b"));
        assert!(html.contains("&quot;quoted&quot; &lt;b&gt;"));
    }
}
