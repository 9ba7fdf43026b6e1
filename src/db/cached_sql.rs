//! Raw PostgreSQL statements that stay prepared: [`cached`] is `diesel::sql_query` for a
//! fixed SQL text, kept in the connection's statement cache (keyed by the text and the bind
//! types), so PostgreSQL parses and plans it once per connection instead of at every call.
//!
//! diesel never caches a `sql_query` (nor an UPDATE or an upsert of its DSL), and the
//! answer writer's batch statements — rows bound as arrays and `unnest`ed, one text for
//! any batch size — were parsed and planned for every batch (`submit_bench`: 16 % of the
//! writer's PostgreSQL backend). Write the text with `?` where each value goes, in order.

use std::marker::PhantomData;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// A statement of [`cached`]: run it with diesel's `execute` or `load` (rows by name, like
/// a `sql_query`).
pub struct Cached<B> {
    sql: &'static str,
    binds: B,
}

/// `sql` with `binds` (a tuple of [`bind`]s, one per `?` of the text, in order).
pub fn cached<B: Binds>(sql: &'static str, binds: B) -> Cached<B> {
    debug_assert_eq!(sql.matches('?').count(), B::COUNT, "{sql}");
    Cached { sql, binds }
}

/// One bound value of SQL type `ST`.
pub struct Bind<ST, T>(T, PhantomData<ST>);

pub fn bind<ST, T>(value: T) -> Bind<ST, T> {
    Bind(value, PhantomData)
}

/// The values of a [`Cached`] statement, pushed between the pieces of its text.
pub trait Binds {
    const COUNT: usize;
    fn walk<'b>(
        &'b self,
        out: &mut AstPass<'_, 'b, Pg>,
        pieces: &mut std::str::Split<'static, char>,
    ) -> QueryResult<()>;
}

macro_rules! binds_for_tuple {
    ($count:expr; $($st:ident $t:ident $i:tt),+) => {
        impl<$($st, $t),+> Binds for ($(Bind<$st, $t>,)+)
        where
            $(Pg: HasSqlType<$st>, $t: ToSql<$st, Pg>,)+
        {
            const COUNT: usize = $count;
            fn walk<'b>(
                &'b self,
                out: &mut AstPass<'_, 'b, Pg>,
                pieces: &mut std::str::Split<'static, char>,
            ) -> QueryResult<()> {
                $(
                    out.push_sql(pieces.next().unwrap_or_default());
                    out.push_bind_param::<$st, $t>(&self.$i.0)?;
                )+
                Ok(())
            }
        }
    };
}

binds_for_tuple!(1; S0 T0 0);
binds_for_tuple!(2; S0 T0 0, S1 T1 1);
binds_for_tuple!(3; S0 T0 0, S1 T1 1, S2 T2 2);
binds_for_tuple!(4; S0 T0 0, S1 T1 1, S2 T2 2, S3 T3 3);
binds_for_tuple!(5; S0 T0 0, S1 T1 1, S2 T2 2, S3 T3 3, S4 T4 4);

impl<B: Binds> QueryFragment<Pg> for Cached<B> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut pieces = self.sql.split('?');
        self.binds.walk(&mut out, &mut pieces)?;
        for rest in pieces {
            out.push_sql(rest);
        }
        Ok(())
    }
}

/// Not a static id: the statement cache keys it by its SQL text and bind types instead.
impl<B> QueryId for Cached<B> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<B: Binds> Query for Cached<B> {
    type SqlType = Untyped;
}

impl<B, Conn> RunQueryDsl<Conn> for Cached<B> {}
