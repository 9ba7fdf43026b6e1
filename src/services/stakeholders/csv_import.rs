//! The stakeholder CSV, from bytes to validated records — pure, no database.
//!
//! [`parse_csv`] returns every stakeholder of the file, validated, or every problem found
//! (with its line and column), never a mix: the import is all-or-nothing.
//!
//! The file:
//! * UTF-8, with or without a byte-order mark. Other encodings are refused with advice
//!   (Excel: "CSV UTF-8").
//! * The first line names the columns. The delimiter is the one of `,` `;` or tab that occurs
//!   most often in that line outside quotes (`,` if none does): Excel writes `;` where the
//!   decimal separator is a comma.
//! * Quoted fields as usual: `"Berg, Anna"`, `"The ""A"" team"`. A line break inside a field
//!   is refused (stakeholder data is one-line data; it is almost always an unclosed quote).
//! * Headers are trimmed, lower-cased, spaces and hyphens turned into `_`. `email` is
//!   required; `name` and `language` are optional; every other column is a segment attribute
//!   whose name must then be `^[a-z][a-z0-9_]{0,62}$`. A header may appear only once.
//! * Cells are trimmed. An empty attribute, name or language cell means "no value". Rows whose
//!   cells are all empty (Excel leaves `;;;` lines behind) are skipped.

use std::collections::HashMap;
use std::fmt;

use crate::domain::stakeholder::{normalise_name, AttributeName, Attributes, LanguageCode};
use crate::domain::EmailAddress;

/// One validated stakeholder of the file, read from the [`ParsedImport`] it belongs to (the
/// file is held compactly: an attribute value or a language is stored once however many rows
/// have it, so a large directory does not cost a map and a dozen strings per row).
#[derive(Debug, Clone, Copy)]
pub struct StakeholderRecord<'a> {
    parsed: &'a ParsedImport,
    record: &'a Record,
    /// This record's attribute slots, one per attribute column (see [`ParsedImport::slots`]).
    slots: &'a [u32],
}

impl<'a> StakeholderRecord<'a> {
    /// The line of the file the row starts on (the header is line 1).
    pub fn line(&self) -> u64 {
        self.record.line
    }

    pub fn email(&self) -> &'a EmailAddress {
        &self.record.email
    }

    pub fn name(&self) -> Option<&'a str> {
        self.record.name.as_deref()
    }

    pub fn language(&self) -> Option<&'a LanguageCode> {
        let index = usize::try_from(self.record.language).ok()?.checked_sub(1)?;
        self.parsed.languages.get(index)
    }

    /// The value of the attribute column `name` in this row, if it has one.
    pub fn attribute(&self, name: &str) -> Option<&'a str> {
        let column = self
            .parsed
            .columns
            .attributes
            .iter()
            .position(|a| a.as_str() == name)?;
        self.column_value(column)
    }

    /// The value of the attribute column with this index in [`ImportColumns::attributes`].
    pub(crate) fn column_value(&self, column: usize) -> Option<&'a str> {
        let slot = *self.slots.get(column)?;
        let index = usize::try_from(slot).ok()?.checked_sub(1)?;
        self.parsed.values.get(index).map(|v| &**v)
    }

    /// The attributes with a value in this row, `(name, value)` sorted by name (the order of
    /// [`Attributes`]).
    pub fn attribute_pairs(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let record = *self;
        self.parsed
            .sorted_columns
            .iter()
            .filter_map(move |&column| {
                record
                    .column_value(column)
                    .map(|value| (record.parsed.columns.attributes[column].as_str(), value))
            })
    }

    /// Only the attributes with a value in this row.
    pub fn attributes(&self) -> Attributes {
        let mut attributes = Attributes::new();
        for &column in &self.parsed.sorted_columns {
            if let Some(value) = self.column_value(column) {
                attributes.set(&self.parsed.columns.attributes[column], value);
            }
        }
        attributes
    }

    /// [`Attributes::to_json`] of [`Self::attributes`], written without building the map.
    pub fn attributes_json(&self) -> String {
        let mut json = String::with_capacity(16 * self.slots.len() + 2);
        json.push('{');
        for (name, value) in self.attribute_pairs() {
            if json.len() > 1 {
                json.push(',');
            }
            push_json_string(&mut json, name);
            json.push(':');
            push_json_string(&mut json, value);
        }
        json.push('}');
        json
    }
}

/// Appends `text` as a JSON string, escaped exactly as `serde_json` does.
fn push_json_string(out: &mut String, text: &str) {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        // Serialising a string cannot fail.
        out.push_str(&serde_json::to_string(text).unwrap_or_default());
    }
}

/// A row of the file as [`ParsedImport`] holds it.
#[derive(Debug, Clone)]
struct Record {
    line: u64,
    email: EmailAddress,
    name: Option<Box<str>>,
    /// Index into [`ParsedImport::languages`] + 1; 0 for none.
    language: u32,
}

/// Which columns the file has. A column the file does not have leaves that field of existing
/// stakeholders alone; a column it has is authoritative, empty cells included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportColumns {
    pub name: bool,
    pub language: bool,
    /// The attribute columns, in file order.
    pub attributes: Vec<AttributeName>,
}

/// A file that passed every check: its columns and its stakeholders (at least one, each
/// email — compared by [`EmailAddress::folded`] — once).
#[derive(Debug, Clone)]
pub struct ParsedImport {
    columns: ImportColumns,
    records: Vec<Record>,
    /// `columns.attributes.len()` slots per record, in record order: the index of the value in
    /// `values` + 1, or 0 for no value.
    slots: Vec<u32>,
    /// Every distinct attribute value of the file (trimmed, never empty), once.
    values: Vec<Box<str>>,
    /// Every distinct language of the file, once.
    languages: Vec<LanguageCode>,
    /// Indices of `columns.attributes` sorted by name.
    sorted_columns: Vec<usize>,
    delimiter: char,
}

impl ParsedImport {
    pub fn columns(&self) -> &ImportColumns {
        &self.columns
    }

    /// The stakeholders, in file order.
    pub fn records(&self) -> impl ExactSizeIterator<Item = StakeholderRecord<'_>> + '_ {
        (0..self.records.len()).map(move |index| self.record(index))
    }

    /// The `index`th stakeholder of the file (`index < self.len()`).
    pub fn record(&self, index: usize) -> StakeholderRecord<'_> {
        let width = self.columns.attributes.len();
        StakeholderRecord {
            parsed: self,
            record: &self.records[index],
            slots: &self.slots[index * width..(index + 1) * width],
        }
    }

    /// The indices of [`ImportColumns::attributes`] sorted by attribute name.
    pub(crate) fn sorted_attribute_columns(&self) -> &[usize] {
        &self.sorted_columns
    }

    /// The delimiter that was detected.
    pub fn delimiter(&self) -> char {
        self.delimiter
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Never true for a value from [`parse_csv`] (a file without rows is a problem).
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// Hands out one number per distinct string (from 1), so a value shared by many rows is
/// stored once.
struct Interner {
    numbers: HashMap<Box<str>, u32>,
}

impl Interner {
    fn new() -> Self {
        Self {
            numbers: HashMap::new(),
        }
    }

    /// The number of `value`, new ones pushed onto `values`; `None` past `u32::MAX` values.
    fn number<T>(
        &mut self,
        key: &str,
        values: &mut Vec<T>,
        make: impl FnOnce() -> T,
    ) -> Option<u32> {
        if let Some(&number) = self.numbers.get(key) {
            return Some(number);
        }
        let number = u32::try_from(values.len() + 1).ok()?;
        values.push(make());
        self.numbers.insert(key.into(), number);
        Some(number)
    }
}

const TOO_MANY_VALUES: &str = "the file has more distinct values than an import can hold: split it";

/// One thing wrong with the file. Displays as
/// `line 14, column "email": 'anna@' is not a valid email address`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportProblem {
    pub line: u64,
    /// The column's header as written in the file, when the problem is in one column.
    pub column: Option<String>,
    pub message: String,
}

impl ImportProblem {
    pub(crate) fn new(line: u64, column: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            line,
            column: column.map(str::to_string),
            message: message.into(),
        }
    }
}

impl fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(
                f,
                "line {}, column \"{}\": {}",
                self.line, column, self.message
            ),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// What a column of the file holds.
#[derive(Debug, Clone)]
enum Field {
    Email,
    Name,
    Language,
    /// An attribute: its index in [`ImportColumns::attributes`].
    Attribute(usize),
    /// A header that was refused; its cells are not checked.
    Invalid,
}

pub(crate) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
pub(crate) const NOT_UTF8: &str = "the text is not valid UTF-8: save the file as \"CSV UTF-8\" \
     (Excel: File > Save As > CSV UTF-8), not in a legacy encoding such as Windows-1252";

/// Parses and validates a stakeholder CSV file (see the module docs for the format).
pub fn parse_csv(bytes: &[u8]) -> Result<ParsedImport, Vec<ImportProblem>> {
    let mut file = CsvFile::open(
        bytes,
        "the file is empty: the first line must name the columns, e.g. email,name,language,business_unit",
    )?;
    let (header, header_line, delimiter) = (file.header.clone(), file.header_line, file.delimiter);
    let mut problems = Vec::new();
    let (fields, labels, columns) = read_header(&header, header_line, &mut problems);
    let email_column = fields.iter().position(|f| matches!(f, Field::Email));

    let width = columns.attributes.len();
    let mut records = Vec::new();
    let mut slots: Vec<u32> = Vec::new();
    let mut values: Vec<Box<str>> = Vec::new();
    let mut value_numbers = Interner::new();
    let mut languages: Vec<LanguageCode> = Vec::new();
    // Language cell as written → its number, for cells that parsed.
    let mut language_numbers = Interner::new();
    let mut row_slots = vec![0u32; width];
    // Folded email → the line it is first on.
    let mut seen: HashMap<Box<str>, u64> = HashMap::new();
    file.for_each_record(fields.len(), &mut problems, |line, record, problems| {
        let problems_before = problems.len();
        let mut email = None;
        let mut name = None;
        let mut language = 0u32;
        row_slots.iter_mut().for_each(|slot| *slot = 0);
        for (index, raw) in record.iter().enumerate() {
            let label = labels[index].as_str();
            let Ok(text) = std::str::from_utf8(raw) else {
                problems.push(ImportProblem::new(line, Some(label), NOT_UTF8));
                continue;
            };
            if text.contains(['\r', '\n']) {
                problems.push(ImportProblem::new(
                    line,
                    Some(label),
                    "the value contains a line break (is a quote not closed?): \
                     put each value on one line",
                ));
                continue;
            }
            let value = text.trim();
            match &fields[index] {
                Field::Email => match EmailAddress::parse(value) {
                    Ok(address) => email = Some(address),
                    Err(message) => problems.push(ImportProblem::new(line, Some(label), message)),
                },
                Field::Name => name = (!value.is_empty()).then(|| Box::<str>::from(value)),
                Field::Language if value.is_empty() => {}
                Field::Language => {
                    if let Some(&number) = language_numbers.numbers.get(value) {
                        language = number;
                        continue;
                    }
                    match LanguageCode::parse(value) {
                        Ok(code) => match language_numbers.number(value, &mut languages, || code) {
                            Some(number) => language = number,
                            None => problems.push(ImportProblem::new(line, Some(label), TOO_MANY_VALUES)),
                        },
                        Err(message) => problems.push(ImportProblem::new(line, Some(label), message)),
                    }
                }
                Field::Attribute(_) if value.is_empty() => {}
                Field::Attribute(column) => {
                    let column = *column;
                    match value_numbers.number(value, &mut values, || value.into()) {
                        Some(number) => row_slots[column] = number,
                        None => problems.push(ImportProblem::new(line, Some(label), TOO_MANY_VALUES)),
                    }
                }
                Field::Invalid => {}
            }
        }
        if let (Some(address), Some(index)) = (&email, email_column) {
            match seen.entry(address.folded().into_boxed_str()) {
                std::collections::hash_map::Entry::Occupied(first) => {
                    let first = *first.get();
                    problems.push(ImportProblem::new(
                        line,
                        Some(labels[index].as_str()),
                        format!(
                            "'{address}' is also on line {first}: each stakeholder must be on one row only"
                        ),
                    ));
                }
                std::collections::hash_map::Entry::Vacant(vacant) => {
                    vacant.insert(line);
                }
            }
        }
        if problems.len() == problems_before {
            if let Some(email) = email {
                records.push(Record {
                    line,
                    email,
                    name,
                    language,
                });
                slots.extend_from_slice(&row_slots);
            }
        }
    });

    if email_column.is_some() && seen.is_empty() && problems.is_empty() {
        problems.push(ImportProblem::new(
            header_line + 1,
            None,
            "the file has a header but no stakeholder rows",
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    drop(seen);
    let mut sorted_columns: Vec<usize> = (0..width).collect();
    sorted_columns.sort_by(|&a, &b| {
        columns.attributes[a]
            .as_str()
            .cmp(columns.attributes[b].as_str())
    });
    records.shrink_to_fit();
    slots.shrink_to_fit();
    Ok(ParsedImport {
        columns,
        records,
        slots,
        values,
        languages,
        sorted_columns,
        delimiter: delimiter as char,
    })
}

/// Reads the header: what each column holds, the label to show in problems (the header as
/// written, or "column N" when it is blank), and the column summary.
fn read_header(
    header: &csv::ByteRecord,
    line: u64,
    problems: &mut Vec<ImportProblem>,
) -> (Vec<Field>, Vec<String>, ImportColumns) {
    let mut fields = Vec::with_capacity(header.len());
    let mut labels = Vec::with_capacity(header.len());
    let mut columns = ImportColumns {
        name: false,
        language: false,
        attributes: Vec::new(),
    };
    // Normalised header → its 1-based column number.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, raw) in header.iter().enumerate() {
        let number = index + 1;
        let Ok(text) = std::str::from_utf8(raw) else {
            labels.push(format!("column {number}"));
            problems.push(ImportProblem::new(
                line,
                Some(&format!("column {number}")),
                NOT_UTF8,
            ));
            fields.push(Field::Invalid);
            continue;
        };
        let label = if text.trim().is_empty() {
            format!("column {number}")
        } else {
            text.trim().to_string()
        };
        let normalised = normalise_name(text);
        let field = if normalised.is_empty() {
            problems.push(ImportProblem::new(
                line,
                Some(&label),
                "the column has no name: name it (e.g. region) or delete the column",
            ));
            Field::Invalid
        } else if let Some(first) = seen.get(&normalised) {
            problems.push(ImportProblem::new(
                line,
                Some(&label),
                format!("{normalised} is also column {first}: each column may appear only once"),
            ));
            Field::Invalid
        } else {
            seen.insert(normalised.clone(), number);
            match normalised.as_str() {
                "email" => Field::Email,
                "name" => {
                    columns.name = true;
                    Field::Name
                }
                "language" => {
                    columns.language = true;
                    Field::Language
                }
                _ => match AttributeName::parse(&normalised) {
                    Ok(attribute) => {
                        columns.attributes.push(attribute);
                        Field::Attribute(columns.attributes.len() - 1)
                    }
                    Err(message) => {
                        problems.push(ImportProblem::new(line, Some(&label), message));
                        Field::Invalid
                    }
                },
            }
        };
        fields.push(field);
        labels.push(label);
    }
    if !fields.iter().any(|f| matches!(f, Field::Email)) {
        let found: Vec<&str> = labels.iter().map(String::as_str).collect();
        problems.push(ImportProblem::new(
            line,
            None,
            format!(
                "there is no \"email\" column (the header has: {}); the first line must name \
                 the columns, e.g. email,name,language,business_unit",
                found.join(", ")
            ),
        ));
    }
    (fields, labels, columns)
}

/// The delimiter that occurs most often in the first line outside quotes; `,` when tied or
/// when there is none (a one-column file).
pub(crate) fn detect_delimiter(bytes: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut in_quotes = false;
    for &byte in bytes {
        match byte {
            b'"' => in_quotes = !in_quotes,
            b'\n' | b'\r' if !in_quotes => break,
            _ if !in_quotes => {
                for (delimiter, count) in counts.iter_mut() {
                    if byte == *delimiter {
                        *count += 1;
                    }
                }
            }
            _ => {}
        }
    }
    let mut best = counts[0];
    for candidate in &counts[1..] {
        if candidate.1 > best.1 {
            best = *candidate;
        }
    }
    best.0
}

/// Line numbers of records. The csv reader's own count starts at the end of the previous
/// record (so it is off after blank lines and CRLF), hence this count over the bytes, which
/// skips the line breaks a record's reported start offset may sit on.
pub(crate) struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    /// The line the record starts on; records must be passed in file order.
    pub(crate) fn line_of(&mut self, record: &csv::ByteRecord) -> u64 {
        let reported = record.position().map_or(self.offset as u64, |p| p.byte());
        let mut start = usize::try_from(reported)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        while self.offset < start {
            match self.bytes[self.offset] {
                b'\n' => self.line += 1,
                b'\r' if self.bytes.get(self.offset + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
            self.offset += 1;
        }
        self.line
    }
}

/// A CSV file opened the way every import reads it: UTF-16 refused, a UTF-8 BOM dropped,
/// the delimiter detected, blank lines before the header skipped, lines counted.
pub(crate) struct CsvFile<'a> {
    reader: csv::Reader<&'a [u8]>,
    lines: LineCounter<'a>,
    pub(crate) header: csv::ByteRecord,
    pub(crate) header_line: u64,
    pub(crate) delimiter: u8,
}

impl<'a> CsvFile<'a> {
    /// Opens `bytes` and reads the header; `empty`: the problem to report for an empty file.
    pub(crate) fn open(bytes: &'a [u8], empty: &str) -> Result<Self, Vec<ImportProblem>> {
        if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
            return Err(vec![ImportProblem::new(
                1,
                None,
                "the file is UTF-16 (Excel \"Unicode Text\"): save it as \"CSV UTF-8\" instead",
            )]);
        }
        let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(vec![ImportProblem::new(1, None, empty)]);
        }
        let delimiter = detect_delimiter(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut lines = LineCounter::new(bytes);
        let mut header = csv::ByteRecord::new();
        let mut header_line = 1;
        loop {
            match reader.read_byte_record(&mut header) {
                Ok(true) => {
                    header_line = lines.line_of(&header);
                    if !is_blank(&header) {
                        break;
                    }
                }
                Ok(false) => {
                    return Err(vec![ImportProblem::new(
                        header_line,
                        None,
                        "the file has no header line",
                    )])
                }
                Err(error) => {
                    return Err(vec![ImportProblem::new(
                        header_line,
                        None,
                        error.to_string(),
                    )])
                }
            }
        }
        Ok(Self {
            reader,
            lines,
            header,
            header_line,
            delimiter,
        })
    }

    /// Calls `each` with the line and the fields of every data record, in file order. Blank
    /// records are skipped; a record with another number of fields than the header's
    /// (`width`) is reported and skipped; a record the CSV reader cannot read is reported and
    /// ends the reading.
    pub(crate) fn for_each_record(
        &mut self,
        width: usize,
        problems: &mut Vec<ImportProblem>,
        mut each: impl FnMut(u64, &csv::ByteRecord, &mut Vec<ImportProblem>),
    ) {
        let mut record = csv::ByteRecord::new();
        let mut last_line = self.header_line;
        loop {
            match self.reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => {
                    problems.push(ImportProblem::new(last_line + 1, None, error.to_string()));
                    break;
                }
            }
            let line = self.lines.line_of(&record);
            last_line = line;
            if is_blank(&record) {
                continue;
            }
            if record.len() != width {
                let delimiter = self.delimiter as char;
                problems.push(ImportProblem::new(
                    line,
                    None,
                    format!(
                        "{} fields, but the header has {width}: a missing or extra '{delimiter}', \
                         or a value containing '{delimiter}' that is not in quotes?",
                        record.len(),
                    ),
                ));
                continue;
            }
            each(line, &record, problems);
        }
    }
}

pub(crate) fn is_blank(record: &csv::ByteRecord) -> bool {
    record
        .iter()
        .all(|field| field.iter().all(u8::is_ascii_whitespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> ParsedImport {
        match parse_csv(text.as_bytes()) {
            Ok(parsed) => parsed,
            Err(problems) => panic!("unexpected problems: {problems:#?}"),
        }
    }

    fn problems(bytes: &[u8]) -> Vec<String> {
        match parse_csv(bytes) {
            Ok(parsed) => panic!("accepted: {parsed:#?}"),
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn reads_columns_attributes_and_normalises() {
        let parsed = parse_ok(
            "Email, Name ,Language,Business Unit,cost-center,Region\n\
             anna.berg@Example.COM , Anna Berg ,pt_br,Manufacturing,,EMEA\n\
             bob@example.com,,,R&D,CC-17,\n",
        );
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed.delimiter(), ',');
        let columns = parsed.columns();
        assert!(columns.name && columns.language);
        let names: Vec<&str> = columns
            .attributes
            .iter()
            .map(AttributeName::as_str)
            .collect();
        assert_eq!(names, ["business_unit", "cost_center", "region"]);

        let anna = parsed.record(0);
        assert_eq!(anna.line(), 2);
        assert_eq!(anna.email().as_str(), "anna.berg@example.com");
        assert_eq!(anna.name(), Some("Anna Berg"));
        assert_eq!(anna.language().map(LanguageCode::as_str), Some("pt-BR"));
        assert_eq!(
            anna.attributes().to_string(),
            "business_unit=Manufacturing; region=EMEA"
        );
        let bob = parsed.record(1);
        assert_eq!(bob.name(), None);
        assert_eq!(bob.language(), None);
        assert_eq!(
            bob.attributes().to_string(),
            "business_unit=R&D; cost_center=CC-17"
        );
    }

    #[test]
    fn semicolons_bom_crlf_and_quotes() {
        let mut bytes = UTF8_BOM.to_vec();
        bytes.extend_from_slice(
            "email;name;department\r\n\
             anna@example.com;\"Berg; Anna\";\"Sales, \"\"Inside\"\" Team\"\r\n\
             \r\n\
             jörg@example.de;Jörg Müller;Einkauf\r\n"
                .as_bytes(),
        );
        let parsed = parse_csv(&bytes).unwrap();
        assert_eq!(parsed.delimiter(), ';');
        let anna = parsed.record(0);
        assert_eq!(anna.name(), Some("Berg; Anna"));
        assert_eq!(anna.attribute("department"), Some("Sales, \"Inside\" Team"));
        assert_eq!(parsed.record(1).name(), Some("Jörg Müller"));
        assert_eq!(parsed.record(1).line(), 4);
    }

    #[test]
    fn delimiter_detection_looks_at_the_header_outside_quotes() {
        assert_eq!(detect_delimiter(b"email"), b',');
        assert_eq!(detect_delimiter(b"email;name\na,b,c,d"), b';');
        assert_eq!(detect_delimiter(b"\"a;b;c\",name\n"), b',');
        assert_eq!(detect_delimiter(b"email\tname\tregion\n"), b'\t');
        let parsed = parse_ok("email\n\nanna@example.com\n\n");
        assert_eq!(parsed.len(), 1);
    }

    #[test]
    fn blank_rows_are_skipped_and_lines_counted() {
        let parsed = parse_ok("email;name\n\nanna@example.com;Anna\n;\n ; \nbob@example.com;Bob\n");
        let lines: Vec<u64> = parsed.records().map(|r| r.line()).collect();
        assert_eq!(lines, [3, 6]);
    }

    #[test]
    fn every_problem_is_listed_with_line_and_column() {
        let got = problems(
            b"email,name,language,region\n\
              anna@example.com,Anna,en,EMEA\n\
              anna@,Anna B,de,EMEA\n\
              ,No Mail,,\n\
              ANNA@example.com,Anna again,,\n\
              carl@example.com,Carl,english,\n\
              dora@example.com,\"Dora\nSmith\",,\n\
              eve@example.com,Eve,en\n\
              fred@example.com,Fred,en,EMEA,extra\n",
        );
        assert_eq!(
            got,
            [
                "line 3, column \"email\": 'anna@' is not a valid email address",
                "line 4, column \"email\": the email address is empty",
                "line 5, column \"email\": 'ANNA@example.com' is also on line 2: each stakeholder must be on one row only",
                "line 6, column \"language\": 'english' is not a language code: use a code like en, de or pt-BR",
                "line 7, column \"name\": the value contains a line break (is a quote not closed?): put each value on one line",
                "line 9: 3 fields, but the header has 4: a missing or extra ',', or a value containing ',' that is not in quotes?",
                "line 10: 5 fields, but the header has 4: a missing or extra ',', or a value containing ',' that is not in quotes?",
            ]
        );
    }

    #[test]
    fn header_problems() {
        let got = problems(b"E-Mail,Name,R\xC3\xA9gion,name,,1st\nanna@example.com,A,x,y,z,w\n");
        assert_eq!(
            got,
            [
                "line 1, column \"Région\": 'région' is not a valid attribute name: use at most 63 letters a-z, digits and _, starting with a letter (e.g. business_unit)",
                "line 1, column \"name\": name is also column 2: each column may appear only once",
                "line 1, column \"column 5\": the column has no name: name it (e.g. region) or delete the column",
                "line 1, column \"1st\": '1st' is not a valid attribute name: use at most 63 letters a-z, digits and _, starting with a letter (e.g. business_unit)",
                "line 1: there is no \"email\" column (the header has: E-Mail, Name, Région, name, column 5, 1st); the first line must name the columns, e.g. email,name,language,business_unit",
            ]
        );
    }

    #[test]
    fn encodings_and_empty_files() {
        let got = problems(b"email,name\nj\xF6rg@example.de,J\xF6rg\n");
        assert_eq!(got.len(), 2);
        assert!(
            got[0].starts_with("line 2, column \"email\": the text is not valid UTF-8"),
            "{got:?}"
        );
        assert!(
            got[1].starts_with("line 2, column \"name\": the text is not valid UTF-8"),
            "{got:?}"
        );
        let got = problems(b"\xFF\xFEe\0m\0");
        assert!(got[0].contains("UTF-16"), "{got:?}");
        let got = problems(b"");
        assert!(got[0].starts_with("line 1: the file is empty"), "{got:?}");
        let got = problems(b"\xEF\xBB\xBF \r\n");
        assert!(got[0].starts_with("line 1: the file is empty"), "{got:?}");
        let got = problems(b"email,name\n");
        assert_eq!(
            got,
            ["line 2: the file has a header but no stakeholder rows"]
        );
        let got = problems(b"email,name\n,\n;\n");
        assert_eq!(
            got,
            ["line 3: 1 fields, but the header has 2: a missing or extra ',', or a value containing ',' that is not in quotes?"]
        );
    }

    #[test]
    fn records_are_held_compactly_and_read_back_alike() {
        let parsed = parse_ok(
            "email,zone,language,Area,name\n\
             a@example.com,\"Nord \"\"Ost\"\"\",de,back\\slash\u{1},A\n\
             b@example.com,,en,Süd,\n\
             c@example.com,\"Nord \"\"Ost\"\"\",de,,C\n\
             d@example.com,,,,\n",
        );
        let a = parsed.record(0);
        let c = parsed.record(2);
        // One stored value, one stored language for the rows that share them.
        assert!(std::ptr::eq(
            a.attribute("zone").unwrap(),
            c.attribute("zone").unwrap()
        ));
        assert!(std::ptr::eq(a.language().unwrap(), c.language().unwrap()));
        for record in parsed.records() {
            let attributes = record.attributes();
            assert_eq!(record.attributes_json(), attributes.to_json());
            let pairs: Vec<(&str, &str)> = record.attribute_pairs().collect();
            let expected: Vec<(&str, &str)> = attributes.iter().collect();
            assert_eq!(pairs, expected);
        }
        assert_eq!(
            a.attributes_json(),
            r#"{"area":"back\\slash\u0001","zone":"Nord \"Ost\""}"#
        );
        assert_eq!(parsed.record(3).attributes_json(), "{}");
        assert_eq!(parsed.record(1).name(), None);
        assert_eq!(parsed.record(3).language(), None);
    }

    #[test]
    fn duplicate_detection_ignores_case_and_whitespace() {
        let got = problems(b"email\n Anna@Example.com\nanna@example.com \n");
        assert_eq!(
            got,
            ["line 3, column \"email\": 'anna@example.com' is also on line 2: each stakeholder must be on one row only"]
        );
    }
}
