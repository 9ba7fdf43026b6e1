//! The customer-of-choice mirror as export rows (CSV and XLSX through
//! [`super::rows_to_csv`] / [`super::rows_to_xlsx`], the same columns as a wave's export):
//!
//! * `wave` rows: per side (`group` = internal_customers or suppliers, `item` the wave):
//!   `responses`, `invited`, `nps` (interval in low/high, n) and `nps_change`;
//! * `pair` rows: per pair (`item`) and side: `mean` (interval, n) and `top2box`; then
//!   without a side `gap` (suppliers − internal customers), `top2box_gap`, `gap_previous`
//!   and `gap_change`;
//! * `customer_of_choice` rows: `index` (interval, n = answers), `index_previous`,
//!   `index_change`;
//! * `supplier_group` rows: per shown group of each breakdown (`attribute`, `group`):
//!   `responses`, `nps`, `customer_of_choice`, and per pair `mean` and `gap`.
//!
//! A hidden figure has its row with no value and a note saying why; a hidden group has no
//! row at all.

use super::{hidden_note, Row};
use crate::results::mirror::{Mirror, MirrorWave, PairSide};

fn row(section: &'static str, group: &str, item: &str, figure: &str) -> Row {
    Row {
        section,
        attribute: String::new(),
        group: group.to_string(),
        item: item.to_string(),
        figure: figure.to_string(),
        value: None,
        low: None,
        high: None,
        n: None,
        note: String::new(),
    }
}

fn wave_rows(out: &mut Vec<Row>, wave: &MirrorWave) {
    let side = wave.audience.as_str();
    let item = &wave.wave_title;
    out.push(Row {
        value: Some(wave.responses as f64),
        ..row("wave", side, item, "responses")
    });
    out.push(Row {
        value: Some(wave.invited as f64),
        ..row("wave", side, item, "invited")
    });
    match &wave.nps {
        Some(nps) => {
            out.push(Row {
                value: Some(nps.score),
                low: Some(nps.ci.0),
                high: Some(nps.ci.1),
                n: Some(nps.n),
                ..row("wave", side, item, "nps")
            });
            if let Some(change) = nps.change {
                out.push(Row {
                    value: Some(change),
                    note: "since the previous half-year".into(),
                    ..row("wave", side, item, "nps_change")
                });
            }
        }
        None => out.push(Row {
            note: hidden_note(wave.anonymity_k, wave.nps_hidden),
            ..row("wave", side, item, "nps")
        }),
    }
}

fn side_rows(out: &mut Vec<Row>, pair: &str, side: &str, figures: &PairSide, k: u32) {
    let note = if figures.mean.is_none() {
        hidden_note(k, figures.hidden)
    } else {
        String::new()
    };
    out.push(Row {
        value: figures.mean,
        low: figures.mean_ci.map(|c| c.0),
        high: figures.mean_ci.map(|c| c.1),
        n: figures.n,
        note: note.clone(),
        ..row("pair", side, pair, "mean")
    });
    out.push(Row {
        value: figures.top2box,
        low: figures.top2box_ci.map(|c| c.0),
        high: figures.top2box_ci.map(|c| c.1),
        n: figures.n,
        note,
        ..row("pair", side, pair, "top2box")
    });
}

/// The rows of a mirror.
pub fn rows(mirror: &Mirror) -> Vec<Row> {
    let mut out = Vec::new();
    wave_rows(&mut out, &mirror.internal);
    wave_rows(&mut out, &mirror.suppliers);
    for pair in &mirror.pairs {
        side_rows(
            &mut out,
            &pair.pair,
            "internal_customers",
            &pair.internal,
            mirror.internal.anonymity_k,
        );
        side_rows(
            &mut out,
            &pair.pair,
            "suppliers",
            &pair.suppliers,
            mirror.suppliers.anonymity_k,
        );
        for (figure, value) in [
            ("gap", pair.gap),
            ("top2box_gap", pair.top2box_gap),
            ("gap_previous", pair.previous_gap),
            ("gap_change", pair.gap_change),
        ] {
            out.push(Row {
                value,
                note: if figure == "gap" {
                    "suppliers minus internal customers".into()
                } else {
                    String::new()
                },
                ..row("pair", "", &pair.pair, figure)
            });
        }
    }
    if let Some(index) = &mirror.customer_of_choice {
        out.push(Row {
            value: index.index,
            low: index.ci.map(|c| c.0),
            high: index.ci.map(|c| c.1),
            n: index.answers,
            note: match index.index {
                Some(_) => "share of top-2 answers over the customer-of-choice items".into(),
                None => hidden_note(mirror.suppliers.anonymity_k, index.hidden),
            },
            ..row("customer_of_choice", "suppliers", "", "index")
        });
        out.push(Row {
            value: index.previous,
            ..row("customer_of_choice", "suppliers", "", "index_previous")
        });
        out.push(Row {
            value: index.change,
            ..row("customer_of_choice", "suppliers", "", "index_change")
        });
    }
    for breakdown in &mirror.breakdowns {
        for group in &breakdown.groups {
            let base = Row {
                attribute: breakdown.attribute.clone(),
                ..row("supplier_group", &group.value, "", "")
            };
            for (figure, value) in [
                ("responses", Some(group.responses as f64)),
                ("nps", group.nps),
                ("customer_of_choice", group.customer_of_choice),
            ] {
                out.push(Row {
                    figure: figure.into(),
                    value,
                    ..base.clone()
                });
            }
            for (i, pair) in mirror.pairs.iter().enumerate() {
                for (figure, value) in [
                    ("mean", group.means.get(i).copied().flatten()),
                    ("gap", group.gaps.get(i).copied().flatten()),
                ] {
                    out.push(Row {
                        item: pair.pair.clone(),
                        figure: figure.into(),
                        value,
                        ..base.clone()
                    });
                }
            }
        }
    }
    out
}
