//! Typed settings read from `CAPTIONFEED_*` environment variables.
//!
//! Every setting has a default that suits the single-node mode, so `captionfeed serve`
//! needs no configuration. Anything unknown or invalid stops the start with a message
//! that names the variable: a typo must never silently fall back to a default.

use std::net::SocketAddr;
use std::time::Duration;

use crate::db::DatabaseUrl;

pub mod plans;

/// Which addresses the fetcher may reach: the public internet always; the private
/// ranges as a whole with `allow_private` (tests, local trials); and exactly the
/// `allowed` ranges (`CAPTIONFEED_ALLOWED_NETWORKS`), say one intranet blog host.
/// `feeds::guard` decides what it permits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    pub allow_private: bool,
    pub allowed: Vec<ipnet::IpNet>,
}

impl AddressPolicy {
    /// Private ranges open as a whole (development and tests).
    pub fn open() -> Self {
        AddressPolicy {
            allow_private: true,
            allowed: Vec::new(),
        }
    }
}

/// Which kinds of work this process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Web and background work in one process (the default).
    All,
    /// Only the HTTP server.
    Web,
    /// Only background work (the poller).
    Worker,
}

impl Role {
    pub fn runs_web(self) -> bool {
        matches!(self, Role::All | Role::Web)
    }

    pub fn runs_worker(self) -> bool {
        matches!(self, Role::All | Role::Worker)
    }
}

/// A secret that never shows in logs or `Debug` output.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// All settings of one process.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub database_pool_size: u32,
    pub bind: SocketAddr,
    /// The address people use to reach the service; decides the `Secure` cookie flag.
    pub base_url: url::Url,
    pub allow_private_networks: bool,
    /// Non-public ranges feeds may live on anyway, opened one by one.
    pub allowed_networks: Vec<ipnet::IpNet>,
    /// How often each feed is checked.
    pub poll_interval: Duration,
    /// How many of a newly added feed's newest posts get captions.
    pub backfill: u32,
    pub role: Role,
    /// Signs CSRF tokens; when absent, a random one is kept in the database so that
    /// every replica shares it.
    pub secret_key: Option<Secret>,
    pub log: String,
    /// Requests per minute one account may make to the JSON API (per process).
    pub api_rate_per_minute: u32,
    /// Where mail goes; `None` writes `.eml` files to `mail_dir` instead.
    pub smtp_url: Option<Secret>,
    /// The `From` of every message.
    pub mail_from: lettre::message::Mailbox,
    /// The folder of `.eml` files when no SMTP server is set.
    pub mail_dir: std::path::PathBuf,
    /// Stripe billing; `None` (no `CAPTIONFEED_STRIPE_SECRET_KEY`) means billing is off and
    /// accounts have no limits.
    pub billing: Option<BillingSettings>,
}

/// Stripe billing settings.
#[derive(Debug, Clone)]
pub struct BillingSettings {
    pub secret_key: Secret,
    /// Webhook signing secrets; several while one is being rolled.
    pub webhook_secrets: Vec<Secret>,
    /// Stripe's API (tests point it at a local server).
    pub api_base: url::Url,
    pub plans: plans::Plans,
}

/// A setting that could not be read; names the variable.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: String,
    pub message: String,
}

const PREFIX: &str = "CAPTIONFEED_";

const KNOWN: &[&str] = &[
    "DATABASE_URL",
    "DATABASE_POOL_SIZE",
    "BIND",
    "BASE_URL",
    "ALLOW_PRIVATE_NETWORKS",
    "ALLOWED_NETWORKS",
    "POLL_INTERVAL",
    "BACKFILL",
    "ROLE",
    "SECRET_KEY",
    "LOG",
    "API_RATE_PER_MINUTE",
    "SMTP_URL",
    "MAIL_FROM",
    "MAIL_DIR",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "STRIPE_PRICE_PRO",
    "STRIPE_PRICE_BUSINESS",
    "BILLING_PLANS",
];

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// Reads the settings from the given variables; only `CAPTIONFEED_*` ones are looked at.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut ours = std::collections::HashMap::new();
        for (key, value) in vars {
            if let Some(name) = key.strip_prefix(PREFIX) {
                // Test-only variables share the prefix but are not settings of the service.
                if name.starts_with("TEST_") {
                    continue;
                }
                if !KNOWN.contains(&name) {
                    return Err(error(
                        name,
                        format!("unknown setting; known ones are {}", KNOWN.join(", ")),
                    ));
                }
                ours.insert(name.to_string(), value);
            }
        }
        let get = |name: &str| ours.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());

        let database_url = match get("DATABASE_URL") {
            Some(raw) => DatabaseUrl::parse(raw).map_err(|m| error("DATABASE_URL", m))?,
            None => DatabaseUrl::default_sqlite(),
        };
        let bind: SocketAddr = match get("BIND") {
            Some(raw) => raw.parse().map_err(|_| {
                error(
                    "BIND",
                    format!("{raw:?} is not an address like 127.0.0.1:8080"),
                )
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let base_url = match get("BASE_URL") {
            Some(raw) => {
                let url =
                    url::Url::parse(raw).map_err(|e| error("BASE_URL", format!("{raw:?}: {e}")))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(error("BASE_URL", "must start with http:// or https://"));
                }
                url
            }
            None => url::Url::parse(&format!("http://{bind}/"))
                .map_err(|e| error("BIND", e.to_string()))?,
        };
        let mail_dir = match get("MAIL_DIR") {
            Some(raw) => std::path::PathBuf::from(raw),
            None => default_mail_dir(&database_url),
        };
        Ok(Settings {
            database_url,
            database_pool_size: parse_number(
                get("DATABASE_POOL_SIZE"),
                "DATABASE_POOL_SIZE",
                8,
                1..=256,
            )?,
            bind,
            base_url,
            allow_private_networks: parse_bool(
                get("ALLOW_PRIVATE_NETWORKS"),
                "ALLOW_PRIVATE_NETWORKS",
            )?,
            allowed_networks: parse_networks(get("ALLOWED_NETWORKS"), "ALLOWED_NETWORKS")?,
            poll_interval: match get("POLL_INTERVAL") {
                Some(raw) => parse_duration(raw).map_err(|m| error("POLL_INTERVAL", m))?,
                None => Duration::from_secs(30 * 60),
            },
            backfill: parse_number(get("BACKFILL"), "BACKFILL", 3, 0..=100)?,
            role: match get("ROLE") {
                None | Some("all") => Role::All,
                Some("web") => Role::Web,
                Some("worker") => Role::Worker,
                Some(other) => {
                    return Err(error(
                        "ROLE",
                        format!("{other:?} is not one of all, web, worker"),
                    ))
                }
            },
            secret_key: match get("SECRET_KEY") {
                Some(raw) if raw.len() < 32 => {
                    return Err(error("SECRET_KEY", "must be at least 32 characters"))
                }
                Some(raw) => Some(Secret::new(raw)),
                None => None,
            },
            log: get("LOG").unwrap_or("info").to_string(),
            api_rate_per_minute: parse_number(
                get("API_RATE_PER_MINUTE"),
                "API_RATE_PER_MINUTE",
                120,
                1..=100_000,
            )?,
            smtp_url: match get("SMTP_URL") {
                Some(raw) => Some(parse_smtp_url(raw)?),
                None => None,
            },
            mail_from: match get("MAIL_FROM") {
                Some(raw) => raw.parse().map_err(|e| {
                    error(
                        "MAIL_FROM",
                        format!("{raw:?} is not an address like \"captionfeed <digest@example.com>\": {e}"),
                    )
                })?,
                None => lettre::message::Mailbox::new(
                    Some("captionfeed".into()),
                    lettre::Address::new("captionfeed", "localhost")
                        .map_err(|e| error("MAIL_FROM", e.to_string()))?,
                ),
            },
            mail_dir,
            billing: parse_billing(get)?,
        })
    }

    /// What the feed fetcher and the add-feed form may reach.
    pub fn address_policy(&self) -> AddressPolicy {
        AddressPolicy {
            allow_private: self.allow_private_networks,
            allowed: self.allowed_networks.clone(),
        }
    }

    /// Whether cookies must carry the `Secure` flag.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.scheme() == "https"
    }
}

/// Billing is on when a Stripe secret key is set; then the webhook secret and the paid
/// plans' prices are required, so a half-configured deployment does not start.
fn parse_billing<'a>(
    get: impl Fn(&str) -> Option<&'a str>,
) -> Result<Option<BillingSettings>, ConfigError> {
    let Some(key) = get("STRIPE_SECRET_KEY") else {
        for name in [
            "STRIPE_WEBHOOK_SECRET",
            "STRIPE_PRICE_PRO",
            "STRIPE_PRICE_BUSINESS",
            "BILLING_PLANS",
        ] {
            if get(name).is_some() {
                return Err(error(
                    name,
                    "has no effect without CAPTIONFEED_STRIPE_SECRET_KEY (billing is off)",
                ));
            }
        }
        return Ok(None);
    };
    let webhook_secrets: Vec<Secret> = get("STRIPE_WEBHOOK_SECRET")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(Secret::new)
        .collect();
    if webhook_secrets.is_empty() {
        return Err(error(
            "STRIPE_WEBHOOK_SECRET",
            "is required with CAPTIONFEED_STRIPE_SECRET_KEY: the signing secret of the /stripe/webhook endpoint (whsec_..., several comma-separated while rolling it)",
        ));
    }
    let api_base = match get("STRIPE_API_BASE") {
        Some(raw) => {
            let mut url = url::Url::parse(raw)
                .map_err(|e| error("STRIPE_API_BASE", format!("{raw:?}: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(error(
                    "STRIPE_API_BASE",
                    "must start with http:// or https://",
                ));
            }
            if !url.path().ends_with('/') {
                let path = format!("{}/", url.path());
                url.set_path(&path);
            }
            url
        }
        None => url::Url::parse("https://api.stripe.com/")
            .map_err(|e| error("STRIPE_API_BASE", e.to_string()))?,
    };
    let (plans_json, plans_variable) = match get("BILLING_PLANS") {
        Some(path) => (
            std::fs::read_to_string(path)
                .map_err(|e| error("BILLING_PLANS", format!("cannot read {path}: {e}")))?,
            "BILLING_PLANS",
        ),
        None => (plans::DEFAULT_PLANS.to_string(), "STRIPE_PRICE_PRO"),
    };
    let prices = [
        ("pro", get("STRIPE_PRICE_PRO").map(str::to_string)),
        ("business", get("STRIPE_PRICE_BUSINESS").map(str::to_string)),
    ];
    let plans = plans::Plans::parse(&plans_json, &prices).map_err(|m| {
        let variable = if m.contains("CAPTIONFEED_STRIPE_PRICE_BUSINESS") {
            "STRIPE_PRICE_BUSINESS"
        } else {
            plans_variable
        };
        error(variable, m)
    })?;
    Ok(Some(BillingSettings {
        secret_key: Secret::new(key),
        webhook_secrets,
        api_base,
        plans,
    }))
}

/// Accepts what lettre's URL syntax allows (`smtp://`, `smtp://...?tls=required` for
/// STARTTLS, `smtps://`, credentials as `user:password@`); the value is kept secret
/// because it may hold a password.
fn parse_smtp_url(raw: &str) -> Result<Secret, ConfigError> {
    let shown = url::Url::parse(raw)
        .map(|mut u| {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        })
        .unwrap_or_else(|_| "the value".into());
    lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(raw).map_err(|e| {
        error(
            "SMTP_URL",
            format!("{shown} is not like smtp://host:25, smtp://user:pass@host:587?tls=required or smtps://user:pass@host:465 ({e})"),
        )
    })?;
    Ok(Secret::new(raw))
}

/// Next to the SQLite file, so the mail of a trial run sits with its data.
fn default_mail_dir(database: &DatabaseUrl) -> std::path::PathBuf {
    match database {
        DatabaseUrl::Sqlite(path) if path != ":memory:" => std::path::Path::new(path)
            .parent()
            .map(|p| p.join("mail"))
            .unwrap_or_else(|| "mail".into()),
        _ => "mail".into(),
    }
}

fn error(variable: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: format!("{PREFIX}{variable}"),
        message: message.into(),
    }
}

fn parse_bool(raw: Option<&str>, name: &str) -> Result<bool, ConfigError> {
    match raw.map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0" | "no" | "off") => Ok(false),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some(other) => Err(error(name, format!("{other:?} is not true or false"))),
    }
}

/// Comma-separated CIDR ranges (`10.1.0.0/16, fd00::/8`); a bare address is a range of one.
fn parse_networks(raw: Option<&str>, name: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<ipnet::IpNet>()
                .or_else(|_| part.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| {
                    error(
                        name,
                        format!("{part:?} is not a network like 10.1.0.0/16 or fd00::/8"),
                    )
                })
        })
        .collect()
}

fn parse_number(
    raw: Option<&str>,
    name: &str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ConfigError> {
    let Some(raw) = raw else { return Ok(default) };
    match raw.parse::<u32>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(error(
            name,
            format!(
                "{raw:?} is not a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// Parses `90`, `90s`, `15m`, `1h` into a duration of at least one second.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{raw:?} is not a duration like 90s, 15m or 1h"))?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => return Err(format!("{raw:?} has an unknown unit; use s, m or h")),
    };
    if seconds == 0 {
        return Err("must be at least 1s".into());
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn no_configuration_gives_the_single_node_defaults() {
        let s = Settings::from_vars(vars(&[("PATH", "/bin")])).expect("defaults are valid");
        assert!(s.database_url.is_sqlite());
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.base_url.as_str(), "http://127.0.0.1:8080/");
        assert!(!s.allow_private_networks);
        assert_eq!(s.backfill, 3);
        assert_eq!(s.role, Role::All);
        assert!(!s.secure_cookies());
    }

    #[test]
    fn unknown_variable_is_named() {
        let e = Settings::from_vars(vars(&[("CAPTIONFEED_POLL_INTERVALL", "5m")])).unwrap_err();
        assert_eq!(e.variable, "CAPTIONFEED_POLL_INTERVALL");
        assert!(e.message.contains("unknown setting"));
    }

    #[test]
    fn invalid_values_name_their_variable() {
        for (name, value) in [
            ("CAPTIONFEED_BIND", "localhost"),
            ("CAPTIONFEED_ALLOW_PRIVATE_NETWORKS", "sure"),
            ("CAPTIONFEED_POLL_INTERVAL", "5 weeks"),
            ("CAPTIONFEED_BACKFILL", "-1"),
            ("CAPTIONFEED_DATABASE_URL", "mysql://x"),
            ("CAPTIONFEED_BASE_URL", "ftp://x"),
            ("CAPTIONFEED_ROLE", "both"),
            ("CAPTIONFEED_ALLOWED_NETWORKS", "10.0.0.0/8, intranet"),
            ("CAPTIONFEED_ALLOWED_NETWORKS", "10.0.0.0/33"),
            ("CAPTIONFEED_SECRET_KEY", "short"),
            ("CAPTIONFEED_SMTP_URL", "http://mail.example"),
            ("CAPTIONFEED_SMTP_URL", "smtp://mail.example?tls=sometimes"),
            ("CAPTIONFEED_MAIL_FROM", "not an address"),
        ] {
            let e = Settings::from_vars(vars(&[(name, value)])).unwrap_err();
            assert_eq!(e.variable, name, "{value}");
        }
    }

    #[test]
    fn mail_goes_to_files_next_to_the_database_unless_smtp_is_set() {
        let s = Settings::from_vars(vars(&[(
            "CAPTIONFEED_DATABASE_URL",
            "sqlite:///var/lib/cf/captionfeed.db",
        )]))
        .unwrap();
        assert!(s.smtp_url.is_none());
        assert_eq!(s.mail_dir, std::path::PathBuf::from("/var/lib/cf/mail"));
        assert_eq!(s.mail_from.email.to_string(), "captionfeed@localhost");

        let s = Settings::from_vars(vars(&[
            (
                "CAPTIONFEED_SMTP_URL",
                "smtps://me:p%40ss@smtp.example.com:465",
            ),
            ("CAPTIONFEED_MAIL_FROM", "Captions <digest@example.com>"),
        ]))
        .unwrap();
        assert!(s.smtp_url.is_some());
        assert!(
            !format!("{s:?}").contains("p%40ss"),
            "the password stays out of logs"
        );
        assert_eq!(s.mail_from.email.to_string(), "digest@example.com");
    }

    #[test]
    fn allowed_networks_are_read_as_cidr_ranges() {
        let s = Settings::from_vars(vars(&[(
            "CAPTIONFEED_ALLOWED_NETWORKS",
            " 10.1.0.0/16 , 192.168.5.7,fd00::/8 ",
        )]))
        .unwrap();
        let shown: Vec<String> = s.allowed_networks.iter().map(|n| n.to_string()).collect();
        assert_eq!(shown, ["10.1.0.0/16", "192.168.5.7/32", "fd00::/8"]);
        assert!(Settings::from_vars(vars(&[]))
            .unwrap()
            .allowed_networks
            .is_empty());
    }

    #[test]
    fn https_base_url_makes_cookies_secure() {
        let s = Settings::from_vars(vars(&[(
            "CAPTIONFEED_BASE_URL",
            "https://captions.example/",
        )]))
        .unwrap();
        assert!(s.secure_cookies());
    }

    #[test]
    fn billing_is_off_without_a_stripe_key_and_complete_with_one() {
        assert!(Settings::from_vars(vars(&[])).unwrap().billing.is_none());
        let e =
            Settings::from_vars(vars(&[("CAPTIONFEED_STRIPE_PRICE_PRO", "price_1")])).unwrap_err();
        assert_eq!(e.variable, "CAPTIONFEED_STRIPE_PRICE_PRO");
        let e = Settings::from_vars(vars(&[("CAPTIONFEED_STRIPE_SECRET_KEY", "sk_test_1")]))
            .unwrap_err();
        assert_eq!(e.variable, "CAPTIONFEED_STRIPE_WEBHOOK_SECRET");
        let e = Settings::from_vars(vars(&[
            ("CAPTIONFEED_STRIPE_SECRET_KEY", "sk_test_1"),
            ("CAPTIONFEED_STRIPE_WEBHOOK_SECRET", "whsec_1"),
            ("CAPTIONFEED_STRIPE_PRICE_PRO", "price_pro"),
        ]))
        .unwrap_err();
        assert_eq!(e.variable, "CAPTIONFEED_STRIPE_PRICE_BUSINESS");
        let s = Settings::from_vars(vars(&[
            ("CAPTIONFEED_STRIPE_SECRET_KEY", "sk_test_1"),
            ("CAPTIONFEED_STRIPE_WEBHOOK_SECRET", "whsec_old, whsec_new"),
            ("CAPTIONFEED_STRIPE_PRICE_PRO", "price_pro"),
            ("CAPTIONFEED_STRIPE_PRICE_BUSINESS", "price_biz"),
            ("CAPTIONFEED_STRIPE_API_BASE", "http://127.0.0.1:8420"),
        ]))
        .unwrap();
        let billing = s.billing.unwrap();
        assert_eq!(billing.webhook_secrets.len(), 2);
        assert_eq!(billing.api_base.as_str(), "http://127.0.0.1:8420/");
        assert_eq!(billing.plans.by_price("price_biz").unwrap().id, "business");
        assert!(
            !format!("{billing:?}").contains("sk_test_1"),
            "the key stays out of logs"
        );
    }

    #[test]
    fn durations_accept_units() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("m").is_err());
    }
}
