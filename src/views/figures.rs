//! How published figures read on a page: numbers in their unit, and a change in words and
//! colour that says whether it is **better or worse** — for NPS, CSAT and satisfaction
//! up is better; for pain points (complaints) down is better — and whether it is
//! significant. Shared by the results pages and the home page.

use serde::Serialize;

use crate::results::Change;

/// What a figure measures, for its unit and for which direction is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// NPS, in points (−100…100).
    Nps,
    /// A share (CSAT, top-2-box, a response rate), a fraction shown as %.
    Share,
    /// A mean on a satisfaction scale.
    Mean,
    /// A pain point's share: fewer is better.
    PainPoint,
}

impl Measure {
    fn lower_is_better(self) -> bool {
        matches!(self, Measure::PainPoint)
    }

    /// The figure itself.
    pub fn value(self, value: f64) -> String {
        match self {
            Measure::Nps => points(value),
            Measure::Share | Measure::PainPoint => pct(value),
            Measure::Mean => mean(value),
        }
    }

    /// A difference of the figure, with its unit.
    pub fn diff(self, diff: f64) -> String {
        match self {
            Measure::Nps => format!("{diff:+.1} points"),
            Measure::Share | Measure::PainPoint => {
                format!("{:+.1} percentage points", 100.0 * diff)
            }
            Measure::Mean => format!("{diff:+.2}"),
        }
    }

    /// A difference in few characters (tables, heatmap cells).
    pub fn short_diff(self, diff: f64) -> String {
        match self {
            Measure::Nps => format!("{diff:+.1}"),
            Measure::Share | Measure::PainPoint => format!("{:+.1} pp", 100.0 * diff),
            Measure::Mean => format!("{diff:+.2}"),
        }
    }
}

pub fn pct(share: f64) -> String {
    format!("{:.1} %", 100.0 * share)
}

pub fn points(score: f64) -> String {
    format!("{score:+.1}")
}

pub fn mean(m: f64) -> String {
    format!("{m:.2}")
}

pub fn p_value(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// A change as pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeView {
    /// "+6.2 points", "−0.25", "−6.8 percentage points".
    pub diff: String,
    /// "+6.2", "−6.8 pp".
    pub short: String,
    /// up, down or flat (the arrow).
    pub direction: &'static str,
    /// ▲, ▼ or ▬.
    pub arrow: &'static str,
    /// better, worse or same: what the change means.
    pub tone: &'static str,
    pub significant: bool,
    /// "a significant improvement", "a significant decline" or "not a significant change".
    pub verdict: &'static str,
    /// The CSS class of a flagged change (`sig-better`, `sig-worse`), else empty.
    pub class: &'static str,
    pub p: String,
    pub p_adjusted: String,
    /// The previous wave's figure.
    pub previous: String,
}

/// A change of a figure, or `None` without one.
pub fn change_view(change: Option<&Change>, measure: Measure) -> Option<ChangeView> {
    let c = change?;
    let direction = if c.diff > 0.0 {
        "up"
    } else if c.diff < 0.0 {
        "down"
    } else {
        "flat"
    };
    let tone = match direction {
        "flat" => "same",
        "up" if !measure.lower_is_better() => "better",
        "down" if measure.lower_is_better() => "better",
        _ => "worse",
    };
    let verdict = match (c.significant, tone) {
        (true, "better") => "a significant improvement",
        (true, _) => "a significant decline",
        (false, _) => "not a significant change",
    };
    Some(ChangeView {
        diff: measure.diff(c.diff),
        short: measure.short_diff(c.diff),
        direction,
        arrow: match direction {
            "up" => "▲",
            "down" => "▼",
            _ => "▬",
        },
        tone,
        significant: c.significant,
        verdict,
        class: match (c.significant, tone) {
            (true, "better") => "sig-better",
            (true, _) => "sig-worse",
            _ => "",
        },
        p: p_value(c.p),
        p_adjusted: p_value(c.p_adjusted),
        previous: measure.value(c.previous),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(diff: f64, significant: bool) -> Change {
        Change {
            previous: 0.3,
            diff,
            p: 0.001,
            p_adjusted: 0.002,
            min_effect: 0.05,
            significant,
        }
    }

    #[test]
    fn fewer_complaints_read_as_an_improvement() {
        let fewer = change_view(Some(&change(-0.068, true)), Measure::PainPoint).unwrap();
        assert_eq!(fewer.tone, "better");
        assert_eq!(fewer.class, "sig-better");
        assert_eq!(fewer.verdict, "a significant improvement");
        assert_eq!(fewer.diff, "-6.8 percentage points");
        let lower_nps = change_view(Some(&change(-6.8, true)), Measure::Nps).unwrap();
        assert_eq!(lower_nps.tone, "worse");
        assert_eq!(lower_nps.class, "sig-worse");
        let small = change_view(Some(&change(0.01, false)), Measure::Mean).unwrap();
        assert_eq!(small.class, "");
        assert_eq!(small.verdict, "not a significant change");
        assert!(change_view(None, Measure::Nps).is_none());
    }
}
