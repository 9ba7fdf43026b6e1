//! CSV and XLSX exports of a wave's results: aggregated figures only (never an answer or a
//! comment), one row per figure, with the same suppression as the page — a hidden group
//! has a row that says so and no number. Every text cell that a spreadsheet could take for
//! a formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) is neutralised
//! with a leading `'`.
//!
//! Both formats hold the same rows ([`rows`]): `section, attribute, group, item, figure,
//! value, low, high, n, note`. Shares and rates are fractions, NPS is in points, means in
//! scale points. A figure's change since the previous wave follows it as `change`,
//! `change_p` and `change_p_adjusted` rows (note: significant or not) — for the whole wave
//! and for every group of every breakdown (`section` segment, `attribute`/`group` the
//! group). Trend rows (`section` trend) name the wave in `item` and its opening date in
//! `note`; a group's trend rows carry the group; dimension means and pain-point shares of
//! a trend point are `mean:KEY` and `share:KEY`.

pub mod mirror;

use crate::results::{
    Change, CsatFigures, DimensionFigures, Hidden, NpsFigures, PainPointsResult, TrendPoint,
    WaveResults,
};

/// One exported figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub section: &'static str,
    pub attribute: String,
    pub group: String,
    pub item: String,
    pub figure: String,
    pub value: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub n: Option<u64>,
    pub note: String,
}

pub const HEADER: [&str; 10] = [
    "section",
    "attribute",
    "group",
    "item",
    "figure",
    "value",
    "low",
    "high",
    "n",
    "note",
];

impl Row {
    fn new(section: &'static str, item: &str, figure: impl Into<String>) -> Self {
        Row {
            section,
            attribute: String::new(),
            group: String::new(),
            item: item.to_string(),
            figure: figure.into(),
            value: None,
            low: None,
            high: None,
            n: None,
            note: String::new(),
        }
    }

    fn value(mut self, value: f64) -> Self {
        self.value = Some(value);
        self
    }

    fn maybe(mut self, value: Option<f64>) -> Self {
        self.value = value;
        self
    }

    fn ci(mut self, (low, high): (f64, f64)) -> Self {
        self.low = Some(low);
        self.high = Some(high);
        self
    }

    fn n(mut self, n: u64) -> Self {
        self.n = Some(n);
        self
    }

    fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    fn group(mut self, attribute: &str, group: &str) -> Self {
        self.attribute = attribute.to_string();
        self.group = group.to_string();
        self
    }
}

/// What an open wave's export says instead of its answer figures.
pub const OPEN_WAVE_NOTE: &str =
    "the wave is open: answer figures are released when it closes (participation is live)";

/// What a hidden figure says instead of a number: why it is hidden, in true words (a
/// group hidden only so that a smaller one cannot be worked out is not "fewer than k").
pub fn hidden_note(k: u32, hidden: Option<Hidden>) -> String {
    hidden.unwrap_or(Hidden::FewerResponses).text(k)
}

/// The change rows of a figure: `base` names it (section, group, item).
fn change_rows_of(out: &mut Vec<Row>, base: &Row, change: &Option<Change>) {
    if let Some(change) = change {
        let row = |figure: &str| Row {
            figure: figure.to_string(),
            ..base.clone()
        };
        out.push(
            row("change")
                .value(change.diff)
                .note(if change.significant {
                    "significant"
                } else {
                    "not significant"
                }),
        );
        out.push(row("change_p").value(change.p));
        out.push(row("change_p_adjusted").value(change.p_adjusted));
    }
}

/// The trend rows of a scope (`attribute`/`group` empty for the whole wave or filter).
fn trend_rows(
    out: &mut Vec<Row>,
    attribute: &str,
    group: &str,
    trend: &[TrendPoint],
    hidden: &str,
) {
    for point in trend {
        let row = |figure: &str| {
            Row::new("trend", &point.title, figure)
                .group(attribute, group)
                .note(point.opens_at.format("%Y-%m-%d").to_string())
        };
        match &point.figures {
            Some(f) => {
                out.push(row("responses").value(f.responses as f64));
                let mut nps = row("nps").maybe(f.nps);
                if let Some(ci) = f.nps_ci {
                    nps = nps.ci(ci);
                }
                out.push(nps);
                out.push(row("csat").maybe(f.csat));
                for d in &f.dimensions {
                    out.push(row(&format!("mean:{}", d.key)).value(d.value));
                }
                for p in &f.pain_points {
                    out.push(row(&format!("share:{}", p.key)).value(p.value));
                }
            }
            None => out.push(Row {
                note: hidden.to_string(),
                ..row("nps")
            }),
        }
    }
}

fn nps_rows(out: &mut Vec<Row>, base: &Row, nps: &NpsFigures) {
    let row = |figure: &str| Row {
        figure: figure.to_string(),
        ..base.clone()
    };
    out.push(row("score").value(nps.score).ci(nps.ci).n(nps.n));
    out.push(row("promoter_share").value(nps.promoter_share));
    out.push(row("passive_share").value(nps.passive_share));
    out.push(row("detractor_share").value(nps.detractor_share));
    change_rows_of(out, base, &nps.change);
}

fn csat_rows(out: &mut Vec<Row>, base: &Row, csat: &CsatFigures) {
    out.push(
        Row {
            figure: "top2box".into(),
            ..base.clone()
        }
        .value(csat.top2box)
        .ci(csat.ci)
        .n(csat.answers),
    );
    change_rows_of(out, base, &csat.change);
}

fn dimension_rows(out: &mut Vec<Row>, base: &Row, f: &DimensionFigures) {
    let row = |figure: &str| Row {
        figure: figure.to_string(),
        ..base.clone()
    };
    out.push(row("mean").value(f.mean).ci(f.ci).n(f.n));
    out.push(row("sd").value(f.sd));
    out.push(row("top2box").value(f.top2box).ci(f.top2box_ci).n(f.n));
    change_rows_of(out, base, &f.change);
}

/// Pain-point rows: `attribute`/`group` empty for the whole scope (the stage is then the
/// group, as it always was), the segment group otherwise (the stage goes to the note).
fn pain_rows(out: &mut Vec<Row>, segment: Option<(&str, &str)>, questions: &[PainPointsResult]) {
    for question in questions {
        for stage in &question.stages {
            for option in &stage.options {
                let base = match segment {
                    None => {
                        Row::new("pain_point", &option.key, "").group("stage", stage.stage.as_str())
                    }
                    Some((attribute, group)) => {
                        Row::new("segment", &format!("pain_point:{}", option.key), "")
                            .group(attribute, group)
                    }
                };
                let row = |figure: &str| Row {
                    figure: figure.to_string(),
                    ..base.clone()
                };
                let label = match segment {
                    None => option.label.clone(),
                    Some(_) => format!("{} ({})", option.label, stage.label),
                };
                out.push(
                    row("share")
                        .value(option.share)
                        .ci(option.ci)
                        .n(question.respondents)
                        .note(label),
                );
                out.push(row("count").value(option.count as f64));
                change_rows_of(out, &base, &option.change);
            }
        }
    }
}

/// The rows of the export, in page order.
pub fn rows(results: &WaveResults) -> Vec<Row> {
    let k = results.anonymity_k;
    let hidden = hidden_note(k, Some(Hidden::FewerResponses));
    let note = |why: Option<Hidden>| hidden_note(k, why);
    let mut out = vec![
        Row::new("wave", &results.wave.title, "invited").value(results.invited as f64),
        Row::new("wave", &results.wave.title, "responses").value(results.responses as f64),
        Row::new("wave", &results.wave.title, "response_rate").maybe(results.response_rate),
    ];
    if !results.shown {
        out.push(Row::new("wave", &results.wave.title, "figures").note(hidden.clone()));
        return out;
    }
    let released = results.answers_released;
    if !released {
        out.push(Row::new("wave", &results.wave.title, "answers").note(OPEN_WAVE_NOTE));
    }
    if let Some(nps) = &results.nps {
        nps_rows(&mut out, &Row::new("nps", &nps.question, ""), nps);
    } else if let Some(why) = results.nps_hidden.filter(|_| released) {
        out.push(Row::new("nps", "", "score").note(note(Some(why))));
    }
    if let Some(csat) = &results.csat {
        csat_rows(&mut out, &Row::new("csat", "all dimensions", ""), csat);
    } else if let Some(why) = results.csat_hidden.filter(|_| released) {
        out.push(Row::new("csat", "all dimensions", "top2box").note(note(Some(why))));
    }
    for dim in results.dimensions.iter().filter(|_| released) {
        match &dim.figures {
            Some(f) => dimension_rows(&mut out, &Row::new("dimension", &dim.key, ""), f),
            None => out.push(Row::new("dimension", &dim.key, "mean").note(note(dim.hidden))),
        }
    }
    pain_rows(&mut out, None, &results.pain_points);
    for choice in &results.choices {
        for option in &choice.options {
            out.push(
                Row::new("choice", &option.key, "share")
                    .group("question", &choice.question)
                    .value(option.share)
                    .ci(option.ci)
                    .n(choice.answers)
                    .note(option.label.clone()),
            );
            out.push(
                Row::new("choice", &option.key, "count")
                    .group("question", &choice.question)
                    .value(option.count as f64),
            );
        }
    }
    for segment in &results.segments {
        for group in &segment.groups {
            let row = |item: &str, figure| {
                Row::new("segment", item, figure).group(&segment.attribute, &group.value)
            };
            let Some(f) = &group.figures else {
                out.push(row("", "responses").note(note(group.hidden)));
                continue;
            };
            out.push(row("", "invited").value(f.invited as f64));
            out.push(row("", "responses").value(f.responses as f64));
            out.push(row("", "response_rate").maybe(f.response_rate));
            if !released {
                continue;
            }
            match &f.nps_figures {
                Some(nps) => nps_rows(&mut out, &row("nps", ""), nps),
                None => match f.nps {
                    // A snapshot of format 1 kept the score alone.
                    Some(score) => out.push(row("nps", "score").value(score)),
                    None => out.push(row("nps", "score").note(note(f.nps_hidden))),
                },
            }
            match &f.csat {
                Some(csat) => csat_rows(&mut out, &row("csat", ""), csat),
                None => {
                    if let Some(why) = f.csat_hidden {
                        out.push(row("csat", "top2box").note(note(Some(why))));
                    }
                }
            }
            for (i, (dim, mean)) in results
                .dimensions
                .iter()
                .zip(&f.dimension_means)
                .enumerate()
            {
                match (f.dimensions.get(i).and_then(Option::as_ref), mean) {
                    (Some(figures), _) => dimension_rows(&mut out, &row(&dim.key, ""), figures),
                    (None, Some(mean)) => out.push(row(&dim.key, "mean").value(*mean)),
                    (None, None) => out.push(
                        row(&dim.key, "mean")
                            .note(note(f.dimension_hidden.get(i).copied().flatten())),
                    ),
                }
            }
            pain_rows(
                &mut out,
                Some((&segment.attribute, &group.value)),
                &f.pain_points,
            );
            if let Some(why) = f.pain_points_hidden {
                out.push(row("pain_points", "share").note(note(Some(why))));
            }
            trend_rows(
                &mut out,
                &segment.attribute,
                &group.value,
                &group.trend,
                &hidden,
            );
        }
    }
    trend_rows(&mut out, "", "", &results.trend, &hidden);
    out
}

/// A text cell a spreadsheet will not run: `=`, `+`, `-`, `@`, tab and carriage return at
/// the start get a leading `'`.
pub fn neutralise(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

fn number(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => {
            let rounded = (v * 1e6).round() / 1e6;
            format!("{rounded}")
        }
        _ => String::new(),
    }
}

/// The export as CSV (UTF-8, comma-separated, header row).
pub fn to_csv(results: &WaveResults) -> anyhow::Result<Vec<u8>> {
    rows_to_csv(rows(results))
}

/// Rows as CSV (UTF-8, comma-separated, header row).
pub fn rows_to_csv(rows: Vec<Row>) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADER)?;
    for row in rows {
        writer.write_record([
            row.section.to_string(),
            neutralise(&row.attribute),
            neutralise(&row.group),
            neutralise(&row.item),
            neutralise(&row.figure),
            number(row.value),
            number(row.low),
            number(row.high),
            row.n.map(|n| n.to_string()).unwrap_or_default(),
            neutralise(&row.note),
        ])?;
    }
    Ok(writer.into_inner()?)
}

/// The export as an XLSX workbook: the same rows, numbers as numbers.
pub fn to_xlsx(results: &WaveResults) -> anyhow::Result<Vec<u8>> {
    rows_to_xlsx(rows(results), "Results")
}

/// Rows as an XLSX workbook of one sheet, numbers as numbers.
pub fn rows_to_xlsx(rows: Vec<Row>, sheet_name: &str) -> anyhow::Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name)?;
    let bold = Format::new().set_bold();
    for (col, name) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *name, &bold)?;
    }
    for (i, row) in rows.into_iter().enumerate() {
        let r = u32::try_from(i + 1)?;
        let texts = [
            (0, row.section.to_string()),
            (1, neutralise(&row.attribute)),
            (2, neutralise(&row.group)),
            (3, neutralise(&row.item)),
            (4, neutralise(&row.figure)),
            (9, neutralise(&row.note)),
        ];
        for (col, text) in texts {
            if !text.is_empty() {
                sheet.write_string(r, col, text)?;
            }
        }
        for (col, value) in [(5, row.value), (6, row.low), (7, row.high)] {
            if let Some(v) = value.filter(|v| v.is_finite()) {
                sheet.write_number(r, col, v)?;
            }
        }
        if let Some(n) = row.n {
            sheet.write_number(r, 8, n as f64)?;
        }
    }
    sheet.set_column_width(1, 16)?;
    sheet.set_column_width(2, 18)?;
    sheet.set_column_width(3, 24)?;
    sheet.set_column_width(4, 18)?;
    sheet.set_column_width(9, 40)?;
    Ok(workbook.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise("=1+1"), "'=1+1");
        assert_eq!(neutralise("+x"), "'+x");
        assert_eq!(neutralise("-x"), "'-x");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("\tx"), "'\tx");
        assert_eq!(neutralise("Sales"), "Sales");
        assert_eq!(neutralise(""), "");
    }
}
