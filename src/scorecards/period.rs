//! Half-years, the period of every scorecard: `2027-H1` is January–June 2027.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

/// A calendar half-year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HalfYear {
    year: i32,
    /// 1 or 2.
    half: u8,
}

impl HalfYear {
    /// `year` and `half` (1 or 2); `None` for another half or a year outside 1900–9999.
    pub fn new(year: i32, half: u8) -> Option<Self> {
        ((1..=2).contains(&half) && (1900..=9999).contains(&year)).then_some(Self { year, half })
    }

    /// The half-year a day falls in.
    pub fn of(date: NaiveDate) -> Self {
        Self {
            year: date.year(),
            half: if date.month() <= 6 { 1 } else { 2 },
        }
    }

    /// Parses `2027-H1` (also `2027-h2`, `2027H1`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        let upper = trimmed.to_ascii_uppercase();
        let parsed = upper.split_once('H').and_then(|(year, half)| {
            let year: i32 = year.trim_end_matches('-').parse().ok()?;
            let half: u8 = half.parse().ok()?;
            Self::new(year, half)
        });
        parsed.ok_or_else(|| {
            format!("'{trimmed}' is not a half-year: write it as YEAR-H1 or YEAR-H2, e.g. 2027-H1")
        })
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn half(self) -> u8 {
        self.half
    }

    /// The first day.
    pub fn start(self) -> NaiveDate {
        let month = if self.half == 1 { 1 } else { 7 };
        // Valid: month 1 or 7, day 1, year within 1900–9999.
        NaiveDate::from_ymd_opt(self.year, month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The last day.
    pub fn end(self) -> NaiveDate {
        let (month, day) = if self.half == 1 { (6, 30) } else { (12, 31) };
        // Valid: 30 June or 31 December of a year within 1900–9999.
        NaiveDate::from_ymd_opt(self.year, month, day).unwrap_or(NaiveDate::MAX)
    }

    pub fn contains(self, date: NaiveDate) -> bool {
        Self::of(date) == self
    }

    pub fn previous(self) -> Self {
        if self.half == 2 {
            Self { half: 1, ..self }
        } else {
            Self {
                year: self.year - 1,
                half: 2,
            }
        }
    }

    /// This half-year and the `n - 1` before it, oldest first.
    pub fn last(self, n: usize) -> Vec<Self> {
        let mut periods = Vec::with_capacity(n);
        let mut period = self;
        for _ in 0..n {
            periods.push(period);
            period = period.previous();
        }
        periods.reverse();
        periods
    }
}

impl fmt::Display for HalfYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-H{}", self.year, self.half)
    }
}

impl FromStr for HalfYear {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for HalfYear {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn parses_and_prints() {
        assert_eq!(HalfYear::parse("2027-H1").unwrap().to_string(), "2027-H1");
        assert_eq!(HalfYear::parse(" 2026h2 ").unwrap().to_string(), "2026-H2");
        for bad in ["2027-H3", "2027", "H1", "2027-Q1", "27-H1"] {
            let error = HalfYear::parse(bad).unwrap_err();
            assert!(error.contains("e.g. 2027-H1"), "{bad}: {error}");
        }
    }

    #[test]
    fn bounds_and_neighbours() {
        let h2 = HalfYear::parse("2026-H2").unwrap();
        assert_eq!(h2.start(), day(2026, 7, 1));
        assert_eq!(h2.end(), day(2026, 12, 31));
        assert!(h2.contains(day(2026, 7, 1)));
        assert!(!h2.contains(day(2026, 6, 30)));
        assert_eq!(HalfYear::of(day(2026, 6, 30)).to_string(), "2026-H1");
        assert_eq!(h2.previous().to_string(), "2026-H1");
        assert_eq!(h2.previous().previous().to_string(), "2025-H2");
        let last: Vec<String> = h2.last(4).iter().map(ToString::to_string).collect();
        assert_eq!(last, ["2025-H1", "2025-H2", "2026-H1", "2026-H2"]);
    }
}
