//! The stakeholder directory as the admin page shows it: search by email or name, filter by
//! attributes (the [`AudienceFilter`] a wave's audience uses, so "who would this wave
//! invite?" is one search), active/inactive, one page at a time, with each person's
//! opt-outs and whether their address is suppressed (hard bounce).
//!
//! Everything runs in the database ([`directory_sql::DirectorySql`]): the counts, and one page
//! of 50 ordered by email, so a page costs the same for 100 or 100,000 stakeholders and
//! nothing but that page is held in memory. While the directory is unchanged the server keeps
//! each search's count and the filter controls' values ([`DirectoryCache`]), so the next
//! pages of a search read only their rows. The filter controls read each attribute's values
//! from `attribute_values`; an attribute with many values gets a text field with the most
//! common ones as suggestions instead of a select of every value. [`for_each`] streams a
//! whole search in pages by email (`pulse stakeholders list`).

use std::collections::HashMap;
use std::sync::Mutex;

use anyhow::Context;

use crate::db::models::directory_sql::{self, ActiveFilter, DirectorySql, PageSizes};
use crate::db::models::opt_outs;
use crate::db::models::stakeholders;
use crate::db::DbConn;
use crate::domain::audience::AudienceFilter;

use super::Stakeholder;

/// Rows per page.
pub const PAGE_SIZE: usize = 50;

/// An attribute with at most this many distinct values is offered as a select.
pub const SELECT_MAX_VALUES: usize = 30;

/// Suggestions offered for an attribute with more values: the most common ones.
pub const SUGGESTIONS: usize = 100;

/// Rows per batch when streaming a search ([`for_each`]): on SQLite each batch's query
/// evaluates the filter again, so fewer, larger batches are much faster (10,000 rows are a
/// few MB); on PostgreSQL, rows per fetch from the cursor.
const STREAM_BATCH: i64 = 10_000;

/// Which stakeholders by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateFilter {
    #[default]
    Active,
    Inactive,
    All,
}

impl StateFilter {
    fn sql(self) -> ActiveFilter {
        match self {
            StateFilter::Active => ActiveFilter::Active,
            StateFilter::Inactive => ActiveFilter::Inactive,
            StateFilter::All => ActiveFilter::Any,
        }
    }

    /// How many stakeholders are in this state, from the kept totals.
    fn population(self, totals: &directory_sql::Totals) -> i64 {
        match self {
            StateFilter::Active => totals.active(),
            StateFilter::Inactive => totals.inactive,
            StateFilter::All => totals.total,
        }
    }
}

/// A search of the directory.
#[derive(Debug, Clone, Default)]
pub struct DirectoryQuery {
    /// Case-insensitive substring of the email or the name; empty for everyone.
    pub text: String,
    pub filter: AudienceFilter,
    pub state: StateFilter,
    /// 1-based; beyond the last page gives the last page.
    pub page: usize,
}

impl DirectoryQuery {
    fn sql(&self) -> DirectorySql {
        sql_search(&self.text, &self.filter, self.state)
    }
}

fn sql_search(text: &str, filter: &AudienceFilter, state: StateFilter) -> DirectorySql {
    DirectorySql {
        text: stakeholders::search_key(text.trim()),
        active: state.sql(),
        conditions: filter
            .conditions()
            .map(|(name, values)| (name.as_str().to_string(), values.iter().cloned().collect()))
            .collect(),
    }
}

/// One stakeholder as listed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DirectoryEntry {
    pub email: String,
    pub name: Option<String>,
    pub language: Option<String>,
    /// `(attribute, value)` pairs, sorted by attribute.
    pub attributes: Vec<(String, String)>,
    pub active: bool,
    /// Slugs of the surveys this person opted out of.
    pub opted_out_of: Vec<String>,
    /// Mail to the address bounced for good; no wave mails it.
    pub suppressed: bool,
}

/// An attribute of the directory, for the filter controls.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AttributeChoice {
    pub name: String,
    /// How many distinct values it has (active and inactive stakeholders).
    pub distinct: usize,
    /// Every value when there are at most [`SELECT_MAX_VALUES`] (sorted); otherwise the
    /// [`SUGGESTIONS`] most common ones (most common first).
    pub values: Vec<String>,
}

impl AttributeChoice {
    /// Too many values for a select: a text field with suggestions.
    pub fn many(&self) -> bool {
        self.distinct > SELECT_MAX_VALUES
    }
}

/// One page of a search, with the counts and the values the filters can offer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DirectoryPage {
    /// Every stakeholder, active or not.
    pub total: usize,
    pub active: usize,
    /// Those the search selects (all pages).
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
    pub entries: Vec<DirectoryEntry>,
    /// Every attribute in the directory, sorted by name.
    pub attributes: Vec<AttributeChoice>,
}

fn to_usize(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// The offset of a 1-based page.
fn offset_of(page: usize) -> i64 {
    i64::try_from(page.saturating_sub(1).saturating_mul(PAGE_SIZE)).unwrap_or(i64::MAX)
}

/// Searches whose counts [`DirectoryCache`] keeps at most; more, and it starts afresh.
const MAX_COUNTS: usize = 256;

/// What the directory pages read again and again while the directory is unchanged: how
/// many stakeholders recent searches selected, and the filter controls' values. Kept for
/// one generation of the directory ([`directory_sql::Totals::generation`], advanced by
/// every write of a stakeholder, by any process, in its transaction), so the next pages of
/// a search, and the same search again, only read their rows. The server keeps one
/// ([`crate::startup::AppState`]); the first search after a write forgets everything.
#[derive(Debug, Default)]
pub struct DirectoryCache(Mutex<Kept>);

#[derive(Debug, Default)]
struct Kept {
    generation: i64,
    counts: HashMap<DirectorySql, i64>,
    choices: Option<Vec<AttributeChoice>>,
}

impl DirectoryCache {
    /// `f` on what is kept for `generation`: a newer one starts afresh; an older one (read
    /// before a write another search has seen) gets nothing.
    fn with<R>(&self, generation: i64, f: impl FnOnce(&mut Kept) -> R) -> Option<R> {
        let mut kept = self.0.lock().ok()?;
        if generation < kept.generation {
            return None;
        }
        if generation > kept.generation {
            *kept = Kept {
                generation,
                ..Kept::default()
            };
        }
        Some(f(&mut kept))
    }

    fn count(&self, generation: i64, sql: &DirectorySql) -> Option<i64> {
        self.with(generation, |kept| kept.counts.get(sql).copied())
            .flatten()
    }

    fn keep_count(&self, generation: i64, sql: DirectorySql, matching: i64) {
        self.with(generation, |kept| {
            if kept.counts.len() >= MAX_COUNTS {
                kept.counts.clear();
            }
            kept.counts.insert(sql, matching);
        });
    }

    /// The filter controls' values, read once per generation.
    fn choices(&self, generation: i64, conn: &mut DbConn) -> anyhow::Result<Vec<AttributeChoice>> {
        if let Some(choices) = self.with(generation, |kept| kept.choices.clone()).flatten() {
            return Ok(choices);
        }
        let choices = attribute_choices(conn)?;
        self.with(generation, |kept| kept.choices = Some(choices.clone()));
        Ok(choices)
    }
}

/// Runs `query` over the directory, counting its matches anew.
pub fn search(conn: &mut DbConn, query: &DirectoryQuery) -> anyhow::Result<DirectoryPage> {
    search_with(conn, query, &DirectoryCache::default())
}

/// Runs `query` over the directory, with what `cache` kept of the directory's current
/// generation (the count of the search's matches, the filter controls), keeping there what
/// it reads.
pub fn search_with(
    conn: &mut DbConn,
    query: &DirectoryQuery,
    cache: &DirectoryCache,
) -> anyhow::Result<DirectoryPage> {
    let read = "cannot read the stakeholders";
    // Read first: a count made after it is at least as recent as this generation.
    let totals = directory_sql::totals(conn).context(read)?;
    let population = query.state.population(&totals);
    let (total, active) = (to_usize(totals.total), to_usize(totals.active()));
    let sql = query.sql();
    let first_try = query.page.max(1);
    let (matching, page, rows) = if sql.text.is_empty() && sql.conditions.is_empty() {
        let page = query
            .page
            .clamp(1, to_usize(population).div_ceil(PAGE_SIZE).max(1));
        let sizes = PageSizes {
            matching: population,
            population,
        };
        let rows = sql
            .page(conn, offset_of(page), PAGE_SIZE as i64, sizes)
            .context(read)?;
        (population, page, rows)
    } else {
        let counted = cache.count(totals.generation, &sql);
        let found = match counted {
            // Counted before: the page alone, below.
            Some(_) => None,
            None => sql
                .page_and_count(conn, offset_of(first_try), PAGE_SIZE as i64, population)
                .context(read)?,
        };
        if let Some((rows, matching)) = found {
            cache.keep_count(totals.generation, sql, matching);
            (matching, first_try, rows)
        } else {
            // Counted before, or past the last page (nothing read): counted now.
            let matching = match counted {
                Some(matching) => matching,
                None => {
                    let matching = sql.count(conn).context(read)?;
                    cache.keep_count(totals.generation, sql.clone(), matching);
                    matching
                }
            };
            // Past the last page: the last page.
            let page = first_try.clamp(1, to_usize(matching).div_ceil(PAGE_SIZE).max(1));
            let sizes = PageSizes {
                matching,
                population,
            };
            let rows = sql
                .page(conn, offset_of(page), PAGE_SIZE as i64, sizes)
                .context(read)?;
            (matching, page, rows)
        }
    };
    let matching = to_usize(matching);
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    let entries = entries(conn, rows)?;
    Ok(DirectoryPage {
        total,
        active,
        matching,
        page,
        pages,
        entries,
        attributes: cache.choices(totals.generation, conn)?,
    })
}

/// The rows of one page with their opt-outs and suppressions.
fn entries(
    conn: &mut DbConn,
    rows: Vec<stakeholders::StakeholderRow>,
) -> anyhow::Result<Vec<DirectoryEntry>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let emails: Vec<&str> = rows.iter().map(|r| r.email.as_str()).collect();
    let mut opted_out: HashMap<String, Vec<String>> = HashMap::new();
    for (stakeholder_id, slug) in
        opt_outs::of_stakeholders(conn, &ids).context("cannot read the opt-outs")?
    {
        opted_out.entry(stakeholder_id).or_default().push(slug);
    }
    let suppressed =
        opt_outs::suppressed_among(conn, &emails).context("cannot read the suppressions")?;
    rows.into_iter()
        .map(|row| {
            let s = Stakeholder::try_from(row)?;
            Ok(DirectoryEntry {
                opted_out_of: opted_out.remove(&s.id).unwrap_or_default(),
                suppressed: suppressed.contains(&s.email),
                attributes: s
                    .attributes
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                email: s.email,
                name: s.name,
                language: s.language,
                active: s.active,
            })
        })
        .collect()
}

/// Every attribute with the values its filter control offers.
pub fn attribute_choices(conn: &mut DbConn) -> anyhow::Result<Vec<AttributeChoice>> {
    let choices =
        stakeholders::attribute_choices(conn, SELECT_MAX_VALUES as i64, SUGGESTIONS as i64)
            .context("cannot read the attribute values")?;
    Ok(choices
        .into_iter()
        .map(|(name, distinct, values)| AttributeChoice {
            name,
            distinct: to_usize(distinct),
            values,
        })
        .collect())
}

/// How many stakeholders in `state` the filter selects (the directory's SQL search).
pub fn count(
    conn: &mut DbConn,
    filter: &AudienceFilter,
    state: StateFilter,
) -> anyhow::Result<usize> {
    let n = if filter.is_everyone() {
        // The totals the triggers keep: no stakeholder is read.
        state.population(&directory_sql::totals(conn)?)
    } else {
        sql_search("", filter, state)
            .count(conn)
            .context("cannot count the stakeholders")?
    };
    Ok(to_usize(n))
}

/// The longest email and name (in characters) among the stakeholders [`for_each`] would
/// give, to align a listing before streaming it.
pub fn longest(
    conn: &mut DbConn,
    filter: &AudienceFilter,
    include_inactive: bool,
) -> anyhow::Result<(usize, usize)> {
    sql_search("", filter, stream_state(include_inactive))
        .longest(conn)
        .context("cannot read the stakeholders")
}

fn stream_state(include_inactive: bool) -> StateFilter {
    if include_inactive {
        StateFilter::All
    } else {
        StateFilter::Active
    }
}

/// Calls `each` with every stakeholder `filter` selects, ordered by email — the active ones,
/// or all with `include_inactive` — reading [`STREAM_BATCH`] rows at a time, so memory stays
/// flat however large the directory (PostgreSQL: from one cursor; SQLite: each batch
/// continues after the last email). Returns how many there were.
pub fn for_each(
    conn: &mut DbConn,
    filter: &AudienceFilter,
    include_inactive: bool,
    each: impl FnMut(Stakeholder) -> anyhow::Result<()>,
) -> anyhow::Result<usize> {
    for_each_in_batches(conn, filter, include_inactive, STREAM_BATCH, each)
}

/// [`for_each`], reading `batch` rows at a time (tests use small batches to cross their
/// boundaries).
pub fn for_each_in_batches(
    conn: &mut DbConn,
    filter: &AudienceFilter,
    include_inactive: bool,
    batch: i64,
    mut each: impl FnMut(Stakeholder) -> anyhow::Result<()>,
) -> anyhow::Result<usize> {
    let sql = sql_search("", filter, stream_state(include_inactive));
    if matches!(conn, DbConn::Pg(_)) {
        return sql.for_each_fetched(conn, batch, |rows| -> anyhow::Result<()> {
            for row in rows {
                each(Stakeholder::try_from(row)?)?;
            }
            Ok(())
        });
    }
    let mut after: Option<String> = None;
    let mut seen = 0;
    loop {
        let rows = sql
            .next_batch(conn, after.as_deref(), batch)
            .context("cannot read the stakeholders")?;
        let Some(last) = rows.last() else {
            return Ok(seen);
        };
        after = Some(last.email.clone());
        let full = rows.len() as i64 == batch;
        for row in rows {
            seen += 1;
            each(Stakeholder::try_from(row)?)?;
        }
        if !full {
            return Ok(seen);
        }
    }
}

/// The directory's health, as the home page shows it to admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Health {
    /// Active stakeholders.
    pub active: i64,
    /// People who opted out of at least one survey.
    pub opted_out: i64,
    /// Addresses the mail server refused (blocked for future waves).
    pub suppressed: i64,
    /// Mails given up after every retry, or refused (the outbox's dead rows).
    pub failed_mails: i64,
}

/// Counts for [`Health`]: four grouped counts, whatever the directory's size.
pub fn health(conn: &mut DbConn) -> anyhow::Result<Health> {
    let active = directory_sql::totals(conn)?.active();
    let (opted_out, suppressed) = opt_outs::health_counts(conn)?;
    let failed_mails = crate::db::models::outbox::counts_by_state(conn, &["dead"])?
        .into_iter()
        .map(|(_, n)| n)
        .sum();
    Ok(Health {
        active,
        opted_out,
        suppressed,
        failed_mails,
    })
}
