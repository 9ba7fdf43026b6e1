//! `user_scopes`: the business units a viewer account may see.

use diesel::prelude::*;

use crate::db::schema::user_scopes;
use crate::db::DbConn;

pub fn units_of(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<String>> {
    user_scopes::table
        .filter(user_scopes::user_id.eq(user_id))
        .order(user_scopes::business_unit.asc())
        .select(user_scopes::business_unit)
        .load(conn)
}

/// Every (user id, unit) pair, for the users page.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    user_scopes::table
        .order((user_scopes::user_id.asc(), user_scopes::business_unit.asc()))
        .select((user_scopes::user_id, user_scopes::business_unit))
        .load(conn)
}

/// Replaces the user's units.
pub fn replace(conn: &mut DbConn, user_id: &str, units: &[String]) -> QueryResult<()> {
    diesel::delete(user_scopes::table.filter(user_scopes::user_id.eq(user_id))).execute(conn)?;
    for unit in units {
        diesel::insert_into(user_scopes::table)
            .values((
                user_scopes::user_id.eq(user_id),
                user_scopes::business_unit.eq(unit),
            ))
            .execute(conn)?;
    }
    Ok(())
}
