//! "You said, we did": what a survey's next wave tells respondents about the actions taken on
//! earlier waves — in the invitation, the reminders and the form's introduction. Up to
//! [`MAX_SHOWN`] actions an admin published (never a dropped one), newest wave first and,
//! within a wave, done before under way before planned. Each says what respondents told us
//! (from the action's target, in their language) and what procurement does about it (the
//! action's text for respondents in their language, else the survey's default language).
//!
//! Nothing here is a figure: the block names a question or option of the survey and quotes
//! the admin-approved text, so it reveals nothing about any respondent.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::target::Target;
use super::Status;
use crate::db::models::actions::{self as rows, ActionRow};
use crate::db::DbConn;
use crate::domain::definition::{humanize, Question, Stage, SurveyDefinition};
use crate::domain::ui_text::ui_text;

/// Most actions one mail or form shows.
pub const MAX_SHOWN: usize = 3;

/// One action as respondents read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SaidDid {
    /// What respondents told us, e.g. "You told us: Approvals took too long."
    pub said: String,
    /// What procurement does: the action's text for respondents.
    pub did: String,
    /// `done`, `in_progress` or `planned`.
    pub status: &'static str,
    /// The status in the reader's language: "Done", "Under way", "Planned".
    pub status_label: &'static str,
}

/// Is `language` German (`de`, `de-CH`…)? Every other language reads the English words.
fn german(language: &str) -> bool {
    language
        .split(['-', '_'])
        .next()
        .is_some_and(|p| p.eq_ignore_ascii_case("de"))
}

fn status_words(status: Status, language: &str) -> &'static str {
    match (status, german(language)) {
        (Status::Done, false) => "Done",
        (Status::Done, true) => "Erledigt",
        (Status::InProgress, false) => "Under way",
        (Status::InProgress, true) => "In Arbeit",
        (Status::Planned, false) => "Planned",
        (Status::Planned, true) => "Geplant",
        (Status::Dropped, false) => "Dropped",
        (Status::Dropped, true) => "Verworfen",
    }
}

/// The target as respondents know it, in `language`: the option, statement or stage of
/// the survey they answered.
pub fn said(target: &Target, definition: &SurveyDefinition, language: &str) -> String {
    let texts = definition.texts(Some(language));
    let de = german(language);
    match target {
        Target::Nps if de => {
            "Sie haben uns gesagt, wie wahrscheinlich Sie die Zusammenarbeit mit dem Einkauf empfehlen würden.".into()
        }
        Target::Nps => {
            "You told us how likely you are to recommend working with procurement.".into()
        }
        Target::Csat if de => "Sie haben uns gesagt, wie zufrieden Sie mit dem Einkauf sind.".into(),
        Target::Csat => "You told us how satisfied you are with procurement.".into(),
        Target::Dimension(key) => {
            let statement = definition
                .questions
                .iter()
                .find_map(|q| match q {
                    Question::Likert(l) if l.dimension == *key => Some(texts.get(&l.text)),
                    _ => None,
                })
                .map(str::to_string)
                .unwrap_or_else(|| humanize(key));
            let statement = statement.trim_end_matches('.');
            if de {
                format!("Sie haben „{statement}“ bewertet.")
            } else {
                format!("You rated “{statement}”.")
            }
        }
        Target::PainPoint(key) => {
            let label = definition
                .questions
                .iter()
                .find_map(|q| match q {
                    Question::PainPoints(p) => p.option(key).map(|o| texts.get(&o.label)),
                    _ => None,
                })
                .map(str::to_string)
                .unwrap_or_else(|| humanize(key));
            let label = label.trim_end_matches('.');
            if de {
                format!("Sie haben uns gesagt: {label}.")
            } else {
                format!("You told us: {label}.")
            }
        }
        Target::Stage(key) => {
            let stage = Stage::ALL
                .iter()
                .find(|s| s.as_str() == key)
                .map(|s| ui_text(language).stage(*s).to_string())
                .unwrap_or_else(|| humanize(key));
            if de {
                format!("Sie haben Probleme im Schritt „{stage}“ genannt.")
            } else {
                format!("You named problems at the “{stage}” step.")
            }
        }
    }
}

/// The action's text for respondents in `language`, else in the survey's default language.
pub fn did(
    texts: &BTreeMap<String, String>,
    definition: &SurveyDefinition,
    language: &str,
) -> String {
    let wanted = definition.best_language(Some(language));
    texts
        .get(wanted)
        .or_else(|| texts.get(definition.default_language()))
        .or_else(|| texts.values().next())
        .cloned()
        .unwrap_or_default()
}

/// One action row as respondents read it; `None` when it cannot be read (a target or text
/// Pulse no longer understands is left out rather than failing a mail).
pub fn of_row(row: &ActionRow, definition: &SurveyDefinition, language: &str) -> Option<SaidDid> {
    let target = Target::from_parts(&row.target_kind, &row.target_key)?;
    let status = Status::parse(&row.status).ok()?;
    let texts: BTreeMap<String, String> = serde_json::from_str(&row.description).ok()?;
    let did = did(&texts, definition, language);
    if did.trim().is_empty() {
        return None;
    }
    Some(SaidDid {
        said: said(&target, definition, language),
        did,
        status: status.as_str(),
        status_label: status_words(status, language),
    })
}

fn rank(status: &str) -> u8 {
    match status {
        "done" => 0,
        "in_progress" => 1,
        _ => 2,
    }
}

/// What a wave of survey `slug` opening at `opens_at` tells respondents (in `language`):
/// up to [`MAX_SHOWN`] published actions of the survey's earlier waves.
pub fn for_wave(
    conn: &mut DbConn,
    slug: &str,
    opens_at: NaiveDateTime,
    definition: &SurveyDefinition,
    language: &str,
) -> diesel::QueryResult<Vec<SaidDid>> {
    let mut found: Vec<(ActionRow, NaiveDateTime)> = rows::published_of_survey(conn, slug)?
        .into_iter()
        .filter(|(_, wave_opened)| *wave_opened < opens_at)
        .collect();
    found.sort_by(|(a, a_wave), (b, b_wave)| {
        b_wave
            .cmp(a_wave)
            .then(rank(&a.status).cmp(&rank(&b.status)))
            .then(b.updated_at.cmp(&a.updated_at))
            .then(a.id.cmp(&b.id))
    });
    Ok(found
        .iter()
        .filter_map(|(row, _)| of_row(row, definition, language))
        .take(MAX_SHOWN)
        .collect())
}

/// [`for_wave`] for the wave `wave_id` (the respondent form: its definition is at hand).
pub fn for_wave_id(
    conn: &mut DbConn,
    wave_id: &str,
    definition: &SurveyDefinition,
    language: &str,
) -> diesel::QueryResult<Vec<SaidDid>> {
    match crate::db::models::waves::find(conn, wave_id)? {
        Some(wave) => for_wave(conn, &definition.slug, wave.opens_at, definition, language),
        None => Ok(Vec::new()),
    }
}

/// The invitation or reminder of wave `wave_id` as a stakeholder writing `language` would
/// get it, with a made-up recipient and links that open nothing: what an admin previews
/// before the wave opens. Also the mail's "you said, we did" items.
pub fn preview_mail(
    conn: &mut DbConn,
    base_url: &str,
    wave_id: &str,
    kind: crate::email::SurveyEmailKind,
    language: crate::email::MailLanguage,
) -> anyhow::Result<Option<(crate::email::EmailMessage, Vec<SaidDid>)>> {
    use crate::email::{EmailTemplate, MessageId, Recipient, SurveyEmail};
    let Some(wave) = crate::db::models::waves::find_with_survey(conn, wave_id)? else {
        return Ok(None);
    };
    let definition = wave.parsed_definition()?;
    let code = language.code();
    let items = for_wave(
        conn,
        &wave.survey_slug,
        wave.wave.opens_at,
        &definition,
        code,
    )?;
    let base_url = base_url.trim_end_matches('/');
    let email = SurveyEmail {
        kind,
        name: Some(match language {
            crate::email::MailLanguage::De => "Erika Mustermann".to_string(),
            crate::email::MailLanguage::En => "Alex Example".to_string(),
        }),
        survey_title: definition
            .title
            .get(code, definition.default_language())
            .to_string(),
        survey_url: format!("{base_url}/s/preview-personal-link"),
        unsubscribe_url: format!("{base_url}/u/preview-personal-link?lang={code}"),
        closes_on: language.format_date(wave.wave.closes_at.date()),
        estimated_minutes: definition.estimated_minutes.unwrap_or(2),
        k: u32::try_from(wave.wave.anonymity_k).unwrap_or(5),
        you_said_we_did: items.clone(),
        first_question: crate::email::FirstQuestion::of(&definition, language),
    };
    let to = crate::domain::EmailAddress::parse("alex.example@example.com")
        .map_err(anyhow::Error::msg)?;
    let message = email.render_in(
        language,
        Recipient::new(to, email.name.as_deref()),
        MessageId::for_outbox(format!("preview-{wave_id}"), base_url)?,
    )?;
    Ok(Some((message, items)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition() -> SurveyDefinition {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/survey-definitions/internal-customer.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn targets_read_as_what_respondents_said_in_their_language() {
        let d = definition();
        let pain = Target::PainPoint("approval_delays".into());
        assert_eq!(
            said(&pain, &d, "en"),
            "You told us: Approvals took too long."
        );
        assert_eq!(
            said(&pain, &d, "de"),
            "Sie haben uns gesagt: Freigaben haben zu lange gedauert."
        );
        let dimension = Target::Dimension("communication".into());
        assert_eq!(
            said(&dimension, &d, "en"),
            "You rated “I am kept informed about where my requests stand, without having to chase”."
        );
        assert!(said(&dimension, &d, "de-CH").starts_with("Sie haben „Ich erfahre"));
        assert_eq!(
            said(&Target::Stage("approval".into()), &d, "en"),
            "You named problems at the “Approval” step."
        );
        // A language Pulse has no words for reads English, with the survey's default texts.
        assert_eq!(
            said(&pain, &d, "fr"),
            "You told us: Approvals took too long."
        );
        let texts = BTreeMap::from([
            ("en".to_string(), "We approve in a day.".to_string()),
            ("de".to_string(), "Wir genehmigen in einem Tag.".to_string()),
        ]);
        assert_eq!(did(&texts, &d, "de"), "Wir genehmigen in einem Tag.");
        assert_eq!(did(&texts, &d, "fr"), "We approve in a day.");
        let english_only = BTreeMap::from([("en".to_string(), "We approve in a day.".to_string())]);
        assert_eq!(did(&english_only, &d, "de"), "We approve in a day.");
    }
}
