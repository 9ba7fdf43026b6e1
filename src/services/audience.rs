//! The audience builder of the wave and schedule forms: the attributes of the directory
//! with their values (one select each), and how many people a choice would invite — counted
//! the way opening a wave counts them (active, matching, not opted out of the survey, address
//! not suppressed), so the number on the form is the number that gets mail.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::db::models::{opt_outs, stakeholders};
use crate::db::DbConn;
use crate::domain::audience::AudienceFilter;
use crate::domain::labels::attribute_label;
use crate::domain::stakeholder::{AttributeName, Attributes};

/// One select of the builder.
#[derive(Debug, Clone, Serialize)]
pub struct AttributeChoice {
    /// The identifier (`business_unit`): the form field is `a.business_unit`.
    pub name: String,
    /// As people read it ("Business unit").
    pub label: String,
    /// Every value among active stakeholders, sorted, with whether it is chosen.
    pub values: Vec<ValueChoice>,
    /// Values chosen (the filter's) that no active stakeholder has any more.
    pub any_chosen: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValueChoice {
    pub value: String,
    pub selected: bool,
}

/// The attributes of the active directory, each with its values and which one `filter`
/// chose.
pub fn choices(conn: &mut DbConn, filter: &AudienceFilter) -> anyhow::Result<Vec<AttributeChoice>> {
    let mut attributes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in stakeholders::list(conn, false)? {
        for (name, value) in Attributes::from_json(&row.attributes)
            .unwrap_or_default()
            .iter()
        {
            attributes
                .entry(name.to_string())
                .or_default()
                .insert(value.to_string());
        }
    }
    let chosen: BTreeMap<String, BTreeSet<String>> = filter
        .conditions()
        .map(|(a, v)| (a.as_str().to_string(), v.clone()))
        .collect();
    Ok(attributes
        .into_iter()
        .map(|(name, values)| {
            let picked = chosen.get(&name);
            AttributeChoice {
                label: attribute_label(&name, "en"),
                any_chosen: picked.is_some(),
                values: ValueChoice::list(&values, picked),
                name,
            }
        })
        .collect())
}

impl ValueChoice {
    fn list(values: &BTreeSet<String>, picked: Option<&BTreeSet<String>>) -> Vec<Self> {
        values
            .iter()
            .map(|value| Self {
                selected: picked.is_some_and(|p| p.contains(value)),
                value: value.clone(),
            })
            .collect()
    }
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
    let opted_out = opt_outs::opted_out_of(conn, survey)?;
    let suppressed = opt_outs::suppressed_emails(conn)?;
    let mut count = AudienceCount::default();
    for row in stakeholders::list(conn, false)? {
        let attributes = Attributes::from_json(&row.attributes).unwrap_or_default();
        if !filter.matches(&attributes) {
            continue;
        }
        count.matching += 1;
        if opted_out.contains(&row.id) {
            count.opted_out += 1;
        } else if suppressed.contains(&row.email) {
            count.suppressed += 1;
        } else {
            count.invited += 1;
        }
    }
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
