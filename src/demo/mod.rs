//! `pulse demo`'s database: a realistic organisation with two years of history, created
//! through the real services — the stakeholder import, survey pinning, `services::waves`
//! (schedule, open, remind, close — closing freezes the results) and
//! `services::responses::store_batch` (the storage path of `POST /s/{token}`) — with time
//! played forward on a [`ManualClock`] so every wave really opened and closed in the past.
//!
//! What it creates (see [`model`] for the seeded answer model):
//!
//! * about 1,500 stakeholders: 1,400 internal customers in 6 business units, their
//!   departments and 4 regions, plus 100 suppliers;
//! * four closed half-yearly waves of `internal-customer` and a fifth one open for 8 days,
//!   with its first reminder sent and the second due in 6 days;
//! * a closed `supplier-customer-of-choice` wave beside each closed internal wave (the
//!   customer-of-choice mirror pairs them per half-year) and one three months ago; the
//!   directory carries importance attributes (`influence`, `annual_spend`) for the
//!   stakeholder map, and suppliers rate payment lower every half-year;
//! * action plans on the closed internal waves — some done, one dropped, one overdue —
//!   whose targets move in later waves, the published ones in the open wave's invitation
//!   and form, and the last closed wave's "what we heard" ([`actions`]);
//! * an admin and a lead account with random passwords (from the OS, not from the seed),
//!   returned once in the [`DemoReport`] and never logged.
//!
//! Mail of the past (invitations, reminders, "results ready") is marked sent at the time it
//! was due, so a demo server does not send two years of mail at start.
//!
//! **All or nothing.** [`create`] seeds SQLite into a temporary file beside the target and
//! renames it into place only when complete; on PostgreSQL everything (including a reset,
//! whose DDL PostgreSQL runs transactionally) happens in one transaction. A failure leaves
//! the database as it was.

mod actions;
pub mod model;
pub mod pulses;
pub mod scorecards;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{Duration, Months, NaiveDateTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::clock::{Clock, ManualClock};
use crate::config::SecretKey;
use crate::db::models::{invitations, outbox, stakeholders as stakeholder_rows, users, waves};
use crate::db::{self, DatabaseUrl, DbConn};
use crate::domain::answers;
use crate::domain::schedule::render_title;
use crate::domain::wave::WaveInput;
use crate::domain::{EmailAddress, Role};
use crate::services::responses::{self, StoredValue, Submission, SubmitOutcome};
use crate::services::{accounts, stakeholders, surveys, waves as wave_service};

use self::model::{Organisation, Person, WaveContext};

/// The internal-customer survey the demo plays.
pub const INTERNAL_SURVEY: &str = "internal-customer";
/// The supplier survey the demo plays.
pub const SUPPLIER_SURVEY: &str = "supplier-customer-of-choice";
/// The demo accounts' addresses.
pub const ADMIN_EMAIL: &str = "pulse.admin@example.com";
pub const LEAD_EMAIL: &str = "procurement.lead@example.com";

/// Days the open wave has been open.
const OPEN_WAVE_AGE_DAYS: i64 = 8;
/// Every wave is open this long, with reminders after 7 and 14 days.
const OPEN_FOR_DAYS: i64 = 21;
const REMINDER_DAYS: [i64; 2] = [7, 14];

#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Seeds the answer model: the same seed gives the same organisation and answers.
    pub seed: u64,
    /// The real now: the open wave opened 8 days before it.
    pub now: NaiveDateTime,
    /// Where the survey definitions are (as for `pulse serve`).
    pub definitions_dir: PathBuf,
}

/// One of the demo accounts. Its password is not in `Debug`.
#[derive(Clone)]
pub struct DemoAccount {
    pub role: Role,
    pub email: String,
    password: String,
}

impl DemoAccount {
    /// The generated password: show it once, never log it.
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl std::fmt::Debug for DemoAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoAccount")
            .field("role", &self.role)
            .field("email", &self.email)
            .field("password", &"***")
            .finish()
    }
}

/// One wave the demo played.
#[derive(Debug, Clone)]
pub struct DemoWave {
    pub id: String,
    pub title: String,
    pub survey: String,
    pub state: String,
    pub invited: usize,
    pub responses: usize,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    /// For the open wave: when its next reminder is due.
    pub next_reminder_at: Option<NaiveDateTime>,
}

/// What [`create`] made.
#[derive(Debug, Clone)]
pub struct DemoReport {
    pub seed: u64,
    pub stakeholders: usize,
    pub internal_customers: usize,
    pub suppliers: usize,
    pub business_units: usize,
    /// Oldest first.
    pub waves: Vec<DemoWave>,
    pub accounts: Vec<DemoAccount>,
    /// The id of the last closed internal wave's "what we heard" (its page is
    /// `/w/{heard::link_token(key, id)}`).
    pub what_we_heard: Option<String>,
    /// The pulses after fulfilled requests.
    pub pulses: pulses::PulseDemo,
}

/// What a database already holds, when it holds anything besides pinned definitions:
/// e.g. "1,500 stakeholders, 6 waves, 2 accounts".
pub fn existing_data(conn: &mut DbConn) -> anyhow::Result<Option<String>> {
    let people = stakeholder_rows::load_all(conn)?.len();
    let wave_count = waves::list(conn)?.len();
    let accounts = users::list(conn)?.len();
    Ok((people + wave_count + accounts > 0)
        .then(|| format!("{people} stakeholders, {wave_count} waves, {accounts} accounts")))
}

/// Looks at the database behind `url` without creating it: `None` when it does not exist
/// or holds no data.
pub fn inspect(url: &DatabaseUrl) -> anyhow::Result<Option<String>> {
    if let DatabaseUrl::Sqlite(path) = url {
        if !Path::new(path).exists() {
            return Ok(None);
        }
    }
    let pool = db::connect(url)?;
    let mut conn = pool.get().context("cannot open a database connection")?;
    db::run_migrations(&mut conn)?;
    existing_data(&mut conn)
}

/// Creates the demo in the database behind `url`, replacing what it holds when `reset`
/// (the caller has asked for confirmation). All or nothing: see the module docs.
pub fn create(
    url: &DatabaseUrl,
    reset: bool,
    key: &SecretKey,
    options: &DemoOptions,
) -> anyhow::Result<DemoReport> {
    match url {
        DatabaseUrl::Sqlite(path) => create_sqlite(Path::new(path), reset, key, options),
        DatabaseUrl::Postgres(_) => {
            use diesel::Connection;
            let pool = db::connect(url)?;
            let mut conn = pool.get().context("cannot open a database connection")?;
            let conn: &mut DbConn = &mut conn;
            // DDL is transactional on PostgreSQL: the reset and the seeding commit together
            // or not at all (the services' own transactions become savepoints).
            conn.transaction(|conn| -> anyhow::Result<DemoReport> {
                if reset {
                    db::revert_all_migrations(conn)?;
                }
                db::run_migrations(conn)?;
                if let Some(contents) = existing_data(conn)? {
                    anyhow::bail!("the database is not empty ({contents})");
                }
                seed(conn, key, options)
            })
        }
    }
}

/// Seeds `<file>.demo-seeding`, then renames it over `file`.
fn create_sqlite(
    file: &Path,
    reset: bool,
    key: &SecretKey,
    options: &DemoOptions,
) -> anyhow::Result<DemoReport> {
    if !reset && file.exists() {
        if let Some(contents) = inspect(&sqlite_url(file))? {
            anyhow::bail!("{} is not empty ({contents})", file.display());
        }
    }
    let seeding = with_suffix(file, ".demo-seeding");
    remove_database_files(&seeding)?;
    let seeded = (|| -> anyhow::Result<DemoReport> {
        let pool = db::connect(&sqlite_url(&seeding))?;
        let mut conn = pool.get().context("cannot open a database connection")?;
        db::run_migrations(&mut conn)?;
        seed(&mut conn, key, options)
        // The pool is dropped here: its connections close and SQLite folds the WAL into
        // the file.
    })();
    let report = match seeded {
        Ok(report) => report,
        Err(error) => {
            let _ = remove_database_files(&seeding);
            return Err(error.context(format!("{} was not changed", file.display())));
        }
    };
    // The old database's journal files go first (they belong to the old file, and a stale
    // WAL must never meet the new one); the rename then replaces the file in one step.
    for suffix in ["-wal", "-shm"] {
        remove_file_if_exists(&with_suffix(file, suffix))?;
        let side = with_suffix(&seeding, suffix);
        if side.exists() {
            std::fs::rename(&side, with_suffix(file, suffix))?;
        }
    }
    std::fs::rename(&seeding, file).with_context(|| {
        format!(
            "cannot move the seeded demo database {} to {}",
            seeding.display(),
            file.display()
        )
    })?;
    Ok(report)
}

fn sqlite_url(file: &Path) -> DatabaseUrl {
    DatabaseUrl::Sqlite(file.display().to_string())
}

fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Removes a SQLite database file with its `-wal` and `-shm` companions, where they exist.
fn remove_database_files(file: &Path) -> anyhow::Result<()> {
    for path in [
        file.to_path_buf(),
        with_suffix(file, "-wal"),
        with_suffix(file, "-shm"),
    ] {
        remove_file_if_exists(&path)?;
    }
    Ok(())
}

fn remove_file_if_exists(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
}

/// A wave to play.
#[derive(Clone)]
struct WaveSpec {
    survey: &'static str,
    title: String,
    audience: &'static str,
    opens_at: NaiveDateTime,
    context: WaveContext,
}

impl WaveSpec {
    fn closes_at(&self) -> NaiveDateTime {
        self.opens_at + Duration::days(OPEN_FOR_DAYS)
    }
}

/// Seeds an empty, migrated database through the services (no transaction of its own).
pub fn seed(
    conn: &mut DbConn,
    key: &SecretKey,
    options: &DemoOptions,
) -> anyhow::Result<DemoReport> {
    let mut rng = StdRng::seed_from_u64(options.seed);
    let now = options.now;
    let current_opens_at = (now.date() - Duration::days(OPEN_WAVE_AGE_DAYS))
        .and_hms_opt(8, 0, 0)
        .context("08:00 is a time")?;
    let half_years_before = |n: u32| {
        current_opens_at
            .checked_sub_months(Months::new(6 * n))
            .context("the demo's dates are out of range")
    };
    let mut specs = Vec::new();
    for (index, back) in (0..model::INTERNAL_WAVES as u32).rev().enumerate() {
        let opens_at = half_years_before(back)?;
        specs.push(WaveSpec {
            survey: INTERNAL_SURVEY,
            title: render_title("H{half} {year}", opens_at),
            audience: model::INTERNAL_AUDIENCE,
            opens_at,
            context: WaveContext {
                index,
                supplier: false,
            },
        });
    }
    // The supplier survey beside every closed internal wave (an hour later, the same
    // half-year: the customer-of-choice mirror pairs them), and once more three months ago.
    for spec in specs.clone() {
        if spec.opens_at + Duration::days(OPEN_FOR_DAYS) > now {
            continue;
        }
        let opens_at = spec.opens_at + Duration::hours(1);
        specs.push(WaveSpec {
            survey: SUPPLIER_SURVEY,
            title: render_title("Suppliers H{half} {year}", opens_at),
            audience: model::SUPPLIER_AUDIENCE,
            opens_at,
            context: WaveContext {
                index: spec.context.index,
                supplier: true,
            },
        });
    }
    let supplier_opens_at = current_opens_at
        .checked_sub_months(Months::new(3))
        .context("the demo's dates are out of range")?;
    specs.push(WaveSpec {
        survey: SUPPLIER_SURVEY,
        title: render_title("Suppliers H{half} {year}", supplier_opens_at),
        audience: model::SUPPLIER_AUDIENCE,
        opens_at: supplier_opens_at,
        context: WaveContext {
            index: model::INTERNAL_WAVES - 1,
            supplier: true,
        },
    });
    specs.sort_by_key(|spec| spec.opens_at);

    // A month before the first wave: definitions, directory and accounts are set up.
    let clock = ManualClock::new(specs[0].opens_at - Duration::days(30));
    surveys::load_and_pin(conn, &options.definitions_dir, clock.now())?;
    let organisation = Organisation::generate(&mut rng);
    let parsed = stakeholders::parse_csv(organisation.to_csv().as_bytes()).map_err(|problems| {
        anyhow::anyhow!(
            "the demo organisation is not a valid stakeholder file: {}",
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    stakeholders::apply_import(conn, &parsed, false, clock.now())?;
    let accounts = create_accounts(conn, clock.now())?;

    let people: HashMap<&str, &Person> = organisation
        .people
        .iter()
        .map(|p| (p.email.as_str(), p))
        .collect();
    // The request log (two years), then its pulses replayed week by week up to each wave's
    // opening, so the touch rules see the waves as they were.
    let mut requesters: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for person in &organisation.people {
        if let Some((_, unit)) = person
            .attributes
            .iter()
            .find(|(k, _)| *k == "business_unit")
        {
            requesters
                .entry(unit.clone())
                .or_default()
                .push(person.email.clone());
        }
    }
    let viewer = scorecards::seed(conn, options.seed, &requesters, now)?;
    let mut pulse_replay = pulses::Replay::start(
        conn,
        &people,
        options.seed,
        scorecards::log_start(now.date()),
        now,
    )?;
    // The suppliers answer from a generator of their own, so the internal waves' answers
    // do not depend on how many supplier waves there are.
    let mut supplier_rng = StdRng::seed_from_u64(options.seed.wrapping_add(0x5u64 << 32));
    let mut played = Vec::new();
    for spec in &specs {
        pulse_replay.until(conn, key, &people, spec.opens_at)?;
        let rng = if spec.context.supplier {
            &mut supplier_rng
        } else {
            &mut rng
        };
        played.push(play_wave(conn, key, &clock, rng, &people, spec, now)?);
    }
    pulse_replay.until(conn, key, &people, now + Duration::days(1))?;
    let closed_internal: Vec<&DemoWave> = played
        .iter()
        .filter(|w| w.survey == INTERNAL_SURVEY && w.state == "closed")
        .collect();
    let what_we_heard = actions::seed(conn, key, &closed_internal, now)?;
    let mut accounts = accounts;
    accounts.push(viewer);
    let internal_customers = organisation.internal_count();
    Ok(DemoReport {
        seed: options.seed,
        stakeholders: organisation.people.len(),
        internal_customers,
        suppliers: organisation.people.len() - internal_customers,
        business_units: model::unit_names().len(),
        waves: played,
        accounts,
        what_we_heard,
        pulses: pulse_replay.done,
    })
}

fn create_accounts(conn: &mut DbConn, now: NaiveDateTime) -> anyhow::Result<Vec<DemoAccount>> {
    let mut accounts = Vec::new();
    for (role, email) in [(Role::Admin, ADMIN_EMAIL), (Role::Lead, LEAD_EMAIL)] {
        let password = generate_password();
        let address = EmailAddress::parse(email).map_err(|e| anyhow::anyhow!("{email}: {e}"))?;
        accounts::add_user(conn, &address, role, &password, now)?;
        accounts.push(DemoAccount {
            role,
            email: email.to_string(),
            password,
        });
    }
    Ok(accounts)
}

/// 20 characters from the OS random generator (≈115 bits), in groups of five for reading
/// aloud; no look-alike characters (0/O, 1/l/I).
fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..4)
        .map(|_| {
            (0..5)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Schedules, opens, answers, reminds and (when its time has come) closes one wave, at the
/// times of `spec`, until `now`.
fn play_wave(
    conn: &mut DbConn,
    key: &SecretKey,
    clock: &ManualClock,
    rng: &mut StdRng,
    people: &HashMap<&str, &Person>,
    spec: &WaveSpec,
    now: NaiveDateTime,
) -> anyhow::Result<DemoWave> {
    let closes_at = spec.closes_at();
    clock.set(spec.opens_at - Duration::days(14));
    let input = WaveInput {
        survey: spec.survey.into(),
        title: spec.title.clone(),
        opens: spec.opens_at.and_utc().to_rfc3339(),
        closes: closes_at.and_utc().to_rfc3339(),
        audience: spec.audience.into(),
        remind: REMINDER_DAYS
            .iter()
            .map(|d| format!("{d}d"))
            .collect::<Vec<_>>()
            .join(","),
        anonymity_k: String::new(),
        outside_trend: false,
    };
    let wave = wave_service::schedule_wave(conn, &input, clock.now())?;
    clock.set(spec.opens_at);
    wave_service::open_wave(conn, key, &wave.id, clock.now())?
        .context("the demo wave was not in the scheduled state")?;
    outbox::mark_pending_sent_for_wave(conn, &wave.id)?;

    let definition = waves::find_with_survey(conn, &wave.id)?
        .context("the demo wave disappeared")?
        .parsed_definition()?;
    // The open wave has answers up to the day before today only, so the numbers do not
    // depend on the time of day the demo is created.
    let answer_window_hours = if closes_at <= now {
        OPEN_FOR_DAYS * 24
    } else {
        (now - spec.opens_at).num_days().clamp(0, OPEN_FOR_DAYS) * 24
    };
    let mut by_day: BTreeMap<i64, Vec<Submission>> = BTreeMap::new();
    let invited = invitations::of_wave_with_email(conn, &wave.id)?;
    for (invitation, email) in &invited {
        let Some(person) = people.get(email.as_str()) else {
            continue;
        };
        if !rng.gen_bool(model::response_probability(person, spec.context)) {
            continue;
        }
        let delay_hours = model::response_delay_hours(rng);
        let form = model::answer_form(rng, &definition, person, spec.context);
        if delay_hours >= answer_window_hours {
            continue;
        }
        // The same validation as the survey form: the model cannot store what a
        // respondent could not submit.
        let parsed = answers::parse(&definition, &form).map_err(|errors| {
            anyhow::anyhow!("the demo model produced answers the form refuses: {errors}")
        })?;
        by_day
            .entry(delay_hours / 24)
            .or_default()
            .push(Submission {
                answered_mark: crate::domain::token::answered_mark(key, &invitation.id),
                wave_id: wave.id.clone(),
                cell: invitation.response_cell.clone(),
                answers: parsed
                    .into_iter()
                    .map(|(question, value)| (question, StoredValue::from(value)))
                    .collect(),
                nps_key: definition.nps_key().map(str::to_string),
            });
    }

    let mut responded = 0;
    for day in 0..OPEN_FOR_DAYS {
        let day_starts = spec.opens_at + Duration::days(day);
        if day_starts > now {
            break;
        }
        if REMINDER_DAYS.contains(&day) {
            clock.set(day_starts);
            let row = waves::find(conn, &wave.id)?.context("the demo wave disappeared")?;
            wave_service::enqueue_due_reminders(conn, &row, clock.now())?;
            outbox::mark_pending_sent_for_wave(conn, &wave.id)?;
        }
        let Some(batch) = by_day.remove(&day) else {
            continue;
        };
        clock.set(day_starts + Duration::hours(10));
        for chunk in batch.chunks(responses::MAX_BATCH) {
            for outcome in responses::store_batch(conn, chunk, clock.now())? {
                match outcome? {
                    SubmitOutcome::Stored => responded += 1,
                    other => anyhow::bail!("a demo answer was not stored: {other:?}"),
                }
            }
        }
    }

    let state = if closes_at <= now {
        clock.set(closes_at);
        wave_service::close_wave(conn, &wave.id, clock.now())?;
        // The leads' "results are ready" mail of the past.
        outbox::mark_pending_sent_for_wave(conn, &wave.id)?;
        "closed"
    } else {
        "open"
    };
    let next_reminder_at = (state == "open")
        .then(|| {
            REMINDER_DAYS
                .iter()
                .map(|d| spec.opens_at + Duration::days(*d))
                .find(|at| *at > now)
        })
        .flatten();
    Ok(DemoWave {
        id: wave.id,
        title: spec.title.clone(),
        survey: spec.survey.to_string(),
        state: state.to_string(),
        invited: invited.len(),
        responses: responded,
        opens_at: spec.opens_at,
        closes_at,
        next_reminder_at,
    })
}

/// An invitation of the open demo wave a newcomer can answer in the browser.
#[derive(Debug, Clone)]
pub struct TryLink {
    pub email: String,
    pub url: String,
    /// The invitation mail, written as a `.eml` file.
    pub eml: PathBuf,
}

/// Writes the invitation mails of `n` stakeholders of the open wave `wave_id` who have not
/// answered as `.eml` files into `mail_dir` (exactly what the outbox would send them) and
/// returns their links. Nothing is stored: the demo's outbox stays as it was.
pub fn try_links(
    url: &DatabaseUrl,
    key: &SecretKey,
    base_url: &str,
    from: &lettre::message::Mailbox,
    mail_dir: &Path,
    wave_id: &str,
    n: usize,
) -> anyhow::Result<Vec<TryLink>> {
    use crate::domain::token::{LinkToken, TokenPurpose};
    use crate::email::{format_date, EmailTemplate, MessageId, Recipient, SurveyEmail};

    let pool = db::connect(url)?;
    let mut conn = pool.get().context("cannot open a database connection")?;
    let wave = waves::find_with_survey(&mut conn, wave_id)?.context("the open wave is gone")?;
    let definition = wave.parsed_definition()?;
    let estimated_minutes = definition.estimated_minutes.unwrap_or(2);
    std::fs::create_dir_all(mail_dir)
        .with_context(|| format!("cannot create {}", mail_dir.display()))?;
    let mut links = Vec::new();
    // Who answered is known only through the keyed marks (see `domain::token::answered_mark`).
    let answered = invitations::answered_marks_of_wave(&mut conn, wave_id)?;
    for (invitation, email) in invitations::of_wave_with_email(&mut conn, wave_id)?
        .into_iter()
        .filter(|(invitation, _)| {
            !answered.contains(&crate::domain::token::answered_mark(key, &invitation.id))
        })
        .take(n)
    {
        let person = stakeholder_rows::find(&mut conn, &invitation.stakeholder_id)?
            .context("the stakeholder is gone")?;
        let survey_url = format!(
            "{base_url}/s/{}",
            LinkToken::derive(key, TokenPurpose::Survey, &invitation.id).expose()
        );
        let message = SurveyEmail {
            kind: crate::email::SurveyEmailKind::Invitation,
            name: person.name.clone(),
            survey_title: wave.survey_title.clone(),
            survey_url: survey_url.clone(),
            unsubscribe_url: format!(
                "{base_url}/u/{}",
                LinkToken::derive(key, TokenPurpose::Unsubscribe, &invitation.id).expose()
            ),
            closes_on: format_date(wave.wave.closes_at.date()),
            estimated_minutes,
            k: u32::try_from(wave.wave.anonymity_k).unwrap_or(5),
            you_said_we_did: crate::actions::said_did::for_wave(
                &mut conn,
                &wave.survey_slug,
                wave.wave.opens_at,
                &definition,
                definition.default_language(),
            )?,
            first_question: crate::email::FirstQuestion::of(
                &definition,
                crate::email::MailLanguage::En,
            ),
        }
        .render(
            Recipient::new(
                EmailAddress::parse(&email).map_err(anyhow::Error::msg)?,
                person.name.as_deref(),
            ),
            MessageId::for_outbox(format!("demo-{}", invitation.id), base_url)?,
        )?;
        let raw = message.to_lettre(from)?.formatted();
        let path = mail_dir.join(format!("{}.eml", message.message_id.file_stem()));
        std::fs::write(&path, raw).with_context(|| format!("cannot write {}", path.display()))?;
        links.push(TryLink {
            email,
            url: survey_url,
            eml: path,
        });
    }
    Ok(links)
}
