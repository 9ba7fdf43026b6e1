//! Warnings about an import that parsed cleanly but may still be wrong: a value that is new
//! for an attribute with few values ("EMEA" among DACH, Americas, APAC) is more often a typo
//! or a different spelling than a new region. The preview shows each one; the admin confirms
//! the import knowing about them.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::db::models::stakeholders;
use crate::db::DbConn;
use crate::domain::labels::attribute_label;

use super::ParsedImport;

/// An attribute with at most this many values in the directory is a closed list: a new value
/// in it is worth a warning. (Departments or cost centres with many values are not.)
pub const FEW_VALUES: usize = 12;

/// A value the file brings that the directory does not have yet.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NewValue {
    pub attribute: String,
    pub label: String,
    pub value: String,
    /// Rows of the file with this value.
    pub rows: usize,
    /// The values the directory has now, sorted.
    pub existing: Vec<String>,
}

/// Every attribute of the directory (active or not) with its values, from the counted
/// values (`attribute_values`), not from every stakeholder.
pub fn directory_values(conn: &mut DbConn) -> anyhow::Result<BTreeMap<String, BTreeSet<String>>> {
    let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, value, _) in stakeholders::attribute_values(conn)? {
        values.entry(name).or_default().insert(value);
    }
    Ok(values)
}

/// The values of `parsed` that are new for an attribute with at most [`FEW_VALUES`] values
/// in `existing`. An attribute the directory does not have at all is new as a whole and not
/// flagged value by value.
pub fn new_values(
    existing: &BTreeMap<String, BTreeSet<String>>,
    parsed: &ParsedImport,
) -> Vec<NewValue> {
    let mut found: BTreeMap<(String, String), usize> = BTreeMap::new();
    for record in parsed.records() {
        for (name, value) in record.attribute_pairs() {
            let Some(known) = existing.get(name) else {
                continue;
            };
            if known.len() <= FEW_VALUES && !known.contains(value) {
                *found
                    .entry((name.to_string(), value.to_string()))
                    .or_default() += 1;
            }
        }
    }
    found
        .into_iter()
        .map(|((attribute, value), rows)| NewValue {
            label: attribute_label(&attribute, "en"),
            existing: existing
                .get(&attribute)
                .map(|v| v.iter().cloned().collect())
                .unwrap_or_default(),
            attribute,
            value,
            rows,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_value_of_a_short_list_is_flagged() {
        let mut existing = BTreeMap::new();
        existing.insert(
            "region".to_string(),
            ["DACH", "Americas", "APAC"].map(String::from).into(),
        );
        existing.insert(
            "department".to_string(),
            (0..40).map(|i| format!("D{i}")).collect(),
        );
        let parsed = super::super::parse_csv(
            b"email,region,department,site\na@example.com,EMEA,D99,Berlin\nb@example.com,EMEA,D1,Paris\nc@example.com,DACH,D2,Rome\n",
        )
        .unwrap();
        let warnings = new_values(&existing, &parsed);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].value, "EMEA");
        assert_eq!(warnings[0].rows, 2);
        assert_eq!(warnings[0].label, "Region");
        assert_eq!(warnings[0].existing, ["APAC", "Americas", "DACH"]);
    }
}
