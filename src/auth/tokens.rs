//! Random secrets and keyed hashes: session ids, CSRF tokens, and the SHA-256 digests under
//! which secrets are stored.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::SecretKey;

/// 256 random bits from the OS, URL-safe base64 (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Hex SHA-256, the form in which secrets are stored.
pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// URL-safe HMAC-SHA-256 of `parts` (joined with a separator that cannot appear in them
/// ambiguously: each part is length-prefixed).
pub fn hmac(key: &SecretKey, parts: &[&str]) -> String {
    // A key of any length is accepted by HMAC, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Constant-time string comparison.
pub fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token());
        let key = SecretKey::from_bytes([7; 32]);
        assert_eq!(hmac(&key, &["a", "bc"]), hmac(&key, &["a", "bc"]));
        assert_ne!(hmac(&key, &["a", "bc"]), hmac(&key, &["ab", "c"]));
        assert!(same("x", "x") && !same("x", "y"));
    }
}
