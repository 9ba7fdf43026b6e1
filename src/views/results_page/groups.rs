//! The groups section of the results page: the heatmap shaded by each group's difference
//! from the whole wave (diverging scale, legend, each cell's change) and each group's NPS
//! across waves.

use super::*;

#[derive(Debug, Serialize)]
pub struct Heatmap {
    pub attribute: String,
    pub label: String,
    pub by_options: Vec<ByOption>,
    pub columns: Vec<String>,
    /// Columns + the group's name and n.
    pub colspan: usize,
    pub whole: Vec<String>,
    pub rows: Vec<HeatRow>,
    pub legend: Vec<LegendItem>,
    /// Each shown group's NPS in every wave of the trend.
    pub trend: Option<GroupTrend>,
}

#[derive(Debug, Serialize)]
pub struct ByOption {
    pub attribute: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Debug, Serialize)]
pub struct HeatRow {
    pub value: String,
    pub shown: bool,
    pub responses: u64,
    pub hidden_text: String,
    pub cells: Vec<HeatCell>,
}

#[derive(Debug, Serialize)]
pub struct HeatCell {
    pub shown: bool,
    pub text: String,
    /// `heat-d-3` … `heat-d3`: the step of the difference from the whole wave.
    pub class: &'static str,
    /// "0.21 above the whole wave", for screen readers and print.
    pub versus: String,
    pub change: Option<ChangeView>,
    pub hidden_text: String,
}

#[derive(Debug, Serialize)]
pub struct LegendItem {
    pub class: &'static str,
    pub label: &'static str,
}

#[derive(Debug, Serialize)]
pub struct GroupTrend {
    pub waves: Vec<String>,
    pub rows: Vec<GroupTrendRow>,
}

#[derive(Debug, Serialize)]
pub struct GroupTrendRow {
    pub value: String,
    pub values: Vec<String>,
    pub sparkline: Option<String>,
}

/// The step of a difference from the whole wave, on a diverging scale: ±1 from `step`,
/// ±2 from twice it, ±3 from four times it.
fn heat_class(diff: f64, step: f64) -> &'static str {
    let steps = diff.abs() / step;
    match (diff >= 0.0, steps) {
        (_, s) if s < 1.0 => "heat-d0",
        (true, s) if s < 2.0 => "heat-d1",
        (true, s) if s < 4.0 => "heat-d2",
        (true, _) => "heat-d3",
        (false, s) if s < 2.0 => "heat-d-1",
        (false, s) if s < 4.0 => "heat-d-2",
        (false, _) => "heat-d-3",
    }
}

fn versus(diff: f64, measure: Measure) -> String {
    let size = match measure {
        Measure::Nps => format!("{:.1} points", diff.abs()),
        Measure::Share | Measure::PainPoint => {
            format!("{:.1} percentage points", 100.0 * diff.abs())
        }
        Measure::Mean => format!("{:.2}", diff.abs()),
    };
    if diff.abs() < 1e-9 {
        "the same as the whole wave".into()
    } else if diff > 0.0 {
        format!("{size} above the whole wave")
    } else {
        format!("{size} below the whole wave")
    }
}

const LEGEND: [LegendItem; 7] = [
    LegendItem {
        class: "heat-d-3",
        label: "far below",
    },
    LegendItem {
        class: "heat-d-2",
        label: "below",
    },
    LegendItem {
        class: "heat-d-1",
        label: "a little below",
    },
    LegendItem {
        class: "heat-d0",
        label: "about the same",
    },
    LegendItem {
        class: "heat-d1",
        label: "a little above",
    },
    LegendItem {
        class: "heat-d2",
        label: "above",
    },
    LegendItem {
        class: "heat-d3",
        label: "far above",
    },
];

pub(super) fn heatmap(results: &WaveResults, segment: &SegmentBreakdown) -> Heatmap {
    let k = results.anonymity_k;
    let why = |hidden: Option<Hidden>| export::hidden_note(k, hidden);
    let mut columns = vec!["NPS".to_string(), "CSAT".to_string()];
    columns.extend(results.dimensions.iter().map(|d| d.label.clone()));
    let whole_nps = results.nps.as_ref().map(|n| n.score);
    let whole_csat = results.csat.as_ref().map(|c| c.top2box);
    let whole_means: Vec<Option<f64>> = results
        .dimensions
        .iter()
        .map(|d| d.figures.as_ref().map(|f| f.mean))
        .collect();
    let mut whole = vec![
        whole_nps.map(points).unwrap_or_else(|| "—".into()),
        whole_csat.map(pct).unwrap_or_else(|| "—".into()),
    ];
    whole.extend(
        whole_means
            .iter()
            .map(|m| m.map(mean).unwrap_or_else(|| "—".into())),
    );
    let cell = |value: Option<f64>,
                whole: Option<f64>,
                measure: Measure,
                step: f64,
                change: Option<ChangeView>,
                hidden: Option<Hidden>| match value {
        Some(v) => HeatCell {
            shown: true,
            text: measure.value(v),
            class: whole.map_or("heat-d0", |w| heat_class(v - w, step)),
            versus: whole.map(|w| versus(v - w, measure)).unwrap_or_default(),
            change,
            hidden_text: String::new(),
        },
        None => HeatCell {
            shown: false,
            text: String::new(),
            class: "",
            versus: String::new(),
            change: None,
            hidden_text: why(hidden.or(Some(Hidden::FewerAnswers))),
        },
    };
    let rows = segment
        .groups
        .iter()
        .map(|g| match &g.figures {
            Some(f) => {
                let mut cells = vec![
                    cell(
                        f.nps,
                        whole_nps,
                        Measure::Nps,
                        5.0,
                        f.nps_figures
                            .as_ref()
                            .and_then(|n| change_view(n.change.as_ref(), Measure::Nps)),
                        f.nps_hidden,
                    ),
                    cell(
                        f.csat.as_ref().map(|c| c.top2box),
                        whole_csat,
                        Measure::Share,
                        0.03,
                        f.csat
                            .as_ref()
                            .and_then(|c| change_view(c.change.as_ref(), Measure::Share)),
                        f.csat_hidden,
                    ),
                ];
                for (i, whole) in whole_means.iter().enumerate() {
                    let figures = f.dimensions.get(i).and_then(Option::as_ref);
                    cells.push(cell(
                        f.dimension_means.get(i).copied().flatten(),
                        *whole,
                        Measure::Mean,
                        0.1,
                        figures.and_then(|d| change_view(d.change.as_ref(), Measure::Mean)),
                        f.dimension_hidden.get(i).copied().flatten(),
                    ));
                }
                HeatRow {
                    value: g.value.clone(),
                    shown: true,
                    responses: f.responses,
                    hidden_text: String::new(),
                    cells,
                }
            }
            None => HeatRow {
                value: g.value.clone(),
                shown: false,
                responses: 0,
                hidden_text: why(g.hidden),
                cells: Vec::new(),
            },
        })
        .collect();
    let trend = {
        let waves: Vec<String> = results.trend.iter().map(|p| p.title.clone()).collect();
        let rows: Vec<GroupTrendRow> = segment
            .groups
            .iter()
            .filter(|g| !g.trend.is_empty())
            .map(|g| {
                let values: Vec<Option<f64>> = results
                    .trend
                    .iter()
                    .map(|p| {
                        g.trend
                            .iter()
                            .find(|q| q.wave_id == p.wave_id)
                            .and_then(|q| q.figures.as_ref())
                            .and_then(|f| f.nps)
                    })
                    .collect();
                GroupTrendRow {
                    value: g.value.clone(),
                    sparkline: charts::sparkline_svg(
                        &values,
                        true,
                        &format!("NPS of {} {} per wave", segment.label, g.value),
                    ),
                    values: values
                        .iter()
                        .map(|v| v.map(points).unwrap_or_else(|| "—".into()))
                        .collect(),
                }
            })
            .collect();
        (waves.len() > 1 && !rows.is_empty()).then_some(GroupTrend { waves, rows })
    };
    Heatmap {
        attribute: segment.attribute.clone(),
        label: segment.label.clone(),
        by_options: results
            .segments
            .iter()
            .map(|s| ByOption {
                attribute: s.attribute.clone(),
                label: s.label.clone(),
                selected: s.attribute == segment.attribute,
            })
            .collect(),
        colspan: columns.len(),
        columns,
        whole,
        rows,
        legend: LEGEND.into_iter().collect(),
        trend,
    }
}

#[cfg(test)]
mod tests {
    use super::heat_class;

    #[test]
    fn the_heatmap_diverges_from_the_whole_wave() {
        assert_eq!(heat_class(0.05, 0.1), "heat-d0");
        assert_eq!(heat_class(-0.05, 0.1), "heat-d0");
        assert_eq!(heat_class(0.15, 0.1), "heat-d1");
        assert_eq!(heat_class(-0.3, 0.1), "heat-d-2");
        assert_eq!(heat_class(0.5, 0.1), "heat-d3");
        assert_eq!(heat_class(-12.0, 5.0), "heat-d-2");
    }
}
