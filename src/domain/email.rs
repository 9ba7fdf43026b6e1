//! A validated, normalised email address: trimmed, domain lower-cased (the local part is
//! kept as written: it is case-sensitive by the standard, though rarely in practice; see
//! [`EmailAddress::folded`] for the case-insensitive key the stakeholder directory matches by).

use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("the email address is empty".into());
        }
        if trimmed.chars().any(char::is_control) {
            return Err("the email address contains a control character".into());
        }
        let Some((local, domain)) = trimmed.rsplit_once('@') else {
            return Err(format!("'{trimmed}' is not an email address (no @)"));
        };
        let normalised = format!("{local}@{}", domain.to_lowercase());
        // A bare address only: no display name ("Anna <anna@example.com>") and no IP literal.
        let options = email_address::Options::default()
            .without_display_text()
            .without_domain_literal();
        if email_address::EmailAddress::parse_with_options(&normalised, options).is_err()
            || !domain.contains('.')
        {
            return Err(format!("'{trimmed}' is not a valid email address"));
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The whole address lower-cased: the key under which two spellings name the same
    /// mailbox in practice (`Anna.Berg@example.com`, `anna.berg@example.com`). The stakeholder
    /// import matches and de-duplicates by it, so an HR export that changes the case of an
    /// address updates the stakeholder instead of creating a second one.
    pub fn folded(&self) -> String {
        self.0.to_lowercase()
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Masked, so addresses do not end up in logs by accident.
impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", crate::telemetry::mask_email(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::EmailAddress;

    #[test]
    fn normalises_and_validates() {
        assert_eq!(
            EmailAddress::parse("  Anna.Berg@Example.COM ")
                .unwrap()
                .as_str(),
            "Anna.Berg@example.com"
        );
        for bad in [
            "",
            "anna",
            "anna@",
            "@example.com",
            "anna@localhost",
            "a b@example.com",
            "anna@exa\nmple.com",
            "Anna Berg <anna@example.com>",
            "anna@[192.168.0.1]",
            "anna@@example.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            EmailAddress::parse("anna@").unwrap_err(),
            "'anna@' is not a valid email address"
        );
        assert_eq!(
            EmailAddress::parse("Anna.Berg@Example.com")
                .unwrap()
                .folded(),
            "anna.berg@example.com"
        );
    }
}
