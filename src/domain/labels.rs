//! Names as people read them: directory attributes (`business_unit` → "Business unit",
//! "Geschäftsbereich" in German). The directory holds identifiers; the pages show these.
//! Attributes Pulse does not know are written out from the identifier.

use super::definition::humanize;

/// The usual attributes of a procurement directory, in English and German.
const KNOWN: &[(&str, &str, &str)] = &[
    ("business_unit", "Business unit", "Geschäftsbereich"),
    ("department", "Department", "Abteilung"),
    ("region", "Region", "Region"),
    ("country", "Country", "Land"),
    ("site", "Site", "Standort"),
    ("location", "Location", "Standort"),
    ("cost_center", "Cost centre", "Kostenstelle"),
    ("role", "Role", "Rolle"),
    ("seniority", "Seniority", "Erfahrungsstufe"),
    (
        "supplier_category",
        "Supplier category",
        "Lieferantenkategorie",
    ),
    ("category", "Category", "Kategorie"),
    (
        "stakeholder_type",
        "Stakeholder type",
        "Art der Stakeholder",
    ),
    ("kind", "Kind", "Art"),
    ("language", "Language", "Sprache"),
];

/// The attribute's name in `language` (`en`, `de`; anything else gets English).
pub fn attribute_label(attribute: &str, language: &str) -> String {
    match KNOWN.iter().find(|(key, _, _)| *key == attribute) {
        Some((_, _, de)) if language.starts_with("de") => (*de).to_string(),
        Some((_, en, _)) => (*en).to_string(),
        None => humanize(attribute),
    }
}

/// Every translation of a known attribute name, for pages that show them: `[("de", …)]`.
pub fn attribute_translations(attribute: &str) -> Vec<(&'static str, &'static str)> {
    KNOWN
        .iter()
        .filter(|(key, _, _)| *key == attribute)
        .map(|(_, _, de)| ("de", *de))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_read_like_words() {
        assert_eq!(attribute_label("business_unit", "en"), "Business unit");
        assert_eq!(attribute_label("business_unit", "de"), "Geschäftsbereich");
        assert_eq!(attribute_label("plant_code", "en"), "Plant code");
        assert_eq!(attribute_translations("region"), vec![("de", "Region")]);
    }
}
