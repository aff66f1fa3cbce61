//! Mastodon's OAuth (methods/apps, methods/oauth, spec/oauth): our app registered on the
//! instance, the authorization address with PKCE S256 and `state`, and the code exchanged
//! for a token. The instance matches the redirect address exactly, at every step.

use base64::Engine as _;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::client::{Client, MastodonError};

/// What we ask for: posting statuses and media, and `profile` to learn the account's name
/// (`verify_credentials`, Mastodon 4.3 and later) without reading anything else of it.
pub const SCOPES: &str = "write:statuses write:media profile";
pub const CLIENT_NAME: &str = "captionfeed";

/// Our app's registration on one instance. The secret never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct AppCredentials {
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCredentials")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// A user's access token. It never prints: not in logs, not in error messages.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(pub String);

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessToken(…)")
    }
}

/// Registers our app on the instance for one redirect address (POST /api/v1/apps).
pub async fn register_app(
    client: &Client,
    origin: &str,
    redirect_uri: &str,
    website: &str,
) -> Result<AppCredentials, MastodonError> {
    let url = client.url(origin, "/api/v1/apps")?;
    let answer = client
        .send(client.post(url).json(&json!({
            "client_name": CLIENT_NAME,
            "redirect_uris": [redirect_uri],
            "scopes": SCOPES,
            "website": website,
        })))
        .await?;
    let field = |name: &str| {
        answer.body[name]
            .as_str()
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| MastodonError::Retry {
                message: format!("the instance registered the app without a {name}"),
                retry_after: None,
            })
    };
    Ok(AppCredentials {
        client_id: field("client_id")?,
        client_secret: field("client_secret")?,
    })
}

/// PKCE's pair: the verifier stays with us, the challenge goes in the authorization address.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    /// A fresh verifier: 43 URL-safe characters from 32 random bytes (RFC 7636 asks 43–128).
    pub fn new() -> Self {
        let verifier = crate::signing::random_token();
        Pkce {
            challenge: challenge_of(&verifier),
            verifier,
        }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Self::new()
    }
}

/// S256: the verifier's SHA-256, base64url without padding.
pub fn challenge_of(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Where the subscriber approves our app on their instance (GET /oauth/authorize).
pub fn authorize_url(
    client: &Client,
    origin: &str,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
) -> Result<String, MastodonError> {
    let mut url = client.url(origin, "/oauth/authorize")?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", SCOPES)
        .append_pair("state", state)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    Ok(url.to_string())
}

/// The code from the redirect, exchanged for a token (POST /oauth/token) with the verifier
/// and the same redirect address.
pub async fn exchange_code(
    client: &Client,
    origin: &str,
    app: &AppCredentials,
    redirect_uri: &str,
    code: &str,
    verifier: &str,
) -> Result<AccessToken, MastodonError> {
    let url = client.url(origin, "/oauth/token")?;
    let answer = client
        .send(client.post(url).form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
            ("scope", SCOPES),
        ]))
        .await?;
    answer.body["access_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(|t| AccessToken(t.to_string()))
        .ok_or_else(|| MastodonError::Retry {
            message: "the instance answered without a token".into(),
            retry_after: None,
        })
}

/// Gives a token back (POST /oauth/revoke): after a disconnect it is worth nothing.
pub async fn revoke(
    client: &Client,
    origin: &str,
    app: &AppCredentials,
    token: &AccessToken,
) -> Result<(), MastodonError> {
    let url = client.url(origin, "/oauth/revoke")?;
    client
        .send(client.post(url).form(&[
            ("client_id", app.client_id.as_str()),
            ("client_secret", &app.client_secret),
            ("token", &token.0),
        ]))
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feeds::guard::AddressPolicy;

    #[test]
    fn the_challenge_is_rfc_7636s_s256() {
        // RFC 7636 appendix B.
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let pkce = Pkce::new();
        assert_eq!(pkce.verifier.len(), 43);
        assert_eq!(pkce.challenge, challenge_of(&pkce.verifier));
    }

    #[test]
    fn the_authorization_address_carries_pkce_state_and_scopes() {
        let client = Client::new(&AddressPolicy::default()).unwrap();
        let url = authorize_url(
            &client,
            "https://mastodon.social",
            "id",
            "https://cf.example/connections/mastodon/callback",
            "the state",
            "the challenge",
        )
        .unwrap();
        let parsed = url::Url::parse(&url).unwrap();
        let query: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
        assert_eq!(parsed.path(), "/oauth/authorize");
        assert_eq!(query["code_challenge_method"], "S256");
        assert_eq!(query["code_challenge"], "the challenge");
        assert_eq!(query["state"], "the state");
        assert_eq!(query["scope"], SCOPES);
        assert_eq!(
            query["redirect_uri"],
            "https://cf.example/connections/mastodon/callback"
        );
    }

    #[test]
    fn credentials_never_print_their_secrets() {
        let app = AppCredentials {
            client_id: "public-id".into(),
            client_secret: "very-secret".into(),
        };
        assert!(!format!("{app:?}").contains("very-secret"));
        assert!(!format!("{:?}", AccessToken("tok-123".into())).contains("tok-123"));
    }
}
