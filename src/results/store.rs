//! The store of results: the in-memory cache (live results until the wave's next
//! response, snapshots for good) and the snapshots of closed waves (`result_snapshots`,
//! `result_filter_snapshots`), read and written through `db::models::results`.
//!
//! **The snapshot format is versioned on its own.** A snapshot is the results document of
//! its time plus `"snapshot_format": N` ([`SNAPSHOT_FORMAT`]). Reading upgrades older
//! formats step by step into the current model ([`decode`]), so the API model
//! ([`super::model`]) carries no compatibility shims, and a change to the model that old
//! snapshots cannot satisfy is a new format with its own upgrade step here:
//!
//! * format 1 (no `snapshot_format`; snapshots written before December 2026): no
//!   `answers_released` (true: only closed waves had snapshots), no `choices`, CSAT
//!   without its counts and interval, changes without their minimum effect, groups with
//!   NPS and dimension means only (no full figures, no changes, no trend), trend points
//!   with NPS and CSAT only.
//! * format 2: the current model.
//!
//! Snapshots are never rewritten: a wave's published figures stay as they were published.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};

use super::model::*;
use crate::db::models::results as rows;
use crate::db::DbConn;
use crate::stats;

/// The format [`encode`] writes.
pub const SNAPSHOT_FORMAT: u64 = 2;
const FORMAT_KEY: &str = "snapshot_format";

#[derive(Clone)]
pub(super) enum Entry {
    /// Results of an open (or cancelled) wave at a number of respondents.
    Live {
        respondents: u64,
        results: Arc<WaveResults>,
    },
    /// The snapshot of a closed wave (or the results of a filter): never changes.
    Frozen(Arc<WaveResults>),
}

/// Results kept in memory: live results until the wave's next response, snapshots for good.
#[derive(Default)]
pub struct ResultsCache(Mutex<HashMap<String, Entry>>);

impl ResultsCache {
    pub(super) fn get(&self, key: &str) -> Option<Entry> {
        self.0.lock().ok()?.get(key).cloned()
    }

    pub(super) fn put(&self, key: &str, entry: Entry) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(key.to_string(), entry);
        }
    }

    /// Forgets everything (tests and benchmarks measure cold computations with it).
    pub fn clear(&self) {
        if let Ok(mut map) = self.0.lock() {
            map.clear();
        }
    }
}

/// The stored form of `results`: the document with its format number.
pub fn encode(results: &WaveResults) -> anyhow::Result<String> {
    let mut value = serde_json::to_value(results).context("results to JSON")?;
    if let Value::Object(map) = &mut value {
        map.insert(FORMAT_KEY.into(), json!(SNAPSHOT_FORMAT));
    }
    serde_json::to_string(&value).context("results to JSON")
}

/// A stored snapshot of any format, upgraded to the current model.
pub fn decode(json: &str) -> anyhow::Result<WaveResults> {
    let mut value: Value = serde_json::from_str(json).context("a snapshot is not JSON")?;
    let Value::Object(map) = &mut value else {
        anyhow::bail!("a snapshot is not a JSON object");
    };
    let format = match map.remove(FORMAT_KEY) {
        None => 1,
        Some(v) => v.as_u64().context("snapshot_format is not a number")?,
    };
    if format > SNAPSHOT_FORMAT {
        anyhow::bail!(
            "a snapshot has format {format}, newer than this program ({SNAPSHOT_FORMAT}): upgrade pulse"
        );
    }
    if format < 2 {
        upgrade_1_to_2(map);
    }
    serde_json::from_value(value).context("a snapshot does not match its format")
}

pub(super) fn has_snapshot(conn: &mut DbConn, wave_id: &str) -> anyhow::Result<bool> {
    Ok(rows::find_snapshot(conn, wave_id)?.is_some())
}

pub(super) fn read_snapshot(
    conn: &mut DbConn,
    wave_id: &str,
) -> anyhow::Result<Option<WaveResults>> {
    rows::find_snapshot(conn, wave_id)?
        .map(|json| decode(&json).with_context(|| format!("the snapshot of wave {wave_id}")))
        .transpose()
}

pub(super) fn read_filter_snapshot(
    conn: &mut DbConn,
    wave_id: &str,
    filter: &SegmentFilter,
) -> anyhow::Result<Option<WaveResults>> {
    rows::find_filter_snapshot(conn, wave_id, &filter.to_string())?
        .map(|json| {
            decode(&json).with_context(|| format!("the snapshot of {filter} in wave {wave_id}"))
        })
        .transpose()
}

pub(super) fn write_snapshot(
    conn: &mut DbConn,
    wave_id: &str,
    results: &WaveResults,
    now: NaiveDateTime,
) -> anyhow::Result<()> {
    rows::insert_snapshot(conn, wave_id, &encode(results)?, now)?;
    Ok(())
}

pub(super) fn write_filter_snapshot(
    conn: &mut DbConn,
    wave_id: &str,
    filter: &SegmentFilter,
    results: &WaveResults,
    now: NaiveDateTime,
) -> anyhow::Result<()> {
    rows::insert_filter_snapshot(conn, wave_id, &filter.to_string(), &encode(results)?, now)?;
    Ok(())
}

/// The respondents a closed wave's snapshot holds, without decoding the rest.
pub(super) fn snapshot_responses(conn: &mut DbConn, wave_id: &str) -> anyhow::Result<Option<u64>> {
    #[derive(serde::Deserialize)]
    struct Responses {
        responses: u64,
    }
    rows::find_snapshot(conn, wave_id)?
        .map(|json| {
            serde_json::from_str::<Responses>(&json)
                .map(|r| r.responses)
                .context("a results snapshot does not parse")
        })
        .transpose()
}

// ---------------------------------------------------------------------------------------
// Upgrades
// ---------------------------------------------------------------------------------------

fn fill(map: &mut Map<String, Value>, key: &str, default: Value) {
    map.entry(key.to_string()).or_insert(default);
}

fn objects(value: Option<&mut Value>) -> impl Iterator<Item = &mut Map<String, Value>> {
    value
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

/// A change of format 1 gets the minimum effect it was judged by.
fn upgrade_change(figure: Option<&mut Value>, min_effect: f64) {
    if let Some(change) = figure
        .and_then(Value::as_object_mut)
        .and_then(|f| f.get_mut("change"))
        .and_then(Value::as_object_mut)
    {
        fill(change, "min_effect", json!(min_effect));
    }
}

fn upgrade_1_to_2(map: &mut Map<String, Value>) {
    fill(map, "answers_released", json!(true));
    fill(map, "choices", json!([]));
    if let Some(csat) = map.get_mut("csat").and_then(Value::as_object_mut) {
        let answers = csat.get("answers").and_then(Value::as_u64).unwrap_or(0);
        let share = csat.get("top2box").and_then(Value::as_f64).unwrap_or(0.0);
        // The count the share was computed from (a whole number of answers).
        let top2 = (share * answers as f64).round() as u64;
        fill(csat, "top2_answers", json!(top2));
        let ci = stats::proportion_summary(top2, answers).map_or((share, share), |s| s.ci);
        fill(csat, "ci", json!([ci.0, ci.1]));
    }
    upgrade_change(map.get_mut("nps"), MIN_NPS_POINTS);
    upgrade_change(map.get_mut("csat"), MIN_SHARE_POINTS / 100.0);
    for dim in objects(map.get_mut("dimensions")) {
        upgrade_change(dim.get_mut("figures"), MIN_MEAN_CHANGE);
    }
    for question in objects(map.get_mut("pain_points")) {
        for stage in objects(question.get_mut("stages")) {
            for option in objects(stage.get_mut("options")) {
                if let Some(change) = option.get_mut("change").and_then(Value::as_object_mut) {
                    fill(change, "min_effect", json!(MIN_SHARE_POINTS / 100.0));
                }
            }
        }
    }
    for breakdown in objects(map.get_mut("segments")) {
        for group in objects(breakdown.get_mut("groups")) {
            fill(group, "trend", json!([]));
            if let Some(figures) = group.get_mut("figures").and_then(Value::as_object_mut) {
                let dimensions = figures
                    .get("dimension_means")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                fill(figures, "dimension_hidden", json!([]));
                fill(figures, "dimensions", json!(vec![Value::Null; dimensions]));
                fill(figures, "pain_points", json!([]));
            }
        }
    }
    for point in objects(map.get_mut("trend")) {
        if let Some(figures) = point.get_mut("figures").and_then(Value::as_object_mut) {
            fill(figures, "dimensions", json!([]));
            fill(figures, "pain_points", json!([]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A format-1 snapshot as the code before this module wrote it (trimmed to a few
    /// figures): it decodes into the current model, with what it lacked filled in.
    #[test]
    fn a_format_1_snapshot_is_upgraded() {
        let old = json!({
            "wave": {"id": "w", "title": "H1", "state": "closed", "survey_slug": "s",
                "survey_title": "S", "survey_version": 1,
                "opens_at": "2026-01-15T00:00:00", "closes_at": "2026-02-05T00:00:00"},
            "computed_at": "2026-02-05T00:00:00", "frozen": true, "anonymity_k": 5,
            "invited": 40, "responses": 30, "response_rate": 0.75, "shown": true,
            "previous_wave": null,
            "nps": {"question": "recommend", "n": 30, "promoters": 12, "passives": 9,
                "detractors": 9, "promoter_share": 0.4, "passive_share": 0.3,
                "detractor_share": 0.3, "score": 10.0, "ci": [-15.0, 33.0],
                "change": {"previous": 0.0, "diff": 10.0, "p": 0.2, "p_adjusted": 0.4,
                    "significant": false}},
            "csat": {"answers": 200, "top2box": 0.6},
            "dimensions": [], "pain_points": [],
            "segments": [{"attribute": "business_unit", "label": "Business unit", "groups": [
                {"value": "R&D", "figures": {"invited": 10, "responses": 9,
                    "response_rate": 0.9, "nps": 11.1, "dimension_means": [3.5]}},
                {"value": "Legal", "figures": null}]}],
            "trend": [{"wave_id": "w", "title": "H1", "opens_at": "2026-01-15T00:00:00",
                "current": true, "figures": {"responses": 30, "nps": 10.0,
                    "nps_ci": [-15.0, 33.0], "csat": 0.6}}],
            "comments": null,
            "significance": {"q": 0.05, "min_nps_points": 5.0, "min_mean_change": 0.2,
                "min_share_points": 5.0, "tests": 1, "flagged": 0}
        });
        let results = decode(&old.to_string()).unwrap();
        assert!(results.answers_released);
        let csat = results.csat.as_ref().unwrap();
        assert_eq!(csat.top2_answers, 120);
        assert!(csat.ci.0 < 0.6 && 0.6 < csat.ci.1);
        let change = results.nps.as_ref().unwrap().change.as_ref().unwrap();
        assert_eq!(change.min_effect, MIN_NPS_POINTS);
        let group = results.segments[0].groups[0].figures.as_ref().unwrap();
        assert_eq!(group.nps, Some(11.1));
        assert_eq!(group.dimensions.len(), 1);
        assert!(group.nps_figures.is_none());
        assert_eq!(results.segments[0].groups[1].hidden, None);
        // And back: the current format round-trips.
        let again = decode(&encode(&results).unwrap()).unwrap();
        assert_eq!(
            serde_json::to_value(&again).unwrap(),
            serde_json::to_value(&results).unwrap()
        );
    }

    #[test]
    fn a_snapshot_from_a_newer_program_is_refused_with_words() {
        let error = decode(r#"{"snapshot_format": 99}"#).unwrap_err();
        assert!(format!("{error:#}").contains("upgrade pulse"));
    }
}
