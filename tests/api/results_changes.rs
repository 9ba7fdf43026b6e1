//! Changes and trends for every shown group (issue 12): two closed waves of the same
//! survey, each group's change since the previous wave and its trend — in the JSON API,
//! the CSV, the XLSX, `pulse results` and the page — checked against figures worked out in
//! this file from the two waves' published figures (and, for Manufacturing, from the raw
//! answers), with Benjamini–Hochberg over every test of the page done by hand. A group
//! shown in one wave and hidden in the other gets no change, and its hidden point of the
//! trend shows nothing.

use serde_json::Value;
use statrs::distribution::{ContinuousCDF, Normal};

use crate::both_backends;
use crate::helpers::{segment_group, spawn_app, text, Backend};
use crate::results::{
    api_json, assert_close, close_wave, csv_table, f, get, import, nps_by_hand, num, open_wave,
    respond, xlsx_table,
};

/// The adjusted-Wald test of an NPS change (DESIGN.md §7), from published counts.
fn nps_change_p(before: &Value, after: &Value) -> f64 {
    let adjusted = |f_: &Value| {
        let (p, d, n) = (f(&f_["promoters"]), f(&f_["detractors"]), f(&f_["n"]));
        let n_adj = n + 3.0;
        let pp = (p + 0.75) / n_adj;
        let pd = (d + 0.75) / n_adj;
        let score = pp - pd;
        (score, pp + pd - score * score, n_adj)
    };
    let (s1, v1, n1) = adjusted(before);
    let (s2, v2, n2) = adjusted(after);
    let z = (s2 - s1) / (v1 / n1 + v2 / n2).sqrt();
    let normal = Normal::new(0.0, 1.0).unwrap();
    2.0 * normal.sf(z.abs())
}

/// Benjamini–Hochberg adjusted p-values, in the order given.
fn bh(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].partial_cmp(&p[b]).unwrap());
    let mut adjusted = vec![0.0; m];
    let mut running = 1.0f64;
    for rank in (0..m).rev() {
        let i = order[rank];
        running = running.min(p[i] * m as f64 / (rank + 1) as f64).min(1.0);
        adjusted[i] = running;
    }
    adjusted
}

/// Every change object of a results document: the scope's, then every group's.
fn changes(json: &Value) -> Vec<&Value> {
    fn walk<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
        match value {
            Value::Object(map) => {
                for (key, item) in map {
                    if key == "change" && item.is_object() {
                        out.push(item);
                    } else if key != "trend" {
                        walk(item, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(json, &mut out);
    out
}

fn check_benjamini_hochberg(json: &Value, what: &str) {
    let all = changes(json);
    assert_eq!(
        json["significance"]["tests"].as_u64().unwrap() as usize,
        all.len(),
        "{what}: every test of the page counts"
    );
    let p: Vec<f64> = all.iter().map(|c| f(&c["p"])).collect();
    let adjusted = bh(&p);
    let mut flagged = 0;
    for (change, adj) in all.iter().zip(adjusted) {
        assert_close(f(&change["p_adjusted"]), adj, 1e-12, what);
        let significant = adj <= 0.05 && f(&change["diff"]).abs() >= f(&change["min_effect"]);
        assert_eq!(change["significant"], significant, "{what}: {change}");
        flagged += usize::from(significant);
    }
    assert_eq!(json["significance"]["flagged"], flagged, "{what}");
}

async fn every_shown_group_carries_its_change_and_trend_on_every_output(backend: Backend) {
    let app = spawn_app(backend).await;
    // 38 people whose every (unit, region) has at least k = 5: every group is stored
    // apart, so what is shown depends on the answers alone.
    let people: Vec<(&str, &str, &str)> = [("Manufacturing", 16), ("R&D", 12), ("Sales", 10)]
        .into_iter()
        .flat_map(|(unit, n)| {
            (0..n).map(move |i| (unit, if i % 2 == 0 { "EMEA" } else { "Americas" }, "Buying"))
        })
        .collect();
    import(&app, &people);
    let first = open_wave(&app, "internal-customer", "W1", "");
    // Sales (3) is too few, and R&D (9), the next smallest, is hidden to protect it.
    let before = respond(
        &app,
        &first,
        &[("Manufacturing", 14), ("R&D", 9), ("Sales", 3)],
    );
    close_wave(&app, &first);
    let second = open_wave(&app, "internal-customer", "W2", "");
    // Another mix (Manufacturing answers differently), every unit shown.
    let after = respond(
        &app,
        &second,
        &[("R&D", 10), ("Manufacturing", 12), ("Sales", 8)],
    );
    close_wave(&app, &second);
    app.signed_in_admin().await;

    let w1 = api_json(&app, &first).await;
    let w2 = api_json(&app, &second).await;
    assert_eq!(w2["previous_wave"]["id"], first.as_str());

    // Manufacturing (all 16 stored apart): by hand from the raw answers.
    let nps_of = |given: &[crate::results::Answers]| {
        nps_by_hand(
            &given
                .iter()
                .filter(|a| a.unit == "Manufacturing")
                .map(|a| a.nps)
                .collect::<Vec<_>>(),
        )
        .score
    };
    let (m1, m2) = (nps_of(&before), nps_of(&after));
    assert!((m2 - m1).abs() > 1.0, "the two waves differ: {m1} → {m2}");
    let m = segment_group(&w2, "business_unit", "Manufacturing");
    let m_change = &m["figures"]["nps_figures"]["change"];
    assert_close(f(&m["figures"]["nps"]), m2, 1e-9, "Manufacturing NPS");
    assert_close(f(&m_change["diff"]), m2 - m1, 1e-9, "Manufacturing ΔNPS");
    assert_close(
        f(&m_change["previous"]),
        m1,
        1e-9,
        "Manufacturing NPS before",
    );
    let trend: Vec<f64> = m["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| f(&p["figures"]["nps"]))
        .collect();
    assert_eq!(trend.len(), 2);
    assert_close(trend[0], m1, 1e-9, "trend W1");
    assert_close(trend[1], m2, 1e-9, "trend W2");
    assert_eq!(m["trend"][1]["current"], true);

    // Every group of every breakdown: a change exactly where both waves show the figure,
    // worked out from the two published figures.
    let (mut compared, mut one_sided) = (0, 0);
    for breakdown in w2["segments"].as_array().unwrap() {
        let attribute = breakdown["attribute"].as_str().unwrap();
        for group in breakdown["groups"].as_array().unwrap() {
            let value = group["value"].as_str().unwrap();
            let then = &segment_group(&w1, attribute, value)["figures"]["nps_figures"];
            let now = &group["figures"]["nps_figures"];
            match (then.is_object(), now.is_object()) {
                (true, true) => {
                    compared += 1;
                    let change = &now["change"];
                    assert_close(
                        f(&change["diff"]),
                        f(&now["score"]) - f(&then["score"]),
                        1e-9,
                        value,
                    );
                    assert_close(f(&change["p"]), nps_change_p(then, now), 1e-9, value);
                }
                (false, true) => {
                    one_sided += 1;
                    assert!(
                        now["change"].is_null(),
                        "{attribute}={value}: hidden before"
                    );
                    assert!(
                        group["trend"][0]["figures"].is_null(),
                        "{attribute}={value}: its hidden point shows nothing"
                    );
                }
                (_, false) => {
                    // Hidden now: nothing at all, not even a trend of earlier waves.
                    assert!(group["figures"].is_null() || now.is_null());
                    if group["figures"].is_null() {
                        assert!(group.get("trend").is_none(), "{attribute}={value}");
                    }
                }
            }
        }
    }
    assert!(compared >= 2, "groups shown in both waves: {compared}");
    assert!(
        segment_group(&w1, "business_unit", "Sales")["figures"].is_null()
            && segment_group(&w2, "business_unit", "Sales")["figures"].is_object(),
        "Sales: hidden in W1, shown in W2"
    );
    assert!(one_sided >= 1);
    check_benjamini_hochberg(&w2, "W2");

    // A filtered view: the group's own change, significance and trend.
    let filtered: Value = app
        .get(&format!(
            "/api/v1/waves/{second}/results?filter=business_unit%3DManufacturing"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["previous_wave"]["id"], first.as_str());
    assert_close(f(&filtered["nps"]["score"]), m2, 1e-9, "filtered NPS");
    assert_close(
        f(&filtered["nps"]["change"]["diff"]),
        m2 - m1,
        1e-9,
        "filtered ΔNPS",
    );
    let filtered_trend: Vec<f64> = filtered["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| f(&p["figures"]["nps"]))
        .collect();
    assert_eq!(filtered_trend.len(), 2);
    assert_close(filtered_trend[0], m1, 1e-9, "filtered trend W1");
    check_benjamini_hochberg(&filtered, "W2, Manufacturing");
    // Sales was hidden in W1: its filtered view in W2 has a trend point without figures.
    let sales: Value = app
        .get(&format!(
            "/api/v1/waves/{second}/results?filter=business_unit%3DSales"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert!(sales["trend"][0]["figures"].is_null(), "{}", sales["trend"]);
    assert!(sales["nps"]["change"].is_null());

    // CSV, XLSX and the CLI: the same change and trend rows.
    let csv = app
        .get(&format!("/admin/waves/{second}/results.csv"))
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let xlsx = app
        .get(&format!("/admin/waves/{second}/results.xlsx"))
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let output = app.cli(&["results", &second, "--format", "csv"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(csv_table(&output.stdout), csv_table(&csv));
    for (name, table) in [("csv", csv_table(&csv)), ("xlsx", xlsx_table(xlsx))] {
        let change = get(
            &table,
            ("segment", "business_unit", "Manufacturing", "nps", "change"),
        );
        assert_close(num(&change.0), m2 - m1, 1e-5, name);
        assert_eq!(
            change.3,
            if m_change["significant"] == true {
                "significant"
            } else {
                "not significant"
            },
            "{name}"
        );
        let p = get(
            &table,
            (
                "segment",
                "business_unit",
                "Manufacturing",
                "nps",
                "change_p_adjusted",
            ),
        );
        assert_close(num(&p.0), f(&m_change["p_adjusted"]), 1e-5, name);
        let point = get(
            &table,
            ("trend", "business_unit", "Manufacturing", "W1", "nps"),
        );
        assert_close(num(&point.0), m1, 1e-5, name);
    }

    // The page shows the group's change.
    let page = app
        .get(&format!("/admin/waves/{second}/results?by=business_unit"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("{:+.1}", m2 - m1)),
        "Manufacturing's change on the page"
    );
}

both_backends!(every_shown_group_carries_its_change_and_trend_on_every_output);

/// All comments readable, a page at a time, in one stable random order: 60 comments on
/// three pages of 25, each exactly once; the detractors' filter pages through theirs.
async fn every_comment_is_readable_page_by_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let people: Vec<(&str, &str, &str)> = ["Manufacturing", "R&D", "Sales"]
        .into_iter()
        .flat_map(|unit| {
            (0..40).map(move |i| (unit, if i % 2 == 0 { "EMEA" } else { "Americas" }, "Buying"))
        })
        .collect();
    import(&app, &people);
    let wave = open_wave(&app, "internal-customer", "H1 2027", "");
    let given = respond(
        &app,
        &wave,
        &[("Manufacturing", 40), ("R&D", 40), ("Sales", 40)],
    );
    close_wave(&app, &wave);
    app.signed_in_admin().await;
    let comment_of = |html: &str| -> Vec<String> {
        html.split("<p>Comment number ")
            .skip(1)
            .map(|rest| format!("Comment number {}", &rest[..rest.find("</p>").unwrap()]))
            .collect()
    };
    let mut expected: Vec<String> = given.iter().filter_map(|a| a.comment.clone()).collect();
    expected.sort();
    assert_eq!(expected.len(), 60);
    let mut seen = Vec::new();
    for page in 1..=3 {
        let html = app
            .get(&format!("/admin/waves/{wave}/results?page={page}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains(&format!("Page {page} of 3")), "page {page}");
        let on_page = comment_of(&html);
        assert_eq!(on_page.len(), if page < 3 { 25 } else { 10 }, "page {page}");
        seen.extend(on_page);
    }
    let again = comment_of(
        &app.get(&format!("/admin/waves/{wave}/results?page=1"))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(again, seen[..25], "the same order every time");
    seen.sort();
    assert_eq!(seen, expected, "every comment exactly once");
    let detractors: Vec<String> = given
        .iter()
        .filter(|a| a.nps <= 6)
        .filter_map(|a| a.comment.clone())
        .collect();
    let html = app
        .get(&format!("/admin/waves/{wave}/results?comments=detractor"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("Detractors ({})", detractors.len())));
    let mut shown = comment_of(&html);
    shown.sort();
    let mut detractors = detractors;
    detractors.sort();
    assert_eq!(shown, detractors);
}

both_backends!(every_comment_is_readable_page_by_page);
