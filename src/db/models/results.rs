//! `result_snapshots` (the frozen results of closed waves) and the grouped reads the results
//! service computes everything from: the answer counts of a wave per segment cell, the
//! invitations per cell, the wave's respondents, and the comments with their NPS answer.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{
    answers, cell_counts, responses, result_filter_snapshots, result_snapshots, wave_cells,
    wave_segments,
};
use crate::db::DbConn;

/// The counts of one segment cell of a wave, as read by [`cell_counts`].
pub struct CellCounts {
    /// The cell: canonical JSON of the respondents' segment attributes.
    pub cell: String,
    /// `question|value|n,question|value|n,…` ([`super::responses::pack`]).
    packed: String,
}

impl CellCounts {
    /// The cell's counts: (question_key, value, n).
    pub fn counts(&self) -> impl Iterator<Item = (&str, &str, i64)> {
        super::responses::unpack(&self.packed)
    }
}

/// Every count of a wave: ONE read of a row per segment cell, the input of every figure on
/// the results page.
pub fn cell_counts(conn: &mut DbConn, wave_id: &str) -> QueryResult<Vec<CellCounts>> {
    let rows: Vec<(String, String)> = cell_counts::table
        .filter(cell_counts::wave_id.eq(wave_id))
        .select((cell_counts::cell, cell_counts::counts))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(cell, packed)| CellCounts { cell, packed })
        .collect())
}

/// Respondents of a wave (on SQLite from the `cell_counts_respondents` index alone).
pub fn respondents(conn: &mut DbConn, wave_id: &str) -> QueryResult<i64> {
    Ok(respondents_per_cell(conn, wave_id)?
        .iter()
        .map(|(_, n)| n)
        .sum())
}

/// Respondents of a wave per segment cell: (cell, n).
pub fn respondents_per_cell(conn: &mut DbConn, wave_id: &str) -> QueryResult<Vec<(String, i64)>> {
    cell_counts::table
        .filter(cell_counts::wave_id.eq(wave_id))
        .select((cell_counts::cell, cell_counts::respondents))
        .load(conn)
}

/// Invitations of a wave per frozen segment cell: (cell, invited), as written at opening.
pub fn invited_per_cell(conn: &mut DbConn, wave_id: &str) -> QueryResult<Vec<(String, i64)>> {
    wave_cells::table
        .filter(wave_cells::wave_id.eq(wave_id))
        .select((wave_cells::cell, wave_cells::invited))
        .load(conn)
}

/// Stores the invitations per cell of a wave that is opening (inside its transaction).
pub fn insert_invited_per_cell(
    conn: &mut DbConn,
    wave_id: &str,
    cells: &[(String, i64)],
) -> QueryResult<usize> {
    let rows: Vec<_> = cells
        .iter()
        .map(|(cell, invited)| {
            (
                wave_cells::wave_id.eq(wave_id),
                wave_cells::cell.eq(cell),
                wave_cells::invited.eq(invited),
            )
        })
        .collect();
    let mut inserted = 0;
    // 3 parameters a row: far below SQLite's limit.
    for chunk in rows.chunks(1000) {
        let insert = diesel::insert_into(wave_cells::table).values(chunk);
        inserted += crate::on_backend!(conn, c => insert.execute(c))?;
    }
    Ok(inserted)
}

diesel::alias!(answers as nps_answers: NpsAnswers);

/// The comments of one text question in a wave, in response-id order: read along the
/// responses' key (wave, id), each response's answer by the answers' key (response,
/// question). (A macro: the two reads of [`comment_sample`] differ in one filter, and the
/// query's type is unnameable.)
macro_rules! comments_query {
    ($wave_id:expr, $text_key:expr, $nps_key:expr) => {
        answers::table
            .inner_join(responses::table)
            .left_join(
                nps_answers.on(nps_answers
                    .field(answers::response_id)
                    .eq(answers::response_id)
                    .and(nps_answers.field(answers::question_key).eq($nps_key))),
            )
            .filter(responses::wave_id.eq($wave_id))
            .filter(answers::question_key.eq($text_key))
            .filter(answers::value_text.is_not_null())
            .order(responses::id)
            .select((
                answers::value_text.assume_not_null(),
                nps_answers.field(answers::value_int).nullable(),
            ))
    };
}

/// Up to `limit` free-text answers to `text_key` in a wave — (text, NPS answer of the same
/// response if any), nothing that identifies the response — taken in response-id order
/// from `start` on, wrapping around to the beginning. Response ids are random UUIDs, so
/// a random `start` gives a random sample read from there along the key instead of every
/// comment of a large wave.
pub fn comment_sample(
    conn: &mut DbConn,
    wave_id: &str,
    text_key: &str,
    nps_key: &str,
    start: &str,
    limit: usize,
) -> QueryResult<Vec<(String, Option<i32>)>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let from_start = comments_query!(wave_id, text_key, nps_key)
        .filter(responses::id.ge(start))
        .limit(limit)
        .load(conn)?;
    let mut sample: Vec<(String, Option<i32>)> = from_start;
    let rest = limit - i64::try_from(sample.len()).unwrap_or(limit);
    if rest > 0 {
        let wrapped: Vec<(String, Option<i32>)> = comments_query!(wave_id, text_key, nps_key)
            .filter(responses::id.lt(start))
            .limit(rest)
            .load(conn)?;
        sample.extend(wrapped);
    }
    Ok(sample)
}

/// The frozen results (JSON) of a wave, if it has a snapshot.
pub fn find_snapshot(conn: &mut DbConn, wave_id: &str) -> QueryResult<Option<String>> {
    result_snapshots::table
        .find(wave_id)
        .select(result_snapshots::results)
        .first(conn)
        .optional()
}

/// Stores a wave's snapshot unless it has one already (a snapshot is never rewritten);
/// true if this call stored it.
pub fn insert_snapshot(
    conn: &mut DbConn,
    wave_id: &str,
    results_json: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let insert = diesel::insert_into(result_snapshots::table)
        .values((
            result_snapshots::wave_id.eq(wave_id),
            result_snapshots::results.eq(results_json),
            result_snapshots::created_at.eq(now),
        ))
        .on_conflict(result_snapshots::wave_id)
        .do_nothing();
    crate::on_backend!(conn, c => insert.execute(c)).map(|n| n == 1)
}

/// Every free-text answer to `text_key` in a wave with the same response's NPS answer —
/// nothing that identifies the response (kept when the wave closes, without any cell).
pub fn all_comments(
    conn: &mut DbConn,
    wave_id: &str,
    text_key: &str,
    nps_key: &str,
) -> QueryResult<Vec<(String, Option<i32>)>> {
    comments_query!(wave_id, text_key, nps_key).load(conn)
}

/// The frozen results (JSON) of one filter (`attribute=value`) of a closed wave.
pub fn find_filter_snapshot(
    conn: &mut DbConn,
    wave_id: &str,
    filter: &str,
) -> QueryResult<Option<String>> {
    result_filter_snapshots::table
        .find((wave_id, filter))
        .select(result_filter_snapshots::results)
        .first(conn)
        .optional()
}

/// Stores the frozen results of one filter of a closing wave (never rewritten).
pub fn insert_filter_snapshot(
    conn: &mut DbConn,
    wave_id: &str,
    filter: &str,
    results_json: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let insert = diesel::insert_into(result_filter_snapshots::table)
        .values((
            result_filter_snapshots::wave_id.eq(wave_id),
            result_filter_snapshots::filter.eq(filter),
            result_filter_snapshots::results.eq(results_json),
            result_filter_snapshots::created_at.eq(now),
        ))
        .on_conflict((
            result_filter_snapshots::wave_id,
            result_filter_snapshots::filter,
        ))
        .do_nothing();
    crate::on_backend!(conn, c => insert.execute(c)).map(|n| n == 1)
}

/// Deletes the invitations per cell of a wave (coarsening writes them again).
pub fn delete_invited_per_cell(conn: &mut DbConn, wave_id: &str) -> QueryResult<usize> {
    diesel::delete(wave_cells::table.filter(wave_cells::wave_id.eq(wave_id))).execute(conn)
}

/// Invitations of a wave per full segment (the org chart's groups): (segment, invited).
pub fn invited_per_segment(conn: &mut DbConn, wave_id: &str) -> QueryResult<Vec<(String, i64)>> {
    wave_segments::table
        .filter(wave_segments::wave_id.eq(wave_id))
        .select((wave_segments::segment, wave_segments::invited))
        .load(conn)
}

/// Adds invitations to a wave's count per full segment (inside the transaction that writes
/// the invitations).
pub fn add_invited_per_segment(
    conn: &mut DbConn,
    wave_id: &str,
    segments: &BTreeMap<String, i64>,
) -> QueryResult<()> {
    use diesel::upsert::excluded;
    let rows: Vec<_> = segments
        .iter()
        .map(|(segment, invited)| {
            (
                wave_segments::wave_id.eq(wave_id),
                wave_segments::segment.eq(segment),
                wave_segments::invited.eq(invited),
            )
        })
        .collect();
    // 3 parameters a row: far below SQLite's limit.
    for chunk in rows.chunks(1000) {
        let upsert = diesel::insert_into(wave_segments::table)
            .values(chunk)
            .on_conflict((wave_segments::wave_id, wave_segments::segment))
            .do_update()
            .set(
                wave_segments::invited
                    .eq(wave_segments::invited + excluded(wave_segments::invited)),
            );
        crate::on_backend!(conn, c => upsert.execute(c))?;
    }
    Ok(())
}

/// The comments a closed wave kept, per NPS answer of the same response (`None`: no NPS
/// answer): what the comment pages count and offer filters by.
pub fn wave_comment_counts(
    conn: &mut DbConn,
    wave_id: &str,
) -> QueryResult<Vec<(Option<i32>, i64)>> {
    use crate::db::schema::wave_comments;
    wave_comments::table
        .filter(wave_comments::wave_id.eq(wave_id))
        .group_by(wave_comments::nps_answer)
        .select((wave_comments::nps_answer, diesel::dsl::count_star()))
        .load(conn)
}

/// One page of a closed wave's comments — (question, text, NPS answer) in the order of
/// their random ids, so a stable random order — optionally only those whose NPS answer is
/// in `nps_range` (inclusive).
pub fn wave_comment_page(
    conn: &mut DbConn,
    wave_id: &str,
    nps_range: Option<(i32, i32)>,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<(String, String, Option<i32>)>> {
    use crate::db::schema::wave_comments;
    let (low, high) = nps_range.unwrap_or((i32::MIN, i32::MAX));
    let columns = (
        wave_comments::question_key,
        wave_comments::text,
        wave_comments::nps_answer,
    );
    let of_wave = wave_comments::table.filter(wave_comments::wave_id.eq(wave_id));
    match nps_range {
        Some(_) => of_wave
            .filter(wave_comments::nps_answer.between(low, high))
            .order(wave_comments::id)
            .offset(offset)
            .limit(limit)
            .select(columns)
            .load(conn),
        None => of_wave
            .order(wave_comments::id)
            .offset(offset)
            .limit(limit)
            .select(columns)
            .load(conn),
    }
}
