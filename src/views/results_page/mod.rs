//! The results pages' view models, built from the published [`WaveResults`] and nothing
//! else. A wave's results page reads top-down: what it is (and which group, with a picker
//! to switch in place), the findings — headline figures with their change, what moved
//! significantly (better in green, worse in red, in words too), the trend, satisfaction
//! per dimension — then the groups (a heatmap shaded by the difference from the whole
//! wave, each cell with its change, and each group's NPS across waves), the pain points
//! (one aligned Pareto table), the comments (all of them, paged, filterable where the
//! anonymity rules allow) and participation last. Templates are strict: every key the
//! template reads is present (`null` where absent).

use serde::{Deserialize, Serialize};

use crate::actions::BesideFigures;
use crate::auth::CurrentUser;
use crate::charts::{self, TrendInput};
use crate::domain::definition::humanize;
use crate::error::AppError;
use crate::export;
use crate::results::overview::SurveyWaves;
use crate::results::{
    CommentsPage, Hidden, NpsCategory, PainPointFigures, SegmentBreakdown, SegmentFilter,
    WaveResults,
};
use crate::views::figures::{change_view, mean, pct, points, ChangeView, Measure};
use crate::views::Page;

mod comments;
mod groups;
mod index;
mod pain_points;

pub use comments::*;
pub use groups::*;
pub use index::*;
pub use pain_points::*;

/// The query of the results page and its downloads.
#[derive(Debug, Default, Deserialize)]
pub struct ResultsQuery {
    /// Segment attribute of the heatmap.
    #[serde(default)]
    pub by: Option<String>,
    /// Comment filter: promoter, passive or detractor.
    #[serde(default)]
    pub comments: Option<String>,
    /// Segment filter `attribute=value`: the results of one group (closed waves).
    #[serde(default)]
    pub filter: Option<String>,
    /// The page of comments (1-based).
    #[serde(default)]
    pub page: Option<usize>,
}

impl ResultsQuery {
    /// The segment filter, parsed; `Err` says what is wrong in the product's words.
    pub fn segment_filter(&self) -> Result<Option<SegmentFilter>, String> {
        match self.filter.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => SegmentFilter::parse(text).map(Some),
        }
    }

    /// The comment category asked for.
    pub fn comment_category(&self) -> Option<NpsCategory> {
        self.comments.as_deref().and_then(NpsCategory::parse)
    }
}

// ---------------------------------------------------------------------------------------
// A wave's results page
// ---------------------------------------------------------------------------------------

/// What the page needs beyond the results: the whole wave's groups (to switch group in a
/// filtered view) and the comments' page.
pub struct PageInputs<'a> {
    pub results: &'a WaveResults,
    /// The whole wave's results when `results` is a filter's (its groups fill the picker).
    pub whole: Option<&'a WaveResults>,
    pub comments: Option<&'a CommentsPage>,
    pub query: &'a ResultsQuery,
    /// The actions planned on this wave or an earlier one for the same group, by target.
    pub actions: Option<&'a BesideFigures>,
}

/// An action shown beside the figure it targets.
#[derive(Debug, Serialize)]
pub struct FigureAction {
    pub id: String,
    pub title: String,
    pub status: &'static str,
    pub due_on: String,
    pub overdue: bool,
    /// Planned or in progress: its due date matters.
    pub open: bool,
    /// The earlier wave it was planned on (`None`: this one).
    pub planned_on: Option<String>,
}

fn actions_beside(inputs: &PageInputs<'_>, kind: &str, key: &str) -> Vec<FigureAction> {
    inputs
        .actions
        .and_then(|by_kind| by_kind.get(kind))
        .and_then(|by_key| by_key.get(key))
        .map(|actions| {
            actions
                .iter()
                .map(|a| FigureAction {
                    id: a.id.clone(),
                    title: a.title.clone(),
                    status: a.status.label(),
                    due_on: a.due_on.format("%Y-%m-%d").to_string(),
                    overdue: a.overdue,
                    open: a.status.is_open(),
                    planned_on: (a.wave_id != inputs.results.wave.id).then(|| a.wave_title.clone()),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Debug, Serialize)]
pub struct ResultsPage {
    pub wave: WaveHeader,
    pub k: u32,
    pub hidden_text: String,
    /// "Frozen when the wave closed" or "Live, computed …".
    pub provenance: String,
    pub downloads: Downloads,
    /// The group a filtered view shows.
    pub filter: Option<FilterView>,
    /// The whole wave or one group: every group the wave's release plan shows.
    pub group_picker: Vec<PickerOption>,
    pub invited: u64,
    pub responses: u64,
    pub response_rate: Option<String>,
    pub shown: bool,
    pub released: bool,
    /// Shown and released: the answer figures exist.
    pub answers: bool,
    pub previous: Option<WaveLink>,
    pub nps: Option<NpsView>,
    pub nps_hidden_text: String,
    pub csat: Option<CsatView>,
    pub csat_hidden_text: String,
    pub moved: Moved,
    pub significance: Significance,
    pub trend: Option<TrendView>,
    pub dimensions: Vec<DimensionRow>,
    pub heatmap: Option<Heatmap>,
    pub pain_points: Vec<ParetoTable>,
    pub choices: Vec<ChoiceTable>,
    pub comments: Option<CommentsView>,
    pub participation: Vec<ParticipationTable>,
}

#[derive(Debug, Serialize)]
pub struct WaveHeader {
    pub id: String,
    pub title: String,
    pub state: &'static str,
    pub survey_title: String,
    pub survey_version: i32,
    pub opens_at: String,
    pub closes_at: String,
}

#[derive(Debug, Serialize)]
pub struct WaveLink {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Serialize)]
pub struct Downloads {
    pub csv: String,
    pub xlsx: String,
    pub json: String,
}

#[derive(Debug, Serialize)]
pub struct FilterView {
    pub label: String,
    pub value: String,
    /// `attribute=value`.
    pub text: String,
    /// `filter=attribute%3Dvalue`, for links.
    pub param: String,
}

#[derive(Debug, Serialize)]
pub struct PickerOption {
    /// `attribute=value`; empty for the whole wave.
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Debug, Serialize)]
pub struct NpsView {
    /// Detractors, passives and promoters as one split bar.
    pub split_svg: String,
    pub question: String,
    pub n: u64,
    pub score: String,
    pub ci: String,
    pub promoters: String,
    pub passives: String,
    pub detractors: String,
    pub change: Option<ChangeView>,
    pub actions: Vec<FigureAction>,
}

#[derive(Debug, Serialize)]
pub struct CsatView {
    pub share: String,
    pub answers: u64,
    pub ci: String,
    pub change: Option<ChangeView>,
    pub actions: Vec<FigureAction>,
}

/// The changes that passed the significance rule, better ones and worse ones.
#[derive(Debug, Serialize)]
pub struct Moved {
    pub better: Vec<MovedItem>,
    pub worse: Vec<MovedItem>,
    pub any: bool,
}

#[derive(Debug, Serialize)]
pub struct MovedItem {
    /// "NPS", "Business unit Manufacturing: NPS", "Approvals took too long".
    pub what: String,
    pub now: String,
    pub change: ChangeView,
}

#[derive(Debug, Serialize)]
pub struct Significance {
    pub q: f64,
    pub min_nps_points: f64,
    pub min_mean_change: f64,
    pub min_share_points: f64,
    pub tests: usize,
    pub flagged: usize,
}

#[derive(Debug, Serialize)]
pub struct TrendView {
    pub nps_svg: Option<String>,
    pub csat_svg: Option<String>,
    pub rows: Vec<TrendRow>,
}

#[derive(Debug, Serialize)]
pub struct TrendRow {
    pub title: String,
    pub opens_at: String,
    pub current: bool,
    pub shown: bool,
    pub responses: Option<u64>,
    pub nps: Option<String>,
    pub csat: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DimensionRow {
    pub label: String,
    pub key: String,
    pub scale: u8,
    pub shown: bool,
    pub mean: String,
    pub ci: String,
    pub sd: String,
    pub n: u64,
    pub top2box: String,
    pub top2box_ci: String,
    pub change: Option<ChangeView>,
    pub hidden_text: String,
    pub actions: Vec<FigureAction>,
}

#[derive(Debug, Serialize)]
pub struct ChoiceTable {
    pub question: String,
    pub text: String,
    pub answers: u64,
    pub options: Vec<ChoiceRow>,
}

#[derive(Debug, Serialize)]
pub struct ChoiceRow {
    pub label: String,
    pub count: u64,
    pub share: String,
    pub ci: String,
}

#[derive(Debug, Serialize)]
pub struct ParticipationTable {
    pub label: String,
    pub groups: Vec<ParticipationRow>,
}

#[derive(Debug, Serialize)]
pub struct ParticipationRow {
    pub value: String,
    pub shown: bool,
    pub invited: u64,
    pub responses: u64,
    pub rate: Option<String>,
    pub hidden_text: String,
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The results page's data.
pub fn results_page(inputs: &PageInputs<'_>) -> ResultsPage {
    let results = inputs.results;
    let k = results.anonymity_k;
    let why = |hidden: Option<Hidden>| export::hidden_note(k, hidden);
    let filter_param = results
        .filter
        .as_ref()
        .map(|f| format!("filter={}", url_encode(&f.to_string())));
    let with_filter = |base: String| match &filter_param {
        Some(param) => format!("{base}?{param}"),
        None => base,
    };
    let id = &results.wave.id;
    let since = results.previous_wave.as_ref().map(|p| p.title.clone());
    let answers = results.shown && results.answers_released;

    // Headline figures.
    let nps = results.nps.as_ref().map(|n| NpsView {
        split_svg: charts::nps_split_svg(
            n.detractor_share,
            n.passive_share,
            n.promoter_share,
            &format!(
                "Detractors {}, passives {}, promoters {}",
                pct(n.detractor_share),
                pct(n.passive_share),
                pct(n.promoter_share)
            ),
        ),
        question: n.question.clone(),
        n: n.n,
        score: points(n.score),
        ci: format!("{} to {}", points(n.ci.0), points(n.ci.1)),
        promoters: pct(n.promoter_share),
        passives: pct(n.passive_share),
        detractors: pct(n.detractor_share),
        change: change_view(n.change.as_ref(), Measure::Nps),
        actions: actions_beside(inputs, "nps", ""),
    });
    let csat = results.csat.as_ref().map(|c| CsatView {
        share: pct(c.top2box),
        answers: c.answers,
        ci: format!("{}–{}", pct(c.ci.0), pct(c.ci.1)),
        change: change_view(c.change.as_ref(), Measure::Share),
        actions: actions_beside(inputs, "csat", ""),
    });
    let dimensions: Vec<DimensionRow> = results
        .dimensions
        .iter()
        .map(|d| {
            let f = d.figures.as_ref();
            DimensionRow {
                label: d.label.clone(),
                key: d.key.clone(),
                scale: d.scale,
                shown: f.is_some(),
                mean: f.map(|f| mean(f.mean)).unwrap_or_default(),
                ci: f
                    .map(|f| format!("{}–{}", mean(f.ci.0), mean(f.ci.1)))
                    .unwrap_or_default(),
                sd: f.map(|f| mean(f.sd)).unwrap_or_default(),
                n: f.map_or(0, |f| f.n),
                top2box: f.map(|f| pct(f.top2box)).unwrap_or_default(),
                top2box_ci: f
                    .map(|f| format!("{}–{}", pct(f.top2box_ci.0), pct(f.top2box_ci.1)))
                    .unwrap_or_default(),
                change: f.and_then(|f| change_view(f.change.as_ref(), Measure::Mean)),
                hidden_text: why(d.hidden),
                actions: actions_beside(inputs, "dimension", &d.key),
            }
        })
        .collect();

    ResultsPage {
        wave: WaveHeader {
            id: id.clone(),
            title: results.wave.title.clone(),
            state: results.wave.state.as_str(),
            survey_title: results.wave.survey_title.clone(),
            survey_version: results.wave.survey_version,
            opens_at: results.wave.opens_at.format("%Y-%m-%d").to_string(),
            closes_at: results.wave.closes_at.format("%Y-%m-%d").to_string(),
        },
        k,
        hidden_text: why(Some(Hidden::FewerResponses)),
        provenance: if results.frozen {
            "frozen when the wave closed".into()
        } else if results.answers_released {
            format!(
                "computed {} UTC from the answers the wave has",
                results.computed_at.format("%Y-%m-%d %H:%M")
            )
        } else {
            format!(
                "live, computed {} UTC",
                results.computed_at.format("%Y-%m-%d %H:%M")
            )
        },
        downloads: Downloads {
            csv: with_filter(format!("/admin/waves/{id}/results.csv")),
            xlsx: with_filter(format!("/admin/waves/{id}/results.xlsx")),
            json: with_filter(format!("/api/v1/waves/{id}/results")),
        },
        filter: results.filter.as_ref().map(|f| FilterView {
            label: humanize(&f.attribute),
            value: f.value.clone(),
            text: f.to_string(),
            param: format!("filter={}", url_encode(&f.to_string())),
        }),
        group_picker: group_picker(results, inputs.whole),
        invited: results.invited,
        responses: results.responses,
        response_rate: results.response_rate.map(pct),
        shown: results.shown,
        released: results.answers_released,
        answers,
        previous: results.previous_wave.as_ref().map(|p| WaveLink {
            id: p.id.clone(),
            title: p.title.clone(),
        }),
        nps,
        nps_hidden_text: why(results.nps_hidden),
        csat,
        csat_hidden_text: why(results.csat_hidden),
        moved: moved(results),
        significance: Significance {
            q: results.significance.q,
            min_nps_points: results.significance.min_nps_points,
            min_mean_change: results.significance.min_mean_change,
            min_share_points: results.significance.min_share_points,
            tests: results.significance.tests,
            flagged: results.significance.flagged,
        },
        trend: trend(results),
        dimensions,
        heatmap: answers
            .then(|| results.segment(inputs.query.by.as_deref()))
            .flatten()
            .map(|s| heatmap(results, s)),
        pain_points: results
            .pain_points
            .iter()
            .map(|q| pareto(inputs, &q.question, q.respondents, &q.stages))
            .collect(),
        choices: results
            .choices
            .iter()
            .map(|c| ChoiceTable {
                question: c.question.clone(),
                text: c.text.clone(),
                answers: c.answers,
                options: c
                    .options
                    .iter()
                    .map(|o| ChoiceRow {
                        label: o.label.clone(),
                        count: o.count,
                        share: pct(o.share),
                        ci: format!("{}–{}", pct(o.ci.0), pct(o.ci.1)),
                    })
                    .collect(),
            })
            .collect(),
        comments: inputs.comments.map(|c| comments(c, inputs.query, &since)),
        participation: results
            .segments
            .iter()
            .map(|s| ParticipationTable {
                label: s.label.clone(),
                groups: s
                    .groups
                    .iter()
                    .map(|g| ParticipationRow {
                        value: g.value.clone(),
                        shown: g.figures.is_some(),
                        invited: g.figures.as_ref().map_or(0, |f| f.invited),
                        responses: g.figures.as_ref().map_or(0, |f| f.responses),
                        rate: g.figures.as_ref().and_then(|f| f.response_rate).map(pct),
                        hidden_text: why(g.hidden),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The picker: the whole wave, then every group the whole wave's breakdowns show.
fn group_picker(results: &WaveResults, whole: Option<&WaveResults>) -> Vec<PickerOption> {
    let source = whole.unwrap_or(results);
    if !source.answers_released || !source.shown {
        return Vec::new();
    }
    let current = results.filter.as_ref().map(ToString::to_string);
    let mut options = vec![PickerOption {
        value: String::new(),
        label: "The whole wave".into(),
        selected: current.is_none(),
    }];
    for s in &source.segments {
        for g in s.groups.iter().filter(|g| g.figures.is_some()) {
            let value = format!("{}={}", s.attribute, g.value);
            options.push(PickerOption {
                selected: current.as_deref() == Some(value.as_str()),
                label: format!("{}: {}", s.label, g.value),
                value,
            });
        }
    }
    if options.len() == 1 {
        return Vec::new();
    }
    options
}

/// The significant changes of the page — the scope's and every group's — better first.
fn moved(results: &WaveResults) -> Moved {
    let mut items: Vec<MovedItem> = Vec::new();
    let mut push = |what: String, now: String, change: Option<ChangeView>| {
        if let Some(change) = change.filter(|c| c.significant) {
            items.push(MovedItem { what, now, change });
        }
    };
    if let Some(n) = &results.nps {
        push(
            "NPS".into(),
            points(n.score),
            change_view(n.change.as_ref(), Measure::Nps),
        );
    }
    if let Some(c) = &results.csat {
        push(
            "CSAT".into(),
            pct(c.top2box),
            change_view(c.change.as_ref(), Measure::Share),
        );
    }
    for d in &results.dimensions {
        if let Some(f) = &d.figures {
            push(
                format!("Satisfaction: {}", d.label),
                mean(f.mean),
                change_view(f.change.as_ref(), Measure::Mean),
            );
        }
    }
    for q in &results.pain_points {
        for o in q.stages.iter().flat_map(|s| &s.options) {
            push(
                format!("Pain point: {}", o.label),
                pct(o.share),
                change_view(o.change.as_ref(), Measure::PainPoint),
            );
        }
    }
    for s in &results.segments {
        for g in &s.groups {
            let Some(f) = &g.figures else {
                continue;
            };
            let who = format!("{} {}", s.label, g.value);
            if let Some(n) = &f.nps_figures {
                push(
                    format!("{who}: NPS"),
                    points(n.score),
                    change_view(n.change.as_ref(), Measure::Nps),
                );
            }
            if let Some(c) = &f.csat {
                push(
                    format!("{who}: CSAT"),
                    pct(c.top2box),
                    change_view(c.change.as_ref(), Measure::Share),
                );
            }
            for (d, fig) in results.dimensions.iter().zip(&f.dimensions) {
                if let Some(fig) = fig {
                    push(
                        format!("{who}: {}", d.label),
                        mean(fig.mean),
                        change_view(fig.change.as_ref(), Measure::Mean),
                    );
                }
            }
            for q in &f.pain_points {
                for o in q.stages.iter().flat_map(|s| &s.options) {
                    push(
                        format!("{who}: {}", o.label),
                        pct(o.share),
                        change_view(o.change.as_ref(), Measure::PainPoint),
                    );
                }
            }
        }
    }
    let (better, worse): (Vec<MovedItem>, Vec<MovedItem>) =
        items.into_iter().partition(|i| i.change.tone == "better");
    Moved {
        any: !better.is_empty() || !worse.is_empty(),
        better,
        worse,
    }
}

fn trend(results: &WaveResults) -> Option<TrendView> {
    if results.trend.is_empty() {
        return None;
    }
    let scope = match &results.filter {
        Some(f) => format!(" of {} {}", humanize(&f.attribute), f.value),
        None => String::new(),
    };
    let nps: Vec<TrendInput<'_>> = results
        .trend
        .iter()
        .map(|p| TrendInput {
            label: &p.title,
            value: p.figures.as_ref().and_then(|f| f.nps),
            ci: p.figures.as_ref().and_then(|f| f.nps_ci),
            current: p.current,
        })
        .collect();
    let csat: Vec<TrendInput<'_>> = results
        .trend
        .iter()
        .map(|p| TrendInput {
            label: &p.title,
            value: p.figures.as_ref().and_then(|f| f.csat).map(|c| 100.0 * c),
            ci: None,
            current: p.current,
        })
        .collect();
    // One wave is no trend: its table says it; the charts begin with the second wave.
    let charted = results.trend.len() > 1;
    Some(TrendView {
        nps_svg: charted
            .then(|| {
                charts::trend_svg(
                    &nps,
                    &charts::Axis {
                        zero: true,
                        suffix: "",
                        min_span: 20.0,
                    },
                    &format!("NPS{scope} per wave, oldest first, with its 95 % interval"),
                )
            })
            .flatten(),
        csat_svg: charted
            .then(|| {
                charts::trend_svg(
                    &csat,
                    &charts::Axis {
                        zero: false,
                        suffix: " %",
                        min_span: 10.0,
                    },
                    &format!("CSAT{scope} per wave, oldest first, in % top-2-box"),
                )
            })
            .flatten(),
        rows: results
            .trend
            .iter()
            .map(|p| TrendRow {
                title: p.title.clone(),
                opens_at: p.opens_at.format("%Y-%m-%d").to_string(),
                current: p.current,
                shown: p.figures.is_some(),
                responses: p.figures.as_ref().map(|f| f.responses),
                nps: p.figures.as_ref().and_then(|f| f.nps).map(points),
                csat: p.figures.as_ref().and_then(|f| f.csat).map(pct),
            })
            .collect(),
    })
}

/// A string in a CSS `content` value: quotes and backslashes escaped, line breaks and other
/// control characters dropped.
fn css_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The results page's print stylesheet: a running header on every A4 page with the
/// survey, the wave (and group) and the page number.
pub fn print_css(results: &WaveResults) -> String {
    let mut what = format!("{} — {}", results.wave.survey_title, results.wave.title);
    if let Some(f) = &results.filter {
        what.push_str(&format!(" — {}: {}", humanize(&f.attribute), f.value));
    }
    format!(
        "@page {{ size: A4; margin: 18mm 14mm 16mm;\n  @top-left {{ content: {}; font: 9pt sans-serif; color: #333; }}\n  @top-right {{ content: \"Page \" counter(page) \" of \" counter(pages); font: 9pt sans-serif; color: #333; }}\n  @bottom-left {{ content: \"Procurement Pulse · figures only for groups of at least {} respondents\"; font: 8pt sans-serif; color: #555; }}\n}}\n",
        css_string(&what),
        results.anonymity_k
    )
}

/// The page's body (everything inside the layout), rendered from the view model.
pub fn render_body(inputs: &PageInputs<'_>) -> Result<String, AppError> {
    crate::views::render_html("pages/admin/results_body", &results_page(inputs))
        .map_err(AppError::unexpected)
}

/// The whole page: `body` (see [`render_body`] and [`super::results_cache`]) inside the
/// layout of the signed-in user.
pub fn render_page(
    results: &WaveResults,
    body: &str,
    user: Option<&CurrentUser>,
    csrf_token: Option<&str>,
) -> Result<String, AppError> {
    let title = match &results.filter {
        Some(f) => format!(
            "Results: {} — {} {}",
            results.wave.title,
            humanize(&f.attribute),
            f.value
        ),
        None => format!("Results: {}", results.wave.title),
    };
    #[derive(Serialize)]
    struct Body<'a> {
        body: &'a str,
    }
    let page = Page {
        title: &title,
        lang: "en",
        user,
        csrf_token,
        flash: None,
        data: Body { body },
    };
    page.render("pages/admin/results")
}

#[cfg(test)]
mod tests {
    #[test]
    fn css_strings_cannot_break_out() {
        assert_eq!(super::css_string("a\"b\\c\n}"), "\"a\\\"b\\\\c}\"");
    }
}
