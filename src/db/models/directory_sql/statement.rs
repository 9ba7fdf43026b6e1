//! The directory's SQL as text ([`Statement`]): written for one backend (`?` or `$n`
//! placeholders), every value bound as text, never written into the statement; and the
//! search text as a LIKE pattern or an FTS5 phrase.

use diesel::prelude::*;

use crate::db::DbConn;

/// `text` as a LIKE pattern matching it anywhere, with `\`, `%` and `_` escaped.
pub(super) fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// `text` as an FTS5 phrase: quoted, with `"` doubled; nothing else is special inside.
pub(super) fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// A [`Statement`] as a query of `$backend` with its values bound.
macro_rules! bound {
    ($st:expr, $backend:ty) => {{
        let mut query = diesel::sql_query($st.sql).into_boxed::<$backend>();
        for value in $st.binds {
            query = query.bind::<diesel::sql_types::Text, _>(value);
        }
        query
    }};
}

/// SQL text and its bound values (all text), written for one backend.
pub(super) struct Statement {
    sql: String,
    binds: Vec<String>,
    pub(super) pg: bool,
}

impl Statement {
    pub(super) fn new(conn: &DbConn) -> Self {
        Self {
            sql: String::with_capacity(512),
            binds: Vec::new(),
            pg: matches!(conn, DbConn::Pg(_)),
        }
    }

    pub(super) fn sqlite(&self) -> bool {
        !self.pg
    }

    pub(super) fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    pub(super) fn bind(&mut self, value: &str) -> &mut Self {
        self.binds.push(value.to_string());
        if self.pg {
            self.sql.push('$');
            self.sql.push_str(&self.binds.len().to_string());
        } else {
            self.sql.push('?');
        }
        self
    }

    /// `(v1, v2, …)` for an `IN`; `(NULL)`, which nothing is in, for no values (PostgreSQL
    /// refuses `IN ()`).
    pub(super) fn bind_list(&mut self, values: &[String]) -> &mut Self {
        if values.is_empty() {
            return self.push("(NULL)");
        }
        self.push("(");
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(value);
        }
        self.push(")")
    }

    pub(super) fn load<T>(self, conn: &mut DbConn) -> QueryResult<Vec<T>>
    where
        T: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static,
    {
        match conn {
            DbConn::Sqlite(c) => bound!(self, diesel::sqlite::Sqlite).load(c),
            DbConn::Pg(c) => bound!(self, diesel::pg::Pg).load(c),
        }
    }

    pub(super) fn execute(self, conn: &mut DbConn) -> QueryResult<usize> {
        match conn {
            DbConn::Sqlite(c) => bound!(self, diesel::sqlite::Sqlite).execute(c),
            DbConn::Pg(c) => bound!(self, diesel::pg::Pg).execute(c),
        }
    }

    pub(super) fn count(self, conn: &mut DbConn) -> QueryResult<i64> {
        let rows: Vec<Count> = self.load(conn)?;
        Ok(rows.first().map_or(0, |c| c.n))
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}
