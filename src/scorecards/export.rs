//! Scorecards as CSV and XLSX: one row per unit and measure, the same figures as the page
//! and the JSON API. A hidden survey figure has an empty value and the status "hidden".

use super::card::{Scorecard, HIDDEN_NOTE};
use crate::export::neutralise;

pub const HEADER: [&str; 10] = [
    "business_unit",
    "period",
    "measure",
    "name",
    "source",
    "unit",
    "value",
    "target",
    "status",
    "note",
];

/// One exported figure: the texts and the numbers.
struct Line {
    texts: [String; 6],
    value: Option<f64>,
    target: Option<f64>,
    status: &'static str,
    note: String,
}

fn lines(cards: &[Scorecard]) -> Vec<Line> {
    let mut out = Vec::new();
    for card in cards {
        for measure in &card.measures {
            out.push(Line {
                texts: [
                    neutralise(&card.unit),
                    card.period.to_string(),
                    measure.key.clone(),
                    neutralise(&measure.name),
                    measure.source.to_string(),
                    measure.unit.clone().unwrap_or_default(),
                ],
                value: measure.value,
                target: measure.target,
                status: measure.status.as_str(),
                note: if measure.status == super::status::Status::Hidden {
                    HIDDEN_NOTE.to_string()
                } else {
                    String::new()
                },
            });
        }
    }
    out
}

fn number(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{}", (v * 1e6).round() / 1e6),
        _ => String::new(),
    }
}

pub fn to_csv(cards: &[Scorecard]) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADER)?;
    for line in lines(cards) {
        let [unit, period, key, name, source, measure_unit] = line.texts;
        writer.write_record([
            unit,
            period,
            key,
            name,
            source,
            measure_unit,
            number(line.value),
            number(line.target),
            line.status.to_string(),
            line.note,
        ])?;
    }
    Ok(writer.into_inner()?)
}

pub fn to_xlsx(cards: &[Scorecard]) -> anyhow::Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Scorecard")?;
    let bold = Format::new().set_bold();
    for (col, name) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *name, &bold)?;
    }
    for (i, line) in lines(cards).into_iter().enumerate() {
        let r = u32::try_from(i + 1)?;
        for (col, text) in line.texts.iter().enumerate() {
            if !text.is_empty() {
                sheet.write_string(r, col as u16, text)?;
            }
        }
        for (col, value) in [(6, line.value), (7, line.target)] {
            if let Some(v) = value.filter(|v| v.is_finite()) {
                sheet.write_number(r, col, v)?;
            }
        }
        sheet.write_string(r, 8, line.status)?;
        if !line.note.is_empty() {
            sheet.write_string(r, 9, &line.note)?;
        }
    }
    sheet.set_column_width(0, 18)?;
    sheet.set_column_width(3, 36)?;
    sheet.set_column_width(9, 30)?;
    Ok(workbook.save_to_buffer()?)
}
