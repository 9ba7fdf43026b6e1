//! Server-rendered SVG charts of the results and home pages, written by hand: a trend
//! chart per measure (axis scaled to the data, zero line, every wave labelled in full,
//! text that stays readable on a phone), sparklines, and the bars of the pain-point
//! Pareto, and the stakeholder map ([`stakeholder_map_svg`]). No script, no event attributes, no inline style (the CSP allows none): the SVG
//! is embedded inline, the page works without JavaScript and prints. Pure functions of the
//! figures they draw; `None` when there is nothing to draw. Every text is escaped.

use std::fmt::Write;

mod stakeholder_map;
pub use stakeholder_map::{compact_number, stakeholder_map_svg, MapAxes, MapDot};

const INK: &str = "#1b2430";
const MUTED: &str = "#5b6573";
const GRID: &str = "#d5dbe3";
const LINE: &str = "#0b5cab";

/// Escapes a text for an SVG attribute or element.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One wave of a trend chart: its label, the value (in the chart's unit) and its interval.
pub struct TrendInput<'a> {
    pub label: &'a str,
    pub value: Option<f64>,
    pub ci: Option<(f64, f64)>,
    /// The wave the page is about (drawn larger).
    pub current: bool,
}

/// Ticks from `low` to `high` (at least both), on a step of 1, 2 or 5 × 10ⁿ, about five.
fn ticks(low: f64, high: f64) -> (f64, f64, f64) {
    let span = (high - low).max(1e-9);
    let raw = span / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| span / s <= 6.0)
        .unwrap_or(10.0 * magnitude);
    (
        (low / step).floor() * step,
        (high / step).ceil() * step,
        step,
    )
}

/// Splits a label into at most two lines of about `width` characters (the second one
/// shortened with … only when the label is longer than two lines).
fn wrap(label: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = vec![String::new()];
    for word in label.split_whitespace() {
        let Some(line) = lines.last_mut() else {
            break;
        };
        if line.is_empty() || line.chars().count() + 1 + word.chars().count() <= width {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        } else {
            lines.push(word.to_string());
        }
    }
    if lines.len() > 2 {
        let rest = lines[1..].join(" ");
        let mut second: String = rest.chars().take(width.saturating_sub(1)).collect();
        second.push('…');
        lines.truncate(1);
        lines.push(second);
    }
    lines
}

/// How a trend chart writes its numbers.
pub struct Axis<'a> {
    /// Put 0 on the axis (drawn darker) and sign the numbers (NPS).
    pub zero: bool,
    /// After each number, e.g. " %".
    pub suffix: &'a str,
    /// The smallest span the axis shows, so a small wobble does not fill the chart.
    pub min_span: f64,
}

impl Axis<'_> {
    fn format(&self, value: f64, decimals: usize) -> String {
        if value.abs() < 0.5 * 10f64.powi(-(decimals as i32)) {
            format!("0{}", self.suffix)
        } else if self.zero {
            format!("{value:+.decimals$}{}", self.suffix)
        } else {
            format!("{value:.decimals$}{}", self.suffix)
        }
    }
}

/// A trend across waves, oldest first: the axis scaled to the values and their
/// intervals (at least `axis.min_span` wide, with 0 on it when `axis.zero` is set, drawn
/// darker), each value written above its point, every wave labelled under the axis.
pub fn trend_svg(points: &[TrendInput<'_>], axis: &Axis<'_>, description: &str) -> Option<String> {
    let known: Vec<f64> = points
        .iter()
        .flat_map(|p| {
            p.value
                .into_iter()
                .chain(p.ci.into_iter().flat_map(|(a, b)| [a, b]))
        })
        .collect();
    if known.is_empty() {
        return None;
    }
    let mut low = known.iter().copied().fold(f64::INFINITY, f64::min);
    let mut high = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if axis.zero {
        low = low.min(0.0);
        high = high.max(0.0);
    }
    if high - low < axis.min_span {
        let grow = (axis.min_span - (high - low)) / 2.0;
        low -= grow;
        high += grow;
        if axis.zero && low > 0.0 {
            high -= low;
            low = 0.0;
        }
    }
    let (low, high, step) = ticks(low, high);
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let n = points.len();
    let (width, height) = (360.0, 210.0);
    let (left, right, top, bottom) = (44.0, 10.0, 22.0, 46.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let x = |i: usize| left + plot_w * (i as f64 + 0.5) / n as f64;
    let y = |v: f64| top + plot_h * (high - v) / (high - low);
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"{}\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">",
        escape(description)
    );
    // Grid and tick labels.
    let mut tick = low;
    while tick <= high + step / 2.0 {
        let ty = y(tick);
        let is_zero = axis.zero && tick.abs() < step / 2.0;
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\" stroke=\"{}\" stroke-width=\"{}\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{MUTED}\">{}</text>",
            width - right,
            if is_zero { INK } else { GRID },
            if is_zero { 1.5 } else { 1.0 },
            left - 6.0,
            ty + 4.0,
            escape(&axis.format(tick, decimals)),
        );
        tick += step;
    }
    // Wave labels, up to two lines each; with many waves every other one.
    let every = if n > 8 { 2 } else { 1 };
    let chars = ((plot_w / n as f64) / 6.5).max(6.0) as usize;
    for (i, p) in points.iter().enumerate() {
        if i % every != 0 && i + 1 != n {
            continue;
        }
        let weight = if p.current {
            " font-weight=\"bold\""
        } else {
            ""
        };
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{INK}\"{weight}>",
            x(i),
            height - bottom + 16.0
        );
        for (line, text) in wrap(p.label, chars * every).iter().enumerate() {
            let _ = write!(
                svg,
                "<tspan x=\"{:.1}\" dy=\"{}\">{}</tspan>",
                x(i),
                if line == 0 { 0 } else { 14 },
                escape(text)
            );
        }
        svg.push_str("</text>");
    }
    // Intervals, the line between neighbouring waves with a value, the points and values.
    for (i, p) in points.iter().enumerate() {
        if let Some((a, b)) = p.ci {
            let _ = write!(
                svg,
                "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{1:.1}\" y2=\"{2:.1}\" stroke=\"{LINE}\" stroke-opacity=\"0.45\" stroke-width=\"6\" stroke-linecap=\"round\"/>",
                x(i),
                y(a),
                y(b)
            );
        }
    }
    let mut path = String::new();
    let mut pen_down = false;
    for (i, p) in points.iter().enumerate() {
        match p.value {
            Some(v) => {
                let _ = write!(
                    path,
                    "{}{:.1} {:.1} ",
                    if pen_down { "L" } else { "M" },
                    x(i),
                    y(v)
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    if !path.is_empty() {
        let _ = write!(
            svg,
            "<path d=\"{}\" fill=\"none\" stroke=\"{LINE}\" stroke-width=\"2\"/>",
            path.trim_end()
        );
    }
    for (i, p) in points.iter().enumerate() {
        let Some(v) = p.value else {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{MUTED}\">–</text>",
                x(i),
                top + plot_h / 2.0
            );
            continue;
        };
        let r = if p.current { 5.0 } else { 3.5 };
        let label_y = match p.ci {
            Some((_, b)) => y(b) - 6.0,
            None => y(v) - 8.0,
        }
        .max(11.0);
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r}\" fill=\"{LINE}\"/>\
             <text x=\"{:.1}\" y=\"{label_y:.1}\" text-anchor=\"middle\" fill=\"{INK}\"{}>{}</text>",
            x(i),
            y(v),
            x(i),
            if p.current { " font-weight=\"bold\"" } else { "" },
            escape(&axis.format(v, 1))
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

/// A small line of `values` (oldest first; `None` leaves a gap), 96 × 28, with the zero
/// line when the values cross it and `zero` is set; `None` without two values to join.
pub fn sparkline_svg(values: &[Option<f64>], zero: bool, description: &str) -> Option<String> {
    let known: Vec<f64> = values.iter().flatten().copied().collect();
    if known.len() < 2 {
        return None;
    }
    let (width, height, pad) = (96.0, 28.0, 4.0);
    let mut low = known.iter().copied().fold(f64::INFINITY, f64::min);
    let mut high = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if high - low < 1e-9 {
        low -= 1.0;
        high += 1.0;
    }
    let step = (width - 2.0 * pad) / (values.len().max(2) - 1) as f64;
    let x = |i: usize| pad + step * i as f64;
    let y = |v: f64| height - pad - (v - low) / (high - low) * (height - 2.0 * pad);
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"{}\" class=\"spark\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">",
        escape(description)
    );
    if zero && low < 0.0 && high > 0.0 {
        let _ = write!(
            svg,
            "<line x1=\"0\" x2=\"{width}\" y1=\"{0:.1}\" y2=\"{0:.1}\" stroke=\"{GRID}\"/>",
            y(0.0)
        );
    }
    let mut path = String::new();
    let mut pen_down = false;
    let mut last = None;
    for (i, value) in values.iter().enumerate() {
        match value {
            Some(v) => {
                let _ = write!(
                    path,
                    "{}{:.1} {:.1} ",
                    if pen_down { "L" } else { "M" },
                    x(i),
                    y(*v)
                );
                pen_down = true;
                last = Some((x(i), y(*v)));
            }
            None => pen_down = false,
        }
    }
    let _ = write!(
        svg,
        "<path d=\"{}\" fill=\"none\" stroke=\"{LINE}\" stroke-width=\"2\"/>",
        path.trim_end()
    );
    if let Some((cx, cy)) = last {
        let _ = write!(
            svg,
            "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"3\" fill=\"{LINE}\"/>"
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

/// NPS as its three parts: one bar split into detractors, passives and promoters (shares
/// of the answers, fractions), each part labelled with its share where it is wide enough.
pub fn nps_split_svg(detractors: f64, passives: f64, promoters: f64, description: &str) -> String {
    let parts = [
        (detractors, "#b3261e", "#fff"),
        (passives, "#d5dbe3", INK),
        (promoters, "#1e6b3a", "#fff"),
    ];
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"{}\" class=\"split\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 300 26\" font-family=\"sans-serif\" font-size=\"12\">",
        escape(description)
    );
    let mut x = 0.0;
    for (share, fill, text) in parts {
        let width = 300.0 * share.clamp(0.0, 1.0);
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"0\" width=\"{width:.1}\" height=\"26\" fill=\"{fill}\"/>"
        );
        if width >= 40.0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"17\" text-anchor=\"middle\" fill=\"{text}\">{:.0} %</text>",
                x + width / 2.0,
                100.0 * share
            );
        }
        x += width;
    }
    svg.push_str("</svg>");
    svg
}

/// The bar of one pain point in the Pareto table: its share (a fraction) as a bar over the
/// width of the cell (0–`max`), its 95 % interval as a line. Decorative: the table cell
/// beside it holds the numbers.
pub fn share_bar_svg(share: f64, ci: (f64, f64), max: f64) -> String {
    let scale = |v: f64| (100.0 * v / max.max(1e-9)).clamp(0.0, 100.0);
    format!(
        "<svg aria-hidden=\"true\" focusable=\"false\" class=\"bar\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 100 14\" preserveAspectRatio=\"none\">\
         <rect x=\"0\" y=\"2\" width=\"{:.2}\" height=\"10\" fill=\"{LINE}\" fill-opacity=\"0.8\"/>\
         <line x1=\"{:.2}\" x2=\"{:.2}\" y1=\"7\" y2=\"7\" stroke=\"{INK}\" stroke-width=\"2\" vector-effect=\"non-scaling-stroke\"/></svg>",
        scale(share),
        scale(ci.0),
        scale(ci.1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_safe(svg: &str) {
        let lower = svg.to_lowercase();
        assert!(!lower.contains("<script"));
        assert!(!lower.contains(" on"), "no event attributes");
        assert!(!lower.contains("style="), "no inline style (CSP)");
        assert!(!lower.contains("javascript:"));
        assert!(!lower.contains("href"));
    }

    #[test]
    fn the_trend_axis_fits_the_data_with_zero_and_full_labels() {
        let points = [
            TrendInput {
                label: "H1 <script>",
                value: Some(-2.0),
                ci: Some((-9.0, 5.0)),
                current: false,
            },
            TrendInput {
                label: "H2 2026 & the long tail of a very long wave title",
                value: None,
                ci: None,
                current: false,
            },
            TrendInput {
                label: "H1 2027",
                value: Some(15.0),
                ci: Some((8.0, 22.0)),
                current: true,
            },
        ];
        let nps = Axis {
            zero: true,
            suffix: "",
            min_span: 20.0,
        };
        let svg = trend_svg(&points, &nps, "NPS \"x\"").unwrap();
        assert_safe(&svg);
        assert!(svg.starts_with("<svg role=\"img\" aria-label=\"NPS &quot;x&quot;\""));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains("H2 2026 &amp;"), "labels kept, wrapped: {svg}");
        // Ticks from −10 to +30 on a step of 10 (the intervals reach −9 and +22): not
        // −100…+100.
        assert!(svg.contains(">-10<") && svg.contains(">+30<"), "{svg}");
        assert!(!svg.contains(">-20<") && !svg.contains(">+40<"), "{svg}");
        assert!(!svg.contains(">+100<"));
        assert!(
            svg.contains(&format!("stroke=\"{INK}\" stroke-width=\"1.5\"")),
            "zero line"
        );
        assert!(trend_svg(&points[1..2], &nps, "x").is_none());
        assert!(svg.contains(">+15.0<"), "values with one decimal");
    }

    #[test]
    fn sparklines_and_bars_are_plain_svg() {
        let spark = sparkline_svg(&[Some(-3.0), None, Some(4.0)], true, "a < b").unwrap();
        assert_safe(&spark);
        assert!(spark.contains("a &lt; b"));
        assert!(sparkline_svg(&[Some(1.0)], true, "x").is_none());
        let split = nps_split_svg(0.3, 0.2, 0.5, "NPS <parts>");
        assert_safe(&split);
        assert!(split.contains("50 %") && split.contains("NPS &lt;parts&gt;"));
        let bar = share_bar_svg(0.25, (0.2, 0.3), 0.5);
        assert_safe(&bar);
        assert!(bar.contains("width=\"50.00\""));
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(ticks(-2.0, 15.0), (-5.0, 15.0, 5.0));
        let (low, high, step) = ticks(0.55, 0.62);
        assert!(
            (low - 0.54).abs() < 1e-9 && (high - 0.62).abs() < 1e-9 && (step - 0.02).abs() < 1e-9
        );
        assert_eq!(wrap("Setting up a new supplier took too long", 14).len(), 2);
    }
}
