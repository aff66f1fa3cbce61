//! Sign-up input parsed into types that are valid by construction.

use super::AccountError;

/// A normalized email address (trimmed, lower-cased) of a plausible shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, AccountError> {
        let email = raw.trim().to_lowercase();
        let invalid =
            || AccountError::Invalid(format!("{:?} is not a valid email address", raw.trim()));
        if email.is_empty() {
            return Err(AccountError::Invalid("enter your email address".into()));
        }
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.contains('@') || local.len() > 64 || !domain_ok {
            return Err(invalid());
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password long enough to be worth hashing.
pub struct Password(String);

/// The shortest password accepted; NIST SP 800-63B asks for at least 8.
pub const MIN_PASSWORD_CHARS: usize = 10;
const MAX_PASSWORD_CHARS: usize = 1024;

impl Password {
    pub fn parse(raw: &str) -> Result<Self, AccountError> {
        let n = raw.chars().count();
        if n < MIN_PASSWORD_CHARS {
            return Err(AccountError::Invalid(format!(
                "the password must have at least {MIN_PASSWORD_CHARS} characters"
            )));
        }
        if n > MAX_PASSWORD_CHARS {
            return Err(AccountError::Invalid(format!(
                "the password must have at most {MAX_PASSWORD_CHARS} characters"
            )));
        }
        Ok(Password(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized() {
        assert_eq!(
            Email::parse("  Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
    }

    #[test]
    fn malformed_emails_are_refused_with_a_message() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "ann @example.com",
            "a@b@c.com",
            "ann@.example.com",
            "ann@example..com",
            "ann@exa\nmple.com",
        ] {
            let e = Email::parse(bad).expect_err(bad);
            assert!(matches!(e, AccountError::Invalid(_)), "{bad}");
        }
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(Password::parse("123456789").is_err());
        assert!(Password::parse("correct horse").is_ok());
    }
}
