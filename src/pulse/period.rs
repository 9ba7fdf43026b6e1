//! Calendar quarters, the period pulse answers are reported by: `2027-Q1` is January to
//! March 2027. A quarter is released once, when its wave closes after the quarter ended —
//! never as a sliding window (which would give answers away one at a time).

use std::fmt;

use chrono::{Datelike, NaiveDate};

/// A calendar quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    year: i32,
    /// 1–4.
    quarter: u8,
}

impl Quarter {
    /// The quarter a day falls in.
    pub fn of(date: NaiveDate) -> Self {
        Self {
            year: date.year(),
            // month0 is 0–11, so this is 1–4.
            quarter: u8::try_from(date.month0() / 3 + 1).unwrap_or(1),
        }
    }

    /// The first day.
    pub fn start(self) -> NaiveDate {
        let month = u32::from(self.quarter - 1) * 3 + 1;
        // Valid: month 1, 4, 7 or 10, day 1, a year of a real date.
        NaiveDate::from_ymd_opt(self.year, month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The last day.
    pub fn end(self) -> NaiveDate {
        self.next().start().pred_opt().unwrap_or(NaiveDate::MAX)
    }

    pub fn next(self) -> Self {
        if self.quarter == 4 {
            Self {
                year: self.year + 1,
                quarter: 1,
            }
        } else {
            Self {
                year: self.year,
                quarter: self.quarter + 1,
            }
        }
    }

    /// The half-year it belongs to, `2027-H1`.
    pub fn half_year(self) -> crate::scorecards::period::HalfYear {
        crate::scorecards::period::HalfYear::of(self.start())
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-Q{}", self.year, self.quarter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn quarters_cover_the_year_without_gaps() {
        let q = Quarter::of(day(2027, 3, 31));
        assert_eq!(q.to_string(), "2027-Q1");
        assert_eq!((q.start(), q.end()), (day(2027, 1, 1), day(2027, 3, 31)));
        assert_eq!(Quarter::of(day(2027, 4, 1)).to_string(), "2027-Q2");
        let q4 = Quarter::of(day(2027, 12, 31));
        assert_eq!(
            (q4.start(), q4.end()),
            (day(2027, 10, 1), day(2027, 12, 31))
        );
        assert_eq!(q4.next().to_string(), "2028-Q1");
        assert_eq!(q4.half_year().to_string(), "2027-H2");
    }
}
