//! View-models of closing the loop: the public "what we heard" page (`pages/what_we_heard`),
//! its admin page (`pages/admin/what_we_heard`), the mail preview of a wave
//! (`pages/admin/mail_preview`) and the home page's "actions due"
//! (`partials/actions_due`).

use serde_json::{json, Value};

use crate::actions::heard::{Status, Summary};
use crate::actions::said_did::SaidDid;
use crate::actions::ActionView;
use crate::domain::ui_text::ui_text;
use crate::email::{EmailMessage, MailLanguage, SurveyEmailKind};

/// The name of a language in itself, for language switches.
pub fn language_label(language: MailLanguage) -> &'static str {
    match language {
        MailLanguage::En => "English",
        MailLanguage::De => "Deutsch",
    }
}

/// `pages/what_we_heard` (respondent layout, in the summary's language).
pub fn public_page(summary: &Summary) -> Value {
    let ui = ui_text(summary.lang);
    json!({
        "lang": summary.lang,
        "title": format!("{}: {}", summary.words.heading, summary.survey_title),
        "ui": { "brand": ui.brand, "skip_link": ui.skip_link },
        "summary": summary,
    })
}

fn minutes(at: chrono::NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `pages/admin/what_we_heard`: `summary` is `None` for a wave that is not closed.
pub fn admin_page(status: &Status, summary: Option<&Summary>) -> Value {
    let current = summary.map(|s| s.lang).unwrap_or("en");
    let languages: Vec<Value> = status
        .languages
        .iter()
        .filter_map(|code| MailLanguage::from_code(Some(code)))
        .map(|language| {
            json!({
                "code": language.code(),
                "label": language_label(language),
                "href": format!("/admin/waves/{}/what-we-heard?lang={}", status.wave_id, language.code()),
                "current": language.code() == current,
            })
        })
        .collect();
    json!({
        "status": status,
        "sent_at": status.sent.as_ref().map(|s| minutes(s.at)),
        "revoked_at": status.sent.as_ref().and_then(|s| s.revoked_at).map(minutes),
        "summary": summary,
        "languages": languages,
    })
}

/// What the mail preview shows of one wave.
pub struct MailPreview<'a> {
    pub wave_id: &'a str,
    pub wave_title: &'a str,
    pub survey_slug: &'a str,
    pub kind: SurveyEmailKind,
    pub language: MailLanguage,
    /// The languages the survey is written in that Pulse writes mails in.
    pub languages: &'a [MailLanguage],
    pub message: &'a EmailMessage,
    pub items: &'a [SaidDid],
}

fn kind_code(kind: SurveyEmailKind) -> &'static str {
    match kind {
        SurveyEmailKind::Invitation => "invitation",
        SurveyEmailKind::Reminder => "reminder",
    }
}

/// The preview's address for `kind` and `language`.
pub fn preview_href(wave_id: &str, kind: SurveyEmailKind, language: MailLanguage) -> String {
    format!(
        "/admin/waves/{wave_id}/mail-preview?kind={}&lang={}",
        kind_code(kind),
        language.code()
    )
}

/// `pages/admin/mail_preview`.
pub fn mail_preview(preview: &MailPreview<'_>) -> Value {
    let kinds: Vec<Value> = [
        (SurveyEmailKind::Invitation, "Invitation"),
        (SurveyEmailKind::Reminder, "Reminder"),
    ]
    .into_iter()
    .map(|(kind, label)| {
        json!({
            "label": label,
            "href": preview_href(preview.wave_id, kind, preview.language),
            "current": kind == preview.kind,
        })
    })
    .collect();
    let languages: Vec<Value> = preview
        .languages
        .iter()
        .map(|language| {
            json!({
                "code": language.code(),
                "label": language_label(*language),
                "href": preview_href(preview.wave_id, preview.kind, *language),
                "current": *language == preview.language,
            })
        })
        .collect();
    json!({
        "wave": { "id": preview.wave_id, "title": preview.wave_title },
        "kind_label": match preview.kind {
            SurveyEmailKind::Invitation => "invitation",
            SurveyEmailKind::Reminder => "reminder",
        },
        "kinds": kinds,
        "languages": languages,
        "subject": preview.message.subject,
        "text": preview.message.text,
        "html_src": format!(
            "/admin/waves/{}/mail-preview.html?kind={}&lang={}",
            preview.wave_id,
            kind_code(preview.kind),
            preview.language.code()
        ),
        "items": preview.items,
        "count": preview.items.len(),
        "actions_href": format!("/admin/surveys/{}/actions", preview.survey_slug),
    })
}

/// Most actions the home page lists.
pub const HOME_LIMIT: usize = 8;

/// `partials/actions_due`'s context: `actions_due` and `actions_due_more`.
pub fn actions_due(actions: &[ActionView]) -> Value {
    let listed: Vec<Value> = actions
        .iter()
        .take(HOME_LIMIT)
        .map(|a| {
            json!({
                "id": a.id,
                "title": a.title,
                "owner": a.owner,
                "due_on": a.due_on.to_string(),
                "overdue": a.overdue,
                "status_label": a.status.label(),
            })
        })
        .collect();
    json!({
        "actions_due": listed,
        "actions_due_more": actions.len().saturating_sub(HOME_LIMIT),
    })
}
