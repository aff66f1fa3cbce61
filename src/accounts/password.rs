//! Password hashing with argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes).

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

use super::validate::Password;
use super::AccountError;

/// Hashes a password into a PHC string. CPU-heavy: call from blocking code.
pub fn hash(password: &Password) -> Result<String, AccountError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Invalid(format!("could not hash the password: {e}")))
}

/// Whether `password` matches the stored hash. CPU-heavy: call from blocking code.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// [`hash`] on the blocking thread pool, holding no database connection: argon2 takes
/// tens of milliseconds, and a burst of sign-ups must not take the pool's connections.
pub async fn hash_blocking(password: Password) -> Result<String, AccountError> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| AccountError::Invalid(format!("could not hash the password: {e}")))?
}

/// Whether `password` matches `stored`, on the blocking thread pool (as
/// [`hash_blocking`]); with no stored hash, false after the same work.
pub async fn verify_blocking(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match stored {
        Some(stored) => verify(&password, &stored),
        None => {
            verify_against_nothing(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// Spends the time of one verification, so that a login for an unknown email takes as
/// long as one with a wrong password and does not reveal which emails have accounts.
pub fn verify_against_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| {
        Password::parse("not a real password, only a timing decoy")
            .ok()
            .and_then(|p| hash(&p).ok())
    });
    if let Some(dummy) = dummy {
        let _ = verify(password, dummy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let p = Password::parse("correct horse battery").unwrap();
        let h = hash(&p).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterY", &h));
        assert!(!verify("correct horse battery", "not a hash"));
    }
}
