//! Survey, unsubscribe and "what we heard" link tokens. A token is derived as HMAC(secret
//! key, purpose, invitation id — or summary id): 256 bits, URL-safe, reproducible for
//! reminders, and never stored — the database holds only its SHA-256 ([`TokenHash`]). The
//! plaintext is redacted in `Debug` so it cannot end up in a log by accident.

use std::fmt;

use crate::auth::tokens::{hmac, sha256_hex};
use crate::config::SecretKey;

/// What a link token opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// `/s/{token}`: the survey form.
    Survey,
    /// `/u/{token}`: the opt-out page.
    Unsubscribe,
    /// `/w/{token}`: a closed wave's "what we heard" page (derived from the summary's id).
    Summary,
}

impl TokenPurpose {
    fn label(self) -> &'static str {
        match self {
            TokenPurpose::Survey => "survey-link",
            TokenPurpose::Unsubscribe => "unsubscribe-link",
            TokenPurpose::Summary => "summary-link",
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct LinkToken(String);

impl LinkToken {
    /// The token of `invitation_id` for `purpose`.
    pub fn derive(key: &SecretKey, purpose: TokenPurpose, invitation_id: &str) -> Self {
        Self(hmac(key, &[purpose.label(), invitation_id]))
    }

    /// A token as it arrives in a URL. Only its shape is checked: anything else is simply
    /// not found, with the same answer as a wrong token.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = (20..=128).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(raw.to_string()))
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(sha256_hex(&self.0))
    }

    /// The plaintext, for building the link in an email. Never log or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The mark an answered invitation leaves: HMAC(secret key, "answered-mark", invitation
/// id). The database holds marks, never a responded flag: without the key a mark cannot be
/// matched to its invitation (nor told apart from any other random text), so a copy of the
/// database does not say who answered. The server, which has the key, recomputes the mark
/// of an invitation to know whether it was used.
pub fn answered_mark(key: &SecretKey, invitation_id: &str) -> String {
    hmac(key, &["answered-mark", invitation_id])
}

/// Where a pulse answer is stored until its period closes: "sealed:" + HMAC(secret key,
/// "pulse-cell", invitation id). Pulse invitations arrive one by one, so no group of k
/// invitees is known when the answer comes; the answer's group is only worked out, by the
/// server with the key, when the period closes (`pulse::close_due`). Without the key the
/// sealed cell matches no invitation.
pub fn sealed_cell(key: &SecretKey, invitation_id: &str) -> String {
    format!(
        "{SEALED_CELL_PREFIX}{}",
        hmac(key, &["pulse-cell", invitation_id])
    )
}

/// The prefix of [`sealed_cell`]s.
pub const SEALED_CELL_PREFIX: &str = "sealed:";

impl fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkToken(***)")
    }
}

/// SHA-256 (hex) of a link token: what the database stores and looks up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHash(String);

impl TokenHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_derived_per_purpose_and_hashed() {
        let key = SecretKey::from_bytes([3; 32]);
        let survey = LinkToken::derive(&key, TokenPurpose::Survey, "inv-1");
        let again = LinkToken::derive(&key, TokenPurpose::Survey, "inv-1");
        let unsubscribe = LinkToken::derive(&key, TokenPurpose::Unsubscribe, "inv-1");
        assert_eq!(survey, again);
        assert_ne!(survey, unsubscribe);
        assert_eq!(survey.expose().len(), 43, "256 bits in URL-safe base64");
        assert_ne!(survey.hash().as_str(), survey.expose());
        assert_eq!(format!("{survey:?}"), "LinkToken(***)");
        assert!(LinkToken::parse(survey.expose()).is_some());
        assert!(LinkToken::parse("../etc/passwd").is_none());
        assert!(LinkToken::parse("short").is_none());
    }
}
