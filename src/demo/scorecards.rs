//! The demo's scorecard data: about two and a half years of procurement requests per
//! business unit (IT's cycle times growing as its satisfaction falls, Manufacturing's
//! shrinking as it rises), KPI values for the last four half-years, and a viewer account
//! for IT.

use chrono::{Duration, NaiveDateTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::model::{self, FALLING_UNIT, IMPROVING_UNIT};
use super::DemoAccount;
use crate::db::models::kpis;
use crate::db::DbConn;
use crate::domain::{EmailAddress, Role};
use crate::requests::{self, RequestRecord, RequestStatus};
use crate::scorecards::period::HalfYear;
use crate::services::accounts;

/// The demo viewer: IT's head, who sees IT's scorecard only.
pub const VIEWER_EMAIL: &str = "it.head@example.com";
pub const VIEWER_UNIT: &str = FALLING_UNIT;

const CATEGORIES: [(&str, f64); 5] = [
    ("IT hardware", 0.25),
    ("Catalogue items", 0.25),
    ("Services", 0.25),
    ("Software", 0.15),
    ("Works", 0.10),
];
const CHANNELS: [&str; 4] = ["catalogue", "purchase order", "tender", "card"];
/// Typical days to fulfil, per category, in a unit at its usual pace.
fn base_days(category: &str) -> f64 {
    match category {
        "Catalogue items" => 9.0,
        "IT hardware" => 30.0,
        "Software" => 45.0,
        "Services" => 60.0,
        _ => 90.0,
    }
}

/// How much slower than usual a unit is, `progress` (0 two years ago … 1 now) along.
fn pace(unit: &str, progress: f64) -> f64 {
    match unit {
        FALLING_UNIT => 0.9 + 1.5 * progress,
        IMPROVING_UNIT => 1.5 - 0.7 * progress,
        _ => 1.0,
    }
}

/// Creates the requests, KPI values and the viewer account; returns the account.
/// The first day of the demo's request log.
pub fn log_start(today: chrono::NaiveDate) -> chrono::NaiveDate {
    HalfYear::of(today).last(5)[0].start() - Duration::days(60)
}

/// `requesters`: business unit → the addresses of its people; each request is raised by one
/// of them (a few by contractors the directory does not know).
pub fn seed(
    conn: &mut DbConn,
    seed: u64,
    requesters: &std::collections::BTreeMap<String, Vec<String>>,
    now: NaiveDateTime,
) -> anyhow::Result<DemoAccount> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5c0e_ca4d);
    // A stream of its own, so the requests' other fields are as before requesters existed.
    let mut who = StdRng::seed_from_u64(seed ^ 0x7e9e_e57e);
    let today = now.date();
    // From two months before the oldest half-year a trend shows (four before the current
    // one), so that its figures include the slow requests too.
    let start = log_start(today);
    let span = (today - start).num_days().max(1) as f64;
    let mut records = Vec::new();
    for unit in model::unit_names() {
        // About 4–7 requests a week per unit.
        let per_day = rng.gen_range(0.6..1.0);
        let mut day = start;
        while day <= today {
            let mut expected: f64 = per_day;
            while expected > 0.0 {
                if rng.gen_bool(expected.min(1.0)) {
                    let progress = (day - start).num_days() as f64 / span;
                    let mut record = request(&mut rng, records.len(), unit, day, today, progress);
                    record.requester_email =
                        requester(&mut who, requesters.get(unit), records.len());
                    records.push(record);
                }
                expected -= 1.0;
            }
            day += Duration::days(1);
        }
    }
    // The shipped targets say which requests were late (the pulses' groups).
    let targets = crate::scorecards::definition::load_built_in()?
        .request_targets
        .target_days();
    requests::apply_import(conn, &records, &targets, now)?
        .map_err(|problems| anyhow::anyhow!("demo requests refused: {}", problems[0]))?;

    // KPI values of the last four half-years (the current one included).
    let mut values = Vec::new();
    for (index, period) in HalfYear::of(today).last(4).into_iter().enumerate() {
        for unit in model::unit_names() {
            let savings_trend = if unit == FALLING_UNIT { -25.0 } else { 15.0 };
            values.push(kpis::KpiValueRow {
                kpi_key: "cost_savings".into(),
                period: period.to_string(),
                business_unit: unit.to_string(),
                value: (rng.gen_range(170.0..290.0_f64) + savings_trend * index as f64).round(),
                imported_at: now,
            });
            values.push(kpis::KpiValueRow {
                kpi_key: "contract_coverage".into(),
                period: period.to_string(),
                business_unit: unit.to_string(),
                value: (rng.gen_range(62.0..82.0_f64) + 2.0 * index as f64)
                    .min(95.0)
                    .round(),
                imported_at: now,
            });
        }
    }
    kpis::upsert_many(conn, &values)?;

    let password = super::generate_password();
    let address = EmailAddress::parse(VIEWER_EMAIL).map_err(anyhow::Error::msg)?;
    let id = accounts::add_user(conn, &address, Role::Viewer, &password, now)?;
    accounts::set_viewer_units(conn, &id, &[VIEWER_UNIT.to_string()])
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(DemoAccount {
        role: Role::Viewer,
        email: VIEWER_EMAIL.to_string(),
        password,
    })
}

/// One of the unit's people, or (one request in 25) a contractor outside the directory.
fn requester(
    rng: &mut StdRng,
    people: Option<&Vec<String>>,
    index: usize,
) -> Option<crate::domain::EmailAddress> {
    let address = match people.filter(|p| !p.is_empty()) {
        Some(people) if !rng.gen_bool(0.04) => people[rng.gen_range(0..people.len())].clone(),
        _ => format!("contractor{}@partners.example.com", index % 40),
    };
    crate::domain::EmailAddress::parse(&address).ok()
}

fn request(
    rng: &mut StdRng,
    index: usize,
    unit: &str,
    opened: chrono::NaiveDate,
    today: chrono::NaiveDate,
    progress: f64,
) -> RequestRecord {
    let mut roll = rng.gen_range(0.0..1.0);
    let mut category = CATEGORIES[0].0;
    for (name, share) in CATEGORIES {
        if roll < share {
            category = name;
            break;
        }
        roll -= share;
    }
    // Log-normal-ish spread around the typical days: a long tail of slow requests.
    let spread: f64 = (rng.gen_range(-0.9..0.9_f64) + rng.gen_range(-0.5..0.9_f64)).exp();
    let days = (base_days(category) * pace(unit, progress) * spread)
        .round()
        .max(1.0) as i64;
    let fulfilled = opened + Duration::days(days);
    let cancelled = rng.gen_bool(0.03);
    let (fulfilled_on, status) = if cancelled {
        (None, RequestStatus::Cancelled)
    } else if fulfilled <= today {
        (Some(fulfilled), RequestStatus::Fulfilled)
    } else {
        (None, RequestStatus::Open)
    };
    let channel = match category {
        "Catalogue items" => CHANNELS[0],
        "Works" => CHANNELS[2],
        _ => CHANNELS[rng.gen_range(1..4)],
    };
    RequestRecord {
        line: index as u64 + 2,
        id: format!("PR-{:06}", index + 1),
        business_unit: unit.to_string(),
        requester_email: None,
        category: category.to_string(),
        channel: channel.to_string(),
        value: Some((rng.gen_range(80.0..60_000.0_f64) * 100.0).round() / 100.0),
        currency: Some("EUR".into()),
        opened_on: opened,
        fulfilled_on,
        status,
    }
}
