//! The results pages' view models: a wave's results page (findings first, then groups,
//! pain points, comments and participation) and the results index, built from the
//! published [`WaveResults`] and nothing else. Templates are strict: every key the
//! template reads is present (`null` where absent).

use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::CurrentUser;
use crate::charts::{self, ParetoInput, TrendInput};
use crate::domain::definition::humanize;
use crate::error::AppError;
use crate::export;
use crate::results::overview::SurveyWaves;
use crate::results::{Change, Hidden, NpsCategory, SegmentFilter, WaveResults};
use crate::views::Page;

/// Comments shown on the page per filter (a random sample: the list is shuffled).
pub const PAGE_COMMENTS: usize = 100;

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
}

impl ResultsQuery {
    /// The segment filter, parsed; `Err` says what is wrong in the product's words.
    pub fn segment_filter(&self) -> Result<Option<SegmentFilter>, String> {
        match self.filter.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => SegmentFilter::parse(text).map(Some),
        }
    }
}

/// The results index: every survey with its waves.
pub fn index_page(surveys: &[SurveyWaves]) -> Value {
    let surveys: Vec<Value> = surveys
        .iter()
        .map(|survey| {
            json!({
                "title": survey.title, "slug": survey.slug,
                "waves": survey.waves.iter().map(|w| json!({
                    "id": w.id, "title": w.title, "state": w.state,
                    "opens_at": w.opens_at.format("%Y-%m-%d").to_string(),
                    "closes_at": w.closes_at.format("%Y-%m-%d").to_string(),
                    "invited": w.invited, "responded": w.responses,
                    "response_rate": w.response_rate.map(pct),
                    "has_results": w.has_results(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "surveys": surveys })
}

fn pct(share: f64) -> String {
    format!("{:.1} %", 100.0 * share)
}

fn points(score: f64) -> String {
    format!("{score:+.1}")
}

fn mean(m: f64) -> String {
    format!("{m:.2}")
}

fn p_value(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// A change as the page shows it: `unit` formats the difference.
fn change(change: &Option<Change>, diff: impl Fn(f64) -> String) -> Value {
    match change {
        None => Value::Null,
        Some(c) => json!({
            "diff": diff(c.diff),
            "direction": if c.diff > 0.0 { "up" } else if c.diff < 0.0 { "down" } else { "flat" },
            "p": p_value(c.p),
            "p_adjusted": p_value(c.p_adjusted),
            "significant": c.significant,
        }),
    }
}

/// Heat class of a mean on a `scale`-point scale: 0 (low) … 4 (high).
fn heat(mean: f64, scale: u8) -> u8 {
    let position = (mean - 1.0) / (f64::from(scale) - 1.0);
    (position * 5.0).floor().clamp(0.0, 4.0) as u8
}

/// The results page as HTML.
pub fn render(
    results: &WaveResults,
    query: &ResultsQuery,
    user: Option<&CurrentUser>,
    csrf_token: Option<&str>,
) -> Result<String, AppError> {
    let k = results.anonymity_k;
    let hidden_text = export::hidden_note(k, Some(Hidden::FewerResponses));
    let why = |hidden: Option<Hidden>| export::hidden_note(k, hidden);
    let nps = results.nps.as_ref().map(|n| {
        json!({
            "question": n.question, "n": n.n,
            "score": points(n.score),
            "ci": format!("{} to {}", points(n.ci.0), points(n.ci.1)),
            "promoters": pct(n.promoter_share), "passives": pct(n.passive_share), "detractors": pct(n.detractor_share),
            "change": change(&n.change, |d| format!("{d:+.1} points")),
        })
    });
    let dimensions: Vec<Value> = results
        .dimensions
        .iter()
        .map(|d| match &d.figures {
            Some(f) => json!({
                "label": d.label, "key": d.key, "scale": d.scale, "shown": true,
                "mean": mean(f.mean), "ci": format!("{}–{}", mean(f.ci.0), mean(f.ci.1)),
                "sd": mean(f.sd), "n": f.n,
                "top2box": pct(f.top2box), "top2box_ci": format!("{}–{}", pct(f.top2box_ci.0), pct(f.top2box_ci.1)),
                "change": change(&f.change, |d| format!("{d:+.2}")),
            }),
            None => json!({ "label": d.label, "key": d.key, "scale": d.scale, "shown": false,
                "hidden_text": why(d.hidden) }),
        })
        .collect();
    let mut pareto_inputs: Vec<ParetoInput<'_>> = Vec::new();
    let pain_points: Vec<Value> = results
        .pain_points
        .iter()
        .map(|q| {
            json!({
                "question": q.question, "respondents": q.respondents,
                "stages": q.stages.iter().map(|s| json!({
                    "label": s.label, "mentions": s.mentions,
                    "options": s.options.iter().map(|o| json!({
                        "label": o.label, "key": o.key, "count": o.count,
                        "share": pct(o.share), "ci": format!("{}–{}", pct(o.ci.0), pct(o.ci.1)),
                        "change": change(&o.change, |d| format!("{:+.1} points", 100.0 * d)),
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    if let Some(q) = results.pain_points.first() {
        let mut all: Vec<_> = q.stages.iter().flat_map(|s| &s.options).collect();
        all.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        pareto_inputs = all
            .into_iter()
            .filter(|o| o.count > 0)
            .map(|o| ParetoInput {
                label: &o.label,
                count: o.count,
                share: o.share,
                ci: o.ci,
            })
            .collect();
    }
    let pareto_svg = charts::pareto_svg(
        &pareto_inputs,
        "Pain points, most named first: share of respondents with its interval, and the cumulative share of all mentions",
    );
    let trend_inputs: Vec<TrendInput<'_>> = results
        .trend
        .iter()
        .map(|p| TrendInput {
            label: &p.title,
            nps: p.figures.as_ref().and_then(|f| f.nps),
            nps_ci: p.figures.as_ref().and_then(|f| f.nps_ci),
            csat: p.figures.as_ref().and_then(|f| f.csat),
        })
        .collect();
    let trend_svg = charts::trend_svg(
        &trend_inputs,
        "NPS and CSAT across the waves of this survey, oldest first",
    );
    let trend: Vec<Value> = results
        .trend
        .iter()
        .map(|p| {
            json!({
                "title": p.title, "opens_at": p.opens_at.format("%Y-%m-%d").to_string(), "current": p.current,
                "shown": p.figures.is_some(),
                "responses": p.figures.as_ref().map(|f| f.responses),
                "nps": p.figures.as_ref().and_then(|f| f.nps).map(points),
                "csat": p.figures.as_ref().and_then(|f| f.csat).map(pct),
            })
        })
        .collect();
    let segment_rates: Vec<Value> = results
        .segments
        .iter()
        .map(|s| {
            json!({
                "label": s.label,
                "groups": s.groups.iter().map(|g| match &g.figures {
                    Some(f) => json!({ "value": g.value, "shown": true, "invited": f.invited, "responses": f.responses,
                        "rate": f.response_rate.map(pct) }),
                    None => json!({ "value": g.value, "shown": false, "hidden_text": why(g.hidden) }),
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let selected = results
        .segment(query.by.as_deref())
        .filter(|_| results.answers_released);
    let heatmap = selected.map(|s| {
        json!({
            "attribute": s.attribute, "label": s.label,
            "colspan": results.dimensions.len() + 1,
            "dimensions": results.dimensions.iter().map(|d| &d.label).collect::<Vec<_>>(),
            "rows": s.groups.iter().map(|g| match &g.figures {
                Some(f) => json!({
                    "value": g.value, "shown": true, "responses": f.responses,
                    "nps": f.nps.map(points),
                    "nps_change": change(&f.nps_figures.as_ref().and_then(|n| n.change.clone()), |d| format!("{d:+.1}")),
                    "nps_hidden_text": why(f.nps_hidden),
                    "cells": results.dimensions.iter().zip(&f.dimension_means).enumerate().map(|(i, (d, m))| match m {
                        Some(m) => json!({ "shown": true, "mean": mean(*m), "class": format!("heat-{}", heat(*m, d.scale)) }),
                        None => json!({ "shown": false,
                            "hidden_text": why(f.dimension_hidden.get(i).copied().flatten()) }),
                    }).collect::<Vec<_>>(),
                }),
                None => json!({ "value": g.value, "shown": false, "hidden_text": why(g.hidden) }),
            }).collect::<Vec<_>>(),
        })
    });
    let by_options: Vec<Value> = results
        .segments
        .iter()
        .map(|s| {
            json!({ "attribute": s.attribute, "label": s.label,
                "selected": selected.is_some_and(|x| x.attribute == s.attribute) })
        })
        .collect();
    let comment_filter = query.comments.as_deref().and_then(NpsCategory::parse);
    let by_param = selected
        .map(|s| format!("&by={}", url_encode(&s.attribute)))
        .unwrap_or_default();
    let comments = results.comments.as_ref().map(|c| {
        let matching: Vec<_> = c
            .items
            .iter()
            .filter(|i| comment_filter.is_none() || i.category == comment_filter)
            .collect();
        let filters = [
            (None, "All", c.total),
            (Some(NpsCategory::Promoter), "Promoters", c.promoters),
            (Some(NpsCategory::Passive), "Passives", c.passives),
            (Some(NpsCategory::Detractor), "Detractors", c.detractors),
        ];
        json!({
            "total": c.total,
            "matching": matching.len(),
            "truncated": matching.len() > PAGE_COMMENTS,
            "limit": PAGE_COMMENTS,
            "filters": filters.iter().map(|(f, label, n)| json!({
                "label": label, "count": n, "selected": *f == comment_filter,
                "href": match f {
                    Some(f) => format!("?comments={}{by_param}#comments", f.as_str()),
                    None => format!("?{}#comments", by_param.trim_start_matches('&')),
                },
            })).collect::<Vec<_>>(),
            "items": matching.iter().take(PAGE_COMMENTS).map(|i| json!({
                "text": i.text,
                "category": i.category.map(NpsCategory::as_str),
            })).collect::<Vec<_>>(),
        })
    });
    // Segment filters: every group the whole wave's breakdowns show (the plan may still
    // refuse one whose complement is too small; the page then says why).
    let filter_options: Vec<Value> = if results.filter.is_none() && results.answers_released {
        results
            .segments
            .iter()
            .flat_map(|s| {
                s.groups
                    .iter()
                    .filter(|g| g.figures.is_some())
                    .map(move |g| {
                        json!({ "value": format!("{}={}", s.attribute, g.value),
                            "label": format!("{}: {}", s.label, g.value) })
                    })
            })
            .collect()
    } else {
        Vec::new()
    };
    let filter = results.filter.as_ref().map(|f| {
        json!({
            "label": humanize(&f.attribute), "value": f.value,
            "param": format!("filter={}", url_encode(&f.to_string())),
        })
    });
    let rule = &results.significance;
    let data = json!({
        "wave": {
            "id": results.wave.id, "title": results.wave.title, "state": results.wave.state,
            "survey_title": results.wave.survey_title, "survey_version": results.wave.survey_version,
            "opens_at": results.wave.opens_at.format("%Y-%m-%d").to_string(),
            "closes_at": results.wave.closes_at.format("%Y-%m-%d").to_string(),
        },
        "k": k,
        "hidden_text": hidden_text,
        "nps_hidden_text": why(results.nps_hidden),
        "csat_hidden_text": why(results.csat_hidden),
        "frozen": results.frozen,
        "computed_at": results.computed_at.format("%Y-%m-%d %H:%M").to_string(),
        "invited": results.invited,
        "responses": results.responses,
        "response_rate": results.response_rate.map(pct),
        "shown": results.shown,
        "released": results.answers_released,
        "answers": results.shown && results.answers_released,
        "previous": results.previous_wave.as_ref().map(|p| json!({ "id": p.id, "title": p.title })),
        "nps": nps,
        "csat": results.csat.as_ref().map(|c| json!({
            "share": pct(c.top2box), "answers": c.answers,
            "ci": format!("{}–{}", pct(c.ci.0), pct(c.ci.1)),
            "change": change(&c.change, |d| format!("{:+.1} points", 100.0 * d)),
        })),
        "dimensions": dimensions,
        "pain_points": pain_points,
        "pareto_svg": pareto_svg,
        "trend_svg": trend_svg,
        "trend": trend,
        "segment_rates": segment_rates,
        "choices": results.choices.iter().map(|c| json!({
            "question": c.question, "text": c.text, "answers": c.answers,
            "options": c.options.iter().map(|o| json!({
                "label": o.label, "count": o.count, "share": pct(o.share),
                "ci": format!("{}–{}", pct(o.ci.0), pct(o.ci.1)),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "heatmap": heatmap,
        "by_options": by_options,
        "comment_filter": comment_filter.map(NpsCategory::as_str),
        "filter": filter,
        "filter_text": results.filter.as_ref().map(ToString::to_string),
        "filter_options": filter_options,
        "comments": comments,
        "significance": {
            "q": rule.q, "min_nps_points": rule.min_nps_points, "min_mean_change": rule.min_mean_change,
            "min_share_points": rule.min_share_points, "tests": rule.tests, "flagged": rule.flagged,
        },
    });
    let title = format!("Results: {}", results.wave.title);
    let page = Page {
        title: &title,
        lang: "en",
        user,
        csrf_token,
        flash: None,
        data,
    };
    page.render("pages/admin/results")
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
