//! The KPI values CSV — pure: `kpi,period,business_unit,value`, one value per KPI, half-year
//! and business unit. Every KPI key must be a measure of the scorecard definition whose
//! source is `kpi`; every unit one of the directory's business units.

use std::collections::{BTreeSet, HashMap};

use super::definition::{ScorecardDefinition, Source};
use super::period::HalfYear;
use crate::requests::csv_import::parse_amount;
use crate::requests::table::{read_table, Column};
use crate::services::stakeholders::ImportProblem;

/// One validated value.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiValue {
    pub line: u64,
    pub key: String,
    pub period: HalfYear,
    pub business_unit: String,
    pub value: f64,
}

const COLUMNS: [Column; 4] = [
    Column {
        name: "kpi",
        aliases: &["key", "kpi_key"],
        required: true,
    },
    Column {
        name: "period",
        aliases: &["half_year"],
        required: true,
    },
    Column {
        name: "business_unit",
        aliases: &["unit"],
        required: true,
    },
    Column {
        name: "value",
        aliases: &[],
        required: true,
    },
];

/// Parses and checks a KPI values file against the definition and the directory's units.
pub fn parse_kpi_values(
    bytes: &[u8],
    definition: &ScorecardDefinition,
    units: &BTreeSet<String>,
) -> Result<Vec<KpiValue>, Vec<ImportProblem>> {
    let (table, mut problems) = read_table(bytes, &COLUMNS)?;
    let keys: Vec<&str> = definition
        .measures
        .iter()
        .filter(|m| m.source == Source::Kpi)
        .map(|m| m.key.as_str())
        .collect();
    let known_units: Vec<&str> = units.iter().map(String::as_str).collect();
    let mut seen: HashMap<(String, HalfYear, String), u64> = HashMap::new();
    let mut values = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let line = row.line;
        let before = problems.len();
        let label = |column: usize| Some(table.labels[column].as_str());
        let key = row.cells[0].as_str();
        if !keys.contains(&key) {
            problems.push(ImportProblem::new(
                line,
                label(0),
                if keys.is_empty() {
                    format!("'{key}' is not a KPI: the scorecard definition has no imported KPIs (source \"kpi\")")
                } else {
                    format!("'{key}' is not a KPI of the scorecard definition: use one of {}", keys.join(", "))
                },
            ));
        }
        let period = HalfYear::parse(&row.cells[1])
            .map_err(|message| problems.push(ImportProblem::new(line, label(1), message)))
            .ok();
        let unit = row.cells[2].as_str();
        if !units.contains(unit) {
            problems.push(ImportProblem::new(
                line,
                label(2),
                if known_units.is_empty() {
                    format!("'{unit}' is not a business unit of the directory (it has none yet: import the stakeholders first)")
                } else {
                    format!(
                        "'{unit}' is not a business unit of the directory ({})",
                        known_units.join(", ")
                    )
                },
            ));
        }
        let value = parse_amount(&row.cells[3])
            .map_err(|message| problems.push(ImportProblem::new(line, label(3), message)))
            .ok();
        if let Some(period) = period {
            let id = (key.to_string(), period, unit.to_string());
            if let Some(first) = seen.get(&id) {
                problems.push(ImportProblem::new(
                    line,
                    None,
                    format!(
                        "{key} of {unit} in {period} is also on line {first}: give each value once"
                    ),
                ));
            } else {
                seen.insert(id, line);
            }
        }
        if problems.len() == before {
            if let (Some(period), Some(value)) = (period, value) {
                values.push(KpiValue {
                    line,
                    key: key.to_string(),
                    period,
                    business_unit: unit.to_string(),
                    value,
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorecards::definition::load_built_in;

    #[test]
    fn checks_keys_periods_units_and_values() {
        let definition = load_built_in().unwrap();
        let units = BTreeSet::from(["IT".to_string(), "Sales".to_string()]);
        let good = "kpi,period,business_unit,value\ncost_savings,2026-H1,IT,120.5\ncontract_coverage,2026-H1,Sales,\"71,5\"\n";
        let values = parse_kpi_values(good.as_bytes(), &definition, &units).unwrap();
        assert_eq!(values.len(), 2);
        assert_eq!(values[1].value, 71.5);

        let bad = "kpi,period,business_unit,value\nnps,2026-H1,IT,1\ncost_savings,2026-Q1,Legal,x\ncost_savings,2026-H1,IT,1\ncost_savings,2026-H1,IT,2\n";
        let problems: Vec<String> = parse_kpi_values(bad.as_bytes(), &definition, &units)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(problems.len(), 5, "{problems:#?}");
        assert!(problems[0].starts_with("line 2, column \"kpi\": 'nps' is not a KPI of the scorecard definition: use one of cost_savings, contract_coverage"));
        assert!(problems[1].starts_with("line 3, column \"period\": '2026-Q1' is not a half-year"));
        assert!(problems[2].starts_with("line 3, column \"business_unit\": 'Legal' is not a business unit of the directory (IT, Sales)"));
        assert!(problems[3].starts_with("line 3, column \"value\": 'x' is not a number"));
        assert_eq!(
            problems[4],
            "line 5: cost_savings of IT in 2026-H1 is also on line 4: give each value once"
        );
    }
}
