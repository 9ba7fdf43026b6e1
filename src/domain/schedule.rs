//! Time spans as admins write them: reminder offsets (`7d,14d`, `36h`), how long a wave is
//! open (`21d`), how often a schedule repeats (`6m` = six months, `1y`), and times in the
//! organisation's time zone (stored as UTC).

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveDateTime, Utc};
pub use chrono_tz::Tz;

/// A span in whole hours (`7d` = 168 h, `36h`; a bare number is days: `7` = `7d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hours(pub i64);

impl Hours {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let (number, unit) =
            raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
        let n: i64 = number
            .parse()
            .map_err(|_| format!("'{raw}' is not a duration: use e.g. 7d or 36h"))?;
        let hours = match unit.trim() {
            "d" | "" => n * 24,
            "h" => n,
            "w" => n * 24 * 7,
            _ => {
                return Err(format!(
                    "'{raw}' has an unknown unit: use d (days), h (hours) or w (weeks)"
                ))
            }
        };
        if hours <= 0 {
            return Err(format!("'{raw}' must be longer than zero"));
        }
        Ok(Self(hours))
    }

    pub fn duration(self) -> Duration {
        Duration::hours(self.0)
    }

    /// `168` → `7 days`, `24` → `1 day`, `36` → `36 hours`.
    pub fn display_words(self) -> String {
        match (self.0 % 24, self.0 / 24) {
            (0, 1) => "1 day".into(),
            (0, days) => format!("{days} days"),
            _ if self.0 == 1 => "1 hour".into(),
            _ => format!("{} hours", self.0),
        }
    }

    /// `168` → `7d`, `36` → `36h`.
    pub fn display(self) -> String {
        if self.0 % 24 == 0 {
            format!("{}d", self.0 / 24)
        } else {
            format!("{}h", self.0)
        }
    }
}

/// Reminder offsets after a wave opens, ascending and distinct: `7d,14d`, or days as a
/// list `7, 14`.
pub fn parse_offsets(raw: &str) -> Result<Vec<Hours>, String> {
    if raw.trim().is_empty() || raw.trim() == "none" {
        return Ok(Vec::new());
    }
    let mut offsets = raw
        .split([',', ' ', ';'])
        .filter(|part| !part.trim().is_empty())
        .map(Hours::parse)
        .collect::<Result<Vec<_>, _>>()?;
    offsets.sort();
    offsets.dedup();
    if offsets.len() > 5 {
        return Err("at most 5 reminders: more would annoy people more than it helps".into());
    }
    Ok(offsets)
}

pub fn offsets_to_json(offsets: &[Hours]) -> String {
    serde_json::Value::from(offsets.iter().map(|h| h.0).collect::<Vec<_>>()).to_string()
}

pub fn offsets_from_json(json: &str) -> Vec<Hours> {
    serde_json::from_str::<Vec<i64>>(json)
        .unwrap_or_default()
        .into_iter()
        .map(Hours)
        .collect()
}

pub fn offsets_display(offsets: &[Hours]) -> String {
    if offsets.is_empty() {
        return "none".into();
    }
    offsets
        .iter()
        .map(|h| h.display())
        .collect::<Vec<_>>()
        .join(",")
}

/// How often a schedule repeats, in months: `6m`, `3m`, `1y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EveryMonths(pub u32);

impl EveryMonths {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let months = if let Some(n) = raw.strip_suffix('m') {
            n.parse::<u32>().ok()
        } else if let Some(n) = raw.strip_suffix('y') {
            n.parse::<u32>().ok().map(|y| y * 12)
        } else {
            None
        }
        .ok_or_else(|| format!("'{raw}' is not a cadence: use e.g. 6m (every six months) or 1y"))?;
        if months == 0 || months > 36 {
            return Err(format!("'{raw}': choose between 1m and 3y"));
        }
        Ok(Self(months))
    }

    /// `at` plus this many months (end-of-month dates clamp, e.g. 31 Aug + 6m = 28/29 Feb).
    pub fn after(self, at: NaiveDateTime) -> NaiveDateTime {
        at.checked_add_months(Months::new(self.0)).unwrap_or(at)
    }
}

/// A point in time given on the command line or in a form: `now`, RFC 3339
/// (`2027-01-15T09:00:00+01:00`), or a date (`2027-01-15`, midnight UTC). Stored as UTC.
pub fn parse_time(raw: &str, now: NaiveDateTime) -> Result<NaiveDateTime, String> {
    parse_time_in(raw, now, Tz::UTC)
}

/// Like [`parse_time`], but a date or a date and time without an offset (what a
/// `datetime-local` form input sends: `2027-01-15T09:00`) is read in the organisation's time
/// zone `tz`. The result is UTC.
pub fn parse_time_in(raw: &str, now: NaiveDateTime, tz: Tz) -> Result<NaiveDateTime, String> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc).naive_utc());
    }
    let local = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        });
    let Some(local) = local else {
        return Err(if raw.is_empty() {
            "give a date, e.g. 2027-01-15".to_string()
        } else {
            format!("'{raw}' is not a time: use now, a date like 2027-01-15, or 2027-01-15T09:00")
        });
    };
    to_utc(local, tz)
}

/// A wall-clock time in `tz` as UTC; an error for a time skipped by a clock change.
pub fn to_utc(local: NaiveDateTime, tz: Tz) -> Result<NaiveDateTime, String> {
    use chrono::TimeZone;
    match tz.from_local_datetime(&local).earliest() {
        Some(t) => Ok(t.with_timezone(&Utc).naive_utc()),
        None => Err(format!(
            "{} does not exist in {tz}: the clocks skip it; choose another hour",
            local.format("%Y-%m-%d %H:%M")
        )),
    }
}

/// A UTC time as the wall-clock time in `tz`.
pub fn to_local(utc: NaiveDateTime, tz: Tz) -> NaiveDateTime {
    use chrono::TimeZone;
    tz.from_utc_datetime(&utc).naive_local()
}

/// `2027-01-15 10:00 Europe/Berlin (09:00 UTC)`; just `… UTC` when `tz` is UTC.
pub fn display_in(utc: NaiveDateTime, tz: Tz) -> String {
    if tz == Tz::UTC {
        return format!("{} UTC", utc.format("%Y-%m-%d %H:%M"));
    }
    let local = to_local(utc, tz);
    let utc_part = if local.date() == utc.date() {
        utc.format("%H:%M").to_string()
    } else {
        utc.format("%Y-%m-%d %H:%M").to_string()
    };
    format!("{} {tz} ({utc_part} UTC)", local.format("%Y-%m-%d %H:%M"))
}

/// The value of a `datetime-local` input for a UTC time: `2027-01-15T10:00` in `tz`.
pub fn input_value(utc: NaiveDateTime, tz: Tz) -> String {
    to_local(utc, tz).format("%Y-%m-%dT%H:%M").to_string()
}

/// The organisation's time zone from an IANA name (`Europe/Berlin`, `UTC`).
pub fn parse_time_zone(raw: &str) -> Result<Tz, String> {
    raw.trim().parse::<Tz>().map_err(|_| {
        format!("'{raw}' is not a time zone: use an IANA name such as Europe/Berlin, America/New_York or UTC")
    })
}

/// Fills a title template: `{half}` (1/2), `{quarter}`, `{year}`, `{month}` (January…).
pub fn render_title(template: &str, opens_at: NaiveDateTime) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let month0 = opens_at.month0() as usize;
    template
        .replace("{half}", if month0 < 6 { "1" } else { "2" })
        .replace("{quarter}", &(month0 / 3 + 1).to_string())
        .replace("{year}", &opens_at.year().to_string())
        .replace("{month}", MONTHS[month0 % 12])
}

/// The title template suggested for a cadence: half-years `H{half} {year}`, quarters
/// `Q{quarter} {year}`, otherwise `{month} {year}`.
pub fn default_title_template(every: EveryMonths) -> &'static str {
    match every.0 {
        6 => "H{half} {year}",
        3 => "Q{quarter} {year}",
        12 => "{year}",
        _ => "{month} {year}",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        parse_time(s, NaiveDateTime::default()).unwrap()
    }

    #[test]
    fn parses_spans_and_cadences() {
        assert_eq!(
            parse_offsets("14d,7d").unwrap(),
            vec![Hours(168), Hours(336)]
        );
        assert_eq!(parse_offsets("none").unwrap(), vec![]);
        assert_eq!(
            parse_offsets("7, 14").unwrap(),
            vec![Hours(168), Hours(336)],
            "a list of days"
        );
        assert!(parse_offsets("7x").unwrap_err().contains("unknown unit"));
        assert!(Hours::parse("0d").is_err());
        assert_eq!(Hours(36).display(), "36h");
        assert_eq!(EveryMonths::parse("6m").unwrap(), EveryMonths(6));
        assert_eq!(EveryMonths::parse("1y").unwrap(), EveryMonths(12));
        assert!(EveryMonths::parse("6").is_err());
        assert_eq!(EveryMonths(6).after(t("2027-08-31")), t("2028-02-29"));
    }

    #[test]
    fn parses_times_as_utc() {
        assert_eq!(t("2027-01-15T10:00:00+01:00"), t("2027-01-15T09:00:00Z"));
        assert_eq!(t("2027-01-15"), t("2027-01-15T00:00:00Z"));
        assert!(parse_time("tomorrow", NaiveDateTime::default()).is_err());
    }

    #[test]
    fn local_times_follow_the_time_zone() {
        let berlin = parse_time_zone("Europe/Berlin").unwrap();
        let now = NaiveDateTime::default();
        // Winter: UTC+1; summer: UTC+2.
        assert_eq!(
            parse_time_in("2027-01-15T10:00", now, berlin).unwrap(),
            t("2027-01-15T09:00:00Z")
        );
        assert_eq!(
            parse_time_in("2027-07-15", now, berlin).unwrap(),
            t("2027-07-14T22:00:00Z")
        );
        assert!(parse_time_in("2027-03-28T02:30", now, berlin)
            .unwrap_err()
            .contains("clocks skip"));
        assert_eq!(
            display_in(t("2027-01-15T09:00:00Z"), berlin),
            "2027-01-15 10:00 Europe/Berlin (09:00 UTC)"
        );
        assert_eq!(
            input_value(t("2027-01-15T09:00:00Z"), berlin),
            "2027-01-15T10:00"
        );
        assert!(parse_time_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn titles_follow_the_calendar() {
        assert_eq!(render_title("H{half} {year}", t("2027-01-15")), "H1 2027");
        assert_eq!(render_title("H{half} {year}", t("2027-07-15")), "H2 2027");
        assert_eq!(
            render_title("Q{quarter} {year}", t("2027-11-01")),
            "Q4 2027"
        );
    }
}
