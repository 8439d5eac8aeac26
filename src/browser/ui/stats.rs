//! The stats view: totals, a memory gauge, bar charts of trace ages and remaining TTLs, the
//! biggest traces and keys (selectable), warnings, and a `:gc` dry run when one was asked for.
//! Colours say how bad a figure is: green fine, yellow worth a look, red act. On the iii layout:
//! totals and the biggest scopes and fields, with a line saying why there are no ages or TTLs.

use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Clear, Gauge, Paragraph};

use motia_state::adapter::gc::GcPlan;
use motia_state::adapter::layout::iii_stats::IiiStats;
use motia_state::adapter::stats::Stats;
use motia_state::format_duration;

use crate::browser::format::{human_bytes, noun, percent, thousands};
use crate::browser::model::Model;
use crate::browser::model::stats::{GcRun, StatsView, summary};
use crate::browser::text;
use crate::browser::theme;
use crate::browser::ui::clip;

const GOOD: Color = Color::Green;
const WATCH: Color = Color::Yellow;
const BAD: Color = Color::Red;

pub fn stats(f: &mut Frame, m: &Model, area: Rect) {
    let Some(view) = &m.stats else {
        return;
    };
    f.render_widget(Clear, area);
    let block = Block::bordered()
        .title(Span::styled(title(m, view), theme::title(true)))
        .border_style(theme::border(true));
    let inner = block.inner(area);
    f.render_widget(block, area);
    if let Some(s) = view.iii.as_deref() {
        return iii_stats(f, view, s, inner);
    }
    let Some(s) = view.stats.as_deref() else {
        let reading = if m.settings.iii {
            " reading the scopes…"
        } else {
            " reading the keys…"
        };
        let text = match &view.error {
            Some(e) => Line::styled(format!(" {}", text::line(e)), theme::error()),
            None => Line::styled(reading, theme::dim()),
        };
        f.render_widget(Paragraph::new(text), inner);
        return;
    };
    let warnings = s.warnings.len().min(2) as u16;
    let chart_h = if inner.height >= 20 { 8 } else { 7 };
    // A dry run takes the place of the charts and lists, so a confirmation over the middle
    // leaves its first lines in view.
    let body = if view.gc.is_some() { 0 } else { chart_h };
    let [totals, gauge, charts, lists, warn] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(body),
        Constraint::Min(3),
        Constraint::Length(warnings),
    ])
    .areas(inner);
    f.render_widget(Paragraph::new(totals_line(s, totals.width)), totals);
    memory_gauge(f, s, gauge);
    match &view.gc {
        Some(run) => gc_plan(f, run, lists),
        None => {
            let [ages, ttls] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .areas(charts);
            age_chart(f, s, ages);
            ttl_chart(f, s, ttls);
            tops(f, view, s, lists);
        }
    }
    let lines: Vec<Line> = s
        .warnings
        .iter()
        .take(2)
        .map(|w| {
            Line::styled(
                clip(&format!("! {w}"), warn.width as usize),
                warning_style(w),
            )
        })
        .collect();
    f.render_widget(Paragraph::new(lines), warn);
}

fn title(m: &Model, view: &StatsView) -> String {
    let (one, many) = if m.settings.iii {
        ("scope", "scopes")
    } else {
        ("key", "keys")
    };
    let source = if view.from_index {
        "from the index"
    } else {
        "scanning"
    };
    let state = if view.error.is_some() {
        "failed".to_string()
    } else if view.running {
        match view.done.saturating_mul(100).checked_div(view.total) {
            Some(pct) => format!(
                "{source}: {pct}% ({} of {} {})",
                thousands(view.done),
                thousands(view.total),
                noun(view.total, one, many)
            ),
            None => format!(
                "{source}: {} {}",
                thousands(view.done),
                noun(view.done, one, many)
            ),
        }
    } else {
        "done · r recomputes".into()
    };
    let of = if m.settings.iii {
        "the iii layout"
    } else {
        m.settings.prefix.as_str()
    };
    format!(" Stats of {of} · {state} · Enter jumps · Esc closes ")
}

fn bytes(b: Option<u64>) -> String {
    b.map_or_else(|| "?".into(), human_bytes)
}

/// The totals in `width` columns: the state's share of memory (also on the gauge below) goes
/// first when they do not fit, then the no-TTL bytes, rather than a figure cut in two.
fn totals_line(s: &Stats, width: u16) -> Line<'static> {
    let share = s
        .share_of_server_memory
        .map(|x| format!(" ({} of used memory)", percent(x)))
        .unwrap_or_default();
    [(share.as_str(), true), ("", true), ("", false)]
        .into_iter()
        .map(|(share, ttl_bytes)| totals_with(s, share, ttl_bytes))
        .find(|l| l.width() <= width as usize)
        .unwrap_or_else(|| totals_with(s, "", false))
}

fn totals_with(s: &Stats, share: &str, ttl_bytes: bool) -> Line<'static> {
    let no_ttl = s.keys_without_ttl.unwrap_or(0);
    let no_ttl_style = if no_ttl == 0 {
        Style::new().fg(GOOD)
    } else if no_ttl * 2 > s.keys {
        Style::new().fg(BAD)
    } else {
        Style::new().fg(WATCH)
    };
    Line::from(vec![
        Span::styled(
            format!(
                " {} {} · {} {} · {}{share} · ",
                thousands(s.keys),
                noun(s.keys, "key", "keys"),
                thousands(s.traces),
                noun(s.traces, "trace", "traces"),
                bytes(s.bytes)
            ),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!(
                "no TTL: {} {}{}",
                s.keys_without_ttl.map_or_else(|| "?".into(), thousands),
                noun(no_ttl, "key", "keys"),
                if ttl_bytes {
                    format!(", {}", bytes(s.bytes_without_ttl))
                } else {
                    String::new()
                }
            ),
            no_ttl_style,
        ),
    ])
}

fn memory_gauge(f: &mut Frame, s: &Stats, area: Rect) {
    let m = &s.server;
    let policy = m.policy.as_deref().unwrap_or("?");
    let peak = bytes(m.peak_memory);
    let (ratio, label, colour) = match (m.fill(), m.maxmemory) {
        (Some(fill), Some(max)) => {
            let colour = if fill > 0.9 {
                BAD
            } else if fill > 0.8 || (fill > 0.6 && policy == "noeviction") {
                WATCH
            } else {
                GOOD
            };
            (
                fill.min(1.0),
                format!(
                    "memory {} of {} ({}) · {policy} · peak {peak}",
                    bytes(m.used_memory),
                    human_bytes(max),
                    percent(fill)
                ),
                colour,
            )
        }
        (_, Some(0)) => (
            s.share_of_server_memory.unwrap_or(0.0).min(1.0),
            format!(
                "state {} of {} used · no maxmemory · {policy} · peak {peak}",
                bytes(s.bytes),
                bytes(m.used_memory)
            ),
            if s.keys_without_ttl.unwrap_or(0) > 0 {
                WATCH
            } else {
                GOOD
            },
        ),
        _ => (
            0.0,
            format!(
                "memory {} · maxmemory unknown · {policy}",
                bytes(m.used_memory)
            ),
            Color::DarkGray,
        ),
    };
    f.render_widget(
        Gauge::default()
            .ratio(ratio)
            .label(Span::styled(label, Style::new().fg(Color::White)))
            .gauge_style(Style::new().fg(colour).bg(Color::Black))
            .use_unicode(true),
        area,
    );
}

// The adapter's buckets: under 1 h, 1 h to 1 d, 1 to 3 d, 3 to 7 d, longer, unknown.
const AGE_LABELS: [&str; 6] = ["<1h", "1h-1d", "1-3d", "3-7d", ">7d", "?"];
const TTL_LABELS: [&str; 7] = ["none", "<1h", "1h-1d", "1-3d", "3-7d", ">7d", "?"];

/// A count in at most 5 cells, rounded to the nearest: `7`, `1,740`, `12.3k`, `3.4M`.
fn short_count(n: u64) -> String {
    match n {
        0..10_000 => thousands(n),
        10_000..99_950 => format!("{:.1}k", n as f64 / 1e3),
        99_950..999_500 => format!("{:.0}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// Horizontal bars, one a line: the label on the left, count and bytes on the bar.
fn chart<'a>(title: String, bars: Vec<Bar<'a>>) -> BarChart<'a> {
    BarChart::default()
        .block(
            Block::bordered()
                .title(Span::styled(title, theme::title(false)))
                .border_style(theme::border(false)),
        )
        .direction(Direction::Horizontal)
        .bar_width(1)
        .bar_gap(0)
        .data(BarGroup::default().bars(&bars))
}

/// A bar whose label carries the figures (`<1h     3   4.9 KiB`), so the bar itself only
/// shows the proportion.
fn bar(label: &str, count: u64, bytes: Option<u64>, colour: Color) -> Bar<'static> {
    let bytes = match bytes {
        Some(b) if count > 0 => human_bytes(b),
        Some(_) => String::new(),
        None => "?".into(),
    };
    Bar::new(count)
        .label(Line::from(format!(
            "{label:>5} {:>5} {bytes:>9}",
            short_count(count)
        )))
        .text_value(String::new())
        .style(Style::new().fg(colour))
}

fn age_chart(f: &mut Frame, s: &Stats, area: Rect) {
    let bars = s
        .age_buckets
        .iter()
        .zip(AGE_LABELS)
        .enumerate()
        .map(|(i, (b, label))| {
            let colour = match i {
                0 | 1 => GOOD,
                2 | 3 => WATCH,
                4 => BAD,
                _ => Color::DarkGray,
            };
            bar(label, b.traces, b.bytes, colour)
        })
        .collect();
    let by = format!(
        " Traces by age (records {} · idle {}) ",
        s.traces_with_records, s.traces_by_idle_time
    );
    f.render_widget(chart(by, bars), area);
}

fn ttl_chart(f: &mut Frame, s: &Stats, area: Rect) {
    let bars = s
        .ttl_buckets
        .iter()
        .zip(TTL_LABELS)
        .enumerate()
        .map(|(i, (b, label))| {
            let colour = match i {
                0 => WATCH,
                6 => Color::DarkGray,
                _ => GOOD,
            };
            bar(label, b.keys, b.bytes, colour)
        })
        .collect();
    f.render_widget(chart(" Keys by remaining TTL ".into(), bars), area);
}

fn tops(f: &mut Frame, view: &StatsView, s: &Stats, area: Rect) {
    let traces = s
        .top_traces
        .iter()
        .map(|t| {
            format!(
                "{:>9} {:>7} {:<4}  {}",
                bytes(t.bytes),
                thousands(t.keys),
                noun(t.keys, "key", "keys"),
                t.trace_id
            )
        })
        .collect();
    let keys = s
        .top_keys
        .iter()
        .map(|k| format!("{:>9}  {} {}", bytes(k.bytes), k.trace_id, k.key))
        .collect();
    top_lists(
        f,
        view,
        [(" Biggest traces ", traces), (" Biggest keys ", keys)],
        area,
    );
}

/// Two lists side by side whose rows are selectable in turn (the left's first).
fn top_lists(
    f: &mut Frame,
    view: &StatsView,
    [(left_title, left_rows), (right_title, right_rows)]: [(&'static str, Vec<String>); 2],
    area: Rect,
) {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let n_left = left_rows.len();
    let row_style = |i: usize| {
        if i == view.cursor {
            theme::cursor(true)
        } else {
            Style::new()
        }
    };
    let height = left.height.saturating_sub(2) as usize;
    // Keep the cursor's row on screen in whichever list holds it.
    let skip = |len: usize, at: Option<usize>| {
        at.map_or(0, |c| (c + 1).saturating_sub(height))
            .min(len.saturating_sub(height))
    };
    let width = left.width.saturating_sub(2) as usize;
    let lines = |rows: Vec<String>, first: usize, at: Option<usize>| -> Vec<Line> {
        let skipped = skip(rows.len(), at);
        rows.into_iter()
            .enumerate()
            .skip(skipped)
            .map(|(i, text)| Line::styled(clip(&text, width), row_style(first + i)))
            .collect()
    };
    let left_lines = lines(left_rows, 0, (view.cursor < n_left).then_some(view.cursor));
    let right_lines = lines(right_rows, n_left, view.cursor.checked_sub(n_left));
    let boxed = |t: &'static str| {
        Block::bordered()
            .title(Span::styled(t, theme::title(false)))
            .border_style(theme::border(false))
    };
    f.render_widget(Paragraph::new(left_lines).block(boxed(left_title)), left);
    f.render_widget(Paragraph::new(right_lines).block(boxed(right_title)), right);
}

/// The iii layout's figures: totals, why there are no age or TTL charts, the biggest lists.
fn iii_stats(f: &mut Frame, view: &StatsView, s: &IiiStats, area: Rect) {
    let [totals, why, lists] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Min(3),
    ])
    .areas(area);
    let mut line = format!(
        " {} {} · {} {} · {}",
        thousands(s.scopes),
        noun(s.scopes, "scope", "scopes"),
        thousands(s.fields),
        noun(s.fields, "field", "fields"),
        human_bytes(s.bytes)
    );
    if s.stream_groups > 0 {
        line.push_str(&format!(
            " · {} stream {} ({} {})",
            thousands(s.stream_groups),
            noun(s.stream_groups, "group", "groups"),
            thousands(s.stream_items),
            noun(s.stream_items, "item", "items")
        ));
    }
    f.render_widget(
        Paragraph::new(Line::styled(
            line,
            Style::new().add_modifier(Modifier::BOLD),
        )),
        totals,
    );
    let no_ages = " No ages or TTLs: the iii layout keeps no trace records and the engine sets \
                   no TTL on state, so nothing here says how old it is.";
    f.render_widget(
        Paragraph::new(Line::styled(no_ages, theme::dim()))
            .wrap(ratatui::widgets::Wrap { trim: false }),
        why,
    );
    let scopes = s
        .biggest_scopes
        .iter()
        .map(|b| {
            format!(
                "{:>9} {:>7} {:<6}  {}",
                human_bytes(b.bytes),
                thousands(b.fields),
                noun(b.fields, "field", "fields"),
                b.scope
            )
        })
        .collect();
    let fields = s
        .biggest_fields
        .iter()
        .map(|b| format!("{:>9}  {} {}", human_bytes(b.bytes), b.scope, b.key))
        .collect();
    top_lists(
        f,
        view,
        [(" Biggest scopes ", scopes), (" Biggest fields ", fields)],
        lists,
    );
}

fn gc_plan(f: &mut Frame, run: &GcRun, area: Rect) {
    let width = area.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    match (&run.plan, &run.error) {
        (_, Some(e)) => lines.push(Line::styled(format!("failed: {e}"), theme::error())),
        (None, None) => lines.push(Line::styled(
            format!(
                "selecting… {} of {} {} read",
                thousands(run.done),
                thousands(run.total),
                noun(run.total, "key", "keys")
            ),
            theme::dim(),
        )),
        (Some(plan), None) => plan_lines(plan, width, &mut lines),
    }
    let title = format!(" gc {} · dry run: nothing changes before y ", run.flags);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(Span::styled(clip(&title, width), theme::title(true)))
                .border_style(theme::border(true)),
        ),
        area,
    );
}

fn plan_lines(plan: &GcPlan, width: usize, lines: &mut Vec<Line<'static>>) {
    lines.push(Line::styled(
        clip(
            &format!(
                "would {} · {} running {} left alone",
                summary(plan),
                plan.running_skipped,
                noun(plan.running_skipped, "flow", "flows")
            ),
            width,
        ),
        Style::new().add_modifier(Modifier::BOLD),
    ));
    for t in &plan.traces {
        let n = t.acting_keys().count();
        if n == 0 {
            continue;
        }
        let age = t.age_ms.map_or_else(
            || "age ?".into(),
            |a| format_duration(std::time::Duration::from_millis(a.max(0) as u64)),
        );
        let status = t.status.map_or("no records", |s| s.as_str());
        let text = format!(
            "{:>9} {:>6} {:<4}  {:>7}  {:<10} {}",
            bytes(t.bytes()),
            thousands(n as u64),
            noun(n as u64, "key", "keys"),
            age,
            status,
            t.trace_id
        );
        lines.push(Line::raw(clip(&text, width)));
    }
}

fn warning_style(w: &str) -> Style {
    if w.contains("noeviction") {
        Style::new().fg(BAD).add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(WATCH)
    }
}

#[cfg(test)]
mod tests {
    use super::short_count;

    #[test]
    fn short_counts_round_and_keep_four_figures() {
        let shown: Vec<String> = [7, 1_740, 9_999, 12_345, 99_960, 123_456, 3_449_000]
            .into_iter()
            .map(short_count)
            .collect();
        assert_eq!(
            shown,
            ["7", "1,740", "9,999", "12.3k", "100k", "123k", "3.4M"]
        );
    }
}
