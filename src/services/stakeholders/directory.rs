//! The stakeholder directory as the admin page shows it: search by email or name, filter by
//! attributes (the [`AudienceFilter`] a wave's audience uses, so "who would this wave
//! invite?" is one search), active/inactive, one page at a time, with each person's
//! opt-outs and whether their address is suppressed (hard bounce).
//!
//! Like [`super::list`], matching runs in Rust over the loaded directory: attributes are JSON
//! text, which the two backends query differently, and a directory of 100,000 loads fast.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::Context;

use crate::db::models::{opt_outs, stakeholders};
use crate::db::DbConn;
use crate::domain::audience::AudienceFilter;

use super::Stakeholder;

/// Rows per page.
pub const PAGE_SIZE: usize = 50;

/// Which stakeholders by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateFilter {
    #[default]
    Active,
    Inactive,
    All,
}

impl StateFilter {
    fn admits(self, active: bool) -> bool {
        match self {
            StateFilter::Active => active,
            StateFilter::Inactive => !active,
            StateFilter::All => true,
        }
    }
}

/// A search of the directory.
#[derive(Debug, Clone, Default)]
pub struct DirectoryQuery {
    /// Case-insensitive substring of the email or the name; empty for everyone.
    pub text: String,
    pub filter: AudienceFilter,
    pub state: StateFilter,
    /// 1-based; beyond the last page gives the last page.
    pub page: usize,
}

/// One stakeholder as listed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DirectoryEntry {
    pub email: String,
    pub name: Option<String>,
    pub language: Option<String>,
    /// `(attribute, value)` pairs, sorted by attribute.
    pub attributes: Vec<(String, String)>,
    pub active: bool,
    /// Slugs of the surveys this person opted out of.
    pub opted_out_of: Vec<String>,
    /// Mail to the address bounced for good; no wave mails it.
    pub suppressed: bool,
}

/// One page of a search, with the counts and the values the filters can offer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DirectoryPage {
    /// Every stakeholder, active or not.
    pub total: usize,
    pub active: usize,
    /// Those the search selects (all pages).
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
    pub entries: Vec<DirectoryEntry>,
    /// Every attribute in the directory with its distinct values, sorted.
    pub attributes: BTreeMap<String, BTreeSet<String>>,
}

/// Runs `query` over the directory.
pub fn search(conn: &mut DbConn, query: &DirectoryQuery) -> anyhow::Result<DirectoryPage> {
    let rows = stakeholders::load_all(conn).context("cannot read the stakeholders")?;
    let mut opted_out: HashMap<String, Vec<String>> = HashMap::new();
    for (stakeholder_id, slug) in opt_outs::all(conn).context("cannot read the opt-outs")? {
        opted_out.entry(stakeholder_id).or_default().push(slug);
    }
    let suppressed = opt_outs::suppressed_emails(conn).context("cannot read the suppressions")?;

    let needle = query.text.trim().to_lowercase();
    let total = rows.len();
    let mut active = 0;
    let mut attributes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut selected = Vec::new();
    for row in rows {
        let stakeholder = Stakeholder::try_from(row)?;
        if stakeholder.active {
            active += 1;
        }
        for (name, value) in stakeholder.attributes.iter() {
            attributes
                .entry(name.to_string())
                .or_default()
                .insert(value.to_string());
        }
        let text_matches = needle.is_empty()
            || stakeholder.email.to_lowercase().contains(&needle)
            || stakeholder
                .name
                .as_deref()
                .is_some_and(|name| name.to_lowercase().contains(&needle));
        if text_matches
            && query.state.admits(stakeholder.active)
            && query.filter.matches(&stakeholder.attributes)
        {
            selected.push(stakeholder);
        }
    }

    let matching = selected.len();
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    let page = query.page.clamp(1, pages);
    let entries = selected
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|s| DirectoryEntry {
            opted_out_of: opted_out.remove(&s.id).unwrap_or_default(),
            suppressed: suppressed.contains(&s.email),
            attributes: s
                .attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            email: s.email,
            name: s.name,
            language: s.language,
            active: s.active,
        })
        .collect();
    Ok(DirectoryPage {
        total,
        active,
        matching,
        page,
        pages,
        entries,
        attributes,
    })
}
