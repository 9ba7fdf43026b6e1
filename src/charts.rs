//! Server-rendered SVG charts of the results page, drawn with `plotters`' SVG backend: no
//! font files (text is emitted as SVG `<text>`, measured by plotters' naive metrics), no
//! script, no event attributes — the SVG is embedded inline and the page works without
//! JavaScript and prints. Pure functions of the figures they draw; `None` when there is
//! nothing to draw.

use plotters::prelude::*;

/// One wave of the trend chart: label, NPS (points) with its interval, CSAT (fraction).
pub struct TrendInput<'a> {
    pub label: &'a str,
    pub nps: Option<f64>,
    pub nps_ci: Option<(f64, f64)>,
    pub csat: Option<f64>,
}

/// One bar of the pain-point Pareto chart: label, share (fraction) and its interval.
pub struct ParetoInput<'a> {
    pub label: &'a str,
    pub count: u64,
    pub share: f64,
    pub ci: (f64, f64),
}

const NPS_COLOUR: RGBColor = RGBColor(11, 92, 171);
const CSAT_COLOUR: RGBColor = RGBColor(30, 107, 58);
const BAR_COLOUR: RGBColor = RGBColor(11, 92, 171);
const CUMULATIVE_COLOUR: RGBColor = RGBColor(179, 38, 30);
const INK: RGBColor = RGBColor(27, 36, 48);

/// NPS (points, −100…100, with its 95 % interval as a whisker) and CSAT (% top-2-box)
/// across the waves of a survey, oldest first. Waves without figures leave a gap.
pub fn trend_svg(points: &[TrendInput<'_>], description: &str) -> Option<String> {
    if points.iter().all(|p| p.nps.is_none() && p.csat.is_none()) {
        return None;
    }
    let mut svg = String::new();
    draw_trend(&mut svg, points).ok()?;
    Some(finish(svg, description))
}

fn draw_trend(svg: &mut String, points: &[TrendInput<'_>]) -> Result<(), String> {
    let n = points.len();
    let root = SVGBackend::with_string(svg, (720, 320)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d((0..n).into_segmented(), -100f64..100f64)
        .map_err(|e| e.to_string())?;
    let labels: Vec<String> = points.iter().map(|p| shorten(p.label, 18)).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.max(1))
        .x_label_formatter(&|x| match x {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                labels.get(*i).cloned().unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        })
        .y_desc("NPS (points) · CSAT (%)")
        .label_style(("sans-serif", 13).into_font().color(&INK))
        .draw()
        .map_err(|e| e.to_string())?;
    // The zero line.
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(SegmentValue::Exact(0), 0.0), (SegmentValue::Last, 0.0)],
            INK.mix(0.4),
        )))
        .map_err(|e| e.to_string())?;
    for (series, colour, name) in [
        (
            points.iter().map(|p| p.nps).collect::<Vec<_>>(),
            NPS_COLOUR,
            "NPS",
        ),
        (
            points
                .iter()
                .map(|p| p.csat.map(|c| 100.0 * c))
                .collect::<Vec<_>>(),
            CSAT_COLOUR,
            "CSAT %",
        ),
    ] {
        // A line per run of consecutive waves with a figure (a hidden wave breaks it).
        let mut runs: Vec<Vec<(SegmentValue<usize>, f64)>> = vec![Vec::new()];
        for (i, value) in series.iter().enumerate() {
            match value {
                Some(v) => {
                    if let Some(run) = runs.last_mut() {
                        run.push((SegmentValue::CenterOf(i), *v));
                    }
                }
                None => runs.push(Vec::new()),
            }
        }
        for run in runs.into_iter().filter(|r| r.len() > 1) {
            chart
                .draw_series(LineSeries::new(run, colour.stroke_width(2)))
                .map_err(|e| e.to_string())?;
        }
        chart
            .draw_series(series.iter().enumerate().filter_map(|(i, v)| {
                v.map(|v| Circle::new((SegmentValue::CenterOf(i), v), 4, colour.filled()))
            }))
            .map_err(|e| e.to_string())?
            .label(name)
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, colour.filled()));
    }
    chart
        .draw_series(points.iter().enumerate().filter_map(|(i, p)| {
            p.nps_ci.map(|(low, high)| {
                PathElement::new(
                    vec![
                        (SegmentValue::CenterOf(i), low),
                        (SegmentValue::CenterOf(i), high),
                    ],
                    NPS_COLOUR.stroke_width(1),
                )
            })
        }))
        .map_err(|e| e.to_string())?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(INK.mix(0.4))
        .label_font(("sans-serif", 13).into_font().color(&INK))
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

/// Pain points as a Pareto chart: horizontal bars of the share of respondents naming each
/// option (most first, with its 95 % interval), and the cumulative share of all mentions.
pub fn pareto_svg(bars: &[ParetoInput<'_>], description: &str) -> Option<String> {
    if bars.is_empty() {
        return None;
    }
    let mut svg = String::new();
    draw_pareto(&mut svg, bars).ok()?;
    Some(finish(svg, description))
}

fn draw_pareto(svg: &mut String, bars: &[ParetoInput<'_>]) -> Result<(), String> {
    let n = bars.len();
    let height = 60 + 28 * u32::try_from(n).unwrap_or(40).min(40);
    let root = SVGBackend::with_string(svg, (720, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(230)
        .build_cartesian_2d(0f64..100f64, (0..n).into_segmented())
        .map_err(|e| e.to_string())?;
    // Most frequent at the top: index 0 is drawn at the top row.
    let labels: Vec<String> = bars.iter().map(|b| shorten(b.label, 32)).collect();
    let row = |i: usize| n - 1 - i;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|y| match y {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => labels
                .get(n.saturating_sub(1 + *i))
                .cloned()
                .unwrap_or_default(),
            SegmentValue::Last => String::new(),
        })
        .x_desc("% of respondents (bars) · cumulative % of mentions (line)")
        .label_style(("sans-serif", 13).into_font().color(&INK))
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(row(i))),
                    (100.0 * b.share, SegmentValue::Exact(row(i) + 1)),
                ],
                BAR_COLOUR.mix(0.8).filled(),
            );
            bar.set_margin(5, 5, 0, 0);
            bar
        }))
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            PathElement::new(
                vec![
                    (100.0 * b.ci.0, SegmentValue::CenterOf(row(i))),
                    (100.0 * b.ci.1, SegmentValue::CenterOf(row(i))),
                ],
                INK.stroke_width(2),
            )
        }))
        .map_err(|e| e.to_string())?;
    let mentions: u64 = bars.iter().map(|b| b.count).sum();
    if mentions > 0 {
        let mut running = 0u64;
        let cumulative: Vec<(f64, SegmentValue<usize>)> = bars
            .iter()
            .enumerate()
            .map(|(i, b)| {
                running += b.count;
                (
                    100.0 * running as f64 / mentions as f64,
                    SegmentValue::CenterOf(row(i)),
                )
            })
            .collect();
        chart
            .draw_series(LineSeries::new(
                cumulative.clone(),
                CUMULATIVE_COLOUR.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(
                cumulative
                    .into_iter()
                    .map(|p| Circle::new(p, 3, CUMULATIVE_COLOUR.filled())),
            )
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

/// Makes the SVG scale with the page and describes it for screen readers.
fn finish(svg: String, description: &str) -> String {
    let label = description
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    svg.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{label}\" class=\"chart\" "),
        1,
    )
}

fn shorten(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_string()
    } else {
        let mut short: String = label.chars().take(max.saturating_sub(1)).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_safe(svg: &str) {
        assert!(svg.starts_with("<svg role=\"img\""), "{svg}");
        let lower = svg.to_lowercase();
        assert!(!lower.contains("<script"));
        assert!(!lower.contains(" on"), "no event attributes");
        assert!(!lower.contains("javascript:"));
        assert!(!lower.contains("href"));
    }

    #[test]
    fn trend_and_pareto_are_plain_svg_with_escaped_text() {
        let trend = trend_svg(
            &[
                TrendInput {
                    label: "H1 <script>",
                    nps: Some(10.0),
                    nps_ci: Some((-5.0, 25.0)),
                    csat: Some(0.6),
                },
                TrendInput {
                    label: "H2",
                    nps: None,
                    nps_ci: None,
                    csat: None,
                },
                TrendInput {
                    label: "H1 & more",
                    nps: Some(-20.0),
                    nps_ci: Some((-40.0, 0.0)),
                    csat: Some(0.4),
                },
            ],
            "Trend \"x\"",
        )
        .unwrap();
        assert_safe(&trend);
        assert!(trend.contains("&lt;script&gt;") || !trend.contains("script"));
        let pareto = pareto_svg(
            &[
                ParetoInput {
                    label: "Approval delays",
                    count: 12,
                    share: 0.4,
                    ci: (0.25, 0.57),
                },
                ParetoInput {
                    label: "R&D <b>",
                    count: 3,
                    share: 0.1,
                    ci: (0.03, 0.26),
                },
            ],
            "Pareto",
        )
        .unwrap();
        assert_safe(&pareto);
        assert!(pareto.contains("R&amp;D"), "{pareto}");
        assert!(pareto_svg(&[], "x").is_none());
    }
}
