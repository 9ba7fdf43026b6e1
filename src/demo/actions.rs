//! The demo's action plans, made through `crate::actions` at the times they would have
//! happened: what procurement decided after each closed internal-customer wave, with
//! progress notes, statuses (some done, one dropped, one overdue) and the admin publishing
//! what respondents may read. Their targets move in later waves ("Approval fast track"
//! after the approval-delay pain point, which then fades — the answer model's trend), the
//! open wave's invitation and form show the published ones ("you said, we did"), and the
//! last closed wave's "what we heard" went out (its mails recorded as sent, like all mail
//! of the demo's past).

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::{Duration, NaiveDateTime};

use super::{DemoWave, ADMIN_EMAIL, LEAD_EMAIL};
use crate::actions::{self, heard, ActionInput, Actor};
use crate::config::SecretKey;
use crate::db::models::outbox;
use crate::db::DbConn;
use crate::services::results::ResultsCache;

/// One action of the demo.
struct Plan {
    /// Index of the closed internal wave it answers.
    wave: usize,
    target: &'static str,
    group: &'static str,
    title: &'static str,
    en: &'static str,
    de: &'static str,
    /// Days after the wave closed it is due; or, when negative, days before `now`'s
    /// date counted from today (`due_from_today`).
    due_days: i64,
    due_from_today: bool,
    /// (days after the wave closed, status or "", note).
    notes: &'static [(i64, &'static str, &'static str)],
    published: bool,
}

const PLANS: &[Plan] = &[
    Plan {
        wave: 0,
        target: "pain_point:approval_delays",
        group: "",
        title: "Approval fast track",
        en: "Orders under €5,000 are now approved within one working day, by one approver instead of three.",
        de: "Bestellungen unter 5.000 € werden jetzt innerhalb eines Arbeitstags freigegeben, von einer Person statt von dreien.",
        due_days: 75,
        due_from_today: false,
        notes: &[
            (20, "in_progress", "Finance agreed to one approver below €5,000; the workflow change is in test."),
            (62, "done", "Live for all business units since Monday. Median approval time is down from six days to one."),
        ],
        published: true,
    },
    Plan {
        wave: 1,
        target: "dimension:communication",
        group: "",
        title: "Status mails for every request",
        en: "You now get a mail at every step of your request, and can see where it stands in the purchasing portal.",
        de: "Sie erhalten jetzt bei jedem Schritt Ihrer Anfrage eine E-Mail und sehen im Einkaufsportal, wo sie steht.",
        due_days: 90,
        due_from_today: false,
        notes: &[
            (30, "in_progress", "Portal notifications switched on for catalogue orders."),
            (85, "done", "Every request type now sends a status mail at each step."),
        ],
        published: true,
    },
    Plan {
        wave: 2,
        target: "pain_point:unclear_contact",
        group: "",
        title: "Purchasing chat helpdesk",
        en: "A chat in the intranet answers \"who do I ask?\" questions within the hour.",
        de: "Ein Chat im Intranet beantwortet Fragen wie „An wen wende ich mich?“ innerhalb einer Stunde.",
        due_days: 120,
        due_from_today: false,
        notes: &[
            (40, "in_progress", "Pilot with two buyers answering in the chat."),
            (100, "dropped", "Few questions came in; the contact finder in the portal answers them better. Dropped in favour of faster supplier onboarding."),
        ],
        published: false,
    },
    Plan {
        wave: 3,
        target: "pain_point:slow_supplier_onboarding",
        group: "",
        title: "Supplier onboarding in five days",
        en: "New suppliers are set up within five working days, with one form instead of three.",
        de: "Neue Lieferanten werden innerhalb von fünf Arbeitstagen angelegt, mit einem Formular statt drei.",
        due_days: 10,
        due_from_today: true,
        notes: &[(21, "in_progress", "One onboarding form agreed with Finance and Compliance; IT builds it.")],
        published: true,
    },
    Plan {
        wave: 3,
        target: "dimension:policy_clarity",
        group: "",
        title: "Purchasing rules in plain language",
        en: "The purchasing rules are being rewritten on two pages in plain language, with examples for the common cases.",
        de: "Die Einkaufsregeln werden auf zwei Seiten in einfacher Sprache neu geschrieben, mit Beispielen für die häufigen Fälle.",
        due_days: 45,
        due_from_today: true,
        notes: &[],
        published: true,
    },
    Plan {
        wave: 3,
        target: "nps",
        // `model::FALLING_UNIT`: its NPS falls wave by wave.
        group: "business_unit=IT",
        title: "A dedicated buyer for IT",
        en: "IT requests get one named buyer who knows the IT suppliers and contracts.",
        de: "IT-Anfragen bekommen eine feste Einkäuferin, die die IT-Lieferanten und -Verträge kennt.",
        due_days: -6,
        due_from_today: true,
        notes: &[(30, "in_progress", "Candidate found; starts after the budget round.")],
        published: false,
    },
];

/// Creates the actions on the closed internal waves (oldest first) and sends the last
/// one's "what we heard"; returns the summary's id.
pub fn seed(
    conn: &mut DbConn,
    key: &SecretKey,
    closed: &[&DemoWave],
    now: NaiveDateTime,
) -> anyhow::Result<Option<String>> {
    if closed.is_empty() {
        return Ok(None);
    }
    let lead = actions::actor_by_email(conn, LEAD_EMAIL)?;
    let admin = actions::actor_by_email(conn, ADMIN_EMAIL)?;
    let cache = ResultsCache::default();
    for plan in PLANS {
        let Some(wave) = closed.get(plan.wave) else {
            continue;
        };
        create(conn, &cache, &lead, &admin, wave, plan, now)?;
    }
    let last = closed[closed.len() - 1];
    let sent_at = last.closes_at + Duration::days(14);
    heard::send(conn, key, &admin, &last.id, sent_at)
        .map_err(|e| anyhow::anyhow!("the demo's \"what we heard\": {e}"))?;
    // Like every mail of the demo's past: recorded as sent, never sent.
    outbox::mark_pending_sent_for_wave(conn, &last.id)?;
    Ok(crate::db::models::wave_summaries::find_by_wave(conn, &last.id)?.map(|s| s.id))
}

fn create(
    conn: &mut DbConn,
    cache: &ResultsCache,
    lead: &Actor,
    admin: &Actor,
    wave: &DemoWave,
    plan: &Plan,
    now: NaiveDateTime,
) -> anyhow::Result<()> {
    let closed = wave.closes_at;
    let created = closed + Duration::days(7);
    let due = if plan.due_from_today {
        now.date() + Duration::days(plan.due_days)
    } else {
        closed.date() + Duration::days(plan.due_days)
    };
    let input = ActionInput {
        wave: wave.id.clone(),
        target: plan.target.into(),
        group: plan.group.into(),
        title: plan.title.into(),
        description: BTreeMap::from([
            ("en".to_string(), plan.en.to_string()),
            ("de".to_string(), plan.de.to_string()),
        ]),
        owner: LEAD_EMAIL.into(),
        due: due.to_string(),
    };
    let action = actions::create(conn, cache, lead, &input, created)
        .map_err(|e| anyhow::anyhow!("the demo action \"{}\": {e}", plan.title))
        .context("the demo's action plans")?;
    if plan.published {
        actions::set_published(conn, admin, &action.id, true, created + Duration::days(1))
            .map_err(|e| anyhow::anyhow!("publishing \"{}\": {e}", plan.title))?;
    }
    for (days, status, note) in plan.notes {
        let at = (closed + Duration::days(*days)).min(now - Duration::hours(1));
        actions::add_note(conn, lead, &action.id, note, Some(status), at)
            .map_err(|e| anyhow::anyhow!("a note on \"{}\": {e}", plan.title))?;
    }
    Ok(())
}
