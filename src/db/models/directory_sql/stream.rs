//! Streaming a directory search ([`DirectorySql::longest`], [`DirectorySql::after`],
//! [`DirectorySql::next_batch`], [`DirectorySql::for_each_fetched`]): every match in email
//! order, a batch at a time, without counting them — `pulse stakeholders list`, through
//! `services::stakeholders::directory::for_each`.

use diesel::prelude::*;

use super::{Condition, DirectorySql, PageSizes, Read, Statement, ROW_COLUMNS};
use crate::db::models::stakeholders::StakeholderRow;
use crate::db::DbConn;

#[derive(QueryableByName)]
struct Widths {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    email: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    name: Option<i64>,
}

impl DirectorySql {
    /// The longest email and name (in characters) among the stakeholders the search selects,
    /// to align a listing before streaming it.
    pub fn longest(&self, conn: &mut DbConn) -> QueryResult<(usize, usize)> {
        let (conditions, _) = self.conditions_by_size(conn)?;
        let mut st = Statement::new(conn);
        st.push(
            "SELECT CAST(MAX(length(s.email)) AS BIGINT) AS email, \
             CAST(MAX(length(s.name)) AS BIGINT) AS name FROM stakeholders s",
        );
        self.push_where(&mut st, &conditions, Read::Matches);
        let rows: Vec<Widths> = st.load(conn)?;
        let width = |n: Option<i64>| n.and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
        Ok(rows
            .first()
            .map_or((0, 0), |w| (width(w.email), width(w.name))))
    }

    /// `limit` stakeholders the search selects with an email after `after` (all from the
    /// start with `None`), ordered by email: the pages of a stream. `sizes` chooses how they
    /// are read (not what). Each batch costs about its own size, not that of every match:
    /// see [`DirectorySql::stream_rows`].
    pub fn after(
        &self,
        conn: &mut DbConn,
        after: Option<&str>,
        limit: i64,
        sizes: PageSizes,
    ) -> QueryResult<Vec<StakeholderRow>> {
        let read = self.read_for(limit, sizes);
        self.stream_rows(conn, after, limit, read)
    }

    /// PostgreSQL: calls `each` with every stakeholder the search selects, ordered by email,
    /// `batch` rows at a time, from one cursor in one transaction (one snapshot): the
    /// matches are found once, planned for reading them all (`cursor_tuple_fraction` 1),
    /// where batches continued by email found them again for each batch. Returns how many
    /// there were. SQLite streams by email instead ([`DirectorySql::next_batch`]): its
    /// statements read lazily, and a transaction held for the listing would hold back the
    /// checkpoints of the database's log.
    pub fn for_each_fetched<E>(
        &self,
        conn: &mut DbConn,
        batch: i64,
        mut each: impl FnMut(Vec<StakeholderRow>) -> Result<(), E>,
    ) -> Result<usize, E>
    where
        E: From<diesel::result::Error>,
    {
        use diesel::connection::SimpleConnection;
        let (conditions, _) = self.conditions_by_size(conn)?;
        let mut declare = Statement::new(conn);
        declare
            .push("DECLARE directory_listing NO SCROLL CURSOR FOR SELECT ")
            .push(ROW_COLUMNS)
            .push(" FROM stakeholders s");
        self.push_where(&mut declare, &conditions, Read::Matches);
        declare.push(" ORDER BY s.email");
        let batch = batch.max(1);
        conn.transaction(|conn| {
            conn.batch_execute("SET LOCAL cursor_tuple_fraction = 1")?;
            declare.execute(conn)?;
            let mut seen = 0;
            loop {
                let mut fetch = Statement::new(conn);
                // An integer, not user input: written into the statement.
                fetch.push(&format!("FETCH {batch} FROM directory_listing"));
                let rows: Vec<StakeholderRow> = fetch.load(conn)?;
                let full = rows.len() as i64 == batch;
                seen += rows.len();
                each(rows)?;
                if !full {
                    return Ok(seen);
                }
            }
        })
    }

    /// The next batch of a stream ([`DirectorySql::after`]) without counting the matches:
    /// led by the attribute condition fewest people meet when they are at most `limit` (one
    /// statement, or two, reads them all), otherwise along the email index, checking each
    /// stakeholder (so the whole stream reads each index entry once).
    pub fn next_batch(
        &self,
        conn: &mut DbConn,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<StakeholderRow>> {
        let (_, sizes) = self.conditions_by_size(conn)?;
        let read = match sizes.first() {
            Some(&fewest) if fewest <= limit => Read::Matches,
            _ => Read::EmailOrder,
        };
        self.stream_rows(conn, after, limit, read)
    }

    /// `limit` rows after `after` by email. `Read::EmailOrder` walks the email index from
    /// `after` and checks each stakeholder's attributes by its key
    /// (`EXISTS … a.stakeholder_id = s.id`); `Read::Matches` reads the stakeholders of the
    /// condition fewest people meet (through the attributes' key) and checks the others the
    /// same way. Neither builds the set of every match for each batch.
    fn stream_rows(
        &self,
        conn: &mut DbConn,
        after: Option<&str>,
        limit: i64,
        read: Read,
    ) -> QueryResult<Vec<StakeholderRow>> {
        let (conditions, _) = self.conditions_by_size(conn)?;
        let mut st = Statement::new(conn);
        let lead = match (read, conditions.split_first()) {
            (Read::Matches, Some((first, rest))) => Some((*first, rest)),
            _ => None,
        };
        st.push("SELECT ").push(ROW_COLUMNS);
        let checked: &[&Condition] = if let Some(((name, values), rest)) = lead {
            st.push(if st.pg {
                " FROM stakeholder_attributes a0 JOIN stakeholders s ON s.id = a0.stakeholder_id"
            } else {
                " FROM stakeholder_attributes a0 CROSS JOIN stakeholders s \
                 ON s.id = a0.stakeholder_id"
            });
            // The text and the state; the conditions follow.
            self.push_where(&mut st, &[], Read::Matches);
            st.push(" AND a0.name = ")
                .bind(name)
                .push(" AND a0.value IN ")
                .bind_list(values);
            rest
        } else {
            st.push(" FROM stakeholders s");
            self.push_where(&mut st, &[], read);
            &conditions
        };
        for (name, values) in checked {
            st.push(
                " AND EXISTS (SELECT 1 FROM stakeholder_attributes a \
                 WHERE a.stakeholder_id = s.id AND a.name = ",
            )
            .bind(name)
            .push(" AND a.value IN ")
            .bind_list(values)
            .push(")");
        }
        if let Some(email) = after {
            st.push(" AND s.email > ").bind(email);
        }
        // An integer, not user input: written into the statement.
        st.push(&format!(" ORDER BY s.email LIMIT {}", limit.max(0)));
        st.load(conn)
    }
}
