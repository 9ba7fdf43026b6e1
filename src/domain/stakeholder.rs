//! The parts of a stakeholder directory entry besides the email: segment attribute names and
//! values ([`AttributeName`], [`Attributes`]) and the preferred [`LanguageCode`].
//!
//! Attributes are what results are broken down by (business unit, department, region, …) and
//! what wave audiences filter on (see [`super::audience::AudienceFilter`]). Values are
//! trimmed, never empty, and compared exactly (case-sensitive): "no value" is an absent key.

use std::collections::BTreeMap;
use std::fmt;

/// The stakeholder fields that have their own columns, so no attribute may take their name.
pub const RESERVED_NAMES: [&str; 3] = ["email", "name", "language"];

/// A segment attribute name: `^[a-z][a-z0-9_]{0,62}$`, and not one of [`RESERVED_NAMES`].
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct AttributeName(String);

impl AttributeName {
    /// Accepts exactly the canonical form (what [`AttributeName::as_str`] returns).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut chars = raw.chars();
        let well_formed = raw.len() <= 63
            && chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !well_formed {
            return Err(format!(
                "'{raw}' is not a valid attribute name: use at most 63 letters a-z, digits and _, \
                 starting with a letter (e.g. business_unit)"
            ));
        }
        if RESERVED_NAMES.contains(&raw) {
            return Err(format!(
                "'{raw}' is a stakeholder field, not a segment attribute"
            ));
        }
        Ok(Self(raw.to_string()))
    }

    /// The friendly form used for CSV headers and filters: trims, lower-cases and turns spaces
    /// and hyphens into `_` (`" Business Unit"` → `business_unit`), then [`AttributeName::parse`].
    pub fn normalise(raw: &str) -> Result<Self, String> {
        Self::parse(&normalise_name(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Trim, lower-case, spaces and hyphens to `_`: the normalisation of CSV headers and filter
/// attribute names.
pub fn normalise_name(raw: &str) -> String {
    raw.trim()
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            other => other,
        })
        .collect::<String>()
        .to_lowercase()
}

impl fmt::Display for AttributeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for AttributeName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A stakeholder's segment attributes: attribute name → value. Values are trimmed and never
/// empty; setting an empty value removes the attribute. Stored as a JSON object of strings
/// (keys sorted, so equal attributes give equal JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes(BTreeMap<String, String>);

impl Attributes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to the trimmed `value`; an empty value removes the attribute ("no value").
    pub fn set(&mut self, name: &AttributeName, value: &str) {
        let value = value.trim();
        if value.is_empty() {
            self.0.remove(name.as_str());
        } else {
            self.0.insert(name.as_str().to_string(), value.to_string());
        }
    }

    pub fn remove(&mut self, name: &AttributeName) {
        self.0.remove(name.as_str());
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The stored form: a JSON object of strings with sorted keys.
    pub fn to_json(&self) -> String {
        // Serialising a map of strings to strings cannot fail.
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".to_string())
    }

    /// Reads the stored form. Values are trimmed and empty values dropped, so a hand-edited
    /// row still keeps the invariants; keys are taken as stored.
    pub fn from_json(json: &str) -> Result<Self, String> {
        let mut map: BTreeMap<String, String> = serde_json::from_str(json)
            .map_err(|e| format!("the attributes are not a JSON object of strings: {e}"))?;
        // In place: stored values are trimmed already, so this rarely copies anything.
        map.retain(|_, v| {
            if v.trim().len() != v.len() {
                *v = v.trim().to_string();
            }
            !v.is_empty()
        });
        Ok(Self(map))
    }
}

/// `business_unit=Manufacturing; region=EMEA` (sorted by name), for people to read.
impl fmt::Display for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{name}={value}")?;
        }
        Ok(())
    }
}

/// A preferred language as a simple BCP 47 tag: a 2–3 letter language, an optional 4-letter
/// script and an optional 2-letter or 3-digit region (`en`, `de`, `pt-BR`, `zh-Hant-TW`,
/// `es-419`). Normalised case (`pt-br` → `pt-BR`, `zh-hant` → `zh-Hant`); `_` is accepted as
/// a separator (`pt_BR`) and written as `-`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct LanguageCode(String);

/// The ISO 639-1 languages (two letters), and the few three-letter ones without a
/// two-letter code that a directory is likely to hold.
const KNOWN_LANGUAGES: &str =
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca \
ce ch co cr cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv \
ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks \
ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr \
nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss \
st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh \
zu fil gsw yue haw ceb hmn";

fn is_known_language(code: &str) -> bool {
    KNOWN_LANGUAGES
        .split_whitespace()
        .any(|known| known == code)
}

impl LanguageCode {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        let invalid =
            || format!("'{trimmed}' is not a language code: use a code like en, de or pt-BR");
        let mut parts = trimmed.split(['-', '_']);
        let language = parts.next().unwrap_or_default();
        if !(2..=3).contains(&language.len()) || !language.chars().all(|c| c.is_ascii_alphabetic())
        {
            return Err(invalid());
        }
        let mut code = language.to_ascii_lowercase();
        if !is_known_language(&code) {
            return Err(format!(
                "'{trimmed}' is not a known language: use an ISO 639 code like en, de, fr or pt-BR"
            ));
        }
        let mut rest: Vec<&str> = parts.collect();
        if rest.len() > 2 {
            return Err(invalid());
        }
        if let Some(script) = rest.first().filter(|s| s.len() == 4) {
            if !script.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(invalid());
            }
            code.push('-');
            code.push_str(&script[..1].to_ascii_uppercase());
            code.push_str(&script[1..].to_ascii_lowercase());
            rest.remove(0);
        }
        match rest.as_slice() {
            [] => {}
            [region]
                if (region.len() == 2 && region.chars().all(|c| c.is_ascii_alphabetic()))
                    || (region.len() == 3 && region.chars().all(|c| c.is_ascii_digit())) =>
            {
                code.push('-');
                code.push_str(&region.to_ascii_uppercase());
            }
            _ => return Err(invalid()),
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LanguageCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_are_normalised_and_checked() {
        assert_eq!(
            AttributeName::normalise(" Business Unit ")
                .unwrap()
                .as_str(),
            "business_unit"
        );
        assert_eq!(
            AttributeName::normalise("Cost-Center").unwrap().as_str(),
            "cost_center"
        );
        assert_eq!(AttributeName::parse("a").unwrap().as_str(), "a");
        assert!(AttributeName::parse(&format!("a{}", "b".repeat(62))).is_ok());
        for bad in [
            "",
            "1region",
            "_region",
            "Région",
            "région",
            "region!",
            "busi.unit",
            &format!("a{}", "b".repeat(63)),
        ] {
            assert!(AttributeName::normalise(bad).is_err(), "{bad:?} accepted");
        }
        for reserved in ["email", "Name", "LANGUAGE"] {
            let err = AttributeName::normalise(reserved).unwrap_err();
            assert!(err.contains("stakeholder field"), "{err}");
        }
        // `parse` takes only the canonical form.
        assert!(AttributeName::parse("Business_unit").is_err());
    }

    #[test]
    fn attributes_drop_empty_values_and_round_trip_through_json() {
        let region = AttributeName::parse("region").unwrap();
        let unit = AttributeName::parse("business_unit").unwrap();
        let mut attributes = Attributes::new();
        attributes.set(&region, " EMEA ");
        attributes.set(&unit, "R&D");
        assert_eq!(attributes.get("region"), Some("EMEA"));
        assert_eq!(
            attributes.to_json(),
            r#"{"business_unit":"R&D","region":"EMEA"}"#
        );
        assert_eq!(
            Attributes::from_json(&attributes.to_json()).unwrap(),
            attributes
        );
        assert_eq!(attributes.to_string(), "business_unit=R&D; region=EMEA");
        attributes.set(&region, "  ");
        assert_eq!(attributes.get("region"), None);
        assert_eq!(attributes.len(), 1);
        assert!(Attributes::from_json("[1]").is_err());
        assert!(Attributes::from_json(r#"{"a": 1}"#).is_err());
        assert!(Attributes::from_json(r#"{"a": " "}"#).unwrap().is_empty());
        let edited = Attributes::from_json(r#"{"a": " x ", "b": "y", "c": ""}"#).unwrap();
        assert_eq!(edited.to_string(), "a=x; b=y");
    }

    #[test]
    fn language_codes_have_a_simple_shape() {
        for (raw, canonical) in [
            ("en", "en"),
            ("DE", "de"),
            ("pt-br", "pt-BR"),
            ("pt_BR", "pt-BR"),
            (" fil ", "fil"),
            ("zh-hant", "zh-Hant"),
            ("zh-Hant-tw", "zh-Hant-TW"),
            ("es-419", "es-419"),
        ] {
            assert_eq!(LanguageCode::parse(raw).unwrap().as_str(), canonical);
        }
        for bad in [
            "",
            "e",
            "english",
            "en-",
            "en-GBR",
            "en-G1",
            "12",
            "en-US-x",
            "de DE",
            "en--US",
            "zh-Hant-TW-x",
            "xx",
            "xx-DE",
        ] {
            assert!(LanguageCode::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            LanguageCode::parse("english").unwrap_err(),
            "'english' is not a language code: use a code like en, de or pt-BR"
        );
        assert_eq!(
            LanguageCode::parse("xx").unwrap_err(),
            "'xx' is not a known language: use an ISO 639 code like en, de, fr or pt-BR"
        );
    }
}
