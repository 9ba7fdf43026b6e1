//! The touch rules, so nobody is pestered: which pulses are skipped, and why. Pure: the
//! caller reads what the rules look at once per batch ([`TouchFacts`]) and records each
//! decision with its reason, which the pulses page counts.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use crate::domain::audience::AudienceFilter;
use crate::domain::stakeholder::Attributes;

/// Why a pulse was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Pulses are switched off in the settings.
    SwitchedOff,
    /// The request was fulfilled longer ago than the settings allow (an imported history).
    FulfilledLongAgo,
    /// No active stakeholder has the requester's address.
    NotInDirectory,
    /// The person opted out of pulses.
    OptedOut,
    /// The address is suppressed (bounced or refused).
    Suppressed,
    /// The person had a pulse within the minimum days (or another request of theirs gets
    /// one in this batch).
    PulsedRecently,
    /// The person was asked in this quarter already: one answer per person per quarter,
    /// so a group of k answers is k different people.
    PulsedThisQuarter,
    /// The person holds an invitation of a survey wave that is open.
    OpenSurveyInvitation,
    /// A survey wave that includes the person opens within the quiet days.
    WaveOpensSoon,
}

impl SkipReason {
    pub const ALL: [SkipReason; 9] = [
        SkipReason::SwitchedOff,
        SkipReason::FulfilledLongAgo,
        SkipReason::NotInDirectory,
        SkipReason::OptedOut,
        SkipReason::Suppressed,
        SkipReason::PulsedRecently,
        SkipReason::PulsedThisQuarter,
        SkipReason::OpenSurveyInvitation,
        SkipReason::WaveOpensSoon,
    ];

    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::SwitchedOff => "switched_off",
            SkipReason::FulfilledLongAgo => "fulfilled_long_ago",
            SkipReason::NotInDirectory => "not_in_directory",
            SkipReason::OptedOut => "opted_out",
            SkipReason::Suppressed => "suppressed",
            SkipReason::PulsedRecently => "pulsed_recently",
            SkipReason::PulsedThisQuarter => "pulsed_this_quarter",
            SkipReason::OpenSurveyInvitation => "open_survey_invitation",
            SkipReason::WaveOpensSoon => "wave_opens_soon",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == word)
    }

    /// What the pulses page says.
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::SwitchedOff => "pulses were switched off",
            SkipReason::FulfilledLongAgo => "the request was fulfilled too long ago",
            SkipReason::NotInDirectory => "the requester is not an active stakeholder",
            SkipReason::OptedOut => "the requester opted out of pulses",
            SkipReason::Suppressed => "the requester's address is suppressed",
            SkipReason::PulsedRecently => "the requester had a pulse recently",
            SkipReason::PulsedThisQuarter => "the requester was asked this quarter already",
            SkipReason::OpenSurveyInvitation => "the requester has an open survey invitation",
            SkipReason::WaveOpensSoon => "a survey wave for the requester opens soon",
        }
    }
}

/// A stakeholder as the rules see them.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub email: String,
    pub language: Option<String>,
    pub attributes: Attributes,
}

/// What the rules look at, read once per batch.
#[derive(Debug, Default)]
pub struct TouchFacts {
    pub enabled: bool,
    /// Fulfilled before this day: too long ago.
    pub oldest_fulfilled: Option<NaiveDate>,
    /// Active stakeholders by address.
    pub people: HashMap<String, Person>,
    pub opted_out: HashSet<String>,
    pub suppressed: HashSet<String>,
    /// Stakeholders pulsed within the minimum days.
    pub pulsed_recently: HashSet<String>,
    /// Stakeholders invited in the current quarter's pulse wave.
    pub pulsed_this_quarter: HashSet<String>,
    /// Stakeholders holding an open survey invitation.
    pub in_open_surveys: HashSet<String>,
    /// Audiences of survey waves opening within the quiet days.
    pub opening_soon: Vec<AudienceFilter>,
}

impl TouchFacts {
    /// The person to invite for a request, or why not. A person chosen here counts as
    /// pulsed for the rest of the batch.
    pub fn decide(&mut self, email: &str, fulfilled_on: NaiveDate) -> Result<Person, SkipReason> {
        if !self.enabled {
            return Err(SkipReason::SwitchedOff);
        }
        if self
            .oldest_fulfilled
            .is_some_and(|oldest| fulfilled_on < oldest)
        {
            return Err(SkipReason::FulfilledLongAgo);
        }
        let person = self.people.get(email).ok_or(SkipReason::NotInDirectory)?;
        if self.opted_out.contains(&person.id) {
            return Err(SkipReason::OptedOut);
        }
        if self.suppressed.contains(&person.email) {
            return Err(SkipReason::Suppressed);
        }
        if self.pulsed_recently.contains(&person.id) {
            return Err(SkipReason::PulsedRecently);
        }
        if self.pulsed_this_quarter.contains(&person.id) {
            return Err(SkipReason::PulsedThisQuarter);
        }
        if self.in_open_surveys.contains(&person.id) {
            return Err(SkipReason::OpenSurveyInvitation);
        }
        if self
            .opening_soon
            .iter()
            .any(|audience| audience.matches(&person.attributes))
        {
            return Err(SkipReason::WaveOpensSoon);
        }
        let person = person.clone();
        self.pulsed_recently.insert(person.id.clone());
        self.pulsed_this_quarter.insert(person.id.clone());
        Ok(person)
    }
}

/// The first day a request may have been fulfilled on and still get a pulse.
pub fn oldest_fulfilled(today: NaiveDate, max_age_days: i32) -> NaiveDate {
    today - Duration::days(i64::from(max_age_days))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str, unit: &str) -> Person {
        Person {
            id: id.into(),
            email: format!("{id}@example.com"),
            language: None,
            attributes: Attributes::from_json(&format!(r#"{{"business_unit":"{unit}"}}"#)).unwrap(),
        }
    }

    fn facts() -> TouchFacts {
        let mut facts = TouchFacts {
            enabled: true,
            oldest_fulfilled: NaiveDate::from_ymd_opt(2027, 1, 1),
            ..Default::default()
        };
        for (id, unit) in [
            ("ann", "Sales"),
            ("bob", "IT"),
            ("cy", "IT"),
            ("di", "Sales"),
        ] {
            let p = person(id, unit);
            facts.people.insert(p.email.clone(), p);
        }
        facts
    }

    #[test]
    fn each_rule_skips_with_its_reason() {
        let day = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
        let mut facts = facts();
        facts.opted_out.insert("bob".into());
        facts.suppressed.insert("cy@example.com".into());
        facts.in_open_surveys.insert("di".into());
        facts.pulsed_this_quarter.insert("eve".into());
        let eve = person("eve", "IT");
        facts.people.insert(eve.email.clone(), eve);
        assert_eq!(
            facts.decide("eve@example.com", day).unwrap_err(),
            SkipReason::PulsedThisQuarter
        );
        assert_eq!(
            facts.decide("x@example.com", day).unwrap_err(),
            SkipReason::NotInDirectory
        );
        assert_eq!(
            facts
                .decide(
                    "ann@example.com",
                    NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
                )
                .unwrap_err(),
            SkipReason::FulfilledLongAgo
        );
        assert_eq!(
            facts.decide("bob@example.com", day).unwrap_err(),
            SkipReason::OptedOut
        );
        assert_eq!(
            facts.decide("cy@example.com", day).unwrap_err(),
            SkipReason::Suppressed
        );
        assert_eq!(
            facts.decide("di@example.com", day).unwrap_err(),
            SkipReason::OpenSurveyInvitation
        );
        assert_eq!(facts.decide("ann@example.com", day).unwrap().id, "ann");
        // A second request of Ann's in the same batch: she was just pulsed.
        assert_eq!(
            facts.decide("ann@example.com", day).unwrap_err(),
            SkipReason::PulsedRecently
        );
    }

    #[test]
    fn a_wave_opening_soon_skips_only_its_audience() {
        let day = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
        let mut facts = facts();
        facts.opening_soon = vec![AudienceFilter::parse("business_unit=IT").unwrap()];
        assert_eq!(
            facts.decide("bob@example.com", day).unwrap_err(),
            SkipReason::WaveOpensSoon
        );
        assert!(facts.decide("ann@example.com", day).is_ok());
        facts.enabled = false;
        assert_eq!(
            facts.decide("di@example.com", day).unwrap_err(),
            SkipReason::SwitchedOff
        );
    }

    #[test]
    fn reasons_round_trip() {
        for reason in SkipReason::ALL {
            assert_eq!(SkipReason::parse(reason.as_str()), Some(reason));
        }
    }
}
