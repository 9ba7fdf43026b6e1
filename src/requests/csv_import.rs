//! The request-log CSV, from bytes to validated requests — pure, no database.
//!
//! Columns (headers normalised like the stakeholder import; `id`, `unit`, `opened`,
//! `fulfilled` and `amount` are accepted as short forms):
//!
//! | column | required | content |
//! |---|---|---|
//! | `request_id` | yes | the organisation's id of the request; a re-import updates it |
//! | `business_unit` | yes | one of the directory's `business_unit` values |
//! | `requester_email` | no | the requester's address |
//! | `category` | yes | e.g. IT hardware, professional services (targets may differ per category) |
//! | `channel` | yes | catalogue, purchase order, tender, card, … |
//! | `value` | no | amount, `.` or `,` as decimal separator, no thousands separators |
//! | `currency` | with value | ISO code, e.g. EUR |
//! | `opened_on` | yes | YYYY-MM-DD |
//! | `fulfilled_on` | no | YYYY-MM-DD, empty while open |
//! | `status` | no | open, fulfilled or cancelled; when absent, from `fulfilled_on` |

use std::collections::HashMap;

use chrono::NaiveDate;

use super::table::{read_table, Column};
use crate::domain::EmailAddress;
use crate::services::stakeholders::ImportProblem;

/// A request's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    Open,
    Fulfilled,
    Cancelled,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::Fulfilled => "fulfilled",
            RequestStatus::Cancelled => "cancelled",
        }
    }
}

/// One validated request from the file.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
    pub line: u64,
    pub id: String,
    pub business_unit: String,
    pub requester_email: Option<EmailAddress>,
    pub category: String,
    pub channel: String,
    pub value: Option<f64>,
    pub currency: Option<String>,
    pub opened_on: NaiveDate,
    pub fulfilled_on: Option<NaiveDate>,
    pub status: RequestStatus,
}

const COLUMNS: [Column; 10] = [
    Column {
        name: "request_id",
        aliases: &["id"],
        required: true,
    },
    Column {
        name: "business_unit",
        aliases: &["unit"],
        required: true,
    },
    Column {
        name: "requester_email",
        aliases: &["requester", "email"],
        required: false,
    },
    Column {
        name: "category",
        aliases: &[],
        required: true,
    },
    Column {
        name: "channel",
        aliases: &[],
        required: true,
    },
    Column {
        name: "value",
        aliases: &["amount"],
        required: false,
    },
    Column {
        name: "currency",
        aliases: &[],
        required: false,
    },
    Column {
        name: "opened_on",
        aliases: &["opened"],
        required: true,
    },
    Column {
        name: "fulfilled_on",
        aliases: &["fulfilled"],
        required: false,
    },
    Column {
        name: "status",
        aliases: &[],
        required: false,
    },
];

const ID: usize = 0;
const UNIT: usize = 1;
const EMAIL: usize = 2;
const CATEGORY: usize = 3;
const CHANNEL: usize = 4;
const VALUE: usize = 5;
const CURRENCY: usize = 6;
const OPENED: usize = 7;
const FULFILLED: usize = 8;
const STATUS: usize = 9;

/// The fields of a request, in the file's column order (the request API's JSON names).
pub const FIELDS: [&str; 10] = [
    COLUMNS[0].name,
    COLUMNS[1].name,
    COLUMNS[2].name,
    COLUMNS[3].name,
    COLUMNS[4].name,
    COLUMNS[5].name,
    COLUMNS[6].name,
    COLUMNS[7].name,
    COLUMNS[8].name,
    COLUMNS[9].name,
];

/// Which fields a request must have (the CSV's required columns).
pub fn required(field: usize) -> bool {
    COLUMNS[field].required
}

/// What is wrong with one field of a request: the field (an index into [`FIELDS`]), a
/// short reason for programs (`not_a_date`, `before_opened_on`, …) and the message for
/// people — the same words for the CSV import and the request API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: usize,
    pub reason: &'static str,
    pub message: String,
}

/// Parses and validates a request-log file: every request, or every problem.
pub fn parse_requests(bytes: &[u8]) -> Result<Vec<RequestRecord>, Vec<ImportProblem>> {
    let (table, mut problems) = read_table(bytes, &COLUMNS)?;
    let label = |column: usize| Some(table.labels[column].as_str());
    let mut records = Vec::with_capacity(table.rows.len());
    let mut seen: HashMap<String, u64> = HashMap::with_capacity(table.rows.len());
    for row in &table.rows {
        let line = row.line;
        let cells: [&str; 10] = std::array::from_fn(|column| row.cells[column].as_str());
        let id = cells[ID];
        let mut duplicate = None;
        if !id.is_empty() {
            if let Some(first) = seen.get(id) {
                duplicate = Some(format!(
                    "'{id}' is also on line {first}: each request must be on one row only"
                ));
            } else {
                seen.insert(id.to_string(), line);
            }
        }
        match validate_request(&cells, line) {
            Ok(record) if duplicate.is_none() => records.push(record),
            outcome => {
                let mut found = outcome.err().unwrap_or_default();
                if let Some(message) = duplicate {
                    found.insert(
                        0,
                        FieldProblem {
                            field: ID,
                            reason: "duplicate",
                            message,
                        },
                    );
                }
                problems.extend(
                    found
                        .into_iter()
                        .map(|p| ImportProblem::new(line, label(p.field), p.message)),
                );
            }
        }
    }
    if problems.is_empty() {
        Ok(records)
    } else {
        Err(problems)
    }
}

/// Validates one request given as the text of its fields (in [`FIELDS`] order, empty when
/// absent): the request, or every problem in field order.
pub fn validate_request(cells: &[&str; 10], line: u64) -> Result<RequestRecord, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let cell = |column: usize| cells[column];
    let mut problem = |field: usize, reason: &'static str, message: String| {
        problems.push(FieldProblem {
            field,
            reason,
            message,
        });
    };

    let id = cell(ID);
    if id.is_empty() {
        problem(
            ID,
            "empty",
            "the request id is empty: every request needs its id".into(),
        );
    }
    for (column, what) in [
        (UNIT, "business unit"),
        (CATEGORY, "category"),
        (CHANNEL, "channel"),
    ] {
        if cell(column).is_empty() {
            problem(column, "empty", format!("the {what} is empty"));
        }
    }
    let requester_email = match cell(EMAIL) {
        "" => None,
        text => match EmailAddress::parse(text) {
            Ok(address) => Some(address),
            Err(message) => {
                problem(EMAIL, "not_an_email", message);
                None
            }
        },
    };
    let value = match cell(VALUE) {
        "" => None,
        text => match parse_amount(text) {
            Ok(value) => Some(value),
            Err(message) => {
                problem(VALUE, "not_a_number", message);
                None
            }
        },
    };
    let currency = match cell(CURRENCY) {
        "" => None,
        text if text.len() == 3 && text.chars().all(|c| c.is_ascii_alphabetic()) => {
            Some(text.to_ascii_uppercase())
        }
        text => {
            problem(
                CURRENCY,
                "not_a_currency",
                format!("'{text}' is not a currency code: use three letters, e.g. EUR"),
            );
            None
        }
    };
    if value.is_some() && currency.is_none() && cell(CURRENCY).is_empty() {
        problem(
            CURRENCY,
            "missing_currency",
            "a value needs its currency (three letters, e.g. EUR)".into(),
        );
    }
    let opened_on = match cell(OPENED) {
        "" => {
            problem(
                OPENED,
                "empty",
                "the opening date is empty: write it as YYYY-MM-DD".into(),
            );
            None
        }
        text => parse_date(text)
            .map_err(|m| problem(OPENED, "not_a_date", m))
            .ok(),
    };
    let fulfilled_on = match cell(FULFILLED) {
        "" => None,
        text => parse_date(text)
            .map_err(|m| problem(FULFILLED, "not_a_date", m))
            .ok(),
    };
    if let (Some(opened), Some(fulfilled)) = (opened_on, fulfilled_on) {
        if fulfilled < opened {
            problem(
                FULFILLED,
                "before_opened_on",
                format!("{fulfilled} is before the opening date {opened}"),
            );
        }
    }
    let status = match cell(STATUS).to_ascii_lowercase().as_str() {
        "" if fulfilled_on.is_some() => Some(RequestStatus::Fulfilled),
        "" => Some(RequestStatus::Open),
        "open" => Some(RequestStatus::Open),
        "fulfilled" | "closed" | "done" => Some(RequestStatus::Fulfilled),
        "cancelled" | "canceled" => Some(RequestStatus::Cancelled),
        other => {
            problem(
                STATUS,
                "not_a_status",
                format!("'{other}' is not a status: use open, fulfilled or cancelled"),
            );
            None
        }
    };
    match (status, fulfilled_on) {
        (Some(RequestStatus::Fulfilled), None) if cell(FULFILLED).is_empty() => problem(
            FULFILLED,
            "missing_fulfilled_on",
            "the request is fulfilled but has no fulfilment date: write it as YYYY-MM-DD".into(),
        ),
        (Some(RequestStatus::Open), Some(_)) => problem(
            STATUS,
            "open_with_fulfilled_on",
            "the request is open but has a fulfilment date: make it fulfilled, or empty the date"
                .into(),
        ),
        _ => {}
    }
    match (opened_on, status) {
        (Some(opened_on), Some(status)) if problems.is_empty() => Ok(RequestRecord {
            line,
            id: id.to_string(),
            business_unit: cell(UNIT).to_string(),
            requester_email,
            category: cell(CATEGORY).to_string(),
            channel: cell(CHANNEL).to_string(),
            value,
            currency,
            opened_on,
            fulfilled_on,
            status,
        }),
        _ => Err(problems),
    }
}

/// `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    // The shape every export has, read directly (the import reads two dates a row, and
    // chrono's format interpreter is the slow way); anything else goes the general way.
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        if let (Some(year), Some(month), Some(day)) = (digits(0..4), digits(5..7), digits(8..10)) {
            if let Some(date) = i32::try_from(year)
                .ok()
                .and_then(|y| NaiveDate::from_ymd_opt(y, month, day))
            {
                return Ok(date);
            }
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("'{text}' is not a date: write it as YYYY-MM-DD, e.g. 2027-03-31"))
}

/// An amount or KPI value: digits with `.` or `,` as the decimal separator.
pub fn parse_amount(text: &str) -> Result<f64, String> {
    let normalised = if text.contains('.') {
        text.to_string()
    } else {
        text.replacen(',', ".", 1)
    };
    match normalised.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        _ => Err(format!(
            "'{text}' is not a number: write digits with . or , before the decimals and no thousands separators, e.g. 1250.50"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "request_id,business_unit,requester_email,category,channel,value,currency,opened_on,fulfilled_on,status\n";

    #[test]
    fn reads_a_good_file() {
        let text = format!(
            "{HEADER}R-1,IT,anna@example.com,Laptops,catalogue,1200.50,eur,2026-01-05,2026-02-01,\n\
             R-2,Sales,,Services,tender,,,2026-03-01,,open\n"
        );
        let records = parse_requests(text.as_bytes()).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].status, RequestStatus::Fulfilled);
        assert_eq!(records[0].currency.as_deref(), Some("EUR"));
        assert_eq!(records[0].value, Some(1200.5));
        assert_eq!(records[1].status, RequestStatus::Open);
        assert_eq!(records[1].fulfilled_on, None);
    }

    #[test]
    fn short_headers_and_semicolons() {
        let text = "ID;Unit;Category;Channel;Amount;Currency;Opened;Fulfilled\n\
                    7;IT;Laptops;card;99,90;EUR;2026-01-05;\n";
        let records = parse_requests(text.as_bytes()).unwrap();
        assert_eq!(records[0].value, Some(99.9));
        assert_eq!(records[0].status, RequestStatus::Open);
    }

    #[test]
    fn reports_every_problem_with_line_and_column() {
        let text = format!(
            "{HEADER}R-1,IT,anna@,Laptops,catalogue,12x,EUR,2026-13-01,,\n\
             R-1,,,Laptops,catalogue,,,2026-01-05,2026-01-01,fulfilled\n\
             R-3,IT,,Laptops,catalogue,,,2026-01-05,,shipped\n\
             R-4,IT,,Laptops,catalogue,,,2026-01-05,,fulfilled\n"
        );
        let problems: Vec<String> = parse_requests(text.as_bytes())
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            problems,
            [
                "line 2, column \"requester_email\": 'anna@' is not a valid email address",
                "line 2, column \"value\": '12x' is not a number: write digits with . or , before the decimals and no thousands separators, e.g. 1250.50",
                "line 2, column \"opened_on\": '2026-13-01' is not a date: write it as YYYY-MM-DD, e.g. 2027-03-31",
                "line 3, column \"request_id\": 'R-1' is also on line 2: each request must be on one row only",
                "line 3, column \"business_unit\": the business unit is empty",
                "line 3, column \"fulfilled_on\": 2026-01-01 is before the opening date 2026-01-05",
                "line 4, column \"status\": 'shipped' is not a status: use open, fulfilled or cancelled",
                "line 5, column \"fulfilled_on\": the request is fulfilled but has no fulfilment date: write it as YYYY-MM-DD",
            ]
        );
    }

    #[test]
    fn dates_read_as_chrono_reads_them() {
        for text in ["2027-03-31", "2024-02-29", "0001-01-01", "2026-12-31"] {
            assert_eq!(
                parse_date(text),
                Ok(NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()),
                "{text}"
            );
        }
        // chrono accepts these too; the fast path leaves them to it.
        assert_eq!(
            parse_date("2027-3-31"),
            Ok(NaiveDate::from_ymd_opt(2027, 3, 31).unwrap())
        );
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1a-01",
            "31.03.2027",
            "",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_unknown_and_missing_columns() {
        let problems: Vec<String> = parse_requests(b"request_id,colour\n1,red\n")
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            problems[0].starts_with("line 1, column \"colour\": unknown column"),
            "{problems:?}"
        );
        assert!(problems
            .iter()
            .any(|p| p.contains("there is no \"business_unit\" column")));
    }
}
