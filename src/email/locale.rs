//! The languages mails are written in, and the words that are not in a template: dates.
//!
//! Each mail has a template per language: English in `templates/email/<name>/`, every
//! other language in `templates/email/<name>/<lang>/` (same three files). A mail whose
//! template has no folder for the wanted language is written in English. Plurals live in
//! the templates (`{{#if (eq n 1)}}…{{else}}…{{/if}}`), so each language says them its own
//! way.

use chrono::{Datelike, NaiveDate};

/// A language Pulse writes mails and opt-out pages in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MailLanguage {
    En,
    De,
}

impl MailLanguage {
    pub const ALL: [MailLanguage; 2] = [MailLanguage::En, MailLanguage::De];

    /// `de`, `de-CH`, `DE` → German; English for `en…`; `None` for a language Pulse has
    /// no mails in (or none given).
    pub fn from_code(code: Option<&str>) -> Option<Self> {
        let code = code?.trim();
        let primary = code.split(['-', '_']).next().unwrap_or(code);
        match primary.to_ascii_lowercase().as_str() {
            "en" => Some(Self::En),
            "de" => Some(Self::De),
            _ => None,
        }
    }

    /// The stakeholder's language if Pulse writes it, else the survey's default language if
    /// Pulse writes that, else English.
    pub fn choose(stakeholder: Option<&str>, survey_default: Option<&str>) -> Self {
        Self::from_code(stakeholder)
            .or_else(|| Self::from_code(survey_default))
            .unwrap_or(Self::En)
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
        }
    }

    /// A day, written out: "Friday 14 March 2025" / "Freitag, 14. März 2025".
    pub fn format_date(self, date: NaiveDate) -> String {
        match self {
            Self::En => date.format("%A %-d %B %Y").to_string(),
            Self::De => format!(
                "{}, {}. {} {}",
                GERMAN_WEEKDAYS[date.weekday().num_days_from_monday() as usize],
                date.day(),
                GERMAN_MONTHS[date.month0() as usize],
                date.year()
            ),
        }
    }
}

const GERMAN_WEEKDAYS: [&str; 7] = [
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
];
const GERMAN_MONTHS: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_matched_by_their_primary_tag() {
        assert_eq!(
            MailLanguage::from_code(Some("de-CH")),
            Some(MailLanguage::De)
        );
        assert_eq!(MailLanguage::from_code(Some("DE")), Some(MailLanguage::De));
        assert_eq!(MailLanguage::from_code(Some("fr")), None);
        assert_eq!(
            MailLanguage::choose(Some("fr"), Some("de")),
            MailLanguage::De
        );
        assert_eq!(MailLanguage::choose(None, None), MailLanguage::En);
        assert_eq!(
            MailLanguage::choose(Some("en-GB"), Some("de")),
            MailLanguage::En
        );
    }

    #[test]
    fn dates_read_naturally_in_each_language() {
        let date = NaiveDate::from_ymd_opt(2025, 3, 14).unwrap();
        assert_eq!(MailLanguage::En.format_date(date), "Friday 14 March 2025");
        assert_eq!(MailLanguage::De.format_date(date), "Freitag, 14. März 2025");
    }
}
