//! The rendered body of the results page, kept while it is still true: a lead who opens
//! the same results again (or another lead the same view) gets the HTML rendered last
//! time, without reading the comments or rendering 100 kB of template again.
//!
//! An entry is used only for the very results it was rendered from — the same `Arc`s the
//! results cache hands out (the whole wave's too, which fills the group picker), compared
//! by identity; the entry holds them, so their addresses cannot be reused while it lives —
//! and for the same query (filter, heatmap breakdown, comment category and page) and the
//! same actions beside the figures (their JSON is part of the key). Results recomputed
//! after a new answer, a changed action, another page: a new rendering. What differs per
//! person (the signed-in account, its CSRF token) is in the layout, rendered each time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::actions::BesideFigures;
use crate::error::AppError;
use crate::results::WaveResults;

use super::results_page::ResultsQuery;

/// Bodies kept at most (about 100 kB each for a large wave); the cache starts over when
/// full.
const MAX_ENTRIES: usize = 64;

struct Entry {
    results: Arc<WaveResults>,
    whole: Arc<WaveResults>,
    body: Arc<str>,
}

#[derive(Default)]
pub struct ResultsPageCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl ResultsPageCache {
    /// The body for `results` (of the whole wave or of a filter; `whole` the whole wave's)
    /// with `query` and `actions`: the one kept, or `render`'s, which is then kept.
    pub fn body(
        &self,
        results: &Arc<WaveResults>,
        whole: &Arc<WaveResults>,
        query: &ResultsQuery,
        actions: &BesideFigures,
        render: impl FnOnce() -> Result<String, AppError>,
    ) -> Result<Arc<str>, AppError> {
        let key = serde_json::to_string(&(
            &results.wave.id,
            &query.filter,
            &query.by,
            &query.comments,
            query.page,
            actions,
        ))
        .map_err(AppError::unexpected)?;
        if let Some(entry) = self.lock().get(&key) {
            if Arc::ptr_eq(&entry.results, results) && Arc::ptr_eq(&entry.whole, whole) {
                return Ok(entry.body.clone());
            }
        }
        let body: Arc<str> = render()?.into();
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                results: results.clone(),
                whole: whole.clone(),
                body: body.clone(),
            },
        );
        Ok(body)
    }

    /// Forgets every body (the benchmark's cold runs).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
