//! A drawn frame as an SVG image, for the README's screenshots: one rectangle per run of cells
//! sharing a background, one `<text>` per run sharing a style. Each text run is stretched to
//! exactly its cells (`textLength`), so columns line up whichever monospace font the viewer has.

use std::fmt::Write;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use crate::browser::text;

const CELL_W: f64 = 8.4;
const CELL_H: f64 = 17.0;
const FONT_SIZE: f64 = 14.0;
const BASELINE: f64 = 12.8;
const FONT: &str = "ui-monospace, SFMono-Regular, 'DejaVu Sans Mono', Menlo, Consolas, \
'Liberation Mono', 'Noto Sans Mono CJK SC', monospace";
const DEFAULT_FG: &str = "#d0d0d0";
const DEFAULT_BG: &str = "#1c1c1c";

/// A dark terminal's palette (xterm's, softened a little).
fn colour(c: Color, default: &'static str) -> String {
    let named = match c {
        Color::Reset => default,
        Color::Black => "#1c1c1c",
        Color::Red => "#e05561",
        Color::Green => "#8cc265",
        Color::Yellow => "#d7af5f",
        Color::Blue => "#4aa5f0",
        Color::Magenta => "#c162de",
        Color::Cyan => "#42b3c2",
        Color::Gray => "#bcbcbc",
        Color::DarkGray => "#7a7a7a",
        Color::LightRed => "#ff7b86",
        Color::LightGreen => "#a5e075",
        Color::LightYellow => "#f0c674",
        Color::LightBlue => "#6cb6ff",
        Color::LightMagenta => "#de73ff",
        Color::LightCyan => "#4cd1e0",
        Color::White => "#e6e6e6",
        Color::Rgb(r, g, b) => return format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(i) => return indexed(i),
    };
    named.to_string()
}

/// The xterm 256-colour cube and grey ramp (the 16 first as the named colours).
fn indexed(i: u8) -> String {
    const BASIC: [Color; 16] = [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ];
    match i {
        0..=15 => colour(BASIC[i as usize], DEFAULT_FG),
        16..=231 => {
            let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
            let n = i - 16;
            format!(
                "#{:02x}{:02x}{:02x}",
                level(n / 36),
                level(n / 6 % 6),
                level(n % 6)
            )
        }
        _ => {
            let v = 8 + 10 * (i - 232);
            format!("#{v:02x}{v:02x}{v:02x}")
        }
    }
}

#[derive(Clone, PartialEq)]
struct Look {
    fg: String,
    bg: String,
    bold: bool,
    dim: bool,
    italic: bool,
    underline: bool,
    crossed: bool,
}

fn look(cell: &ratatui::buffer::Cell) -> Look {
    let m = cell.modifier;
    let (mut fg, mut bg) = (colour(cell.fg, DEFAULT_FG), colour(cell.bg, DEFAULT_BG));
    if m.contains(Modifier::REVERSED) {
        std::mem::swap(&mut fg, &mut bg);
    }
    Look {
        fg,
        bg,
        bold: m.contains(Modifier::BOLD),
        dim: m.contains(Modifier::DIM),
        italic: m.contains(Modifier::ITALIC),
        underline: m.contains(Modifier::UNDERLINED),
        crossed: m.contains(Modifier::CROSSED_OUT),
    }
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Not allowed in XML at all; a terminal would not show them either.
            c if (c as u32) < 0x20 => out.push(' '),
            c => out.push(c),
        }
    }
}

/// One run of cells: where it starts, how many cells, its text and look.
struct Run {
    x: u16,
    cells: u16,
    text: String,
    look: Look,
}

/// The runs of one row; a wide character takes its cells and the cell it hides is skipped.
fn runs(buf: &Buffer, y: u16) -> Vec<Run> {
    let area = buf.area;
    let mut out: Vec<Run> = Vec::new();
    let mut x = area.x;
    while x < area.x + area.width {
        let cell = &buf[(x, y)];
        let symbol = if cell.symbol().is_empty() {
            " "
        } else {
            cell.symbol()
        };
        let w = text::width(symbol).max(1) as u16;
        let l = look(cell);
        match out.last_mut() {
            Some(run) if run.look == l => {
                run.cells += w;
                run.text.push_str(symbol);
            }
            _ => out.push(Run {
                x,
                cells: w,
                text: symbol.to_string(),
                look: l,
            }),
        }
        x += w;
    }
    out
}

/// The frame as a standalone SVG document, `title` its accessible name.
pub fn render(buf: &Buffer, title: &str) -> String {
    let area = buf.area;
    let (w, h) = (
        f64::from(area.width) * CELL_W,
        f64::from(area.height) * CELL_H,
    );
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" \
viewBox=\"0 0 {w:.1} {h:.1}\" role=\"img\">"
    );
    out.push_str("<title>");
    escape(title, &mut out);
    out.push_str("</title>\n");
    let _ = writeln!(
        out,
        "<rect width=\"100%\" height=\"100%\" fill=\"{DEFAULT_BG}\"/>"
    );
    let _ = writeln!(
        out,
        "<g font-family=\"{FONT}\" font-size=\"{FONT_SIZE}\" xml:space=\"preserve\" style=\"white-space:pre\">"
    );
    for y in area.y..area.y + area.height {
        let top = f64::from(y - area.y) * CELL_H;
        let row = runs(buf, y);
        // Backgrounds first, merged across styles, so text is never covered.
        let mut i = 0;
        while i < row.len() {
            let bg = &row[i].look.bg;
            let start = row[i].x;
            let mut end = start + row[i].cells;
            while i + 1 < row.len() && &row[i + 1].look.bg == bg {
                i += 1;
                end = row[i].x + row[i].cells;
            }
            if bg != DEFAULT_BG {
                let _ = writeln!(
                    out,
                    "<rect x=\"{:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{CELL_H:.1}\" fill=\"{bg}\"/>",
                    f64::from(start - area.x) * CELL_W,
                    f64::from(end - start) * CELL_W,
                );
            }
            i += 1;
        }
        for run in &row {
            let visible = run.text.trim_end_matches(' ');
            if visible.trim_start().is_empty() && !run.look.underline && !run.look.crossed {
                continue;
            }
            // Trailing blanks would only stretch the glyphs before them.
            let trailing = (run.text.len() - visible.len()) as u16;
            let cells = run.cells - trailing;
            let l = &run.look;
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" textLength=\"{:.1}\" lengthAdjust=\"spacingAndGlyphs\" fill=\"{}\"",
                f64::from(run.x - area.x) * CELL_W,
                top + BASELINE,
                f64::from(cells) * CELL_W,
                l.fg,
            );
            if l.bold {
                out.push_str(" font-weight=\"bold\"");
            }
            if l.dim {
                out.push_str(" opacity=\"0.6\"");
            }
            if l.italic {
                out.push_str(" font-style=\"italic\"");
            }
            match (l.underline, l.crossed) {
                (true, true) => out.push_str(" text-decoration=\"underline line-through\""),
                (true, false) => out.push_str(" text-decoration=\"underline\""),
                (false, true) => out.push_str(" text-decoration=\"line-through\""),
                (false, false) => {}
            }
            out.push('>');
            escape(visible, &mut out);
            out.push_str("</text>\n");
        }
    }
    out.push_str("</g>\n</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::style::{Color, Style};

    use super::render;

    #[test]
    fn runs_keep_their_cells_colours_and_escape_markup() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 12, 2));
        buf.set_string(0, 0, "a<b", Style::new().fg(Color::Red).bold());
        buf.set_string(3, 0, "注文", Style::new().bg(Color::Blue));
        buf.set_string(0, 1, "ok   ", Style::new());
        let svg = render(&buf, "t & u");
        assert!(svg.contains("width=\"101\" height=\"34\""), "{svg}");
        assert!(svg.contains("<title>t &amp; u</title>"));
        assert!(svg.contains(
            "<text x=\"0.0\" y=\"12.8\" textLength=\"25.2\" lengthAdjust=\"spacingAndGlyphs\" \
fill=\"#e05561\" font-weight=\"bold\">a&lt;b</text>"
        ));
        // Two wide characters: four cells, one background rectangle.
        assert!(svg.contains(
            "<rect x=\"25.2\" y=\"0.0\" width=\"33.6\" height=\"17.0\" fill=\"#4aa5f0\"/>"
        ));
        assert!(svg.contains(
            "textLength=\"33.6\" lengthAdjust=\"spacingAndGlyphs\" fill=\"#d0d0d0\">注文</text>"
        ));
        // Trailing blanks are not stretched into the text.
        assert!(svg.contains(
            "textLength=\"16.8\" lengthAdjust=\"spacingAndGlyphs\" fill=\"#d0d0d0\">ok</text>"
        ));
    }
}
