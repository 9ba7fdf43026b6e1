//! [`AudienceFilter`]: which stakeholders a wave invites (and which ones
//! `pulse stakeholders list --filter` shows), as conditions on segment attributes.
//!
//! # The string form
//!
//! ```text
//! filter    = "*"                                 everyone (so does the empty string)
//!           | condition *( ";" condition )        all conditions must hold (AND)
//! condition = attribute "=" value *( "," value )  one of the values must match (OR)
//! attribute = an attribute name; normalised like CSV headers ("Business Unit" → business_unit)
//! value     = bare | quoted
//! bare      = text without  , ; "   (surrounding spaces are trimmed)
//! quoted    = '"' text '"'    with "" for a literal "  (for values that contain , ; or ")
//! ```
//!
//! Example: `business_unit=Manufacturing,R&D;region=EMEA` selects stakeholders in the
//! Manufacturing or the R&D business unit *and* in the EMEA region;
//! `department="Sales, Marketing"` matches the one department with a comma in its name.
//!
//! Matching is exact and case-sensitive, on values as imported (trimmed). A stakeholder
//! without the attribute never matches a condition on it. An attribute may appear in one
//! condition only (`region=EMEA;region=APAC` is an error: write `region=EMEA,APAC`).
//!
//! [`fmt::Display`] prints the canonical form — attributes sorted, values sorted and de-duplicated,
//! quotes only where needed — and parsing it gives back an equal filter, so the string is
//! what gets stored (serde uses it too).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use super::stakeholder::{AttributeName, Attributes};

/// Conditions on segment attributes, all of which must hold; see the module docs for the
/// string form. The default (no conditions) is everyone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AudienceFilter {
    /// attribute → the values it may have (never empty).
    conditions: BTreeMap<AttributeName, BTreeSet<String>>,
}

/// Why a filter string was refused. The messages say what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudienceFilterError {
    #[error("'{0}' is not a condition: write attribute=value, e.g. business_unit=Manufacturing")]
    NotACondition(String),
    #[error("an empty condition (two ';' in a row, or one at the start or end)")]
    EmptyCondition,
    #[error("{0}")]
    BadAttribute(String),
    #[error("the condition on {0} has an empty value: give a value, e.g. {0}=EMEA")]
    EmptyValue(String),
    #[error("a value of {0} has a quote that is not closed")]
    UnclosedQuote(String),
    #[error(
        "a value of {0} has a '\"' in it: quote the whole value and double the quote, \
         e.g. {0}=\"The \"\"best\"\" team\""
    )]
    StrayQuote(String),
    #[error("{0} appears in two conditions: list the values in one, e.g. {0}=EMEA,APAC")]
    DuplicateAttribute(String),
}

impl AudienceFilter {
    /// No conditions: everyone.
    pub fn everyone() -> Self {
        Self::default()
    }

    pub fn parse(input: &str) -> Result<Self, AudienceFilterError> {
        let input = input.trim();
        let mut filter = Self::everyone();
        if input.is_empty() || input == "*" {
            return Ok(filter);
        }
        for condition in split_unquoted(input, ';') {
            let condition = condition.trim();
            if condition.is_empty() {
                return Err(AudienceFilterError::EmptyCondition);
            }
            let Some((attribute, values)) = condition.split_once('=') else {
                return Err(AudienceFilterError::NotACondition(condition.to_string()));
            };
            let attribute =
                AttributeName::normalise(attribute).map_err(AudienceFilterError::BadAttribute)?;
            let mut set = BTreeSet::new();
            for value in split_unquoted(values, ',') {
                set.insert(parse_value(value, &attribute)?);
            }
            if filter.conditions.contains_key(&attribute) {
                return Err(AudienceFilterError::DuplicateAttribute(
                    attribute.to_string(),
                ));
            }
            filter.conditions.insert(attribute, set);
        }
        Ok(filter)
    }

    /// One condition: `attribute` must have one of `values` (trimmed; empty ones refused).
    pub fn condition<I, S>(attribute: AttributeName, values: I) -> Result<Self, AudienceFilterError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = BTreeSet::new();
        for value in values {
            let value = value.as_ref().trim();
            if value.is_empty() {
                return Err(AudienceFilterError::EmptyValue(attribute.to_string()));
            }
            set.insert(value.to_string());
        }
        if set.is_empty() {
            return Err(AudienceFilterError::EmptyValue(attribute.to_string()));
        }
        Ok(Self {
            conditions: BTreeMap::from([(attribute, set)]),
        })
    }

    /// Both filters must hold (e.g. several `--filter` options). Refuses an attribute that
    /// both filters constrain, like the string form does.
    pub fn and(mut self, other: AudienceFilter) -> Result<Self, AudienceFilterError> {
        for (attribute, values) in other.conditions {
            if self.conditions.contains_key(&attribute) {
                return Err(AudienceFilterError::DuplicateAttribute(
                    attribute.to_string(),
                ));
            }
            self.conditions.insert(attribute, values);
        }
        Ok(self)
    }

    pub fn is_everyone(&self) -> bool {
        self.conditions.is_empty()
    }

    /// Does a stakeholder with these attributes belong to the audience?
    pub fn matches(&self, attributes: &Attributes) -> bool {
        self.conditions.iter().all(|(attribute, values)| {
            attributes
                .get(attribute.as_str())
                .is_some_and(|value| values.contains(value))
        })
    }

    /// The conditions, sorted by attribute: each attribute with the values it may have.
    pub fn conditions(&self) -> impl Iterator<Item = (&AttributeName, &BTreeSet<String>)> {
        self.conditions.iter()
    }
}

/// Splits at `separator` outside double quotes (a doubled `""` toggles twice, so it stays
/// inside the quoted text).
fn split_unquoted(input: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut in_quotes = false;
    let mut start = 0;
    for (i, c) in input.char_indices() {
        if c == '"' {
            in_quotes = !in_quotes;
        } else if c == separator && !in_quotes {
            parts.push(&input[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&input[start..]);
    parts
}

fn parse_value(raw: &str, attribute: &AttributeName) -> Result<String, AudienceFilterError> {
    let raw = raw.trim();
    let value = if let Some(quoted) = raw.strip_prefix('"') {
        let Some(inner) = quoted.strip_suffix('"') else {
            return Err(AudienceFilterError::UnclosedQuote(attribute.to_string()));
        };
        // Inside the quotes every '"' must be doubled.
        let mut value = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '"' && chars.next() != Some('"') {
                return Err(AudienceFilterError::StrayQuote(attribute.to_string()));
            }
            value.push(c);
        }
        value.trim().to_string()
    } else if raw.contains('"') {
        return Err(AudienceFilterError::StrayQuote(attribute.to_string()));
    } else {
        raw.to_string()
    };
    if value.is_empty() {
        return Err(AudienceFilterError::EmptyValue(attribute.to_string()));
    }
    Ok(value)
}

fn needs_quotes(value: &str) -> bool {
    value.contains([',', ';', '"'])
}

impl FromStr for AudienceFilter {
    type Err = AudienceFilterError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The canonical string form (see the module docs); `*` for everyone.
impl fmt::Display for AudienceFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.conditions.is_empty() {
            return f.write_str("*");
        }
        for (i, (attribute, values)) in self.conditions.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{attribute}=")?;
            for (j, value) in values.iter().enumerate() {
                if j > 0 {
                    f.write_str(",")?;
                }
                if needs_quotes(value) {
                    write!(f, "\"{}\"", value.replace('"', "\"\""))?;
                } else {
                    f.write_str(value)?;
                }
            }
        }
        Ok(())
    }
}

impl serde::Serialize for AudienceFilter {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for AudienceFilter {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn attrs(pairs: &[(&str, &str)]) -> Attributes {
        let mut attributes = Attributes::new();
        for (name, value) in pairs {
            attributes.set(&AttributeName::parse(name).unwrap(), value);
        }
        attributes
    }

    #[test]
    fn everyone_matches_everyone() {
        for raw in ["", "  ", "*", " * "] {
            let filter = AudienceFilter::parse(raw).unwrap();
            assert!(filter.is_everyone());
            assert!(filter.matches(&Attributes::new()));
            assert_eq!(filter.to_string(), "*");
        }
    }

    #[test]
    fn conditions_are_anded_and_values_ored() {
        let filter = AudienceFilter::parse("business_unit=Manufacturing,R&D;region=EMEA").unwrap();
        assert!(filter.matches(&attrs(&[
            ("business_unit", "R&D"),
            ("region", "EMEA"),
            ("department", "Labs"),
        ])));
        assert!(filter.matches(&attrs(&[
            ("business_unit", "Manufacturing"),
            ("region", "EMEA")
        ])));
        assert!(!filter.matches(&attrs(&[("business_unit", "R&D"), ("region", "APAC")])));
        assert!(!filter.matches(&attrs(&[("business_unit", "Sales"), ("region", "EMEA")])));
        // A missing attribute never matches.
        assert!(!filter.matches(&attrs(&[("business_unit", "R&D")])));
        // Exact, case-sensitive.
        assert!(!filter.matches(&attrs(&[
            ("business_unit", "manufacturing"),
            ("region", "EMEA")
        ])));
    }

    #[test]
    fn attribute_names_are_normalised_and_whitespace_trimmed() {
        let filter =
            AudienceFilter::parse(" Business Unit = Manufacturing , R&D ; Region=EMEA ").unwrap();
        assert_eq!(
            filter.to_string(),
            "business_unit=Manufacturing,R&D;region=EMEA"
        );
    }

    #[test]
    fn quoted_values_carry_commas_semicolons_and_quotes() {
        let filter =
            AudienceFilter::parse(r#"department="Sales, Marketing","The ""A"" team;x",Finance"#)
                .unwrap();
        let values: Vec<&String> = filter.conditions().next().unwrap().1.iter().collect();
        assert_eq!(values, ["Finance", "Sales, Marketing", "The \"A\" team;x"]);
        assert!(filter.matches(&attrs(&[("department", "Sales, Marketing")])));
        assert_eq!(
            filter.to_string(),
            r#"department=Finance,"Sales, Marketing","The ""A"" team;x""#
        );
        assert_eq!(AudienceFilter::parse(&filter.to_string()).unwrap(), filter);
        // '=' needs no quotes in a value.
        let filter = AudienceFilter::parse("code=a=b").unwrap();
        assert!(filter.matches(&attrs(&[("code", "a=b")])));
        assert_eq!(filter.to_string(), "code=a=b");
    }

    #[test]
    fn canonical_form_sorts_and_deduplicates() {
        let a = AudienceFilter::parse("region=EMEA,APAC,EMEA;business_unit=R&D").unwrap();
        let b = AudienceFilter::parse("business_unit=R&D;region=APAC,EMEA").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "business_unit=R&D;region=APAC,EMEA");
    }

    #[test]
    fn bad_filters_are_refused_with_advice() {
        use AudienceFilterError::*;
        let cases: &[(&str, AudienceFilterError)] = &[
            ("region", NotACondition("region".into())),
            (
                "=EMEA",
                BadAttribute(AttributeName::normalise("").unwrap_err()),
            ),
            ("region=EMEA;;x=1", EmptyCondition),
            ("region=EMEA;", EmptyCondition),
            ("region=", EmptyValue("region".into())),
            ("region=EMEA,", EmptyValue("region".into())),
            ("region=\"\"", EmptyValue("region".into())),
            ("region=\"EMEA", UnclosedQuote("region".into())),
            ("region=EM\"EA", StrayQuote("region".into())),
            ("region=\"EM\"EA\"", StrayQuote("region".into())),
            (
                "region=EMEA;Region=APAC",
                DuplicateAttribute("region".into()),
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(&AudienceFilter::parse(raw).unwrap_err(), expected, "{raw}");
        }
        assert!(matches!(
            AudienceFilter::parse("région=EMEA"),
            Err(BadAttribute(_))
        ));
        assert!(matches!(
            AudienceFilter::parse("email=a@example.com"),
            Err(BadAttribute(m)) if m.contains("stakeholder field")
        ));
        let message = AudienceFilter::parse("region").unwrap_err().to_string();
        assert!(message.contains("attribute=value"), "{message}");
    }

    #[test]
    fn and_combines_and_refuses_overlap() {
        let a = AudienceFilter::parse("region=EMEA").unwrap();
        let b = AudienceFilter::parse("business_unit=R&D").unwrap();
        let both = a.clone().and(b).unwrap();
        assert_eq!(both.to_string(), "business_unit=R&D;region=EMEA");
        assert_eq!(
            both.and(a).unwrap_err(),
            AudienceFilterError::DuplicateAttribute("region".into())
        );
        let one =
            AudienceFilter::condition(AttributeName::parse("region").unwrap(), ["EMEA", " APAC "])
                .unwrap();
        assert_eq!(one.to_string(), "region=APAC,EMEA");
        assert!(
            AudienceFilter::condition(AttributeName::parse("region").unwrap(), [""; 0]).is_err()
        );
    }

    #[test]
    fn serde_uses_the_string_form() {
        let filter = AudienceFilter::parse("region=EMEA,APAC").unwrap();
        let json = serde_json::to_string(&filter).unwrap();
        assert_eq!(json, r#""region=APAC,EMEA""#);
        assert_eq!(
            serde_json::from_str::<AudienceFilter>(&json).unwrap(),
            filter
        );
        assert!(serde_json::from_str::<AudienceFilter>(r#""region""#).is_err());
    }

    fn value_strategy() -> impl Strategy<Value = String> {
        // Printable text including the characters that need quoting; never blank.
        "[A-Za-z0-9 ,;\"=&*/é-]{0,12}[A-Za-z0-9,;\"&é]"
            .prop_map(|s| s.trim().to_string())
            .prop_filter("non-empty", |s| !s.is_empty())
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(
            conditions in proptest::collection::btree_map(
                "[a-z][a-z0-9_]{0,10}".prop_filter("not reserved", |n| {
                    !["email", "name", "language"].contains(&n.as_str())
                }),
                proptest::collection::btree_set(value_strategy(), 1..4),
                0..4,
            )
        ) {
            let mut filter = AudienceFilter::everyone();
            for (name, values) in &conditions {
                let condition =
                    AudienceFilter::condition(AttributeName::parse(name).unwrap(), values).unwrap();
                filter = filter.and(condition).unwrap();
            }
            let text = filter.to_string();
            let parsed = AudienceFilter::parse(&text).unwrap();
            prop_assert_eq!(&parsed, &filter, "{}", text);
            prop_assert_eq!(parsed.to_string(), text);
        }
    }
}
