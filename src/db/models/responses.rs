//! `responses`, `answers` and `cell_counts`: anonymous answers and the counts every
//! statistic is computed from, while a wave is open (one row per wave and segment cell,
//! its counts packed: [`pack`], [`unpack`]); `wave_comments`, what a closed wave
//! keeps of its comments. Nothing here can reach an invitation or a stakeholder.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Integer, Nullable, Text};
use diesel::upsert::excluded;

use std::collections::BTreeMap;

use crate::db::cached_sql::{bind, cached};
use crate::db::schema::{answers, cell_counts, responses, wave_comments, waves};
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = responses, treat_none_as_default_value = false)]
pub struct ResponseRow {
    pub id: String,
    pub wave_id: String,
    pub cell: String,
    pub submitted_on: NaiveDate,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = answers, treat_none_as_default_value = false)]
pub struct AnswerRow {
    pub response_id: String,
    pub question_key: String,
    pub position: i32,
    pub value_int: Option<i32>,
    pub value_text: Option<String>,
}

/// How many respondents of one cell gave `value` to `question_key`: one count, as the
/// results and the coarsening read and write them (stored packed per cell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRow {
    pub wave_id: String,
    pub cell: String,
    pub question_key: String,
    pub value: String,
    pub n: i64,
}

/// Rows per multi-row INSERT (5 columns).
const BATCH: usize = 1000;

/// A batch of responses as the answer writer stores them. On SQLite one row per statement:
/// a single-row INSERT is prepared once and kept in the connection's statement cache, and
/// SQLite has no round trips to save. On PostgreSQL one INSERT of the rows bound as arrays
/// (`unnest`): one statement text for any batch, prepared once per connection
/// ([`cached`]) — a multi-row `VALUES` has a text per row count, parsed and planned for
/// every batch.
pub fn insert_responses(conn: &mut DbConn, rows: &[ResponseRow]) -> QueryResult<usize> {
    match conn {
        DbConn::Sqlite(c) => rows.iter().try_fold(0, |n, row| {
            Ok(n + diesel::insert_into(responses::table)
                .values(row)
                .execute(c)?)
        }),
        DbConn::Pg(c) => cached(
            "INSERT INTO responses (id, wave_id, cell, submitted_on) \
             SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::date[])",
            (
                bind::<Array<Text>, _>(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>()),
                bind::<Array<Text>, _>(rows.iter().map(|r| r.wave_id.as_str()).collect::<Vec<_>>()),
                bind::<Array<Text>, _>(rows.iter().map(|r| r.cell.as_str()).collect::<Vec<_>>()),
                bind::<Array<Date>, _>(rows.iter().map(|r| r.submitted_on).collect::<Vec<_>>()),
            ),
        )
        .execute(c),
    }
}

/// A batch of answers, like [`insert_responses`].
pub fn insert_answers(conn: &mut DbConn, rows: &[AnswerRow]) -> QueryResult<usize> {
    match conn {
        DbConn::Sqlite(c) => rows.iter().try_fold(0, |n, row| {
            Ok(n + diesel::insert_into(answers::table).values(row).execute(c)?)
        }),
        DbConn::Pg(c) => cached(
            "INSERT INTO answers (response_id, question_key, position, value_int, value_text) \
             SELECT * FROM unnest(?::text[], ?::text[], ?::int4[], ?::int4[], ?::text[])",
            (
                bind::<Array<Text>, _>(
                    rows.iter()
                        .map(|r| r.response_id.as_str())
                        .collect::<Vec<_>>(),
                ),
                bind::<Array<Text>, _>(
                    rows.iter()
                        .map(|r| r.question_key.as_str())
                        .collect::<Vec<_>>(),
                ),
                bind::<Array<Integer>, _>(rows.iter().map(|r| r.position).collect::<Vec<_>>()),
                bind::<Array<Nullable<Integer>>, _>(
                    rows.iter().map(|r| r.value_int).collect::<Vec<_>>(),
                ),
                bind::<Array<Nullable<Text>>, _>(
                    rows.iter()
                        .map(|r| r.value_text.as_deref())
                        .collect::<Vec<_>>(),
                ),
            ),
        )
        .execute(c),
    }
}

/// The question key of a cell's respondents count (with an empty value): stored in the
/// packed counts and repeated in `cell_counts.respondents`.
pub const RESPONSES_KEY: &str = "_responses";

/// A cell's counts as stored: `question|value|n` items joined by `,`, in the map's order.
/// Question keys and values never contain `|` or `,` (keys and option keys are
/// `[a-z][a-z0-9_]*`; values are those, digits, `na`, `_answered` or empty).
pub fn pack(counts: &BTreeMap<(String, String), i64>) -> String {
    let mut packed = String::new();
    for ((question, value), n) in counts {
        if !packed.is_empty() {
            packed.push(',');
        }
        packed.push_str(question);
        packed.push('|');
        packed.push_str(value);
        packed.push('|');
        packed.push_str(&n.to_string());
    }
    packed
}

/// The items of a packed cell: (question_key, value, n); an item that does not parse is
/// skipped.
pub fn unpack(packed: &str) -> impl Iterator<Item = (&str, &str, i64)> {
    packed.split(',').filter_map(|item| {
        let mut parts = item.rsplitn(3, '|');
        let n = parts.next()?.parse().ok()?;
        let value = parts.next()?;
        let question = parts.next()?;
        Some((question, value, n))
    })
}

/// Adds `n` of each row to the stored counts: each cell's row is read, merged and written
/// back. On PostgreSQL the rows are created first when missing and locked in cell order,
/// so concurrent writers (several `pulse serve` processes) wait for each other instead of
/// losing an increment; SQLite has one writer at a time.
pub fn add_counts(conn: &mut DbConn, increments: &[CountRow]) -> QueryResult<()> {
    let mut by_wave: BTreeMap<&str, BTreeMap<&str, Vec<&CountRow>>> = BTreeMap::new();
    for row in increments {
        by_wave
            .entry(&row.wave_id)
            .or_default()
            .entry(&row.cell)
            .or_default()
            .push(row);
    }
    for (wave_id, cells) in by_wave {
        let names: Vec<&str> = cells.keys().copied().collect();
        let mut stored: BTreeMap<String, String> = BTreeMap::new();
        for chunk in names.chunks(BATCH) {
            stored.extend(read_cells_for_update(conn, wave_id, chunk)?);
        }
        let mut rows = Vec::with_capacity(cells.len());
        for (cell, adds) in cells {
            let mut counts: BTreeMap<(String, String), i64> = stored
                .get(cell)
                .map(|packed| {
                    unpack(packed)
                        .map(|(q, v, n)| ((q.to_string(), v.to_string()), n))
                        .collect()
                })
                .unwrap_or_default();
            for add in adds {
                let n = counts
                    .entry((add.question_key.clone(), add.value.clone()))
                    .or_insert(0);
                *n = n.saturating_add(add.n);
            }
            let respondents = counts
                .get(&(RESPONSES_KEY.to_string(), String::new()))
                .copied()
                .unwrap_or(0);
            rows.push((cell, respondents, pack(&counts)));
        }
        write_cells(conn, wave_id, &rows)?;
    }
    Ok(())
}

/// Writes merged cells `(cell, respondents, packed counts)` of a wave. On PostgreSQL the
/// rows exist and are locked ([`read_cells_for_update`]): one UPDATE from arrays, one
/// statement text for any batch (see [`insert_responses`]).
fn write_cells(conn: &mut DbConn, wave_id: &str, rows: &[(&str, i64, String)]) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(c) => {
            for chunk in rows.chunks(BATCH) {
                let values: Vec<_> = chunk
                    .iter()
                    .map(|(cell, respondents, packed)| {
                        (
                            cell_counts::wave_id.eq(wave_id),
                            cell_counts::cell.eq(*cell),
                            cell_counts::respondents.eq(*respondents),
                            cell_counts::counts.eq(packed.as_str()),
                        )
                    })
                    .collect();
                diesel::insert_into(cell_counts::table)
                    .values(values)
                    .on_conflict((cell_counts::wave_id, cell_counts::cell))
                    .do_update()
                    .set((
                        cell_counts::respondents.eq(excluded(cell_counts::respondents)),
                        cell_counts::counts.eq(excluded(cell_counts::counts)),
                    ))
                    .execute(c)?;
            }
        }
        DbConn::Pg(c) => {
            cached(
                "UPDATE cell_counts SET respondents = u.respondents, counts = u.counts \
                 FROM unnest(?::text[], ?::int8[], ?::text[]) AS u(cell, respondents, counts) \
                 WHERE cell_counts.wave_id = ? AND cell_counts.cell = u.cell",
                (
                    bind::<Array<Text>, _>(rows.iter().map(|r| r.0).collect::<Vec<_>>()),
                    bind::<Array<BigInt>, _>(rows.iter().map(|r| r.1).collect::<Vec<_>>()),
                    bind::<Array<Text>, _>(rows.iter().map(|r| r.2.as_str()).collect::<Vec<_>>()),
                    bind::<Text, _>(wave_id),
                ),
            )
            .execute(c)?;
        }
    }
    Ok(())
}

/// The stored rows of `cells` (sorted) of a wave; on PostgreSQL created empty when missing
/// and locked until the transaction ends.
fn read_cells_for_update(
    conn: &mut DbConn,
    wave_id: &str,
    cells: &[&str],
) -> QueryResult<Vec<(String, String)>> {
    match conn {
        DbConn::Sqlite(c) => cell_counts::table
            .filter(cell_counts::wave_id.eq(wave_id))
            .filter(cell_counts::cell.eq_any(cells))
            .select((cell_counts::cell, cell_counts::counts))
            .load(c),
        DbConn::Pg(c) => {
            cached(
                "INSERT INTO cell_counts (wave_id, cell, respondents, counts) \
                 SELECT ?, cell, 0, '' FROM unnest(?::text[]) AS cell \
                 ON CONFLICT DO NOTHING",
                (bind::<Text, _>(wave_id), bind::<Array<Text>, _>(cells)),
            )
            .execute(c)?;
            cell_counts::table
                .filter(cell_counts::wave_id.eq(wave_id))
                .filter(cell_counts::cell.eq_any(cells))
                .order(cell_counts::cell.asc())
                .select((cell_counts::cell, cell_counts::counts))
                .for_update()
                .load(c)
        }
    }
}

/// Every count of a wave, cell by cell.
pub fn counts_for_wave(conn: &mut DbConn, wave_id: &str) -> QueryResult<Vec<CountRow>> {
    Ok(super::results::cell_counts(conn, wave_id)?
        .iter()
        .flat_map(|cell| {
            cell.counts().map(|(question_key, value, n)| CountRow {
                wave_id: wave_id.to_string(),
                cell: cell.cell.clone(),
                question_key: question_key.to_string(),
                value: value.to_string(),
                n,
            })
        })
        .collect())
}

pub fn count_for_wave(conn: &mut DbConn, wave_id: &str) -> QueryResult<i64> {
    responses::table
        .filter(responses::wave_id.eq(wave_id))
        .count()
        .get_result(conn)
}

/// The text answers to `question_key` in a wave, each with its response's cell and, when
/// `nps_key` is given, that response's NPS answer (for filtering by promoter/detractor).
pub fn text_answers(
    conn: &mut DbConn,
    wave_id: &str,
    question_key: &str,
) -> QueryResult<Vec<(String, String, String)>> {
    responses::table
        .inner_join(answers::table)
        .filter(responses::wave_id.eq(wave_id))
        .filter(answers::question_key.eq(question_key))
        .filter(answers::value_text.is_not_null())
        .select((
            responses::id,
            responses::cell,
            answers::value_text.assume_not_null(),
        ))
        .load(conn)
}

/// The integer answers to `question_key` in a wave, by response id.
pub fn int_answers(
    conn: &mut DbConn,
    wave_id: &str,
    question_key: &str,
) -> QueryResult<Vec<(String, i32)>> {
    responses::table
        .inner_join(answers::table)
        .filter(responses::wave_id.eq(wave_id))
        .filter(answers::question_key.eq(question_key))
        .filter(answers::value_int.is_not_null())
        .select((responses::id, answers::value_int.assume_not_null()))
        .load(conn)
}

/// Locks the wave for the rest of the transaction if it still accepts answers at `now`:
/// open and not past its closing time. On PostgreSQL the row is locked `FOR SHARE`, so a
/// concurrent close waits for this answer to commit (or this answer sees the close).
pub fn wave_accepts_answers(
    conn: &mut DbConn,
    wave_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let query = waves::table
        .filter(waves::id.eq(wave_id))
        .filter(waves::state.eq("open"))
        .filter(waves::closes_at.gt(now))
        .select(waves::id);
    let found: Option<String> = match conn {
        DbConn::Sqlite(c) => query.first(c).optional()?,
        DbConn::Pg(c) => query.for_share().first(c).optional()?,
    };
    Ok(found.is_some())
}

#[derive(QueryableByName)]
struct ColumnName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// The column names of a table, sorted (for the linkage audit and operators).
pub fn column_names(conn: &mut DbConn, table: &str) -> QueryResult<Vec<String>> {
    let mut names: Vec<String> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query("SELECT name FROM pragma_table_info(?)")
            .bind::<diesel::sql_types::Text, _>(table)
            .load::<ColumnName>(c)?,
        DbConn::Pg(c) => diesel::sql_query(
            "SELECT column_name::text AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind::<diesel::sql_types::Text, _>(table)
        .load::<ColumnName>(c)?,
    }
    .into_iter()
    .map(|c| c.name)
    .collect();
    names.sort();
    Ok(names)
}

/// Whether a wave still holds responses or counts (not compacted yet).
pub fn has_answers(conn: &mut DbConn, wave_id: &str) -> QueryResult<bool> {
    let responses = diesel::select(diesel::dsl::exists(
        responses::table.filter(responses::wave_id.eq(wave_id)),
    ))
    .get_result::<bool>(conn)?;
    let counts = diesel::select(diesel::dsl::exists(
        cell_counts::table.filter(cell_counts::wave_id.eq(wave_id)),
    ))
    .get_result::<bool>(conn)?;
    Ok(responses || counts)
}

/// A comment a closed wave keeps: a new random id, the question, the text and the same
/// response's NPS answer — no cell, no response.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = wave_comments, treat_none_as_default_value = false)]
pub struct WaveCommentRow {
    pub id: String,
    pub wave_id: String,
    pub question_key: String,
    pub text: String,
    pub nps_answer: Option<i32>,
}

pub fn insert_wave_comments(conn: &mut DbConn, rows: &[WaveCommentRow]) -> QueryResult<usize> {
    let mut inserted = 0;
    for chunk in rows.chunks(BATCH) {
        let insert = diesel::insert_into(wave_comments::table).values(chunk);
        inserted += crate::on_backend!(conn, c => insert.execute(c))?;
    }
    Ok(inserted)
}

/// The comments a closed wave kept, for one question.
pub fn wave_comments_of(
    conn: &mut DbConn,
    wave_id: &str,
    question_key: &str,
) -> QueryResult<Vec<WaveCommentRow>> {
    wave_comments::table
        .filter(wave_comments::wave_id.eq(wave_id))
        .filter(wave_comments::question_key.eq(question_key))
        .select(WaveCommentRow::as_select())
        .load(conn)
}

/// Deletes a wave's answers, responses and counts (at closing, after the snapshots).
pub fn delete_wave_answers(conn: &mut DbConn, wave_id: &str) -> QueryResult<usize> {
    let of_wave = responses::table
        .filter(responses::wave_id.eq(wave_id))
        .select(responses::id);
    let answers = diesel::delete(answers::table.filter(answers::response_id.eq_any(of_wave)))
        .execute(conn)?;
    let responses =
        diesel::delete(responses::table.filter(responses::wave_id.eq(wave_id))).execute(conn)?;
    let counts = diesel::delete(cell_counts::table.filter(cell_counts::wave_id.eq(wave_id)))
        .execute(conn)?;
    Ok(answers + responses + counts)
}

/// Moves the responses of one cell of a wave to another (coarsening).
pub fn move_cell(conn: &mut DbConn, wave_id: &str, from: &str, to: &str) -> QueryResult<usize> {
    diesel::update(
        responses::table
            .filter(responses::wave_id.eq(wave_id))
            .filter(responses::cell.eq(from)),
    )
    .set(responses::cell.eq(to))
    .execute(conn)
}

/// Deletes the counts of one cell of a wave (coarsening adds them to another).
pub fn delete_counts_of_cell(conn: &mut DbConn, wave_id: &str, cell: &str) -> QueryResult<usize> {
    diesel::delete(
        cell_counts::table
            .filter(cell_counts::wave_id.eq(wave_id))
            .filter(cell_counts::cell.eq(cell)),
    )
    .execute(conn)
}
