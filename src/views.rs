//! Templates: one Handlebars registry in strict mode for HTML (pages, error pages, the HTML
//! part of emails) and one without escaping for plain text (email subjects and text
//! bodies). Templates are embedded in the binary, so `pulse` runs from any directory.
//!
//! Names are paths below `templates/` without the extension: `pages/login`,
//! `layouts/base`, `email/invitation/body` (in both registries: `.html.hbs` and `.txt.hbs`).

pub mod actions;
pub mod api;
pub mod figures;
pub mod heard;
pub mod home;
pub mod map_page;
pub mod mirror_page;
pub mod optout_page;
pub mod pulses;
pub mod results_cache;
pub mod results_page;
pub mod scorecards;
pub mod survey_form;

use std::sync::LazyLock;

use handlebars::Handlebars;
use rust_embed::RustEmbed;
use serde::Serialize;

#[derive(RustEmbed)]
#[folder = "templates/"]
pub struct Embedded;

pub struct Views {
    html: Handlebars<'static>,
    text: Handlebars<'static>,
}

static VIEWS: LazyLock<Views> = LazyLock::new(Views::load);

impl Views {
    fn load() -> Self {
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.register_escape_fn(handlebars::no_escape);
        for path in Embedded::iter() {
            let Some(file) = Embedded::get(&path) else {
                continue;
            };
            let source = String::from_utf8_lossy(&file.data);
            let (registry, name) = if let Some(name) = path.strip_suffix(".html.hbs") {
                (&mut html, name)
            } else if let Some(name) = path.strip_suffix(".txt.hbs") {
                (&mut text, name)
            } else {
                continue;
            };
            // The templates are part of the binary and covered by tests: a syntax error is
            // a build defect, so failing loudly at first use is right.
            if let Err(error) = registry.register_template_string(name, source.as_ref()) {
                panic!("template {path} does not compile: {error}");
            }
        }
        Self { html, text }
    }
}

/// Renders an HTML template (escaped).
pub fn render_html(
    name: &str,
    context: &impl Serialize,
) -> Result<String, handlebars::RenderError> {
    VIEWS.html.render(name, context)
}

/// Renders a plain-text template (not escaped: never put its output into HTML).
pub fn render_text(
    name: &str,
    context: &impl Serialize,
) -> Result<String, handlebars::RenderError> {
    VIEWS.text.render(name, context)
}

/// Does an HTML template of that name exist?
pub fn has_html(name: &str) -> bool {
    VIEWS.html.has_template(name)
}

/// A static asset (`templates/assets/…`) with its content type.
pub fn asset(name: &str) -> Option<(std::borrow::Cow<'static, [u8]>, &'static str)> {
    let file = Embedded::get(&format!("assets/{name}"))?;
    let content_type = match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    };
    Some((file.data, content_type))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_compiles_and_html_escapes() {
        let page = super::render_html(
            "errors/404",
            &serde_json::json!({"title": "<b>x</b>", "message": "<script>alert(1)</script>", "status": 404, "user": null, "lang": "en", "flash": null, "back_href": "/", "back_label": "Start", "role_note": null}),
        )
        .unwrap();
        assert!(page.contains("&lt;script&gt;"), "{page}");
        assert!(!page.contains("<script>"));
    }
}

/// What every page's layout needs, plus the page's own data (flattened into the context).
#[derive(Serialize)]
pub struct Page<'a, T: Serialize> {
    pub title: &'a str,
    pub lang: &'a str,
    pub user: Option<&'a crate::auth::CurrentUser>,
    pub csrf_token: Option<&'a str>,
    /// The message the previous action left for this page ("H1 2027 closed; …").
    pub flash: Option<&'a str>,
    #[serde(flatten)]
    pub data: T,
}

impl<'a, T: Serialize> Page<'a, T> {
    /// A page for a signed-in user.
    pub fn signed_in(title: &'a str, signed_in: &'a crate::auth::SignedIn, data: T) -> Self {
        Self {
            title,
            lang: "en",
            user: Some(&signed_in.user),
            csrf_token: Some(&signed_in.csrf_token),
            flash: signed_in.flash.as_deref(),
            data,
        }
    }

    /// A page for anyone (sign-in page, error pages, respondent pages).
    pub fn public(title: &'a str, lang: &'a str, data: T) -> Self {
        Self {
            title,
            lang,
            user: None,
            csrf_token: None,
            flash: None,
            data,
        }
    }

    pub fn render(&self, template: &str) -> Result<String, crate::error::AppError> {
        render_html(template, self).map_err(crate::error::AppError::unexpected)
    }
}
