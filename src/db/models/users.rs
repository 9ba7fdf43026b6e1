//! `users`: admin, lead and viewer accounts (a viewer's units are in `user_scopes`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::users;
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, user: &NewUser<'_>) -> QueryResult<usize> {
    diesel::insert_into(users::table).values(user).execute(conn)
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<UserRow>> {
    users::table
        .order(users::email.asc())
        .select(UserRow::as_select())
        .load(conn)
}

pub fn set_password(conn: &mut DbConn, id: &str, password_hash: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::password_hash.eq(password_hash))
        .execute(conn)
}

pub fn set_role(conn: &mut DbConn, id: &str, role: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::role.eq(role))
        .execute(conn)
}

pub fn set_active(conn: &mut DbConn, id: &str, active: bool) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(users::active.eq(active))
        .execute(conn)
}

/// The ids of the active admins, locked until the transaction ends (`FOR UPDATE` on
/// PostgreSQL; SQLite's `BEGIN IMMEDIATE` already serialises writers), so two admins demoting
/// each other at once cannot both succeed and leave none.
pub fn lock_active_admins(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    let query = users::table
        .filter(users::role.eq("admin"))
        .filter(users::active.eq(true))
        .select(users::id);
    match conn {
        DbConn::Sqlite(c) => query.load(c),
        DbConn::Pg(c) => query.for_update().load(c),
    }
}
