//! View models of the request API (JSON) and of the API keys page.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::db::models::api_keys::ApiKeyRow;
use crate::db::models::requests::StoredRequest;

/// A stored request as the API returns it: the fields it accepts, and when it was last
/// written (UTC).
#[derive(Debug, Serialize)]
pub struct RequestJson<'a> {
    pub request_id: &'a str,
    pub business_unit: &'a str,
    pub requester_email: Option<&'a str>,
    pub category: &'a str,
    pub channel: &'a str,
    pub value: Option<f64>,
    pub currency: Option<&'a str>,
    pub opened_on: String,
    pub fulfilled_on: Option<String>,
    pub status: &'a str,
    pub updated_at: String,
}

impl<'a> RequestJson<'a> {
    pub fn new(stored: &'a StoredRequest, written_at: NaiveDateTime) -> Self {
        Self {
            request_id: &stored.id,
            business_unit: &stored.business_unit,
            requester_email: stored.requester_email.as_deref(),
            category: &stored.category,
            channel: &stored.channel,
            value: stored.value_amount,
            currency: stored.currency.as_deref(),
            opened_on: stored.opened_on.to_string(),
            fulfilled_on: stored.fulfilled_on.map(|d| d.to_string()),
            status: &stored.status,
            updated_at: written_at
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}

/// One row of the API keys page.
#[derive(Debug, Serialize)]
pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created_by: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    pub active: bool,
}

impl KeyRow {
    pub fn new(row: &ApiKeyRow, tz: crate::domain::schedule::Tz) -> Self {
        let when = |t: NaiveDateTime| {
            t.and_utc()
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        };
        Self {
            id: row.id.clone(),
            name: row.name.clone(),
            prefix: row.prefix.clone(),
            created_by: row.created_by.clone(),
            created_at: when(row.created_at),
            last_used_at: row.last_used_at.map(when),
            revoked_at: row.revoked_at.map(when),
            active: row.revoked_at.is_none(),
        }
    }
}
