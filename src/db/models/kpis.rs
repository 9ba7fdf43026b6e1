//! `kpi_values`: imported KPI figures per KPI key, half-year and business unit.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::schema::kpi_values;
use crate::db::DbConn;

const BATCH: usize = 1000;

#[derive(Debug, Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = kpi_values, treat_none_as_default_value = false)]
pub struct KpiValueRow {
    pub kpi_key: String,
    pub period: String,
    pub business_unit: String,
    pub value: f64,
    pub imported_at: NaiveDateTime,
}

/// Inserts the values, replacing the ones of the same (key, period, unit); returns the count.
pub fn upsert_many(conn: &mut DbConn, rows: &[KpiValueRow]) -> QueryResult<usize> {
    let mut written = 0;
    for chunk in rows.chunks(BATCH) {
        let upsert = diesel::insert_into(kpi_values::table)
            .values(chunk)
            .on_conflict((
                kpi_values::kpi_key,
                kpi_values::period,
                kpi_values::business_unit,
            ))
            .do_update()
            .set((
                kpi_values::value.eq(excluded(kpi_values::value)),
                kpi_values::imported_at.eq(excluded(kpi_values::imported_at)),
            ));
        written += crate::on_backend!(conn, c => upsert.execute(c))?;
    }
    Ok(written)
}

/// The values of one unit (or every unit: `None`) in the given periods.
pub fn for_periods(
    conn: &mut DbConn,
    unit: Option<&str>,
    periods: &[String],
) -> QueryResult<Vec<KpiValueRow>> {
    let mut query = kpi_values::table
        .filter(kpi_values::period.eq_any(periods))
        .select(KpiValueRow::as_select())
        .into_boxed();
    if let Some(unit) = unit {
        query = query.filter(kpi_values::business_unit.eq(unit));
    }
    query.load(conn)
}

/// (KPI, half-year, unit) of every stored value.
pub fn keys(conn: &mut DbConn) -> QueryResult<Vec<(String, String, String)>> {
    kpi_values::table
        .select((
            kpi_values::kpi_key,
            kpi_values::period,
            kpi_values::business_unit,
        ))
        .load(conn)
}

/// The units KPI values were imported for.
pub fn units(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    kpi_values::table
        .select(kpi_values::business_unit)
        .distinct()
        .load(conn)
}
