//! The comments of the results page: one page of them, with the category links the
//! anonymity rules allow and the pager.

use super::*;

#[derive(Debug, Serialize)]
pub struct CommentsView {
    pub total: u64,
    pub matching: u64,
    pub filters: Vec<CommentFilter>,
    pub items: Vec<CommentItem>,
    pub page: usize,
    pub pages: usize,
    pub previous_href: Option<String>,
    pub next_href: Option<String>,
    pub first: u64,
    pub last: u64,
}

#[derive(Debug, Serialize)]
pub struct CommentFilter {
    pub label: &'static str,
    pub count: u64,
    pub selected: bool,
    pub href: String,
}

#[derive(Debug, Serialize)]
pub struct CommentItem {
    pub text: String,
    pub category: Option<&'static str>,
}

pub(super) fn comments(
    page: &CommentsPage,
    query: &ResultsQuery,
    _since: &Option<String>,
) -> CommentsView {
    let by = query
        .by
        .as_deref()
        .map(|b| format!("&by={}", url_encode(b)))
        .unwrap_or_default();
    let href = |category: Option<NpsCategory>, page: usize| {
        let mut parts = Vec::new();
        if let Some(c) = category {
            parts.push(format!("comments={}", c.as_str()));
        }
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        let query = parts.join("&");
        format!("?{query}{by}#comments")
    };
    let mut filters = vec![CommentFilter {
        label: "All",
        count: page.total,
        selected: page.category.is_none(),
        href: href(None, 1),
    }];
    if let Some([promoters, passives, detractors]) = page.categories {
        for (category, label, count) in [
            (NpsCategory::Promoter, "Promoters", promoters),
            (NpsCategory::Passive, "Passives", passives),
            (NpsCategory::Detractor, "Detractors", detractors),
        ] {
            filters.push(CommentFilter {
                label,
                count,
                selected: page.category == Some(category),
                href: href(Some(category), 1),
            });
        }
    }
    let per_page = crate::results::COMMENTS_PER_PAGE as u64;
    let first = (page.page as u64 - 1) * per_page + 1;
    CommentsView {
        total: page.total,
        matching: page.matching,
        filters,
        items: page
            .items
            .iter()
            .map(|i| CommentItem {
                text: i.text.clone(),
                category: i.category.map(NpsCategory::as_str),
            })
            .collect(),
        page: page.page,
        pages: page.pages,
        previous_href: (page.page > 1).then(|| href(page.category, page.page - 1)),
        next_href: (page.page < page.pages).then(|| href(page.category, page.page + 1)),
        first: first.min(page.matching),
        last: (first + page.items.len() as u64).saturating_sub(1),
    }
}
