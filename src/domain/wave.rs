//! A wave request as an admin types it (CLI flags or the web form), parsed into a
//! [`WavePlan`] with one message per wrong field.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::audience::AudienceFilter;
use super::schedule::{parse_offsets, parse_time_in, Hours, Tz};

/// Below this, a group is too small to hide one person: refused.
pub const MIN_ANONYMITY_K: i32 = 3;
pub const DEFAULT_ANONYMITY_K: i32 = 5;
pub const DEFAULT_REMINDERS: &str = "7d,14d";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WaveState {
    Scheduled,
    Open,
    Closed,
    Cancelled,
}

impl WaveState {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "scheduled" => Some(Self::Scheduled),
            "open" => Some(Self::Open),
            "closed" => Some(Self::Closed),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }

    /// The word stored in `waves.state` and shown on pages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Cancelled => "cancelled",
        }
    }

    /// THE rule for "this wave has results" — pages, exports, the API and the CLI all ask
    /// it: every wave that opened. An open wave's results are its participation; a closed
    /// wave's are frozen; a cancelled wave shows what it has (its answers stay stored).
    /// A scheduled wave has none.
    pub fn has_results(self) -> bool {
        !matches!(self, Self::Scheduled)
    }

    /// Whether the answers may be shown: only once no answer can be added any more
    /// (closed or cancelled). While a wave is open, two readings of its results a response
    /// apart would differ by exactly that response — whatever the threshold — so an open
    /// wave shows participation only.
    pub fn answers_released(self) -> bool {
        matches!(self, Self::Closed | Self::Cancelled)
    }
}

impl std::fmt::Display for WaveState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The raw fields, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
#[serde(default)]
pub struct WaveInput {
    pub survey: String,
    pub title: String,
    pub opens: String,
    pub closes: String,
    pub audience: String,
    pub remind: String,
    pub anonymity_k: String,
    /// An ad-hoc or test wave: left out of the survey's trend (a form checkbox).
    #[serde(deserialize_with = "checkbox")]
    pub outside_trend: bool,
}

/// A checkbox: present (any value but "false"/"off") means ticked.
fn checkbox<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let raw = <String as serde::Deserialize>::deserialize(d)?;
    Ok(!matches!(raw.trim(), "" | "false" | "off" | "0"))
}

/// What was wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Joins field errors into one line per field, `--field: message`, for the CLI.
pub fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("--{}: {}", e.field.replace('_', "-"), e.message))
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Debug, Clone)]
pub struct WavePlan {
    pub survey_slug: String,
    pub title: String,
    pub audience: Option<AudienceFilter>,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    pub reminders: Vec<Hours>,
    pub anonymity_k: i32,
}

impl WavePlan {
    /// Parses every field and reports every problem at once. Dates without an offset are
    /// read in the organisation's time zone `tz`.
    pub fn parse(input: &WaveInput, now: NaiveDateTime, tz: Tz) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let survey_slug = input.survey.trim().to_string();
        if survey_slug.is_empty() {
            errors.push(FieldError::new("survey", "choose a survey"));
        }
        let title = input.title.trim().to_string();
        if title.is_empty() {
            errors.push(FieldError::new(
                "title",
                "give the wave a title, e.g. H1 2027",
            ));
        } else if title.chars().count() > 120 || title.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "title",
                "use at most 120 characters on one line",
            ));
        }
        let opens_at = parse_time_in(&input.opens, now, tz)
            .map_err(|e| errors.push(FieldError::new("opens", e)))
            .ok();
        let closes_at = parse_time_in(&input.closes, now, tz)
            .map_err(|e| errors.push(FieldError::new("closes", e)))
            .ok();
        if let (Some(opens), Some(closes)) = (opens_at, closes_at) {
            if closes <= opens {
                errors.push(FieldError::new(
                    "closes",
                    "the wave must close after it opens",
                ));
            } else if closes <= now {
                errors.push(FieldError::new("closes", "this time is already past"));
            }
        }
        let audience = match input.audience.trim() {
            "" | "all" | "everyone" => None,
            raw => match AudienceFilter::parse(raw) {
                Ok(filter) => Some(filter),
                Err(e) => {
                    errors.push(FieldError::new("audience", e.to_string()));
                    None
                }
            },
        };
        let remind_raw = if input.remind.trim().is_empty() {
            DEFAULT_REMINDERS
        } else {
            input.remind.trim()
        };
        let reminders = parse_offsets(remind_raw)
            .map_err(|e| errors.push(FieldError::new("remind", e)))
            .unwrap_or_default();
        if let (Some(opens), Some(closes), Some(last)) = (opens_at, closes_at, reminders.last()) {
            if opens < closes && opens + last.duration() >= closes {
                errors.push(FieldError::new(
                    "remind",
                    format!(
                        "the reminder after {} would come after the wave closes",
                        last.display()
                    ),
                ));
            }
        }
        let anonymity_k = match input.anonymity_k.trim() {
            "" => DEFAULT_ANONYMITY_K,
            raw => match raw.parse::<i32>() {
                Ok(k) if k < MIN_ANONYMITY_K => {
                    errors.push(FieldError::new(
                        "anonymity_k",
                        format!("must be at least {MIN_ANONYMITY_K}: smaller groups could reveal who answered what"),
                    ));
                    k
                }
                Ok(k) if k > 1000 => {
                    errors.push(FieldError::new("anonymity_k", "must be at most 1000"));
                    k
                }
                Ok(k) => k,
                Err(_) => {
                    errors.push(FieldError::new(
                        "anonymity_k",
                        format!("'{raw}' is not a whole number"),
                    ));
                    DEFAULT_ANONYMITY_K
                }
            },
        };
        match (opens_at, closes_at) {
            (Some(opens_at), Some(closes_at)) if errors.is_empty() => Ok(Self {
                survey_slug,
                title,
                audience,
                opens_at,
                closes_at,
                reminders,
                anonymity_k,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> NaiveDateTime {
        crate::domain::schedule::parse_time("2027-01-10", NaiveDateTime::default()).unwrap()
    }

    fn input() -> WaveInput {
        WaveInput {
            survey: "internal-customer".into(),
            title: "H1 2027".into(),
            opens: "2027-01-15".into(),
            closes: "2027-02-05".into(),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_apply() {
        let plan = WavePlan::parse(&input(), now(), Tz::UTC).unwrap();
        assert_eq!(plan.anonymity_k, 5);
        assert_eq!(plan.reminders, vec![Hours(168), Hours(336)]);
        assert!(plan.audience.is_none());
    }

    #[test]
    fn every_problem_is_reported() {
        let bad = WaveInput {
            survey: "".into(),
            title: "".into(),
            opens: "2027-02-05".into(),
            closes: "2027-01-15".into(),
            anonymity_k: "2".into(),
            ..Default::default()
        };
        let errors = WavePlan::parse(&bad, now(), Tz::UTC).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["survey", "title", "closes", "anonymity_k"]);
    }

    #[test]
    fn reminders_must_fall_inside_the_window() {
        let mut late = input();
        late.remind = "7d,30d".into();
        let errors = WavePlan::parse(&late, now(), Tz::UTC).unwrap_err();
        assert_eq!(errors[0].field, "remind");
    }
}
