//! The customer-of-choice mirror page's view model (`templates/pages/admin/mirror.html.hbs`):
//! the figures of [`Mirror`] as the page writes them — each pair's two sides and the gap in
//! words ("suppliers 0.62 lower"), NPS both ways, the customer-of-choice index, the supplier
//! groups — and the links to the exports and to both stakeholder maps.

use serde::Serialize;

use super::figures::{mean, pct, points};
use crate::export::hidden_note;
use crate::results::mirror::{Mirror, PairSide};
use crate::results::MIN_MEAN_CHANGE;

#[derive(Debug, Serialize)]
pub struct MirrorPage {
    pub half_year: String,
    pub half_year_label: String,
    pub previous_label: Option<String>,
    pub half_years: Vec<Choice>,
    pub internal: SideView,
    pub suppliers: SideView,
    pub pairs: Vec<PairView>,
    pub customer_of_choice: Option<IndexView>,
    pub breakdowns: Vec<BreakdownView>,
    pub downloads: Downloads,
    /// The supplier wave's k (groups below it are not listed).
    pub suppliers_k: u32,
    /// Columns of a breakdown table.
    pub group_columns: usize,
}

#[derive(Debug, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Debug, Serialize)]
pub struct SideView {
    pub wave_id: String,
    pub wave_title: String,
    pub survey_title: String,
    pub responses: u64,
    pub invited: u64,
    pub nps: Option<String>,
    pub nps_ci: Option<String>,
    pub nps_change: Option<String>,
    pub nps_hidden: Option<String>,
    pub map_href: String,
}

#[derive(Debug, Serialize)]
pub struct PairView {
    pub label: String,
    pub internal: SideFigures,
    pub suppliers: SideFigures,
    pub gap: Option<String>,
    /// "suppliers lower", "suppliers higher" or "about the same".
    pub gap_words: Option<String>,
    /// `gap-low` when suppliers see it clearly worse, `gap-high` when clearly better.
    pub gap_class: &'static str,
    pub top2box_gap: Option<String>,
    pub gap_change: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SideFigures {
    pub mean: Option<String>,
    pub ci: Option<String>,
    pub top2box: Option<String>,
    pub n: Option<u64>,
    pub hidden: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct IndexView {
    pub index: Option<String>,
    pub ci: Option<String>,
    pub answers: Option<u64>,
    pub top2_answers: Option<u64>,
    pub change: Option<String>,
    pub hidden: Option<String>,
    pub items: usize,
}

#[derive(Debug, Serialize)]
pub struct BreakdownView {
    pub attribute: String,
    pub label: String,
    /// "Suppliers by supplier tier".
    pub heading: String,
    pub groups: Vec<GroupView>,
}

#[derive(Debug, Serialize)]
pub struct GroupView {
    pub value: String,
    pub responses: u64,
    pub nps: String,
    pub gaps: Vec<GapCell>,
    pub customer_of_choice: String,
}

#[derive(Debug, Serialize)]
pub struct GapCell {
    pub text: String,
    pub class: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Downloads {
    pub csv: String,
    pub xlsx: String,
    pub json: String,
}

/// `2026-H1` → `H1 2026`.
pub fn half_year_label(half_year: &str) -> String {
    match half_year.split_once("-H") {
        Some((year, half)) => format!("H{half} {year}"),
        None => half_year.to_string(),
    }
}

fn gap_class(gap: Option<f64>) -> &'static str {
    match gap {
        Some(g) if g <= -MIN_MEAN_CHANGE => "gap-low",
        Some(g) if g >= MIN_MEAN_CHANGE => "gap-high",
        _ => "",
    }
}

fn interval(ci: (f64, f64), format: fn(f64) -> String) -> String {
    format!("{} to {}", format(ci.0), format(ci.1))
}

fn side_figures(side: &PairSide, k: u32) -> SideFigures {
    SideFigures {
        mean: side.mean.map(mean),
        ci: side.mean_ci.map(|ci| interval(ci, mean)),
        top2box: side.top2box.map(pct),
        n: side.n,
        hidden: side.hidden.map(|h| h.text(k)),
    }
}

pub fn mirror_page(mirror: &Mirror) -> MirrorPage {
    let query = format!("half={}", mirror.half_year);
    let side = |wave: &crate::results::mirror::MirrorWave| SideView {
        wave_id: wave.wave_id.clone(),
        wave_title: wave.wave_title.clone(),
        survey_title: wave.survey_title.clone(),
        responses: wave.responses,
        invited: wave.invited,
        nps: wave.nps.as_ref().map(|n| points(n.score)),
        nps_ci: wave.nps.as_ref().map(|n| interval(n.ci, points)),
        nps_change: wave
            .nps
            .as_ref()
            .and_then(|n| n.change)
            .map(|c| format!("{c:+.1} points")),
        nps_hidden: wave.nps_hidden.map(|h| h.text(wave.anonymity_k)),
        map_href: format!("/admin/waves/{}/map", wave.wave_id),
    };
    let internal_k = mirror.internal.anonymity_k;
    let supplier_k = mirror.suppliers.anonymity_k;
    let pairs = mirror
        .pairs
        .iter()
        .map(|pair| PairView {
            label: pair.label.clone(),
            internal: side_figures(&pair.internal, internal_k),
            suppliers: side_figures(&pair.suppliers, supplier_k),
            gap: pair.gap.map(|g| format!("{g:+.2}")),
            gap_words: pair.gap.map(|g| {
                if g <= -MIN_MEAN_CHANGE {
                    format!("suppliers {:.2} lower", -g)
                } else if g >= MIN_MEAN_CHANGE {
                    format!("suppliers {g:.2} higher")
                } else {
                    "about the same".to_string()
                }
            }),
            gap_class: gap_class(pair.gap),
            top2box_gap: pair.top2box_gap.map(|g| format!("{:+.1} pp", 100.0 * g)),
            gap_change: pair.gap_change.map(|c| format!("{c:+.2}")),
        })
        .collect();
    let customer_of_choice = mirror.customer_of_choice.as_ref().map(|c| IndexView {
        index: c.index.map(pct),
        ci: c.ci.map(|ci| interval(ci, pct)),
        answers: c.answers,
        top2_answers: c.top2_answers,
        change: c
            .change
            .map(|d| format!("{:+.1} percentage points", 100.0 * d)),
        hidden: c.index.is_none().then(|| match c.hidden {
            Some(_) => hidden_note(supplier_k, c.hidden),
            None => "no answers to these items".to_string(),
        }),
        items: c.questions.len(),
    });
    let breakdowns = mirror
        .breakdowns
        .iter()
        .map(|b| BreakdownView {
            attribute: b.attribute.clone(),
            label: b.label.clone(),
            heading: format!("Suppliers by {}", b.label.to_lowercase()),
            groups: b
                .groups
                .iter()
                .map(|g| GroupView {
                    value: g.value.clone(),
                    responses: g.responses,
                    nps: g.nps.map_or_else(|| "hidden".into(), points),
                    gaps: g
                        .gaps
                        .iter()
                        .map(|gap| GapCell {
                            text: gap.map_or_else(|| "hidden".into(), |g| format!("{g:+.2}")),
                            class: gap_class(*gap),
                        })
                        .collect(),
                    customer_of_choice: g.customer_of_choice.map_or_else(|| "hidden".into(), pct),
                })
                .collect(),
        })
        .collect();
    MirrorPage {
        suppliers_k: supplier_k,
        group_columns: 4 + mirror.pairs.len(),
        half_year: mirror.half_year.clone(),
        half_year_label: half_year_label(&mirror.half_year),
        previous_label: mirror.previous_half_year.as_deref().map(half_year_label),
        half_years: mirror
            .half_years
            .iter()
            .map(|h| Choice {
                value: h.clone(),
                label: half_year_label(h),
                selected: *h == mirror.half_year,
            })
            .collect(),
        internal: side(&mirror.internal),
        suppliers: side(&mirror.suppliers),
        pairs,
        customer_of_choice,
        breakdowns,
        downloads: Downloads {
            csv: format!("/admin/mirror.csv?{query}"),
            xlsx: format!("/admin/mirror.xlsx?{query}"),
            json: format!("/api/v1/mirror?{query}"),
        },
    }
}
