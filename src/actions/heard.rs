//! "What we heard": after a wave closes, an admin sends everyone who was invited (still in
//! the directory, not opted out of the survey, address not suppressed) a short summary in
//! their language — the response rate, NPS and CSAT with their change, the top three pain
//! points and the published actions planned on the wave's results — with a link to the same
//! summary as a page that needs no sign-in.
//!
//! * **Figures**: the whole wave only, read from the wave's published results (the snapshot
//!   frozen at closing, built through the release plan): the very numbers of the results
//!   page, formatted the same way. A wave with fewer than k respondents shows none.
//! * **Once**: the wave is the primary key of `wave_summaries`; the row and the outbox rows
//!   (one per invitation, each with its own dedupe key) are written in one transaction, so
//!   a second press — or a second instance at the same moment — queues nothing.
//! * **The link**: its token is derived from the summary's id with the server key (like
//!   survey links) and only its hash is stored; an admin can revoke it, after which the page
//!   answers like any unknown link and unsent summary mails are cancelled.

use std::sync::LazyLock;

use chrono::{NaiveDateTime, Timelike};
use serde::Serialize;

use super::said_did::{self, SaidDid};
use super::{invalid, ActionError, Actor};
use crate::config::SecretKey;
use crate::db::models::actions as action_rows;
use crate::db::models::wave_summaries::{self as rows, SummaryRow};
use crate::db::models::{invitations, outbox, waves as wave_rows};
use crate::db::{self, DbConn};
use crate::domain::definition::SurveyDefinition;
use crate::domain::role::Role;
use crate::domain::token::{LinkToken, TokenPurpose};
use crate::email::MailLanguage;
use crate::services::results::{self, Change, ResultsCache, WaveResults};

/// Pain points a summary names.
pub const TOP_PAIN_POINTS: usize = 3;

/// Closed waves' results for the summary mails: snapshots never change, so one cache serves
/// every mail the outbox composes in this process.
pub(crate) static SNAPSHOTS: LazyLock<ResultsCache> = LazyLock::new(ResultsCache::default);

/// A figure of the summary, formatted as the results page formats it.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// "+12.3" (NPS) or "71.4 %" (CSAT), with a decimal comma in German.
    pub value: String,
    /// "+5.2 points since H1 2026, a clear change", or `null` without an earlier wave.
    pub change: Option<String>,
}

/// A pain point of the summary.
#[derive(Debug, Clone, Serialize)]
pub struct PainLine {
    /// The option as respondents read it, in the summary's language.
    pub label: String,
    /// Share of respondents who named it: "34.0 %".
    pub share: String,
}

/// The summary of one wave in one language: what the mail and the page show.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub lang: &'static str,
    pub survey_title: String,
    pub wave_title: String,
    /// The day the wave closed, written out.
    pub closed_on: String,
    pub invited: u64,
    pub responses: u64,
    /// "62.5 %", `null` without invitations.
    pub response_rate: Option<String>,
    /// "30 of 40 people invited answered."
    pub participation: String,
    /// The anonymity threshold k of the wave.
    pub k: u32,
    /// False when fewer than k answered: then no figure is given.
    pub shown: bool,
    /// `null` when hidden or not asked.
    pub nps: Option<Line>,
    pub csat: Option<Line>,
    /// The most named pain points, most first (at most [`TOP_PAIN_POINTS`]).
    pub pain_points: Vec<PainLine>,
    /// Published actions planned on this wave's results.
    pub actions: Vec<SaidDid>,
    /// The fixed words around the figures.
    pub words: &'static Words,
}

/// The fixed words of the summary page (the mails have their own templates per language).
#[derive(Debug, Serialize)]
pub struct Words {
    pub heading: &'static str,
    pub intro: &'static str,
    pub participation: &'static str,
    pub nps: &'static str,
    pub nps_hint: &'static str,
    pub csat: &'static str,
    pub csat_hint: &'static str,
    pub hidden: &'static str,
    pub too_few: &'static str,
    pub pain_points: &'static str,
    pub pain_points_hint: &'static str,
    pub no_pain_points: &'static str,
    pub actions: &'static str,
    pub no_actions: &'static str,
    pub anonymity: &'static str,
    pub brand: &'static str,
    pub skip_link: &'static str,
    pub closed_on: &'static str,
}

static EN: Words = Words {
    heading: "What we heard",
    intro: "Thank you to everyone who answered. This is what the survey told us, and what procurement does about it.",
    participation: "Response rate",
    nps: "Net Promoter Score",
    nps_hint: "From −100 to +100: the share of people who would recommend working with procurement, minus the share who would not.",
    csat: "Satisfaction",
    csat_hint: "The share of all satisfaction ratings that were good or very good.",
    hidden: "not shown: too few answers to this question",
    too_few: "Too few people answered to show any figure without putting someone's anonymity at risk.",
    pain_points: "What slows you down most",
    pain_points_hint: "Share of respondents who named it.",
    no_pain_points: "No pain point was named often enough to report.",
    actions: "What we do about it",
    no_actions: "We are deciding what to do first, and will tell you in the next survey.",
    anonymity: "All figures are for the whole survey: no group smaller than the anonymity threshold is ever shown.",
    brand: "Procurement Pulse",
    skip_link: "Skip to content",
    closed_on: "Closed on",
};

static DE: Words = Words {
    heading: "Was wir gehört haben",
    intro: "Vielen Dank an alle, die geantwortet haben. Das hat uns die Umfrage gesagt, und das tut der Einkauf jetzt.",
    participation: "Rücklaufquote",
    nps: "Net Promoter Score",
    nps_hint: "Von −100 bis +100: der Anteil derer, die die Zusammenarbeit mit dem Einkauf empfehlen würden, minus der Anteil derer, die es nicht würden.",
    csat: "Zufriedenheit",
    csat_hint: "Der Anteil aller Zufriedenheitsbewertungen, die gut oder sehr gut waren.",
    hidden: "nicht gezeigt: zu wenige Antworten auf diese Frage",
    too_few: "Es haben zu wenige Personen geantwortet, um Zahlen zu zeigen, ohne jemandes Anonymität zu gefährden.",
    pain_points: "Was Sie am meisten aufhält",
    pain_points_hint: "Anteil der Antwortenden, die es genannt haben.",
    no_pain_points: "Kein Problem wurde oft genug genannt, um es zu berichten.",
    actions: "Was wir jetzt tun",
    no_actions: "Wir entscheiden gerade, womit wir anfangen, und berichten Ihnen in der nächsten Umfrage davon.",
    anonymity: "Alle Zahlen gelten für die ganze Umfrage: Keine Gruppe unter der Anonymitätsschwelle wird je gezeigt.",
    brand: "Procurement Pulse",
    skip_link: "Zum Inhalt springen",
    closed_on: "Geschlossen am",
};

fn words(language: MailLanguage) -> &'static Words {
    match language {
        MailLanguage::En => &EN,
        MailLanguage::De => &DE,
    }
}

/// A number as the results page writes it, with a decimal comma in German.
fn localized(text: String, language: MailLanguage) -> String {
    match language {
        MailLanguage::En => text,
        MailLanguage::De => text.replace('.', ","),
    }
}

fn pct(share: f64, language: MailLanguage) -> String {
    localized(format!("{:.1} %", 100.0 * share), language)
}

/// "+5.2 points since H1 2026, a clear change" (`diff` already in the unit of `unit`).
fn change_text(
    change: &Change,
    diff: f64,
    previous: Option<&str>,
    units: (&str, &str),
    language: MailLanguage,
) -> String {
    let amount = localized(format!("{diff:+.1}"), language);
    let (unit_en, unit_de) = units;
    let previous = previous.unwrap_or_default();
    match (language, change.significant) {
        (MailLanguage::En, true) => format!("{amount} {unit_en} since {previous}, a clear change"),
        (MailLanguage::En, false) => {
            format!("{amount} {unit_en} since {previous}, within the usual ups and downs")
        }
        (MailLanguage::De, true) => {
            format!("{amount} {unit_de} seit {previous}, eine deutliche Veränderung")
        }
        (MailLanguage::De, false) => {
            format!("{amount} {unit_de} seit {previous}, im Rahmen der üblichen Schwankungen")
        }
    }
}

/// The summary of `results` (a closed wave's published, whole-wave results) in `language`.
/// Pure: the figures come from `results` only, the texts from `definition` and `actions`.
pub fn summarize(
    results: &WaveResults,
    definition: &SurveyDefinition,
    actions: &[action_rows::ActionRow],
    closed_at: NaiveDateTime,
    language: MailLanguage,
) -> Summary {
    let code = language.code();
    let texts = definition.texts(Some(code));
    let previous = results.previous_wave.as_ref().map(|w| w.title.as_str());
    let shown = results.shown && results.answers_released && results.filter.is_none();
    let nps = results.nps.as_ref().filter(|_| shown).map(|n| Line {
        value: localized(format!("{:+.1}", n.score), language),
        change: n
            .change
            .as_ref()
            .map(|c| change_text(c, c.diff, previous, ("points", "Punkte"), language)),
    });
    let csat = results.csat.as_ref().filter(|_| shown).map(|c| Line {
        value: pct(c.top2box, language),
        change: c.change.as_ref().map(|ch| {
            change_text(
                ch,
                100.0 * ch.diff,
                previous,
                ("percentage points", "Prozentpunkte"),
                language,
            )
        }),
    });
    let mut pain: Vec<(u64, f64, String)> = Vec::new();
    if shown {
        for question in &results.pain_points {
            let asked = definition.question(&question.question);
            for stage in &question.stages {
                for option in stage.options.iter().filter(|o| o.count > 0) {
                    let label = match asked {
                        Some(crate::domain::definition::Question::PainPoints(q)) => q
                            .option(&option.key)
                            .map(|o| texts.get(&o.label).to_string()),
                        _ => None,
                    }
                    .unwrap_or_else(|| option.label.clone());
                    pain.push((option.count, option.share, label));
                }
            }
        }
    }
    pain.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.cmp(&b.2)));
    Summary {
        lang: code,
        survey_title: texts.get(&definition.title).to_string(),
        wave_title: results.wave.title.clone(),
        closed_on: language.format_date(closed_at.date()),
        invited: results.invited,
        responses: results.responses,
        response_rate: results.response_rate.map(|r| pct(r, language)),
        participation: match language {
            MailLanguage::En => format!(
                "{} of {} people invited answered.",
                results.responses, results.invited
            ),
            MailLanguage::De => format!(
                "{} von {} eingeladenen Personen haben geantwortet.",
                results.responses, results.invited
            ),
        },
        k: results.anonymity_k,
        shown,
        nps,
        csat,
        pain_points: pain
            .into_iter()
            .take(TOP_PAIN_POINTS)
            .map(|(_, share, label)| PainLine {
                label,
                share: pct(share, language),
            })
            .collect(),
        actions: actions
            .iter()
            .filter_map(|row| said_did::of_row(row, definition, code))
            .collect(),
        words: words(language),
    }
}

/// The summary of closed wave `wave_id` in `language`.
pub fn build(
    conn: &mut DbConn,
    cache: &ResultsCache,
    wave_id: &str,
    language: MailLanguage,
    now: NaiveDateTime,
) -> Result<Summary, ActionError> {
    let wave = wave_rows::find_with_survey(conn, wave_id)?
        .ok_or_else(|| invalid("wave", format!("No wave with id {wave_id}.")))?;
    if wave.wave.state != "closed" {
        return Err(invalid(
            "wave",
            format!(
                "\"What we heard\" sums up a closed wave; \"{}\" is {}.",
                wave.wave.title, wave.wave.state
            ),
        ));
    }
    let results = results::wave_results(conn, cache, wave_id, now)?;
    let definition = wave.parsed_definition()?;
    let actions = action_rows::published_of_wave(conn, wave_id)?;
    let closed_at = wave.wave.closed_at.unwrap_or(wave.wave.closes_at);
    Ok(summarize(
        &results,
        &definition,
        &actions,
        closed_at,
        language,
    ))
}

/// The summary's language for a reader who asked for `wanted` (`?lang=`, else the
/// browser's): German or English, else the survey's default language.
pub fn language_for(wanted: Option<&str>, definition_default: &str) -> MailLanguage {
    MailLanguage::choose(wanted, Some(definition_default))
}

/// The public link of a summary: `/w/{token}`.
pub fn link_token(key: &SecretKey, summary_id: &str) -> LinkToken {
    LinkToken::derive(key, TokenPurpose::Summary, summary_id)
}

/// What the admin page shows about a wave's summary.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub wave_id: String,
    pub wave_title: String,
    pub survey_title: String,
    pub survey_slug: String,
    pub state: String,
    pub closed: bool,
    /// The survey's languages Pulse writes the summary in (the default first).
    pub languages: Vec<&'static str>,
    /// Who would get the mail now (invited, still in the directory, not opted out, address
    /// not suppressed).
    pub would_reach: usize,
    pub sent: Option<Sent>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Sent {
    pub at: NaiveDateTime,
    pub by: String,
    pub recipients: i32,
    pub revoked_at: Option<NaiveDateTime>,
    /// The public link while it is live (the admin may share it).
    pub link: Option<String>,
}

/// The summary's state for the admin page of wave `wave_id`.
pub fn status(
    conn: &mut DbConn,
    key: &SecretKey,
    base_url: &str,
    wave_id: &str,
) -> Result<Status, ActionError> {
    let wave = wave_rows::find_with_survey(conn, wave_id)?
        .ok_or_else(|| ActionError::NotFound(wave_id.to_string()))?;
    let definition = wave.parsed_definition()?;
    let mut languages: Vec<&'static str> = Vec::new();
    for code in definition.languages() {
        if let Some(language) = MailLanguage::from_code(Some(code)) {
            if !languages.contains(&language.code()) {
                languages.push(language.code());
            }
        }
    }
    if languages.is_empty() {
        languages.push(MailLanguage::En.code());
    }
    let would_reach = invitations::awaiting_reminder(conn, wave_id, &wave.survey_slug)?.len();
    let sent = match rows::find_by_wave(conn, wave_id)? {
        Some(row) => {
            let by = crate::db::models::users::find(conn, &row.sent_by)?
                .map(|u| u.email)
                .unwrap_or_default();
            Some(Sent {
                at: row.sent_at,
                by,
                recipients: row.recipients,
                revoked_at: row.revoked_at,
                link: row.revoked_at.is_none().then(|| {
                    format!(
                        "{}/w/{}",
                        base_url.trim_end_matches('/'),
                        link_token(key, &row.id).expose()
                    )
                }),
            })
        }
        None => None,
    };
    Ok(Status {
        wave_id: wave.wave.id.clone(),
        wave_title: wave.wave.title.clone(),
        survey_title: wave.survey_title.clone(),
        survey_slug: wave.survey_slug.clone(),
        closed: wave.wave.state == "closed",
        state: wave.wave.state,
        languages,
        would_reach,
        sent,
    })
}

/// What pressing "send" did.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SendOutcome {
    /// Queued for `recipients` people.
    Sent { recipients: usize },
    /// The wave's summary went out before: nothing was queued now.
    AlreadySent {
        sent_at: NaiveDateTime,
        recipients: i32,
    },
}

fn require_admin(actor: &Actor) -> Result<(), ActionError> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(ActionError::Forbidden(
            "Only an admin sends \"what we heard\" to the people invited, or revokes its link: ask one to.".into(),
        ))
    }
}

/// Queues the summary of closed wave `wave_id` for everyone invited (admins only); exactly
/// once per wave, whoever presses and however often.
pub fn send(
    conn: &mut DbConn,
    key: &SecretKey,
    actor: &Actor,
    wave_id: &str,
    now: NaiveDateTime,
) -> Result<SendOutcome, ActionError> {
    require_admin(actor)?;
    let wave = wave_rows::find_with_survey(conn, wave_id)?
        .ok_or_else(|| ActionError::NotFound(wave_id.to_string()))?;
    if wave.wave.state != "closed" {
        return Err(invalid(
            "wave",
            format!(
                "\"What we heard\" goes out once the wave has closed; \"{}\" is {}.",
                wave.wave.title, wave.wave.state
            ),
        ));
    }
    // Seconds are enough, and keep the sent time identical on both backends.
    let now = now.with_nanosecond(0).unwrap_or(now);
    let outcome = db::write_transaction(conn, |conn| -> Result<SendOutcome, ActionError> {
        let id = uuid::Uuid::new_v4().to_string();
        let row = SummaryRow {
            wave_id: wave_id.to_string(),
            link_hash: link_token(key, &id).hash().as_str().to_string(),
            id,
            sent_by: actor.id.clone(),
            sent_at: now,
            recipients: 0,
            revoked_at: None,
            revoked_by: None,
        };
        if !rows::insert_once(conn, &row)? {
            let existing = rows::find_by_wave(conn, wave_id)?.ok_or_else(|| {
                ActionError::Unexpected(anyhow::anyhow!("the summary of {wave_id} vanished"))
            })?;
            return Ok(SendOutcome::AlreadySent {
                sent_at: existing.sent_at,
                recipients: existing.recipients,
            });
        }
        let mail: Vec<_> = invitations::awaiting_reminder(conn, wave_id, &wave.survey_slug)?
            .into_iter()
            .map(|(invitation_id, email)| {
                outbox::OutboxRow::pending(
                    WHAT_WE_HEARD,
                    format!("{WHAT_WE_HEARD}:{invitation_id}"),
                    &email,
                    Some(wave_id),
                    Some(&invitation_id),
                    now,
                )
            })
            .collect();
        let queued = outbox::enqueue(conn, &mail)?;
        rows::set_recipients(conn, wave_id, i32::try_from(queued).unwrap_or(i32::MAX))?;
        Ok(SendOutcome::Sent { recipients: queued })
    })?;
    if matches!(outcome, SendOutcome::Sent { .. }) {
        tracing::info!(wave = wave_id, "\"what we heard\" queued");
        crate::outbox::wake();
    }
    Ok(outcome)
}

/// The outbox kind of the summary mail.
pub const WHAT_WE_HEARD: &str = "what_we_heard";

/// Revokes the public link of a wave's summary (admins only): the page then answers like
/// an unknown link, and summary mails not sent yet are cancelled when their turn comes.
/// False when there was no live link.
pub fn revoke(
    conn: &mut DbConn,
    actor: &Actor,
    wave_id: &str,
    now: NaiveDateTime,
) -> Result<bool, ActionError> {
    require_admin(actor)?;
    Ok(rows::revoke(conn, wave_id, &actor.id, now)?)
}

/// The summary behind a public link token, in `wanted` language; `None` for an unknown or
/// revoked link (the same for both).
pub fn public(
    conn: &mut DbConn,
    cache: &ResultsCache,
    token: &LinkToken,
    wanted: Option<&str>,
    now: NaiveDateTime,
) -> Result<Option<Summary>, ActionError> {
    let Some(row) = rows::find_live_by_link_hash(conn, token.hash().as_str())? else {
        return Ok(None);
    };
    let default = match wave_rows::find_with_survey(conn, &row.wave_id)? {
        Some(wave) => wave.parsed_definition()?.default_language().to_string(),
        None => return Ok(None),
    };
    let language = language_for(wanted, &default);
    build(conn, cache, &row.wave_id, language, now).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_the_results_page_with_a_german_decimal_comma() {
        assert_eq!(pct(0.6251, MailLanguage::En), "62.5 %");
        assert_eq!(pct(0.6251, MailLanguage::De), "62,5 %");
        let change = Change {
            previous: 10.0,
            diff: 5.24,
            p: 0.01,
            p_adjusted: 0.02,
            min_effect: 5.0,
            significant: true,
        };
        assert_eq!(
            change_text(
                &change,
                5.24,
                Some("H1 2026"),
                ("points", "Punkte"),
                MailLanguage::En
            ),
            "+5.2 points since H1 2026, a clear change"
        );
        let flat = Change {
            significant: false,
            ..change
        };
        assert_eq!(
            change_text(
                &flat,
                -1.0,
                Some("H1 2026"),
                ("points", "Punkte"),
                MailLanguage::De
            ),
            "-1,0 Punkte seit H1 2026, im Rahmen der üblichen Schwankungen"
        );
    }
}
