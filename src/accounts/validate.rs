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
        // email_address checks the RFC 5322 grammar (display text and [IP] literals refused,
        // a dot required in the domain); lettre, which sends the mail, must take it too, or
        // the verification link could never go out.
        let options = email_address::Options::default()
            .without_display_text()
            .without_domain_literal()
            .with_required_tld();
        if email_address::EmailAddress::parse_with_options(&email, options).is_err()
            || email.parse::<lettre::Address>().is_err()
        {
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
    fn addresses_are_taken_as_a_mail_server_would() {
        let accepted = [
            "ann@example.com",
            "ann.lee@example.com",
            "ann+captions@example.com",
            "o'brien@example.ie",
            "first_last-1@mail.example.co.uk",
            "x@ex-ample.com",
            "user%team@example.org",
            "ann@xn--bcher-kva.example",
            "josé@example.es",
            "ann@bücher.example",
            "{tag}~ok@example.com",
        ];
        for good in accepted {
            assert!(Email::parse(good).is_ok(), "{good} is refused");
        }
        let refused = [
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
            "<svg/onload=alert(1)>@example.com",
            "<script>@example.com",
            "Ann <ann@example.com>",
            "ann@[127.0.0.1]",
            "ann..lee@example.com",
            ".ann@example.com",
            "ann.@example.com",
            "ann(comment)@example.com",
            "ann,bob@example.com",
            "ann;bob@example.com",
            "ann@-example.com",
            "ann@example-.com",
            "\"ann lee\"@example.com",
            "ann\u{a0}lee@example.com",
        ];
        for bad in refused {
            let e = Email::parse(bad).expect_err(bad);
            assert!(matches!(e, AccountError::Invalid(_)), "{bad}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(
            Email::parse(&long_local).is_err(),
            "a local part over 64 characters"
        );
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(Password::parse("123456789").is_err());
        assert!(Password::parse("correct horse").is_ok());
    }
}
