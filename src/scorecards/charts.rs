//! The scorecards' small SVG charts, written by hand (a few lines and dots need no plotting
//! library): a trend sparkline per measure with its target as a dashed line, and the
//! organisation's NPS-against-speed scatter. Pure; texts are escaped; no script.

use std::fmt::Write;

use super::card::SpeedPoint;

const INK: &str = "#1b2430";
const LINE: &str = "#0b5cab";
const TARGET: &str = "#6b7785";
/// Colours per unit of the scatter (colour-blind-safe Okabe–Ito palette), repeated.
const UNIT_COLOURS: [&str; 8] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442",
];

/// Escapes a text for an SVG attribute or element.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A 160 × 44 sparkline of `values` (oldest first; `None` leaves a gap) with the target
/// as a dashed line; `None` when fewer than one value exists.
pub fn sparkline_svg(
    values: &[Option<f64>],
    target: Option<f64>,
    description: &str,
) -> Option<String> {
    let known: Vec<f64> = values.iter().flatten().copied().collect();
    if known.is_empty() {
        return None;
    }
    let (width, height, pad) = (160.0, 44.0, 6.0);
    let mut low = known.iter().copied().fold(f64::INFINITY, f64::min);
    let mut high = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if let Some(t) = target {
        low = low.min(t);
        high = high.max(t);
    }
    if (high - low).abs() < 1e-9 {
        low -= 1.0;
        high += 1.0;
    }
    let step = if values.len() > 1 {
        (width - 2.0 * pad) / (values.len() - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| pad + step * i as f64;
    let y = |v: f64| height - pad - (v - low) / (high - low) * (height - 2.0 * pad);
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"{}\" class=\"sparkline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">",
        escape(description)
    );
    if let Some(t) = target {
        let _ = write!(
            svg,
            "<line x1=\"{pad}\" x2=\"{}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\" stroke=\"{TARGET}\" stroke-dasharray=\"3 3\"/>",
            width - pad,
            ty = y(t)
        );
    }
    // Line segments between neighbouring known values.
    let mut path = String::new();
    let mut pen_down = false;
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
            }
            None => pen_down = false,
        }
    }
    let _ = write!(
        svg,
        "<path d=\"{}\" fill=\"none\" stroke=\"{LINE}\" stroke-width=\"2\"/>",
        path.trim_end()
    );
    for (i, value) in values.iter().enumerate() {
        if let Some(v) = value {
            let last = i + 1 == values.len();
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{}\" fill=\"{}\"/>",
                x(i),
                y(*v),
                if last { 3.5 } else { 2.5 },
                if last { INK } else { LINE }
            );
        }
    }
    svg.push_str("</svg>");
    Some(svg)
}

/// NPS (y, −100…100) against the share of requests fulfilled within target (x, 0–100 %),
/// one dot per unit and half-year, each unit's half-years joined oldest to newest.
pub fn speed_svg(points: &[SpeedPoint], description: &str) -> Option<String> {
    if points.is_empty() {
        return None;
    }
    let (width, height) = (720.0, 380.0);
    let (left, right, top, bottom) = (56.0, 210.0, 16.0, 44.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    // Axes scaled to the data in steps of 10 (x, %) and 25 (y, NPS), the NPS zero line
    // always inside.
    let min_x = points.iter().map(|p| p.within_target).fold(100.0, f64::min);
    let x_low = ((min_x / 10.0).floor() * 10.0).clamp(0.0, 90.0);
    let min_y = points.iter().map(|p| p.nps).fold(0.0, f64::min);
    let max_y = points.iter().map(|p| p.nps).fold(0.0, f64::max);
    let y_low = ((min_y / 25.0).floor() * 25.0).max(-100.0);
    let y_high = ((max_y / 25.0).ceil() * 25.0).min(100.0).max(y_low + 25.0);
    let x = |share: f64| left + (share.clamp(x_low, 100.0) - x_low) / (100.0 - x_low) * plot_w;
    let y = |nps: f64| top + (y_high - nps.clamp(y_low, y_high)) / (y_high - y_low) * plot_h;
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"{}\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"13\">",
        escape(description)
    );
    // Axes, grid and labels.
    let y_ticks: Vec<f64> = (0..)
        .map(|i| y_low + 25.0 * f64::from(i))
        .take_while(|t| *t <= y_high + 1e-9)
        .collect();
    for tick in y_ticks {
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"{INK}\" stroke-opacity=\"{}\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{INK}\">{tick}</text>",
            left + plot_w,
            if tick == 0.0 { 0.6 } else { 0.12 },
            left - 6.0,
            y(tick) + 4.0,
            yy = y(tick),
        );
    }
    let x_ticks: Vec<f64> = (0..)
        .map(|i| x_low + 10.0 * f64::from(i))
        .take_while(|t| *t <= 100.0 + 1e-9)
        .collect();
    for tick in x_ticks {
        let _ = write!(
            svg,
            "<line x1=\"{xx:.1}\" x2=\"{xx:.1}\" y1=\"{top}\" y2=\"{}\" stroke=\"{INK}\" stroke-opacity=\"0.12\"/><text x=\"{xx:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"{INK}\">{tick} %</text>",
            top + plot_h,
            top + plot_h + 18.0,
            xx = x(tick),
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"{INK}\">Requests fulfilled within target</text><text transform=\"translate(14 {:.1}) rotate(-90)\" text-anchor=\"middle\" fill=\"{INK}\">NPS</text>",
        left + plot_w / 2.0,
        height - 6.0,
        top + plot_h / 2.0
    );
    let mut units: Vec<&str> = points.iter().map(|p| p.unit.as_str()).collect();
    units.dedup();
    for (index, unit) in units.iter().enumerate() {
        let colour = UNIT_COLOURS[index % UNIT_COLOURS.len()];
        let mut mine: Vec<&SpeedPoint> = points.iter().filter(|p| p.unit == *unit).collect();
        mine.sort_by_key(|p| p.period);
        let path: Vec<String> = mine
            .iter()
            .map(|p| format!("{:.1} {:.1}", x(p.within_target), y(p.nps)))
            .collect();
        let _ = write!(
            svg,
            "<path d=\"M{}\" fill=\"none\" stroke=\"{colour}\" stroke-opacity=\"0.6\"/>",
            path.join(" L")
        );
        for (i, p) in mine.iter().enumerate() {
            let last = i + 1 == mine.len();
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{}\" fill=\"{}\" stroke=\"{colour}\" stroke-width=\"2\"><title>{}, {}: NPS {:.0}, {:.0} % within target</title></circle>",
                x(p.within_target),
                y(p.nps),
                if last { 5 } else { 3 },
                if last { colour } else { "#ffffff" },
                escape(&p.unit),
                p.period,
                p.nps,
                p.within_target
            );
        }
        let ly = top + 14.0 + 20.0 * index as f64;
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{:.1}\" fill=\"{INK}\">{}</text>",
            left + plot_w + 16.0,
            ly - 4.0,
            left + plot_w + 26.0,
            ly,
            escape(unit)
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_leaves_gaps_and_escapes() {
        assert_eq!(sparkline_svg(&[None, None], Some(1.0), "x"), None);
        let svg = sparkline_svg(
            &[Some(1.0), None, Some(3.0), Some(2.0)],
            Some(2.5),
            "R&D <NPS>",
        )
        .unwrap();
        assert!(svg.contains("aria-label=\"R&amp;D &lt;NPS&gt;\""));
        // Two pen-downs: a gap after the first value.
        assert_eq!(svg.matches('M').count(), 1 + 1);
        assert!(svg.contains("stroke-dasharray"));
    }
}
