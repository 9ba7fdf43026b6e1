//! Act on the results: action plans aimed at a figure of a closed wave (the whole wave or
//! a group its release plan shows), with an owner, a due date, a status with dated
//! progress notes, a `published` flag only admins set, and every change kept with who and
//! when. The same verbs serve the pages, the JSON API and `pulse action`.
//!
//! Parts: [`target`] (what an action aims at, and "did it work"), [`export`] (CSV, XLSX),
//! and closing the loop with the people asked: [`said_did`] ("you said, we did" in the next
//! wave's mails and form), [`heard`] ("what we heard" after a wave closes), [`digest`]
//! (owners' weekly reminder, the home page's "actions due") and [`mail`] (composing those
//! mails for the outbox). SQL lives in `db::models::actions` and `db::models::wave_summaries`.

pub mod digest;
pub mod export;
pub mod heard;
pub mod mail;
mod model;
pub mod said_did;
pub mod target;

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::Connection;
use serde::Serialize;

use crate::db::models::actions::{self as rows, ActionChanges, ActionRow, HistoryRow, NoteRow};
use crate::db::models::{users, waves as wave_rows};
use crate::db::DbConn;
use crate::domain::role::Role;
use crate::services::results::{ResultsCache, ResultsError, SegmentFilter};

pub use model::*;
pub use target::{Figure, Target, TargetPoint};

/// Longest title.
pub const MAX_TITLE: usize = 120;
/// Longest text for respondents, per language (it goes into mails and the survey form).
pub const MAX_DESCRIPTION: usize = 400;
/// Longest progress note.
pub const MAX_NOTE: usize = 2000;

fn today(now: NaiveDateTime) -> NaiveDate {
    now.date()
}

fn parse_due(text: &str) -> Result<NaiveDate, ActionError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        invalid(
            "due",
            format!(
                "\"{}\" is not a date: write YYYY-MM-DD, e.g. 2027-03-31",
                text.trim()
            ),
        )
    })
}

fn parse_title(text: &str) -> Result<String, ActionError> {
    let title = text.trim();
    if title.is_empty() {
        return Err(invalid("title", "Give the action a title."));
    }
    if title.chars().count() > MAX_TITLE {
        return Err(invalid(
            "title",
            format!("A title has at most {MAX_TITLE} characters."),
        ));
    }
    Ok(title.to_string())
}

/// The texts for respondents: only the survey's languages, the default one required.
fn parse_description(
    texts: &BTreeMap<String, String>,
    languages: &[&str],
) -> Result<BTreeMap<String, String>, ActionError> {
    let mut out = BTreeMap::new();
    for (language, text) in texts {
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        if !languages.contains(&language.as_str()) {
            return Err(invalid(
                "description",
                format!(
                    "The survey is not in \"{language}\": write the text in {}.",
                    languages.join(", ")
                ),
            ));
        }
        if text.chars().count() > MAX_DESCRIPTION {
            return Err(invalid(
                "description",
                format!("What procurement will do has at most {MAX_DESCRIPTION} characters per language."),
            ));
        }
        out.insert(language.clone(), text.to_string());
    }
    let default = languages.first().copied().unwrap_or("en");
    if !out.contains_key(default) {
        return Err(invalid(
            "description",
            format!("Say what procurement will do, at least in the survey's first language ({default})."),
        ));
    }
    Ok(out)
}

fn owner_id(conn: &mut DbConn, email: &str) -> Result<String, ActionError> {
    let email = email.trim();
    match users::find_by_email(conn, &email.to_lowercase())? {
        Some(user) if user.active => Ok(user.id),
        Some(_) => Err(invalid("owner", format!("{email} is deactivated: choose an active account."))),
        None => Err(invalid(
            "owner",
            format!("No account {email}: the owner is an admin or lead account (see `pulse user list`)."),
        )),
    }
}

/// The languages of a wave's survey, the default first.
fn languages_of(wave: &wave_rows::WaveWithSurvey) -> Result<Vec<String>, ActionError> {
    let definition = wave.parsed_definition()?;
    Ok(definition
        .languages()
        .iter()
        .map(|s| s.to_string())
        .collect())
}

/// The survey languages an action's texts may be written in (for forms).
pub fn languages_of_wave(conn: &mut DbConn, wave_id: &str) -> Result<Vec<String>, ActionError> {
    let wave = wave_rows::find_with_survey(conn, wave_id)?
        .ok_or_else(|| invalid("wave", format!("No wave with id {wave_id}.")))?;
    languages_of(&wave)
}

fn group_of(row: &ActionRow) -> Option<SegmentFilter> {
    match (&row.group_attribute, &row.group_value) {
        (Some(attribute), Some(value)) => Some(SegmentFilter {
            attribute: attribute.clone(),
            value: value.clone(),
        }),
        _ => None,
    }
}

fn target_of(row: &ActionRow) -> Result<Target, ActionError> {
    Target::from_parts(&row.target_kind, &row.target_key).ok_or_else(|| {
        ActionError::Unexpected(anyhow::anyhow!(
            "action {} has an unknown target {}:{}",
            row.id,
            row.target_kind,
            row.target_key
        ))
    })
}

/// Checks that `target` (of `group`) is a figure `wave_id`'s published results show; returns
/// the wave and the figure.
pub fn check_target(
    conn: &mut DbConn,
    cache: &ResultsCache,
    wave_id: &str,
    target: &Target,
    group: Option<&SegmentFilter>,
    now: NaiveDateTime,
) -> Result<(wave_rows::WaveWithSurvey, Figure), ActionError> {
    let wave = wave_rows::find_with_survey(conn, wave_id)?.ok_or_else(|| {
        invalid(
            "wave",
            format!("No wave with id {wave_id} (see `pulse wave list`)."),
        )
    })?;
    if wave.wave.state != "closed" {
        return Err(invalid(
            "wave",
            format!(
                "Actions answer a closed wave's results; \"{}\" is {}.",
                wave.wave.title, wave.wave.state
            ),
        ));
    }
    let results = target::results_for(conn, cache, wave_id, group, now).map_err(|e| match e {
        ResultsError::Refused(message) => invalid(
            "group",
            format!(
                "{} cannot be the target: the results of \"{}\" do not show that group. {message}",
                group.map(|g| g.to_string()).unwrap_or_default(),
                wave.wave.title
            ),
        ),
        other => other.into(),
    })?;
    let figure = target::figure_of(&results, target).ok_or_else(|| {
        invalid(
            "target",
            format!(
                "\"{target}\" is not a figure the results of \"{}\"{} show (hidden for anonymity, or not asked).",
                wave.wave.title,
                group.map(|g| format!(" for {g}")).unwrap_or_default()
            ),
        )
    })?;
    Ok((wave, figure))
}

fn history_row(
    action_id: &str,
    actor: &Actor,
    now: NaiveDateTime,
    field: &str,
    old: Option<String>,
    new: Option<String>,
) -> HistoryRow {
    HistoryRow {
        id: uuid::Uuid::new_v4().to_string(),
        action_id: action_id.to_string(),
        changed_by: actor.id.clone(),
        changed_at: now,
        field: field.to_string(),
        old_value: old,
        new_value: new,
    }
}

fn require_planner(actor: &Actor) -> Result<(), ActionError> {
    match actor.role {
        Role::Admin | Role::Lead => Ok(()),
        Role::Viewer => Err(ActionError::Forbidden(
            "a viewer reads scorecards; only leads and admins plan actions".into(),
        )),
    }
}

/// Creates an action (leads and admins), unpublished, status planned.
pub fn create(
    conn: &mut DbConn,
    cache: &ResultsCache,
    actor: &Actor,
    input: &ActionInput,
    now: NaiveDateTime,
) -> Result<ActionView, ActionError> {
    require_planner(actor)?;
    let target = Target::parse(&input.target).map_err(|m| invalid("target", m))?;
    let group = match input.group.trim() {
        "" => None,
        text => Some(SegmentFilter::parse(text).map_err(|m| invalid("group", m))?),
    };
    let title = parse_title(&input.title)?;
    let due_on = parse_due(&input.due)?;
    let owner_id = owner_id(conn, &input.owner)?;
    let (wave, _figure) =
        check_target(conn, cache, input.wave.trim(), &target, group.as_ref(), now)?;
    let languages = languages_of(&wave)?;
    let languages: Vec<&str> = languages.iter().map(String::as_str).collect();
    let description = parse_description(&input.description, &languages)?;
    let row = ActionRow {
        id: uuid::Uuid::new_v4().to_string(),
        wave_id: wave.wave.id.clone(),
        survey_slug: wave.survey_slug.clone(),
        target_kind: target.kind().to_string(),
        target_key: target.key().to_string(),
        group_attribute: group.as_ref().map(|g| g.attribute.clone()),
        group_value: group.as_ref().map(|g| g.value.clone()),
        title,
        description: serde_json::to_string(&description).map_err(anyhow::Error::from)?,
        owner_id,
        due_on,
        status: Status::Planned.as_str().to_string(),
        published: false,
        created_by: actor.id.clone(),
        created_at: now,
        updated_at: now,
    };
    let id = row.id.clone();
    conn.transaction::<_, ActionError, _>(|conn| {
        rows::insert(conn, &row)?;
        rows::insert_history(
            conn,
            &[history_row(
                &id,
                actor,
                now,
                "created",
                None,
                Some(row.title.clone()),
            )],
        )?;
        Ok(())
    })?;
    view(conn, &id, now)
}

/// Applies `update` (leads and admins); every changed field gets a history row. Nothing
/// changed, nothing written.
pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    update: &ActionUpdate,
    now: NaiveDateTime,
) -> Result<ActionView, ActionError> {
    require_planner(actor)?;
    let row = rows::find(conn, id)?.ok_or_else(|| ActionError::NotFound(id.to_string()))?;
    let mut changes = ActionChanges {
        title: row.title.clone(),
        description: row.description.clone(),
        owner_id: row.owner_id.clone(),
        due_on: row.due_on,
        status: row.status.clone(),
        published: row.published,
        updated_at: now,
    };
    let mut history = Vec::new();
    let mut record = |field: &str, old: String, new: String| {
        if old != new {
            history.push(history_row(id, actor, now, field, Some(old), Some(new)));
        }
    };
    if let Some(title) = &update.title {
        changes.title = parse_title(title)?;
        record("title", row.title.clone(), changes.title.clone());
    }
    if let Some(texts) = &update.description {
        let wave = wave_rows::find_with_survey(conn, &row.wave_id)?.ok_or_else(|| {
            ActionError::Unexpected(anyhow::anyhow!("the wave of action {id} is gone"))
        })?;
        let languages = languages_of(&wave)?;
        let languages: Vec<&str> = languages.iter().map(String::as_str).collect();
        let description = parse_description(texts, &languages)?;
        changes.description = serde_json::to_string(&description).map_err(anyhow::Error::from)?;
        record(
            "description",
            row.description.clone(),
            changes.description.clone(),
        );
    }
    if let Some(owner) = &update.owner {
        changes.owner_id = owner_id(conn, owner)?;
        if changes.owner_id != row.owner_id {
            let emails = emails(conn)?;
            let email = |id: &str| emails.get(id).cloned().unwrap_or_default();
            record("owner", email(&row.owner_id), email(&changes.owner_id));
        }
    }
    if let Some(due) = &update.due {
        changes.due_on = parse_due(due)?;
        record("due", row.due_on.to_string(), changes.due_on.to_string());
    }
    if let Some(status) = &update.status {
        let status = Status::parse(status).map_err(|m| invalid("status", m))?;
        changes.status = status.as_str().to_string();
        record("status", row.status.clone(), changes.status.clone());
    }
    if !history.is_empty() {
        conn.transaction::<_, ActionError, _>(|conn| {
            rows::update(conn, id, &changes)?;
            rows::insert_history(conn, &history)?;
            Ok(())
        })?;
    }
    view(conn, id, now)
}

/// Adds a dated progress note, and changes the status with it when `status` is given.
pub fn add_note(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    body: &str,
    status: Option<&str>,
    now: NaiveDateTime,
) -> Result<ActionView, ActionError> {
    require_planner(actor)?;
    let body = body.trim();
    if body.is_empty() {
        return Err(invalid(
            "note",
            "Write the note: what happened, what is next.",
        ));
    }
    if body.chars().count() > MAX_NOTE {
        return Err(invalid(
            "note",
            format!("A note has at most {MAX_NOTE} characters."),
        ));
    }
    if rows::find(conn, id)?.is_none() {
        return Err(ActionError::NotFound(id.to_string()));
    }
    if let Some(status) = status.filter(|s| !s.trim().is_empty()) {
        Status::parse(status).map_err(|m| invalid("status", m))?;
    }
    conn.transaction::<_, ActionError, _>(|conn| {
        rows::insert_note(
            conn,
            &NoteRow {
                id: uuid::Uuid::new_v4().to_string(),
                action_id: id.to_string(),
                author_id: actor.id.clone(),
                body: body.to_string(),
                created_at: now,
            },
        )?;
        if let Some(status) = status.filter(|s| !s.trim().is_empty()) {
            update(
                conn,
                actor,
                id,
                &ActionUpdate {
                    status: Some(status.to_string()),
                    ..Default::default()
                },
                now,
            )?;
        }
        Ok(())
    })?;
    view(conn, id, now)
}

/// Publishes (or withdraws) an action: admins only.
pub fn set_published(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    published: bool,
    now: NaiveDateTime,
) -> Result<ActionView, ActionError> {
    if actor.role != Role::Admin {
        return Err(ActionError::Forbidden(
            "Only an admin can publish an action or withdraw it: ask one to.".into(),
        ));
    }
    let row = rows::find(conn, id)?.ok_or_else(|| ActionError::NotFound(id.to_string()))?;
    if row.published != published {
        let changes = ActionChanges {
            title: row.title.clone(),
            description: row.description.clone(),
            owner_id: row.owner_id.clone(),
            due_on: row.due_on,
            status: row.status.clone(),
            published,
            updated_at: now,
        };
        conn.transaction::<_, ActionError, _>(|conn| {
            rows::update(conn, id, &changes)?;
            rows::insert_history(
                conn,
                &[history_row(
                    id,
                    actor,
                    now,
                    "published",
                    Some(row.published.to_string()),
                    Some(published.to_string()),
                )],
            )?;
            Ok(())
        })?;
    }
    view(conn, id, now)
}

fn emails(conn: &mut DbConn) -> Result<HashMap<String, String>, ActionError> {
    Ok(users::list(conn)?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect())
}

/// Builds the views of `rows` (one read of accounts and of the waves involved).
fn views(
    conn: &mut DbConn,
    rows: Vec<ActionRow>,
    now: NaiveDateTime,
) -> Result<Vec<ActionView>, ActionError> {
    let emails = emails(conn)?;
    let mut wave_titles: HashMap<String, String> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if !wave_titles.contains_key(&row.wave_id) {
            let title = wave_rows::find(conn, &row.wave_id)?
                .map(|w| w.title)
                .unwrap_or_default();
            wave_titles.insert(row.wave_id.clone(), title);
        }
        let target = target_of(&row)?;
        let status =
            Status::parse(&row.status).map_err(|e| ActionError::Unexpected(anyhow::anyhow!(e)))?;
        let description: BTreeMap<String, String> =
            serde_json::from_str(&row.description).map_err(anyhow::Error::from)?;
        let email = |id: &str| emails.get(id).cloned().unwrap_or_default();
        out.push(ActionView {
            target_label: target_label(&target),
            target: target.to_string(),
            group: group_of(&row).map(|g| g.to_string()),
            wave_title: wave_titles.get(&row.wave_id).cloned().unwrap_or_default(),
            overdue: status.is_open() && row.due_on < today(now),
            owner: email(&row.owner_id),
            created_by: email(&row.created_by),
            id: row.id,
            survey_slug: row.survey_slug,
            wave_id: row.wave_id,
            title: row.title,
            description,
            due_on: row.due_on,
            status,
            published: row.published,
            created_at: row.created_at,
            updated_at: row.updated_at,
        });
    }
    Ok(out)
}

/// A label for a target when its wave's results are not at hand (lists, exports).
pub fn target_label(target: &Target) -> String {
    let words = |key: &str| crate::domain::definition::humanize(key);
    match target {
        Target::Nps => "NPS".into(),
        Target::Csat => "CSAT (top-2-box)".into(),
        Target::Dimension(k) => format!("Satisfaction: {}", words(k)),
        Target::PainPoint(k) => format!("Pain point: {}", words(k)),
        Target::Stage(k) => format!("Procurement stage: {}", words(k)),
    }
}

/// One action as every output shows it.
pub fn view(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Result<ActionView, ActionError> {
    let row = rows::find(conn, id)?.ok_or_else(|| ActionError::NotFound(id.to_string()))?;
    views(conn, vec![row], now)?
        .pop()
        .ok_or_else(|| ActionError::NotFound(id.to_string()))
}

/// The actions of a survey (every survey when `slug` is `None`), soonest due first.
pub fn list(
    conn: &mut DbConn,
    slug: Option<&str>,
    filter: &ListFilter,
    now: NaiveDateTime,
) -> Result<Vec<ActionView>, ActionError> {
    let found = rows::list(conn, slug)?;
    let all = views(conn, found, now)?;
    let owner = filter
        .owner
        .as_deref()
        .map(|o| o.trim().to_lowercase())
        .filter(|o| !o.is_empty());
    Ok(all
        .into_iter()
        .filter(|a| filter.status.is_none_or(|s| a.status == s))
        .filter(|a| owner.as_deref().is_none_or(|o| a.owner == o))
        .filter(|a| !filter.overdue || a.overdue)
        .collect())
}

/// The actions a results page shows beside the figures they target, by target kind and
/// key (`""` for NPS and CSAT): those planned on this wave or on an earlier wave of the
/// same survey (an action planned last time is what this wave's figure tells about), for
/// the same group — the whole wave's when `group` is `None`.
pub type BesideFigures = BTreeMap<String, BTreeMap<String, Vec<ActionView>>>;

pub fn beside_figures(
    conn: &mut DbConn,
    slug: &str,
    opens_at: NaiveDateTime,
    group: Option<&SegmentFilter>,
    now: NaiveDateTime,
) -> Result<BesideFigures, ActionError> {
    let up_to_here: std::collections::HashSet<String> = wave_rows::opened_of_survey(conn, slug)?
        .into_iter()
        .filter(|w| w.opens_at <= opens_at)
        .map(|w| w.id)
        .collect();
    let group = group.map(|g| format!("{}={}", g.attribute, g.value));
    let mut beside = BesideFigures::new();
    for action in list(conn, Some(slug), &ListFilter::default(), now)? {
        if !up_to_here.contains(&action.wave_id) || action.group != group {
            continue;
        }
        let Ok(target) = Target::parse(&action.target) else {
            continue;
        };
        beside
            .entry(target.kind().to_string())
            .or_default()
            .entry(target.key().to_string())
            .or_default()
            .push(action);
    }
    Ok(beside)
}

/// One action with its notes, history and "did it work" figures.
pub fn detail(
    conn: &mut DbConn,
    cache: &ResultsCache,
    id: &str,
    now: NaiveDateTime,
) -> Result<ActionDetail, ActionError> {
    let row = rows::find(conn, id)?.ok_or_else(|| ActionError::NotFound(id.to_string()))?;
    let target = target_of(&row)?;
    let group = group_of(&row);
    let did_it_work = target::did_it_work(
        conn,
        cache,
        &row.survey_slug,
        &row.wave_id,
        &target,
        group.as_ref(),
        now,
    )?;
    let mut action = views(conn, vec![row], now)?
        .pop()
        .ok_or_else(|| ActionError::NotFound(id.to_string()))?;
    if let Some(figure) = did_it_work
        .iter()
        .find(|p| p.origin)
        .and_then(|p| p.figure.as_ref())
    {
        action.target_label = figure.label.clone();
    }
    let notes = rows::notes(conn, id)?
        .into_iter()
        .map(|(note, author)| Note {
            author,
            body: note.body,
            created_at: note.created_at,
        })
        .collect();
    let history = rows::history(conn, id)?
        .into_iter()
        .map(|(h, by)| Change {
            by,
            at: h.changed_at,
            field: h.field,
            old_value: h.old_value,
            new_value: h.new_value,
        })
        .collect();
    Ok(ActionDetail {
        action,
        notes,
        history,
        did_it_work,
    })
}

/// The account `email` as an actor (the command line's `--by`).
pub fn actor_by_email(conn: &mut DbConn, email: &str) -> Result<Actor, ActionError> {
    let email = email.trim().to_lowercase();
    match users::find_by_email(conn, &email)? {
        Some(user) if user.active => Ok(Actor {
            role: user
                .role
                .parse()
                .map_err(|e: String| ActionError::Unexpected(anyhow::anyhow!(e)))?,
            id: user.id,
            email: user.email,
        }),
        _ => Err(invalid(
            "by",
            format!("No active account {email} (see `pulse user list`)."),
        )),
    }
}

/// What the "plan an action" form offers: the closed waves (newest first) and the active
/// accounts an action can be given to.
#[derive(Debug, Clone, Serialize)]
pub struct FormChoices {
    /// (wave id, "Survey — wave title", survey slug)
    pub waves: Vec<(String, String, String)>,
    /// Active account emails.
    pub owners: Vec<String>,
}

pub fn form_choices(conn: &mut DbConn) -> Result<FormChoices, ActionError> {
    let mut waves: Vec<_> = wave_rows::list(conn)?
        .into_iter()
        .filter(|(wave, _, _)| wave.state == "closed")
        .collect();
    waves.sort_by_key(|(wave, _, _)| std::cmp::Reverse(wave.opens_at));
    let waves = waves
        .into_iter()
        .map(|(wave, slug, title)| (wave.id, format!("{title} — {}", wave.title), slug))
        .collect();
    let owners = users::list(conn)?
        .into_iter()
        .filter(|u| u.active)
        .map(|u| u.email)
        .collect();
    Ok(FormChoices { waves, owners })
}

/// The title of a survey by slug (for the actions page), `None` when no version is loaded.
pub fn survey_title(conn: &mut DbConn, slug: &str) -> Result<Option<String>, ActionError> {
    Ok(crate::db::models::survey_versions::latest(conn, slug)?.map(|v| v.title))
}
