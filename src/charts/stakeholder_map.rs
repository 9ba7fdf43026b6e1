//! The stakeholder map as SVG: importance across, satisfaction up, split into four labelled
//! quadrants, each group a numbered dot (the table beside the chart names the numbers, for
//! screen readers too) with an arrow from its place in the previous wave. Sized so that its
//! text stays readable when the chart is 390 px wide.

use std::fmt::Write;

use super::{escape, ticks, GRID, INK, LINE, MUTED};

/// One group on the map.
pub struct MapDot<'a> {
    /// The number printed in the dot (and in the table beside it).
    pub number: usize,
    pub label: &'a str,
    pub importance: f64,
    pub satisfaction: f64,
    pub previous: Option<(f64, f64)>,
    /// Important and unhappy: drawn in the "act first" colour.
    pub act_first: bool,
}

/// The axes and the lines between the quadrants.
pub struct MapAxes<'a> {
    pub importance_label: &'a str,
    pub satisfaction_label: &'a str,
    pub importance_split: Option<f64>,
    pub satisfaction_split: Option<f64>,
}

const ACT: &str = "#b3261e";
const QUADRANT_FILL: &str = "#fbeaea";

/// `1200000` → `1.2M`, `35000` → `35k`, `3.456` → `3.5`.
pub fn compact_number(value: f64) -> String {
    let abs = value.abs();
    if abs >= 1e9 {
        format!("{:.1}bn", value / 1e9)
    } else if abs >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if abs >= 1e4 {
        format!("{:.0}k", value / 1e3)
    } else if abs >= 100.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// The map; `None` without a group to place.
pub fn stakeholder_map_svg(
    dots: &[MapDot<'_>],
    axes: &MapAxes<'_>,
    description: &str,
) -> Option<String> {
    if dots.is_empty() {
        return None;
    }
    let xs: Vec<f64> = dots
        .iter()
        .flat_map(|d| std::iter::once(d.importance).chain(d.previous.map(|p| p.0)))
        .chain(axes.importance_split)
        .collect();
    let ys: Vec<f64> = dots
        .iter()
        .flat_map(|d| std::iter::once(d.satisfaction).chain(d.previous.map(|p| p.1)))
        .chain(axes.satisfaction_split)
        .collect();
    let range = |values: &[f64], min_span: f64| {
        let mut low = values.iter().copied().fold(f64::INFINITY, f64::min);
        let mut high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let span = (high - low).max(min_span);
        low -= span * 0.12;
        high += span * 0.12;
        ticks(low, high)
    };
    let (x_low, x_high, x_step) = range(
        &xs,
        xs.iter().fold(0.0, |m: f64, v| m.max(v.abs())) * 0.2 + 1e-6,
    );
    let (y_low, y_high, y_step) = range(&ys, 10.0);
    let (width, height) = (360.0, 330.0);
    let (left, right, top, bottom) = (42.0, 22.0, 12.0, 44.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let x = |v: f64| left + plot_w * (v - x_low) / (x_high - x_low);
    let y = |v: f64| top + plot_h * (y_high - v) / (y_high - y_low);
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"{}\" class=\"chart map\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"13\">\
         <defs><marker id=\"map-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto-start-reverse\"><path d=\"M0 0 L10 5 L0 10 z\" fill=\"{MUTED}\"/></marker></defs>",
        escape(description)
    );
    // The "act first" quadrant, shaded.
    if let (Some(sx), Some(sy)) = (axes.importance_split, axes.satisfaction_split) {
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{QUADRANT_FILL}\"/>",
            x(sx),
            y(sy),
            (width - right - x(sx)).max(0.0),
            (top + plot_h - y(sy)).max(0.0)
        );
    }
    // Grid and tick labels.
    let mut tick = y_low;
    while tick <= y_high + y_step / 2.0 {
        let ty = y(tick);
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\" stroke=\"{GRID}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{MUTED}\">{}</text>",
            width - right,
            left - 5.0,
            ty + 4.0,
            escape(&compact_number(tick))
        );
        tick += y_step;
    }
    let mut tick = x_low;
    let mut shown = 0;
    while tick <= x_high + x_step / 2.0 {
        // At most about five labels across.
        if shown % 2 == 0 || (x_high - x_low) / x_step <= 6.0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{MUTED}\">{}</text>",
                x(tick),
                top + plot_h + 15.0,
                escape(&compact_number(tick))
            );
        }
        let _ = write!(
            svg,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{top}\" y2=\"{1:.1}\" stroke=\"{GRID}\"/>",
            x(tick),
            top + plot_h
        );
        shown += 1;
        tick += x_step;
    }
    // The splits.
    if let Some(sx) = axes.importance_split {
        let _ = write!(
            svg,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{top}\" y2=\"{1:.1}\" stroke=\"{INK}\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>",
            x(sx),
            top + plot_h
        );
    }
    if let Some(sy) = axes.satisfaction_split {
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{1:.1}\" y2=\"{1:.1}\" stroke=\"{INK}\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>",
            width - right,
            y(sy)
        );
    }
    // Quadrant names in the corners.
    let corners = [
        (
            left + 4.0,
            top + 14.0,
            "start",
            "Less important, happy",
            MUTED,
        ),
        (
            width - right - 4.0,
            top + 14.0,
            "end",
            "Important, happy",
            MUTED,
        ),
        (
            left + 4.0,
            top + plot_h - 6.0,
            "start",
            "Less important, unhappy",
            MUTED,
        ),
        (
            width - right - 4.0,
            top + plot_h - 6.0,
            "end",
            "Act first",
            ACT,
        ),
    ];
    for (cx, cy, anchor, text, fill) in corners {
        let _ = write!(
            svg,
            "<text x=\"{cx:.1}\" y=\"{cy:.1}\" text-anchor=\"{anchor}\" fill=\"{fill}\" font-weight=\"bold\">{}</text>",
            escape(text)
        );
    }
    // Axis titles.
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{INK}\">{} →</text>\
         <text transform=\"translate(11 {:.1}) rotate(-90)\" text-anchor=\"middle\" fill=\"{INK}\">{} →</text>",
        left + plot_w / 2.0,
        height - 8.0,
        escape(axes.importance_label),
        top + plot_h / 2.0,
        escape(axes.satisfaction_label)
    );
    // Arrows from the previous wave, then the dots on top.
    for dot in dots {
        if let Some((px, py)) = dot.previous {
            let (x1, y1, x2, y2) = (x(px), y(py), x(dot.importance), y(dot.satisfaction));
            let length = ((x2 - x1).powi(2) + (y2 - y1).powi(2)).sqrt();
            if length > 12.0 {
                // Stop at the dot's edge.
                let (ex, ey) = (
                    x2 - (x2 - x1) * 10.0 / length,
                    y2 - (y2 - y1) * 10.0 / length,
                );
                let _ = write!(
                    svg,
                    "<circle cx=\"{x1:.1}\" cy=\"{y1:.1}\" r=\"3\" fill=\"none\" stroke=\"{MUTED}\"/>\
                     <line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{ex:.1}\" y2=\"{ey:.1}\" stroke=\"{MUTED}\" stroke-width=\"1.5\" marker-end=\"url(#map-arrow)\"/>"
                );
            }
        }
    }
    for dot in dots {
        let fill = if dot.act_first { ACT } else { LINE };
        let _ = write!(
            svg,
            "<g><title>{}</title><circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"9\" fill=\"{fill}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#fff\" font-weight=\"bold\" font-size=\"11\">{}</text></g>",
            escape(dot.label),
            x(dot.importance),
            y(dot.satisfaction),
            x(dot.importance),
            y(dot.satisfaction) + 4.0,
            dot.number
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_places_numbered_dots_with_arrows_and_escapes() {
        let dots = [
            MapDot {
                number: 1,
                label: "IT <b>",
                importance: 4.2,
                satisfaction: -12.0,
                previous: Some((4.0, 8.0)),
                act_first: true,
            },
            MapDot {
                number: 2,
                label: "Legal",
                importance: 2.0,
                satisfaction: 30.0,
                previous: None,
                act_first: false,
            },
        ];
        let axes = MapAxes {
            importance_label: "Influence & reach",
            satisfaction_label: "NPS",
            importance_split: Some(3.1),
            satisfaction_split: Some(10.0),
        };
        let svg = stakeholder_map_svg(&dots, &axes, "Map <x>").unwrap();
        assert!(svg.contains("aria-label=\"Map &lt;x&gt;\""));
        assert!(svg.contains("<title>IT &lt;b&gt;</title>"));
        assert!(svg.contains("Influence &amp; reach"));
        assert!(svg.contains("Act first"));
        assert_eq!(svg.matches("marker-end").count(), 1, "one arrow");
        assert!(!svg.to_lowercase().contains("style="));
        assert!(stakeholder_map_svg(&[], &axes, "x").is_none());
        assert_eq!(compact_number(1_234_567.0), "1.2M");
        assert_eq!(compact_number(35_000.0), "35k");
        assert_eq!(compact_number(3.45), "3.5");
    }
}
