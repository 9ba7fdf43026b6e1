//! A CSV file with known columns, as the request and KPI imports read it — pure.
//!
//! The same rules as the stakeholder import: UTF-8 with or without BOM, the delimiter (`,`
//! `;` or tab) detected from the header line, headers matched after trimming, lower-casing
//! and turning spaces and hyphens into `_`, blank rows skipped, cells trimmed, every problem
//! reported with its line and column.

use crate::domain::stakeholder::normalise_name;
use crate::services::stakeholders::csv_import::{CsvFile, NOT_UTF8};
use crate::services::stakeholders::ImportProblem;

/// A column the file may have.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The normalised header, e.g. `request_id`.
    pub name: &'static str,
    /// Other headers accepted for it (normalised), e.g. `id`.
    pub aliases: &'static [&'static str],
    pub required: bool,
}

/// One data row: its line and its trimmed cells, in the order of the columns asked for
/// (an empty string where the file lacks the column).
#[derive(Debug, Clone)]
pub struct Row {
    pub line: u64,
    pub cells: Vec<String>,
}

/// The rows read, and the header of each column asked for as written in the file.
#[derive(Debug, Clone)]
pub struct Table {
    pub labels: Vec<String>,
    pub present: Vec<bool>,
    pub rows: Vec<Row>,
}

/// Reads the file. Header problems end the reading (`Err`); row problems are returned beside
/// the rows that had none.
pub fn read_table(
    bytes: &[u8],
    columns: &[Column],
) -> Result<(Table, Vec<ImportProblem>), Vec<ImportProblem>> {
    let example: Vec<&str> = columns.iter().map(|c| c.name).collect();
    let example = example.join(",");
    let mut file = CsvFile::open(
        bytes,
        &format!("the file is empty: the first line must name the columns: {example}"),
    )?;
    let (header, header_line) = (file.header.clone(), file.header_line);

    // For each column asked for: its index in the file.
    let mut positions: Vec<Option<usize>> = vec![None; columns.len()];
    let mut labels: Vec<String> = columns.iter().map(|c| c.name.to_string()).collect();
    let mut problems = Vec::new();
    let mut file_labels = Vec::new();
    for (index, raw) in header.iter().enumerate() {
        let text = String::from_utf8_lossy(raw);
        let label = if text.trim().is_empty() {
            format!("column {}", index + 1)
        } else {
            text.trim().to_string()
        };
        let normalised = normalise_name(&text);
        let found = columns
            .iter()
            .position(|c| c.name == normalised || c.aliases.contains(&normalised.as_str()));
        match found {
            Some(wanted) if positions[wanted].is_some() => problems.push(ImportProblem::new(
                header_line,
                Some(&label),
                format!(
                    "this is the {} column again: each column may appear only once",
                    columns[wanted].name
                ),
            )),
            Some(wanted) => {
                positions[wanted] = Some(index);
                labels[wanted] = label.clone();
            }
            None => problems.push(ImportProblem::new(
                header_line,
                Some(&label),
                format!("unknown column: the columns are {example}"),
            )),
        }
        file_labels.push(label);
    }
    for (column, position) in columns.iter().zip(&positions) {
        if column.required && position.is_none() {
            problems.push(ImportProblem::new(
                header_line,
                None,
                format!(
                    "there is no \"{}\" column (the header has: {}); the first line must name the columns: {example}",
                    column.name,
                    file_labels.join(", ")
                ),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let mut rows = Vec::new();
    file.for_each_record(header.len(), &mut problems, |line, record, problems| {
        let mut cells = Vec::with_capacity(columns.len());
        let mut ok = true;
        for (wanted, position) in positions.iter().enumerate() {
            let Some(index) = *position else {
                cells.push(String::new());
                continue;
            };
            let raw = record.get(index).unwrap_or_default();
            match std::str::from_utf8(raw) {
                Ok(text) if text.contains(['\r', '\n']) => {
                    problems.push(ImportProblem::new(
                        line,
                        Some(&labels[wanted]),
                        "the value contains a line break (is a quote not closed?): put each value on one line",
                    ));
                    ok = false;
                }
                Ok(text) => cells.push(text.trim().to_string()),
                Err(_) => {
                    problems.push(ImportProblem::new(line, Some(&labels[wanted]), NOT_UTF8));
                    ok = false;
                }
            }
        }
        if ok {
            rows.push(Row { line, cells });
        }
    });
    if rows.is_empty() && problems.is_empty() {
        problems.push(ImportProblem::new(
            header_line + 1,
            None,
            "the file has a header but no rows",
        ));
    }
    Ok((
        Table {
            labels,
            present: positions.iter().map(Option::is_some).collect(),
            rows,
        },
        problems,
    ))
}
