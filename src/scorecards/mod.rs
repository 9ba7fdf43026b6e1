//! Shared scorecards: each business unit's survey figures beside procurement's request and
//! KPI figures, per half-year, each against its target.
//!
//! * [`period`]: half-years (`2027-H1`).
//! * [`request_figures`]: opened, fulfilled, cycle times, share within target (pure).
//! * [`status`]: met / almost / missed against a target (pure).

pub mod period;
pub mod request_figures;
pub mod status;
