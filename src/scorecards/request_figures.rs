//! The request figures of one business unit in one half-year — pure, no database.
//!
//! * **opened**: requests opened in the half-year (cancelled ones included: they were asked).
//! * **fulfilled**: requests fulfilled in the half-year.
//! * **cycle time**: days from opened to fulfilled of the requests fulfilled in the
//!   half-year; median and 90th percentile by linear interpolation between order statistics
//!   (numpy's default, Excel's `PERCENTILE.INC`).
//! * **within target**: of those, the ones whose cycle time is at most their category's
//!   target (default 120 days), and their share.
//! * **open past target**: requests still open at the end of the half-year (or today, for the
//!   current one) that were opened more than their target's days before. Cancelled requests
//!   never count as open.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::period::HalfYear;

/// The default fulfilment target, from the UK government department in the sources.
pub const DEFAULT_TARGET_DAYS: u32 = 120;

/// A request as the figures see it.
#[derive(Debug, Clone)]
pub struct RequestDates<'a> {
    pub category: &'a str,
    pub opened: NaiveDate,
    pub fulfilled: Option<NaiveDate>,
    pub cancelled: bool,
}

/// Days allowed to fulfil a request: a default and overrides per category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetDays {
    pub default: u32,
    pub by_category: BTreeMap<String, u32>,
}

impl Default for TargetDays {
    fn default() -> Self {
        Self {
            default: DEFAULT_TARGET_DAYS,
            by_category: BTreeMap::new(),
        }
    }
}

impl TargetDays {
    pub fn for_category(&self, category: &str) -> u32 {
        self.by_category
            .get(category)
            .copied()
            .unwrap_or(self.default)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RequestFigures {
    pub opened: u64,
    pub fulfilled: u64,
    pub cycle_median_days: Option<f64>,
    pub cycle_p90_days: Option<f64>,
    pub within_target: u64,
    /// Share of the fulfilled requests fulfilled within target, 0–1.
    pub within_target_share: Option<f64>,
    pub open_past_target: u64,
}

/// The figures of `requests` (one unit's, or the organisation's) in `period`, as of `today`.
pub fn request_figures(
    requests: &[RequestDates<'_>],
    period: HalfYear,
    today: NaiveDate,
    targets: &TargetDays,
) -> RequestFigures {
    let as_of = period.end().min(today);
    let mut figures = RequestFigures::default();
    let mut cycles = Vec::new();
    for request in requests {
        let target = i64::from(targets.for_category(request.category));
        if period.contains(request.opened) {
            figures.opened += 1;
        }
        match request.fulfilled {
            Some(fulfilled) if period.contains(fulfilled) && !request.cancelled => {
                let days = (fulfilled - request.opened).num_days();
                figures.fulfilled += 1;
                if days <= target {
                    figures.within_target += 1;
                }
                cycles.push(days as f64);
            }
            _ => {}
        }
        let open_at_end = !request.cancelled
            && request.opened <= as_of
            && request.fulfilled.is_none_or(|f| f > as_of);
        if open_at_end && (as_of - request.opened).num_days() > target {
            figures.open_past_target += 1;
        }
    }
    cycles.sort_by(f64::total_cmp);
    figures.cycle_median_days = quantile(&cycles, 0.5);
    figures.cycle_p90_days = quantile(&cycles, 0.9);
    figures.within_target_share =
        (figures.fulfilled > 0).then(|| figures.within_target as f64 / figures.fulfilled as f64);
    figures
}

/// The `q`-quantile of sorted values by linear interpolation (numpy's default); `None` when
/// there are none.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let position = q.clamp(0.0, 1.0) * last as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let fraction = position - below as f64;
    Some(sorted[below] + (sorted[above] - sorted[below]) * fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn request<'a>(category: &'a str, opened: &str, fulfilled: Option<&str>) -> RequestDates<'a> {
        RequestDates {
            category,
            opened: day(opened),
            fulfilled: fulfilled.map(day),
            cancelled: false,
        }
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[7.0], 0.9), Some(7.0));
        // numpy.percentile([1, 2, 3, 4], [50, 90]) == [2.5, 3.7]
        let values = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&values, 0.5), Some(2.5));
        assert!((quantile(&values, 0.9).unwrap() - 3.7).abs() < 1e-12);
    }

    #[test]
    fn counts_a_half_year_against_targets() {
        let targets = TargetDays {
            default: 120,
            by_category: BTreeMap::from([("Laptops".to_string(), 30)]),
        };
        let requests = vec![
            // Fulfilled in H1 in 100 days: within 120.
            request("Services", "2026-01-05", Some("2026-04-15")),
            // Fulfilled in H1 in 40 days, but laptops have a 30-day target.
            request("Laptops", "2026-02-01", Some("2026-03-13")),
            // Opened in 2025, fulfilled in H1 after 151 days: counted as fulfilled, not opened.
            request("Services", "2025-12-01", Some("2026-05-01")),
            // Still open at the end of June, opened 180 days before: past target.
            request("Services", "2026-01-01", None),
            // Open, opened 29 days before the end of June: not past target.
            request("Services", "2026-06-01", None),
            // Fulfilled in H2: open at the end of H1, 121 days old then (past target).
            request("Services", "2026-03-01", Some("2026-08-01")),
            // Cancelled: opened in H1 (counted), never open past target.
            RequestDates {
                cancelled: true,
                ..request("Services", "2026-02-02", None)
            },
        ];
        let h1 = HalfYear::parse("2026-H1").unwrap();
        let figures = request_figures(&requests, h1, day("2027-01-01"), &targets);
        assert_eq!(figures.opened, 6);
        assert_eq!(figures.fulfilled, 3);
        assert_eq!(figures.within_target, 1);
        assert_eq!(figures.within_target_share, Some(1.0 / 3.0));
        // Cycle times 40, 100, 151.
        assert_eq!(figures.cycle_median_days, Some(100.0));
        assert!((figures.cycle_p90_days.unwrap() - 140.8).abs() < 1e-9);
        assert_eq!(figures.open_past_target, 2);

        // As of 2026-05-01 (the current half-year), the first open request is 120 days old:
        // not yet past target.
        let figures = request_figures(&requests[3..4], h1, day("2026-05-01"), &targets);
        assert_eq!(figures.open_past_target, 0);
        let figures = request_figures(&requests[3..4], h1, day("2026-05-02"), &targets);
        assert_eq!(figures.open_past_target, 1);
    }
}
