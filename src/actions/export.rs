//! The actions of a survey as CSV and XLSX: one row per action, texts for respondents one
//! column per language, spreadsheet formulas neutralised like every export.

use super::ActionView;
use crate::export::neutralise;

const HEADER: [&str; 14] = [
    "id",
    "title",
    "target",
    "target_label",
    "group",
    "wave",
    "owner",
    "due_on",
    "status",
    "overdue",
    "published",
    "created_by",
    "updated_at",
    "description",
];

fn cells(action: &ActionView) -> [String; 14] {
    let description = action
        .description
        .iter()
        .map(|(language, text)| format!("[{language}] {text}"))
        .collect::<Vec<_>>()
        .join("\n");
    [
        action.id.clone(),
        neutralise(&action.title),
        action.target.clone(),
        neutralise(&action.target_label),
        neutralise(action.group.as_deref().unwrap_or("")),
        neutralise(&action.wave_title),
        neutralise(&action.owner),
        action.due_on.to_string(),
        action.status.as_str().to_string(),
        action.overdue.to_string(),
        action.published.to_string(),
        neutralise(&action.created_by),
        action.updated_at.format("%Y-%m-%d %H:%M:%S").to_string(),
        neutralise(&description),
    ]
}

pub fn to_csv(actions: &[ActionView]) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADER)?;
    for action in actions {
        writer.write_record(cells(action))?;
    }
    Ok(writer.into_inner()?)
}

pub fn to_xlsx(actions: &[ActionView]) -> anyhow::Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Actions")?;
    let bold = Format::new().set_bold();
    for (col, name) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *name, &bold)?;
    }
    for (i, action) in actions.iter().enumerate() {
        let r = u32::try_from(i + 1)?;
        for (col, text) in cells(action).iter().enumerate() {
            if !text.is_empty() {
                sheet.write_string(r, col as u16, text)?;
            }
        }
    }
    sheet.set_column_width(1, 32)?;
    sheet.set_column_width(3, 28)?;
    sheet.set_column_width(13, 60)?;
    Ok(workbook.save_to_buffer()?)
}
