//! Structured logs via `tracing`. Log lines never carry survey tokens, and email addresses
//! only in masked form (see [`mask_email`]).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber: logs go to stderr (stdout is for what a command prints). `filter` is an `EnvFilter` directive such as `info` or
/// `pulse=debug,actix_web=info`; `RUST_LOG` wins when set.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    // A second call (tests start many apps in one process) keeps the first subscriber.
    // Colour codes only for a terminal: a log file or a pipe gets plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

/// `anna.berg@example.com` → `a***@example.com`: enough to tell a support case apart,
/// not enough to identify a person in a log file.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_string(),
    }
}

/// Masks every email address inside a free text (an SMTP reply often repeats it).
pub fn mask_emails_in(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let trimmed = word.trim_matches(|c: char| {
                matches!(c, '<' | '>' | ',' | ';' | ':' | '(' | ')' | '"' | '\'')
            });
            if trimmed.contains('@') {
                word.replace(trimmed, &mask_email(trimmed))
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::{mask_email, mask_emails_in};

    #[test]
    fn masks_addresses_inside_text() {
        assert_eq!(
            mask_emails_in("550 5.1.1 <anna@example.com>: no such user"),
            "550 5.1.1 <a***@example.com>: no such user"
        );
    }

    #[test]
    fn masks_the_local_part() {
        assert_eq!(mask_email("anna.berg@example.com"), "a***@example.com");
        assert_eq!(mask_email("nonsense"), "***");
    }
}
