//! The few Stripe API calls captionfeed makes (customers, Checkout Sessions, customer
//! portal sessions), as form-encoded requests over the reqwest client the project already
//! has. async-stripe was measured and left out: see the README's Billing section.
//!
//! Every POST carries an `Idempotency-Key` derived from our own ids, so a retried or
//! double-submitted request creates one object, and has a timeout, so a slow Stripe
//! cannot hold a page.

use std::time::Duration;

use crate::config::Secret;

const TIMEOUT: Duration = Duration::from_secs(20);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    #[error("Stripe could not be reached: {0}")]
    Network(String),
    #[error("Stripe answered {status}: {message}")]
    Api { status: u16, message: String },
    #[error("Stripe's answer could not be read: {0}")]
    Answer(String),
}

/// A client for one Stripe account.
#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    base: url::Url,
    key: Secret,
}

/// What a Checkout Session is made from.
pub struct CheckoutRequest<'a> {
    pub customer: &'a str,
    pub price: &'a str,
    pub account_id: &'a str,
    pub plan: &'a str,
    pub success_url: &'a str,
    pub cancel_url: &'a str,
    pub idempotency_key: &'a str,
}

impl StripeClient {
    pub fn new(base: url::Url, key: Secret) -> Result<Self, StripeError> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("captionfeed/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StripeError::Network(e.to_string()))?;
        Ok(StripeClient { http, base, key })
    }

    /// Creates the account's Stripe customer.
    pub async fn create_customer(
        &self,
        email: &str,
        account_id: &str,
        idempotency_key: &str,
    ) -> Result<String, StripeError> {
        let answer = self
            .post(
                "v1/customers",
                &[("email", email), ("metadata[account_id]", account_id)],
                idempotency_key,
            )
            .await?;
        text_field(&answer, "id")
    }

    /// Starts a Checkout Session in subscription mode; returns its id and the page to send
    /// the person to.
    pub async fn create_checkout_session(
        &self,
        request: &CheckoutRequest<'_>,
    ) -> Result<(String, String), StripeError> {
        let answer = self
            .post(
                "v1/checkout/sessions",
                &[
                    ("mode", "subscription"),
                    ("customer", request.customer),
                    ("line_items[0][price]", request.price),
                    ("line_items[0][quantity]", "1"),
                    ("client_reference_id", request.account_id),
                    ("metadata[account_id]", request.account_id),
                    ("metadata[plan]", request.plan),
                    (
                        "subscription_data[metadata][account_id]",
                        request.account_id,
                    ),
                    ("success_url", request.success_url),
                    ("cancel_url", request.cancel_url),
                ],
                request.idempotency_key,
            )
            .await?;
        Ok((text_field(&answer, "id")?, text_field(&answer, "url")?))
    }

    /// Opens a customer portal session; returns its page.
    pub async fn create_portal_session(
        &self,
        customer: &str,
        return_url: &str,
        idempotency_key: &str,
    ) -> Result<String, StripeError> {
        let answer = self
            .post(
                "v1/billing_portal/sessions",
                &[("customer", customer), ("return_url", return_url)],
                idempotency_key,
            )
            .await?;
        text_field(&answer, "url")
    }

    /// Cancels a subscription at once (an account being deleted); its invoices stay in
    /// Stripe. Returns the subscription's status afterwards. A DELETE is idempotent by
    /// itself, and Stripe takes idempotency keys on POSTs only.
    pub async fn cancel_subscription(&self, subscription: &str) -> Result<String, StripeError> {
        let answer = self
            .send(
                reqwest::Method::DELETE,
                &format!("v1/subscriptions/{subscription}"),
                &[],
                None,
            )
            .await?;
        text_field(&answer, "status")
    }

    async fn post(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        idempotency_key: &str,
    ) -> Result<serde_json::Value, StripeError> {
        self.send(reqwest::Method::POST, path, fields, Some(idempotency_key))
            .await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        fields: &[(&str, &str)],
        idempotency_key: Option<&str>,
    ) -> Result<serde_json::Value, StripeError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| StripeError::Network(format!("{path}: {e}")))?;
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(self.key.expose())
            .header("Content-Type", "application/x-www-form-urlencoded");
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| StripeError::Network(e.to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| StripeError::Network(e.to_string()))?;
        let answer: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| StripeError::Answer(format!("{status}: {e}")))?;
        if !status.is_success() {
            let message = answer
                .pointer("/error/message")
                .and_then(|m| m.as_str())
                .unwrap_or("no message")
                .to_string();
            return Err(StripeError::Api {
                status: status.as_u16(),
                message,
            });
        }
        Ok(answer)
    }
}

fn text_field(answer: &serde_json::Value, name: &str) -> Result<String, StripeError> {
    answer
        .get(name)
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| StripeError::Answer(format!("no {name:?} in the answer")))
}
