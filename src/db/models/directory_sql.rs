//! The directory search as SQL ([`DirectorySql`]): a folded substring of the email or the
//! name, the state and conditions on attributes, counted and read a page at a time in the
//! database, on both backends, with the indexes of migrations
//! `2026-12-01-000009_directory_index`, `2026-12-02-000019_directory_search` and
//! `2026-12-02-000023_directory_filters`. The rows it reads are `stakeholders`' own
//! ([`StakeholderRow`]); what keeps the search helpers in step is there. The directory's
//! totals and generation ([`totals`]) are the row the triggers of migration
//! `2026-12-03-000027_directory_totals` keep. Streaming a search is in `stream`, the SQL text
//! and its bound values in `statement`.

mod statement;
mod stream;

use diesel::prelude::*;

use self::statement::{contains_pattern, fts_phrase, Statement};
use super::stakeholders::StakeholderRow;
use crate::db::DbConn;

/// Which stakeholders by state, in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActiveFilter {
    Active,
    Inactive,
    Any,
}

/// A directory search as SQL: a folded substring of the email or the name, the state and
/// conditions on attributes (each attribute must have one of its values).
///
/// How it is found (migration `2026-12-02-000019_directory_search`):
/// * the text: on SQLite through the FTS5 trigram index `stakeholder_search` when it has 3
///   characters or more (a phrase of trigrams matches exactly the keys that contain it),
///   otherwise with `LIKE '%text%'` on `email_key` / `name_key` (every row); on PostgreSQL
///   always with that LIKE, which the `pg_trgm` GIN indexes answer (and recheck);
/// * the attributes: one join of `stakeholder_attributes` (each stakeholder has one row per
///   attribute), led by the condition fewest people meet (`attribute_values` counts them);
/// * the state: inactive stakeholders are few and indexed (`stakeholders_inactive`), so
///   "active" is "not one of them".
///
/// On SQLite a page is read one of two ways, chosen from the sizes ([`PageSizes`]): walking
/// the email index and keeping the rows that match (a broad search: a page is near), or
/// reading every match and sorting them (a narrow one). PostgreSQL's planner makes that
/// choice itself from its statistics — except for a page of attribute conditions alone,
/// where the application chooses on both backends (the planner turns the checks of a walk
/// into a join of every match): see [`DirectorySql::page_and_count`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DirectorySql {
    /// Already folded with [`search_key`](super::stakeholders::search_key); empty for
    /// everyone.
    pub text: String,
    pub active: ActiveFilter,
    /// `(attribute, values)`; every condition must hold.
    pub conditions: Vec<(String, Vec<String>)>,
}

/// `(attribute, values)`: the attribute must have one of the values.
type Condition = (String, Vec<String>);

/// How many stakeholders a search selects and how many of its state there are (everyone,
/// the active or the inactive ones): what [`DirectorySql::page`] needs to choose how to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSizes {
    pub matching: i64,
    pub population: i64,
}

/// Reading the email index costs about this many times less per entry than reading a match
/// and sorting it, when an entry is checked by its rowid alone (the trigram index's matches;
/// SQLite, measured with `examples/directory_bench.rs`) …
const WALK_ADVANTAGE_ROWID: i64 = 8;
/// … and when the entry's row must be read to check it (its id for the attributes, its keys
/// for a LIKE): reading it is cheaper than reading and sorting a match, but not much.
const WALK_ADVANTAGE_ROW: i64 = 2;

/// Looking a stakeholder up in the attributes' key costs about as much as reading this many
/// of its entries in order (SQLite, measured with `sqlite3` on a copy of the 100,000 people
/// of `examples/directory_bench.rs`): see [`DirectorySql::push_attribute_ids`].
const MERGE_ADVANTAGE: i64 = 5;

/// Characters in a trigram: shorter search texts cannot use the trigram index.
const TRIGRAM: usize = 3;

#[derive(QueryableByName)]
struct CountedRow {
    #[diesel(embed)]
    stakeholder: StakeholderRow,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    matching: i64,
}

impl CountedRow {
    /// A page of rows that each carry the count: `None` when empty past the first page.
    fn page(rows: Vec<Self>, offset: i64) -> Option<(Vec<StakeholderRow>, i64)> {
        let Some(matching) = rows.first().map(|r| r.matching) else {
            return if offset > 0 {
                None
            } else {
                Some((Vec::new(), 0))
            };
        };
        Some((rows.into_iter().map(|r| r.stakeholder).collect(), matching))
    }
}

/// The directory's totals and how many times its stakeholders were written
/// (`directory_totals`, migration `2026-12-03-000027_directory_totals`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct Totals {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub total: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub inactive: i64,
    /// Changes with every write of a stakeholder: what was counted under one generation
    /// holds while it is current.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub generation: i64,
}

impl Totals {
    /// The stakeholders not deactivated.
    pub fn active(&self) -> i64 {
        self.total - self.inactive
    }
}

/// The columns of [`StakeholderRow`] of `stakeholders s`.
const ROW_COLUMNS: &str = "s.id, s.email, s.name, s.language, s.attributes, s.active";

/// How the rows of a search are read (SQLite; PostgreSQL plans itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    /// From the matches (their rowids), then sorted.
    Matches,
    /// Along the email index, keeping the rows that match: the matches are only checked
    /// (`+` keeps SQLite from using them as the index).
    EmailOrder,
}

impl DirectorySql {
    /// SQLite answers the text with the trigram index.
    fn trigram_text(&self, st: &Statement) -> bool {
        st.sqlite() && self.text.chars().count() >= TRIGRAM
    }

    /// The conditions, fewest people first (the join is led by the first), with how many
    /// people (active or not) meet each.
    fn conditions_by_size(&self, conn: &mut DbConn) -> QueryResult<(Vec<&Condition>, Vec<i64>)> {
        let mut sized = Vec::with_capacity(self.conditions.len());
        for condition in &self.conditions {
            let mut st = Statement::new(conn);
            st.push(
                "SELECT CAST(COALESCE(SUM(people), 0) AS BIGINT) AS n FROM attribute_values \
                 WHERE name = ",
            )
            .bind(&condition.0)
            .push(" AND value IN ")
            .bind_list(&condition.1);
            sized.push((st.count(conn)?, condition));
        }
        sized.sort_by_key(|(size, _)| *size);
        let (sizes, conditions) = sized.into_iter().unzip();
        Ok((conditions, sizes))
    }

    /// `SELECT a0.stakeholder_id FROM …`: the stakeholders meeting every condition, one row
    /// each (a stakeholder has at most one value per attribute).
    fn push_attribute_join(st: &mut Statement, conditions: &[&Condition]) {
        st.push("SELECT a0.stakeholder_id FROM stakeholder_attributes a0");
        let join = if st.pg { " JOIN" } else { " CROSS JOIN" };
        for (i, (name, values)) in conditions.iter().enumerate().skip(1) {
            let a = format!("a{i}");
            st.push(join)
                .push(" stakeholder_attributes ")
                .push(&a)
                .push(" ON ")
                .push(&a)
                .push(".stakeholder_id = a0.stakeholder_id AND ")
                .push(&a)
                .push(".name = ")
                .bind(name)
                .push(" AND ")
                .push(&a)
                .push(".value IN ")
                .bind_list(values);
        }
        if let Some((name, values)) = conditions.first() {
            st.push(" WHERE a0.name = ")
                .bind(name)
                .push(" AND a0.value IN ")
                .bind_list(values);
        }
    }

    /// `SELECT stakeholder_id …` of the stakeholders meeting every condition (at least
    /// one), fewest-met first, as [`DirectorySql::push_attribute_join`] — or, on SQLite, when
    /// even the condition fewest people meet is broad, as an `INTERSECT` of each condition's
    /// people in id order, which SQLite merges: each condition's part of the key
    /// (name, value, stakeholder id) is read in order once, where the join looks every
    /// stakeholder of the first condition up in the key of each other one (a lookup costs
    /// about as much as reading [`MERGE_ADVANTAGE`] entries in order).
    fn push_attribute_ids(st: &mut Statement, conditions: &[&Condition], sizes: &[i64]) {
        let fewest = sizes.first().copied().unwrap_or(0);
        let read: i64 = sizes.iter().sum();
        let lookups = fewest.saturating_mul(sizes.len().saturating_sub(1) as i64);
        if st.pg || conditions.len() < 2 || read > lookups.saturating_mul(MERGE_ADVANTAGE) {
            return Self::push_attribute_join(st, conditions);
        }
        for (i, (name, values)) in conditions.iter().enumerate() {
            if i > 0 {
                st.push(" INTERSECT ");
            }
            st.push("SELECT stakeholder_id FROM stakeholder_attributes WHERE name = ")
                .bind(name)
                .push(" AND value IN ")
                .bind_list(values);
        }
        // SQLite merges an INTERSECT only in that order, and drops the ORDER BY of a
        // subquery of FROM that has no LIMIT (as the pages' statements read it): without the
        // (empty) LIMIT it intersected through a temporary B-tree instead, about twice as
        // slow (a page of business_unit + region: 44 → 21 ms in Python's `sqlite3`).
        st.push(" ORDER BY 1 LIMIT -1");
    }

    /// ` WHERE …` on `stakeholders s`.
    fn push_where(&self, st: &mut Statement, conditions: &[&Condition], read: Read) {
        st.push(" WHERE 1 = 1");
        match (self.active, st.pg) {
            (ActiveFilter::Active, false) => st.push(" AND s.active = 1"),
            (ActiveFilter::Inactive, false) => st.push(" AND s.active = 0"),
            (ActiveFilter::Active, true) => st.push(" AND s.active"),
            (ActiveFilter::Inactive, true) => st.push(" AND NOT s.active"),
            (ActiveFilter::Any, _) => st,
        };
        let check = if read == Read::EmailOrder && st.sqlite() {
            " AND +s.rowid IN ("
        } else {
            " AND s.rowid IN ("
        };
        if self.trigram_text(st) {
            st.push(check)
                .push("SELECT rowid FROM stakeholder_search WHERE stakeholder_search MATCH ")
                .bind(&fts_phrase(&self.text))
                .push(")");
        } else if !self.text.is_empty() {
            let pattern = contains_pattern(&self.text);
            st.push(" AND (s.email_key LIKE ")
                .bind(&pattern)
                .push(" ESCAPE '\\' OR s.name_key LIKE ")
                .bind(&pattern)
                .push(" ESCAPE '\\')");
        }
        if !conditions.is_empty() {
            st.push(if read == Read::EmailOrder && st.sqlite() {
                " AND +s.id IN ("
            } else {
                " AND s.id IN ("
            });
            Self::push_attribute_join(st, conditions);
            st.push(")");
        }
    }

    /// `SELECT a0.stakeholder_id …` of the stakeholders meeting the conditions (at least
    /// one), the state and the text, without reading a stakeholder's row for the first two.
    fn push_matching_ids(&self, st: &mut Statement, conditions: &[&Condition]) {
        let inactive = if st.pg {
            "SELECT id FROM stakeholders WHERE NOT active"
        } else {
            "SELECT id FROM stakeholders WHERE active = 0"
        };
        Self::push_attribute_join(st, conditions);
        match self.active {
            ActiveFilter::Active => st
                .push(" AND a0.stakeholder_id NOT IN (")
                .push(inactive)
                .push(")"),
            ActiveFilter::Inactive => st
                .push(" AND a0.stakeholder_id IN (")
                .push(inactive)
                .push(")"),
            ActiveFilter::Any => st,
        };
        if !self.text.is_empty() {
            st.push(" AND a0.stakeholder_id IN (SELECT s.id FROM stakeholders s");
            let text_only = DirectorySql {
                text: self.text.clone(),
                active: ActiveFilter::Any,
                conditions: Vec::new(),
            };
            text_only.push_where(st, &[], Read::Matches);
            st.push(")");
        }
    }

    /// How many stakeholders the search selects.
    pub fn count(&self, conn: &mut DbConn) -> QueryResult<i64> {
        let (conditions, _) = self.conditions_by_size(conn)?;
        let mut st = Statement::new(conn);
        if st.sqlite() && conditions.is_empty() && self.trigram_text(&st) {
            // The index alone; the state from the inactive ones.
            st.push("SELECT COUNT(*) AS n FROM stakeholder_search WHERE stakeholder_search MATCH ")
                .bind(&fts_phrase(&self.text));
            match self.active {
                ActiveFilter::Active => {
                    st.push(" AND rowid NOT IN (SELECT rowid FROM stakeholders WHERE active = 0)")
                }
                ActiveFilter::Inactive => {
                    st.push(" AND rowid IN (SELECT rowid FROM stakeholders WHERE active = 0)")
                }
                ActiveFilter::Any => &mut st,
            };
        } else if !conditions.is_empty() {
            // The join alone, without reading the stakeholders' rows.
            st.push("SELECT COUNT(*) AS n FROM (");
            self.push_matching_ids(&mut st, &conditions);
            st.push(") AS matching");
        } else {
            st.push("SELECT COUNT(*) AS n FROM stakeholders s");
            self.push_where(&mut st, &conditions, Read::Matches);
        }
        st.count(conn)
    }

    /// One page (`limit` rows from `offset`, ordered by email) and how many stakeholders the
    /// search selects in all, finding the matches once where a separate count would find them
    /// twice (attribute conditions without a text: see
    /// [`DirectorySql::filtered_page_and_count`]); `population` is how many of the search's
    /// state there are. `None` when `offset` is past the last match (count then, and ask for
    /// a page that exists).
    pub fn page_and_count(
        &self,
        conn: &mut DbConn,
        offset: i64,
        limit: i64,
        population: i64,
    ) -> QueryResult<Option<(Vec<StakeholderRow>, i64)>> {
        let pg = matches!(conn, DbConn::Pg(_));
        let (conditions, sizes) = self.conditions_by_size(conn)?;
        if self.text.is_empty() && !conditions.is_empty() {
            return self.filtered_page_and_count(
                conn,
                &conditions,
                &sizes,
                offset,
                limit,
                population,
            );
        }
        if !pg && conditions.is_empty() && self.trigram_text(&Statement::new(conn)) {
            // The trigram index counts without reading a row; then the page.
            let matching = self.count(conn)?;
            if offset >= matching && offset > 0 {
                return Ok(None);
            }
            let sizes = PageSizes {
                matching,
                population,
            };
            return Ok(Some((self.page(conn, offset, limit, sizes)?, matching)));
        }
        let mut st = Statement::new(conn);
        // Integers are not user input: written into the statement.
        let window = format!(" LIMIT {} OFFSET {}", limit.max(0), offset.max(0));
        if pg {
            // The matches once (materialized: planned without the page's LIMIT, which would
            // have the planner walk the email index through every stakeholder to count them,
            // where the trigram indexes find the few that match), counted, and the page's
            // rows read by id.
            st.push("WITH m AS MATERIALIZED (SELECT s.id, s.email FROM stakeholders s");
            self.push_where(&mut st, &conditions, Read::Matches);
            st.push(") SELECT ")
                .push(ROW_COLUMNS)
                .push(
                    ", (SELECT COUNT(*) FROM m) AS matching FROM stakeholders s \
                     WHERE s.id IN (SELECT id FROM m ORDER BY email",
                )
                .push(&window)
                .push(") ORDER BY s.email");
            return Ok(CountedRow::page(st.load(conn)?, offset));
        }
        // The matches once (materialized), counted and checked along the email index, or
        // read and sorted when they are few. How many match is estimated as if the
        // attributes were independent (it only chooses the way, not the rows).
        let estimate = estimate_matching(population, &sizes);
        let read = self.read_for(
            offset.saturating_add(limit),
            PageSizes {
                matching: estimate,
                population,
            },
        );
        st.push("WITH m(id) AS MATERIALIZED (");
        if conditions.is_empty() {
            st.push("SELECT s.id FROM stakeholders s");
            self.push_where(&mut st, &conditions, Read::Matches);
        } else {
            self.push_matching_ids(&mut st, &conditions);
        }
        st.push(") SELECT ")
            .push(ROW_COLUMNS)
            .push(", (SELECT COUNT(*) FROM m) AS matching FROM stakeholders s WHERE ");
        st.push(match self.active {
            ActiveFilter::Active => "s.active = 1 AND ",
            ActiveFilter::Inactive => "s.active = 0 AND ",
            ActiveFilter::Any => "",
        });
        st.push(if read == Read::EmailOrder {
            "+s.id IN m"
        } else {
            "s.id IN m"
        });
        st.push(" ORDER BY s.email").push(&window);
        Ok(CountedRow::page(st.load(conn)?, offset))
    }

    /// [`DirectorySql::page_and_count`] of attribute conditions without a text. How many
    /// match is first estimated as if the attributes were independent (`sizes`: how many
    /// people meet each condition), which chooses the way:
    /// * a page near the start of a broad search: the exact count
    ///   ([`DirectorySql::count_conditions`]), then a walk along the email index that checks
    ///   each stakeholder ([`DirectorySql::filtered_rows`]) and stops after the page — where
    ///   one statement for both would find every match's row and sort them all;
    /// * otherwise one statement: every match found once, counted and sorted
    ///   ([`DirectorySql::matches_page_and_count`]).
    fn filtered_page_and_count(
        &self,
        conn: &mut DbConn,
        conditions: &[&Condition],
        sizes: &[i64],
        offset: i64,
        limit: i64,
        population: i64,
    ) -> QueryResult<Option<(Vec<StakeholderRow>, i64)>> {
        let wanted = offset.saturating_add(limit);
        let estimate = PageSizes {
            matching: estimate_matching(population, sizes),
            population,
        };
        if self.read_for(wanted, estimate) == Read::Matches {
            return self.matches_page_and_count(conn, conditions, sizes, offset, limit);
        }
        let matching = self.count_conditions(conn, conditions, sizes)?;
        if offset >= matching && offset > 0 {
            return Ok(None);
        }
        if matching == 0 {
            return Ok(Some((Vec::new(), 0)));
        }
        let read = self.read_for(
            wanted,
            PageSizes {
                matching,
                population,
            },
        );
        let rows = self.filtered_rows(conn, conditions, sizes, offset, limit, read)?;
        Ok(Some((rows, matching)))
    }

    /// One page of the stakeholders meeting the conditions (no text) and how many there are,
    /// in one statement that finds every match once. SQLite: each match's email and rowid
    /// (from the index `stakeholders_id_email`, not the row) are materialized, counted and
    /// sorted, and only the page's rows are read. PostgreSQL: the rows of the matches with
    /// `COUNT(*) OVER ()`. `None` when `offset` is past the last match.
    fn matches_page_and_count(
        &self,
        conn: &mut DbConn,
        conditions: &[&Condition],
        sizes: &[i64],
        offset: i64,
        limit: i64,
    ) -> QueryResult<Option<(Vec<StakeholderRow>, i64)>> {
        let mut st = Statement::new(conn);
        let state = self.state_sql(&st);
        // Integers are not user input: written into the statement.
        let window = format!(" LIMIT {} OFFSET {}", limit.max(0), offset.max(0));
        if st.pg {
            st.push("SELECT ")
                .push(ROW_COLUMNS)
                .push(", COUNT(*) OVER () AS matching FROM stakeholders s WHERE s.id IN (");
            Self::push_attribute_join(&mut st, conditions);
            st.push(")")
                .push(state)
                .push(" ORDER BY s.email")
                .push(&window);
        } else {
            st.push("WITH m(r, e) AS MATERIALIZED (SELECT s.rowid, s.email FROM (");
            Self::push_attribute_ids(&mut st, conditions, sizes);
            st.push(
                ") AS j CROSS JOIN stakeholders s INDEXED BY stakeholders_id_email \
                 ON s.id = j.stakeholder_id WHERE 1 = 1",
            )
            .push(state)
            .push(") SELECT ")
            .push(ROW_COLUMNS)
            .push(
                ", (SELECT COUNT(*) FROM m) AS matching FROM stakeholders s \
                 WHERE s.rowid IN (SELECT r FROM m ORDER BY e",
            )
            .push(&window)
            .push(") ORDER BY s.email");
        }
        Ok(CountedRow::page(st.load(conn)?, offset))
    }

    /// ` AND …` of the search's state on `stakeholders s` (nothing for everyone).
    fn state_sql(&self, st: &Statement) -> &'static str {
        match (self.active, st.pg) {
            (ActiveFilter::Active, false) => " AND s.active = 1",
            (ActiveFilter::Inactive, false) => " AND s.active = 0",
            (ActiveFilter::Active, true) => " AND s.active",
            (ActiveFilter::Inactive, true) => " AND NOT s.active",
            (ActiveFilter::Any, _) => "",
        }
    }

    /// How many stakeholders meet the conditions (at least one; no text) in the search's
    /// state, in one statement: the attributes alone count everyone who meets them, and the
    /// few inactive ones among them are counted from the inactive stakeholders (each checked
    /// by its key) and taken off, instead of checking every match against the inactive ones.
    fn count_conditions(
        &self,
        conn: &mut DbConn,
        conditions: &[&Condition],
        sizes: &[i64],
    ) -> QueryResult<i64> {
        let mut st = Statement::new(conn);
        let inactive = if st.pg {
            "(SELECT COUNT(*) FROM stakeholders s WHERE NOT s.active"
        } else {
            "(SELECT COUNT(*) FROM stakeholders s WHERE s.active = 0"
        };
        st.push("SELECT ");
        if self.active != ActiveFilter::Inactive {
            st.push("(SELECT COUNT(*) FROM (");
            Self::push_attribute_ids(&mut st, conditions, sizes);
            st.push(") AS matching)");
        }
        if self.active == ActiveFilter::Active {
            st.push(" - ");
        }
        if self.active != ActiveFilter::Any {
            st.push(inactive);
            Self::push_checks(&mut st, conditions, false);
            st.push(")");
        }
        st.push(" AS n");
        st.count(conn)
    }

    /// ` AND …` for each condition, checked on the stakeholder `s` by the attributes' key
    /// (`stakeholder_attributes` holds a stakeholder's value of an attribute at most once).
    /// `probe` (PostgreSQL) writes each check as a scalar subquery, which the planner keeps
    /// as a per-row probe of the key; an `EXISTS` it turns into a join of every match, which
    /// a walk along the email index that stops after a page should not do.
    fn push_checks(st: &mut Statement, conditions: &[&Condition], probe: bool) {
        for (name, values) in conditions {
            st.push(if probe && st.pg {
                " AND (SELECT true FROM stakeholder_attributes a \
                 WHERE a.stakeholder_id = s.id AND a.name = "
            } else {
                " AND EXISTS (SELECT 1 FROM stakeholder_attributes a \
                 WHERE a.stakeholder_id = s.id AND a.name = "
            })
            .bind(name)
            .push(" AND a.value IN ")
            .bind_list(values);
            st.push(if probe && st.pg { " LIMIT 1)" } else { ")" });
        }
    }

    /// A page of the stakeholders meeting the conditions (no text), ordered by email.
    /// `Read::EmailOrder` walks the email index and checks each stakeholder by the
    /// attributes' key, fewest-met condition first; `Read::Matches` joins the attributes and
    /// sorts the matches — on SQLite only their emails and rowids, then reads the page's rows.
    fn filtered_rows(
        &self,
        conn: &mut DbConn,
        conditions: &[&Condition],
        sizes: &[i64],
        offset: i64,
        limit: i64,
        read: Read,
    ) -> QueryResult<Vec<StakeholderRow>> {
        let mut st = Statement::new(conn);
        // Integers are not user input: written into the statement.
        let window = format!(
            " ORDER BY s.email LIMIT {} OFFSET {}",
            limit.max(0),
            offset.max(0)
        );
        let state = self.state_sql(&st);
        st.push("SELECT ")
            .push(ROW_COLUMNS)
            .push(" FROM stakeholders s WHERE ");
        match (read, st.pg) {
            (Read::EmailOrder, _) => {
                st.push("1 = 1").push(state);
                Self::push_checks(&mut st, conditions, true);
                st.push(&window);
            }
            (Read::Matches, true) => {
                st.push("s.id IN (");
                Self::push_attribute_join(&mut st, conditions);
                st.push(")").push(state).push(&window);
            }
            (Read::Matches, false) => {
                st.push("s.rowid IN (SELECT s.rowid FROM (");
                Self::push_attribute_ids(&mut st, conditions, sizes);
                st.push(
                    ") AS j CROSS JOIN stakeholders s INDEXED BY stakeholders_id_email \
                     ON s.id = j.stakeholder_id WHERE 1 = 1",
                )
                .push(state)
                .push(&window)
                .push(") ORDER BY s.email");
            }
        }
        st.load(conn)
    }

    /// How to read `wanted` rows (in email order) of a search whose sizes are `sizes`.
    fn read_for(&self, wanted: i64, sizes: PageSizes) -> Read {
        let advantage = if self.conditions.is_empty() && self.text.chars().count() >= TRIGRAM {
            WALK_ADVANTAGE_ROWID
        } else {
            WALK_ADVANTAGE_ROW
        };
        // Walking the index passes about population / matching entries per match.
        let walked = wanted.saturating_mul(sizes.population.max(1)) / sizes.matching.max(1);
        if walked <= advantage.saturating_mul(sizes.matching) {
            Read::EmailOrder
        } else {
            Read::Matches
        }
    }

    fn rows(
        &self,
        conn: &mut DbConn,
        after: Option<&str>,
        offset: i64,
        limit: i64,
        read: Read,
    ) -> QueryResult<Vec<StakeholderRow>> {
        let (conditions, _) = self.conditions_by_size(conn)?;
        let mut st = Statement::new(conn);
        st.push("SELECT ")
            .push(ROW_COLUMNS)
            .push(" FROM stakeholders s");
        self.push_where(&mut st, &conditions, read);
        if let Some(email) = after {
            st.push(" AND s.email > ").bind(email);
        }
        // Integers are not user input: written into the statement.
        st.push(&format!(
            " ORDER BY s.email LIMIT {} OFFSET {}",
            limit.max(0),
            offset.max(0)
        ));
        st.load(conn)
    }

    /// `limit` stakeholders the search selects, ordered by email, from `offset`; `sizes`
    /// chooses how they are read (not what).
    pub fn page(
        &self,
        conn: &mut DbConn,
        offset: i64,
        limit: i64,
        sizes: PageSizes,
    ) -> QueryResult<Vec<StakeholderRow>> {
        let read = self.read_for(offset.saturating_add(limit), sizes);
        if self.text.is_empty() && !self.conditions.is_empty() {
            // Attribute conditions alone: read as their page with its count is.
            let (conditions, people) = self.conditions_by_size(conn)?;
            return self.filtered_rows(conn, &conditions, &people, offset, limit, read);
        }
        self.rows(conn, None, offset, limit, read)
    }
}

/// How many of `population` meet conditions met by `sizes` people each, were the attributes
/// independent (at least 1).
fn estimate_matching(population: i64, sizes: &[i64]) -> i64 {
    let population = population.max(1);
    let mut estimate = population as f64;
    for size in sizes {
        estimate *= (*size as f64 / population as f64).min(1.0);
    }
    (estimate.round() as i64).clamp(1, population)
}

/// Everyone, the inactive ones and the generation, as the triggers of migration
/// `2026-12-03-000027_directory_totals` keep them (one row; no stakeholder is read).
pub fn totals(conn: &mut DbConn) -> QueryResult<Totals> {
    let mut st = Statement::new(conn);
    st.push("SELECT total, inactive, generation FROM directory_totals WHERE id = 1");
    let rows: Vec<Totals> = st.load(conn)?;
    Ok(rows.into_iter().next().unwrap_or(Totals {
        total: 0,
        inactive: 0,
        generation: 0,
    }))
}
