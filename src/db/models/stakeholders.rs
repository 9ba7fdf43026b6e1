//! `stakeholders`: the directory of people a wave can invite.

use diesel::prelude::*;

use crate::db::schema::stakeholders;
use crate::db::DbConn;

pub fn count_active(conn: &mut DbConn) -> QueryResult<i64> {
    stakeholders::table
        .filter(stakeholders::active.eq(true))
        .count()
        .get_result(conn)
}
