//! Kept so that `crate::services::results::…` paths keep working: the results live in
//! [`crate::results`] (model, figures, changes, store).

pub use crate::results::*;
