//! View models of the opt-out pages (`/u/{token}`) in every language mails are written in.
//!
//! What opting out does, said the same way in the mail footer, on these pages and in the
//! README: no more invitations or reminders for *this survey* (this wave and later ones);
//! other surveys are not affected; the survey link keeps working while the wave is open,
//! so someone who opted out can still answer.
//!
//! The confirmation page never looks the token up (it is the same page for every link); its
//! language comes from the link (`?lang=`, set by the mail) or else the browser.

use serde_json::{json, Value};

use crate::domain::ui_text::ui_text;
use crate::email::MailLanguage;

struct OptOutText {
    confirm_title: &'static str,
    confirm_heading: &'static str,
    confirm_body: &'static str,
    link_stays: &'static str,
    confirm_button: &'static str,
    confirm_hint: &'static str,
    invalid_link: &'static str,
    done_title: &'static str,
    /// `{survey}` is replaced by the survey's title.
    done_heading: &'static str,
    done_body: &'static str,
    done_thanks: &'static str,
}

static EN: OptOutText = OptOutText {
    confirm_title: "Stop survey emails",
    confirm_heading: "Stop emails about this survey?",
    confirm_body: "If you confirm, you will get no more invitations or reminders for this survey, neither in this round nor in later ones. Other surveys are not affected.",
    link_stays: "Your survey link keeps working while the survey is open: if you want to answer after all, you still can.",
    confirm_button: "Yes, stop these emails",
    confirm_hint: "Changed your mind? Just close this page: nothing has changed yet.",
    invalid_link: "This link is incomplete. Open it from the email again, or copy the whole link into your browser.",
    done_title: "You will get no more emails",
    done_heading: "Done: no more emails about “{survey}”",
    done_body: "You will not be invited to or reminded about this survey again. Other surveys are not affected.",
    done_thanks: "Thank you for letting us know.",
};

static DE: OptOutText = OptOutText {
    confirm_title: "Keine Umfrage-E-Mails mehr",
    confirm_heading: "Keine E-Mails mehr zu dieser Umfrage?",
    confirm_body: "Wenn Sie bestätigen, erhalten Sie zu dieser Umfrage keine Einladungen und Erinnerungen mehr, weder in dieser Runde noch in späteren. Andere Umfragen sind nicht betroffen.",
    link_stays: "Ihr Umfrage-Link funktioniert weiter, solange die Umfrage geöffnet ist: Wenn Sie doch antworten möchten, können Sie das weiterhin tun.",
    confirm_button: "Ja, keine E-Mails mehr",
    confirm_hint: "Doch nicht? Schließen Sie einfach diese Seite: Noch hat sich nichts geändert.",
    invalid_link: "Dieser Link ist unvollständig. Öffnen Sie ihn noch einmal aus der E-Mail, oder kopieren Sie den ganzen Link in Ihren Browser.",
    done_title: "Sie erhalten keine E-Mails mehr",
    done_heading: "Erledigt: keine E-Mails mehr zu „{survey}“",
    done_body: "Sie werden zu dieser Umfrage nicht mehr eingeladen oder erinnert. Andere Umfragen sind nicht betroffen.",
    done_thanks: "Danke für Ihre Rückmeldung.",
};

fn text(language: MailLanguage) -> &'static OptOutText {
    match language {
        MailLanguage::En => &EN,
        MailLanguage::De => &DE,
    }
}

/// The language of an opt-out page: the link's `?lang=` if Pulse writes it, else the
/// browser's `Accept-Language`.
pub fn page_language(link: Option<&str>, accept_language: Option<&str>) -> MailLanguage {
    MailLanguage::from_code(link).unwrap_or_else(|| {
        MailLanguage::from_code(Some(crate::domain::ui_text::preferred_language(
            accept_language,
        )))
        .unwrap_or(MailLanguage::En)
    })
}

/// `pages/optout`: what opting out does, and the button that does it.
pub fn confirm_page(language: MailLanguage, action: &str, valid_shape: bool) -> Value {
    let t = text(language);
    let ui = ui_text(language.code());
    json!({
        "lang": language.code(),
        "title": t.confirm_title,
        "ui": { "brand": ui.brand, "skip_link": ui.skip_link },
        "heading": t.confirm_heading,
        "body": t.confirm_body,
        "link_stays": t.link_stays,
        "button": t.confirm_button,
        "hint": t.confirm_hint,
        "invalid_link": t.invalid_link,
        "action": action,
        "valid_shape": valid_shape,
    })
}

/// `pages/optout_done`: the opt-out is recorded.
pub fn done_page(language: MailLanguage, survey_title: &str) -> Value {
    let t = text(language);
    let ui = ui_text(language.code());
    json!({
        "lang": language.code(),
        "title": t.done_title,
        "ui": { "brand": ui.brand, "skip_link": ui.skip_link },
        "heading": t.done_heading.replace("{survey}", survey_title),
        "body": t.done_body,
        "link_stays": t.link_stays,
        "thanks": t.done_thanks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_says_the_link_keeps_working() {
        for language in MailLanguage::ALL {
            let page = done_page(language, "Pulse");
            assert!(page["heading"].as_str().unwrap().contains("Pulse"));
            assert!(!page["link_stays"].as_str().unwrap().is_empty());
        }
        assert_eq!(page_language(Some("de"), None), MailLanguage::De);
        assert_eq!(
            page_language(None, Some("de-AT,en;q=0.5")),
            MailLanguage::De
        );
        assert_eq!(page_language(Some("xx"), None), MailLanguage::En);
    }
}
