//! Carrying an uploaded CSV from an import preview to its confirmation, without storing it
//! anywhere: the stakeholder import, and the request-log and KPI-value imports of the
//! scorecards (each a [`Purpose`], so a file sealed for one cannot be confirmed as another).
//!
//! The preview page puts the file itself into the confirmation form — base64url, so the
//! browser sends back exactly the bytes it got (form encoding normalises line breaks in
//! plain text) — together with the time of the preview, the import's one choice (the
//! stakeholder import's `deactivate_missing`; `false` for the others) and an HMAC over all
//! of them and the purpose, keyed with the server's secret key and bound to the admin's
//! session. The confirmation verifies the HMAC and then parses and imports the very bytes
//! that were previewed.
//!
//! Why not a pending import on the server, keyed by a random id? Several `pulse serve`
//! instances may share one PostgreSQL database behind a load balancer: the confirmation can
//! reach another instance than the preview, so memory will not do, and a table of pending
//! uploads would need cleaning. A sealed form needs neither: it cannot be altered (the HMAC),
//! replayed by another session (the session token is part of it) or kept for later (it
//! expires after [`MAX_AGE_SECONDS`]). The price is that a large file travels twice; the
//! upload limit keeps that reasonable.
//!
//! A sealed import that is confirmed twice (a double click) is simply imported twice: the
//! second run finds every row unchanged.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;

use crate::auth::tokens::{hmac, same};
use crate::config::SecretKey;

/// How long a preview can be confirmed.
pub const MAX_AGE_SECONDS: i64 = 3600;

/// What a sealed file is for: part of the HMAC, so a file previewed for one import cannot
/// be confirmed as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Stakeholders,
    Requests,
    KpiValues,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Stakeholders => "stakeholder-import",
            Purpose::Requests => "request-import",
            Purpose::KpiValues => "kpi-import",
        }
    }
}

/// The hidden fields of the confirmation form.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SealedImport {
    /// The file, base64url without padding.
    pub content: String,
    /// When the preview was made (Unix seconds).
    pub issued_at: i64,
    /// The import's one choice (the stakeholder import's `deactivate_missing`).
    pub option: bool,
    pub seal: String,
}

/// Why a sealed import is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the confirmation does not match the previewed file (it was altered, or comes from another session)")]
    Invalid,
    #[error("the preview is more than an hour old: upload the file again")]
    Expired,
}

fn mac(
    key: &SecretKey,
    purpose: Purpose,
    session: &str,
    content: &str,
    issued_at: i64,
    option: bool,
) -> String {
    hmac(
        key,
        &[
            purpose.as_str(),
            session,
            &issued_at.to_string(),
            // The stakeholder import's words, kept so its seals stay as they were.
            if option { "deactivate" } else { "keep" },
            content,
        ],
    )
}

/// Seals `bytes` for `purpose` and the session behind `session_token`.
pub fn seal(
    key: &SecretKey,
    purpose: Purpose,
    session_token: &str,
    bytes: &[u8],
    option: bool,
    now: NaiveDateTime,
) -> SealedImport {
    let content = URL_SAFE_NO_PAD.encode(bytes);
    let issued_at = now.and_utc().timestamp();
    let seal = mac(key, purpose, session_token, &content, issued_at, option);
    SealedImport {
        content,
        issued_at,
        option,
        seal,
    }
}

/// The file's bytes, if `sealed` was made by [`seal`] for this purpose and session less
/// than [`MAX_AGE_SECONDS`] ago.
pub fn open(
    key: &SecretKey,
    purpose: Purpose,
    session_token: &str,
    sealed: &SealedImport,
    now: NaiveDateTime,
) -> Result<Vec<u8>, SealError> {
    let expected = mac(
        key,
        purpose,
        session_token,
        &sealed.content,
        sealed.issued_at,
        sealed.option,
    );
    if !same(&expected, &sealed.seal) {
        return Err(SealError::Invalid);
    }
    let age = now.and_utc().timestamp() - sealed.issued_at;
    if !(0..=MAX_AGE_SECONDS).contains(&age) {
        return Err(SealError::Expired);
    }
    URL_SAFE_NO_PAD
        .decode(&sealed.content)
        .map_err(|_| SealError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(seconds, 0)
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn a_sealed_file_opens_only_unchanged_in_its_session_and_in_time() {
        let key = SecretKey::from_bytes([9; 32]);
        let bytes = b"email;name\r\nanna@example.com;\"Berg, Anna\"\r\n";
        let purpose = Purpose::Stakeholders;
        let sealed = seal(&key, purpose, "session-a", bytes, true, at(1_000));
        assert_eq!(
            open(&key, purpose, "session-a", &sealed, at(1_010)).unwrap(),
            bytes
        );
        assert_eq!(
            open(&key, purpose, "session-b", &sealed, at(1_010)),
            Err(SealError::Invalid)
        );
        for other in [Purpose::Requests, Purpose::KpiValues] {
            assert_eq!(
                open(&key, other, "session-a", &sealed, at(1_010)),
                Err(SealError::Invalid),
                "sealed for the stakeholders, confirmed as {other:?}"
            );
        }
        let mut flipped = sealed.clone();
        flipped.option = false;
        assert_eq!(
            open(&key, purpose, "session-a", &flipped, at(1_010)),
            Err(SealError::Invalid)
        );
        let mut altered = sealed.clone();
        altered.content = URL_SAFE_NO_PAD.encode(b"email\nmallory@example.com\n");
        assert_eq!(
            open(&key, purpose, "session-a", &altered, at(1_010)),
            Err(SealError::Invalid)
        );
        assert_eq!(
            open(
                &key,
                purpose,
                "session-a",
                &sealed,
                at(1_000 + MAX_AGE_SECONDS + 1)
            ),
            Err(SealError::Expired)
        );
    }
}
