//! `survey_versions`: survey definitions as loaded, pinned by (slug, version, content hash).

use diesel::prelude::*;

use crate::db::schema::survey_versions;
use crate::db::DbConn;

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    survey_versions::table.count().get_result(conn)
}
