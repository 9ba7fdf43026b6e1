//! A figure against its target: met, almost (within the "almost" band) or missed — pure.

use serde::{Deserialize, Serialize};

/// Which way is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
}

/// A figure's standing against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Met,
    /// Missed by no more than the "almost" band.
    Almost,
    Missed,
    /// There is a figure but no target.
    NoTarget,
    /// No figure for the period.
    NoData,
    /// A survey figure the release plan does not show for this unit.
    Hidden,
}

impl Status {
    /// The status of `value` against `target`: met when at least as good as the target,
    /// almost when worse by at most `almost`, missed otherwise.
    pub fn of(value: Option<f64>, target: Option<f64>, almost: f64, better: Better) -> Self {
        let Some(value) = value else {
            return Status::NoData;
        };
        let Some(target) = target else {
            return Status::NoTarget;
        };
        // How far the value falls short of the target (negative or zero: met).
        let shortfall = match better {
            Better::Higher => target - value,
            Better::Lower => value - target,
        };
        // A tolerance for figures computed in floating point (a share of 0.8 as 4/5).
        const EPSILON: f64 = 1e-9;
        if shortfall <= EPSILON {
            Status::Met
        } else if shortfall <= almost.max(0.0) + EPSILON {
            Status::Almost
        } else {
            Status::Missed
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::Almost => "almost",
            Status::Missed => "missed",
            Status::NoTarget => "no_target",
            Status::NoData => "no_data",
            Status::Hidden => "hidden",
        }
    }

    /// The status in words, for pages and exports.
    pub fn label(self) -> &'static str {
        match self {
            Status::Met => "Met",
            Status::Almost => "Almost",
            Status::Missed => "Missed",
            Status::NoTarget => "No target",
            Status::NoData => "No data",
            Status::Hidden => "Hidden to protect anonymity",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_is_better() {
        let of = |v: f64| Status::of(Some(v), Some(20.0), 5.0, Better::Higher);
        assert_eq!(of(25.0), Status::Met);
        assert_eq!(of(20.0), Status::Met);
        assert_eq!(of(15.0), Status::Almost);
        assert_eq!(of(14.9), Status::Missed);
    }

    #[test]
    fn lower_is_better() {
        let of = |v: f64| Status::of(Some(v), Some(120.0), 10.0, Better::Lower);
        assert_eq!(of(100.0), Status::Met);
        assert_eq!(of(130.0), Status::Almost);
        assert_eq!(of(131.0), Status::Missed);
    }

    #[test]
    fn missing_parts() {
        assert_eq!(
            Status::of(None, Some(1.0), 0.0, Better::Higher),
            Status::NoData
        );
        assert_eq!(
            Status::of(Some(1.0), None, 0.0, Better::Higher),
            Status::NoTarget
        );
        // Without a band there is no "almost".
        assert_eq!(
            Status::of(Some(0.79), Some(0.8), 0.0, Better::Higher),
            Status::Missed
        );
        assert_eq!(
            Status::of(Some(4.0 / 5.0), Some(0.8), 0.0, Better::Higher),
            Status::Met
        );
    }
}
