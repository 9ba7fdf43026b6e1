//! The audience builder of the wave and schedule forms: the attributes of the directory
//! with their values (a select each, or a text field with suggestions when there are more
//! than a select can offer), and how many people a choice would invite — counted the way
//! opening a wave counts them (active, matching, not opted out of the survey, address not
//! suppressed), so the number on the form is the number that gets mail. Both read the
//! database's summaries, not the directory: the values from `attribute_values`, the count
//! from the directory's SQL search, so the forms stay fast and small at 100,000 people.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::db::models::opt_outs;
use crate::db::DbConn;
use crate::domain::audience::AudienceFilter;
use crate::domain::labels::attribute_label;
use crate::domain::stakeholder::{AttributeName, Attributes};
use crate::services::stakeholders::directory::{self, StateFilter};

/// One attribute of the builder.
#[derive(Debug, Clone, Serialize)]
pub struct AttributeChoice {
    /// The identifier (`business_unit`): the form field is `a.business_unit`.
    pub name: String,
    /// As people read it ("Business unit").
    pub label: String,
    /// How many distinct values the directory holds.
    pub distinct: usize,
    /// More values than a select offers ([`directory::SELECT_MAX_VALUES`]): a text field
    /// with suggestions.
    pub many: bool,
    /// A select: every value, sorted, with whether it is chosen — and a chosen value the
    /// directory no longer holds, so a form shown again keeps it. A text field: the most
    /// common values, as suggestions.
    pub values: Vec<ValueChoice>,
    /// A text field: the chosen values, one field each (several are alternatives), or one
    /// empty field.
    pub typed: Vec<String>,
    /// Whether the filter chooses anything of this attribute ("Everyone" otherwise).
    pub any_chosen: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValueChoice {
    pub value: String,
    pub selected: bool,
}

/// The attributes of the directory, each with its values and which ones `filter` chose.
pub fn choices(conn: &mut DbConn, filter: &AudienceFilter) -> anyhow::Result<Vec<AttributeChoice>> {
    let chosen: BTreeMap<&str, &BTreeSet<String>> =
        filter.conditions().map(|(a, v)| (a.as_str(), v)).collect();
    Ok(directory::attribute_choices(conn)?
        .into_iter()
        .map(|choice| {
            let picked = chosen.get(choice.name.as_str()).copied();
            let many = choice.many();
            let mut values: Vec<ValueChoice> = choice
                .values
                .iter()
                .map(|value| ValueChoice {
                    selected: !many && picked.is_some_and(|p| p.contains(value)),
                    value: value.clone(),
                })
                .collect();
            let mut typed = Vec::new();
            for value in picked.into_iter().flatten() {
                if many {
                    typed.push(value.clone());
                } else if !choice.values.contains(value) {
                    values.push(ValueChoice {
                        value: value.clone(),
                        selected: true,
                    });
                }
            }
            if many && typed.is_empty() {
                typed.push(String::new());
            }
            AttributeChoice {
                label: attribute_label(&choice.name, "en"),
                distinct: choice.distinct,
                many,
                values,
                typed,
                any_chosen: picked.is_some(),
                name: choice.name,
            }
        })
        .collect())
}

/// The filter of the builder's selects: `(attribute, value)` pairs with an empty value for
/// "everyone". Several values of one attribute are alternatives (OR).
pub fn filter_from_choices(pairs: &[(String, String)]) -> Result<AudienceFilter, String> {
    let mut conditions: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (attribute, value) in pairs {
        if value.trim().is_empty() {
            continue;
        }
        conditions
            .entry(attribute.as_str())
            .or_default()
            .push(value.as_str());
    }
    let mut filter = AudienceFilter::everyone();
    for (attribute, values) in conditions {
        let name = AttributeName::parse(attribute).map_err(|e| e.to_string())?;
        let condition = AudienceFilter::condition(name, values).map_err(|e| e.to_string())?;
        filter = filter.and(condition).map_err(|e| e.to_string())?;
    }
    Ok(filter)
}

/// Who a wave of `survey` with this audience would invite, if it opened now.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AudienceCount {
    /// Active stakeholders the filter selects.
    pub matching: usize,
    /// Of those, opted out of this survey.
    pub opted_out: usize,
    /// Of those, with an address that bounced for good.
    pub suppressed: usize,
    /// Who would get an invitation.
    pub invited: usize,
}

pub fn count(
    conn: &mut DbConn,
    filter: &AudienceFilter,
    survey: &str,
) -> anyhow::Result<AudienceCount> {
    let matching = directory::count(conn, filter, StateFilter::Active)?;
    let mut count = AudienceCount {
        matching,
        ..AudienceCount::default()
    };
    // Of those, the few opted out or bounced: read one by one and matched as opening does.
    for (attributes, opted_out) in opt_outs::active_excluded(conn, survey)? {
        let attributes = Attributes::from_json(&attributes).unwrap_or_default();
        if !filter.matches(&attributes) {
            continue;
        }
        if opted_out {
            count.opted_out += 1;
        } else {
            count.suppressed += 1;
        }
    }
    count.invited = matching.saturating_sub(count.opted_out + count.suppressed);
    Ok(count)
}

/// A filter in words: "Business unit: R&D; Region: EMEA or APAC", or "everyone active".
pub fn describe(filter: &AudienceFilter) -> String {
    if filter.is_everyone() {
        return "everyone active".into();
    }
    filter
        .conditions()
        .map(|(attribute, values)| {
            format!(
                "{}: {}",
                attribute_label(attribute.as_str(), "en"),
                values.iter().cloned().collect::<Vec<_>>().join(" or ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// [`describe`] for a stored audience string (`None`: everyone).
pub fn describe_stored(stored: Option<&str>) -> String {
    match stored.map(AudienceFilter::parse) {
        None => "everyone active".into(),
        Some(Ok(filter)) => describe(&filter),
        Some(Err(_)) => stored.unwrap_or_default().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_make_a_filter_and_read_as_words() {
        let pairs = vec![
            ("business_unit".to_string(), "R&D".to_string()),
            ("region".to_string(), String::new()),
            ("business_unit".to_string(), "Sales".to_string()),
        ];
        let filter = filter_from_choices(&pairs).unwrap();
        assert_eq!(filter.to_string(), "business_unit=R&D,Sales");
        assert_eq!(describe(&filter), "Business unit: R&D or Sales");
        assert_eq!(describe_stored(None), "everyone active");
    }
}
