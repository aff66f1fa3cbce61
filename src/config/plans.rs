//! Plans as configuration: what each one allows and which Stripe price bills it.
//!
//! The default set ships in `plans.json` beside this file; `CAPTIONFEED_BILLING_PLANS`
//! names another file of the same shape. The first plan is the one every account has
//! without a paid subscription; every other plan needs a Stripe price id, given in the
//! file (`price_id`) or, for the default `pro` and `business` plans, by
//! `CAPTIONFEED_STRIPE_PRICE_PRO` / `CAPTIONFEED_STRIPE_PRICE_BUSINESS`.

use std::time::Duration;

/// The default plans (free, pro, business).
pub const DEFAULT_PLANS: &str = include_str!("plans.json");

/// Digest frequencies by their settings ids.
pub const FREQUENCIES: [&str; 4] = ["off", "batched", "daily", "weekly"];

/// One plan and its limits.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Stable id, stored on accounts (`free`, `pro`, ...).
    pub id: String,
    pub name: String,
    /// Shown next to the name on the billing page (the amount lives in Stripe).
    #[serde(default)]
    pub price_label: String,
    /// The Stripe price of the monthly subscription; none for the free plan.
    #[serde(default)]
    pub price_id: Option<String>,
    /// What that price charges a month, in cents: the console's monthly recurring revenue
    /// is counted from it (Stripe stays the authority on what is billed).
    #[serde(default)]
    pub monthly_price_cents: u32,
    pub max_feeds: u32,
    /// No feed of the plan's accounts is checked more often than this.
    pub min_check_minutes: u32,
    pub digest_frequencies: Vec<String>,
    /// The subscriber's own caption templates.
    pub custom_templates: bool,
    /// Template variants other than the default one.
    pub variants: bool,
    /// The JSON API and its tokens.
    pub api: bool,
    /// Private caption feeds (RSS, Atom, JSON Feed).
    pub caption_feeds: bool,
    /// Outgoing webhooks.
    pub webhooks: bool,
}

impl Plan {
    pub fn min_check_interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.min_check_minutes) * 60)
    }

    pub fn allows_digest(&self, frequency: &str) -> bool {
        self.digest_frequencies.iter().any(|f| f == frequency)
    }

    pub fn is_paid(&self) -> bool {
        self.price_id.is_some()
    }

    /// "every 15 minutes", "hourly".
    pub fn check_label(&self) -> String {
        match self.min_check_minutes {
            60 => "hourly".into(),
            m if m % 60 == 0 => format!("every {} hours", m / 60),
            1 => "every minute".into(),
            m => format!("every {m} minutes"),
        }
    }
}

/// The configured plans, free plan first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plans(Vec<Plan>);

impl Plans {
    /// Reads a plan file; `prices` fills in the price ids the file leaves out, by plan id.
    pub fn parse(json: &str, prices: &[(&str, Option<String>)]) -> Result<Self, String> {
        let mut plans: Vec<Plan> =
            serde_json::from_str(json).map_err(|e| format!("not a valid plan list: {e}"))?;
        let Some(free) = plans.first() else {
            return Err("lists no plan".into());
        };
        if free.price_id.is_some() {
            return Err(format!(
                "the first plan ({}) is the free one and has no price_id",
                free.id
            ));
        }
        for plan in plans.iter_mut().skip(1) {
            if plan.price_id.is_none() {
                plan.price_id = prices
                    .iter()
                    .find(|(id, _)| *id == plan.id)
                    .and_then(|(_, price)| price.clone());
            }
        }
        for (i, plan) in plans.iter().enumerate() {
            if plan.id.is_empty()
                || !plan
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(format!(
                    "{:?} is not a plan id (letters, digits, - or _)",
                    plan.id
                ));
            }
            if plans[..i].iter().any(|p| p.id == plan.id) {
                return Err(format!("the plan id {:?} is used twice", plan.id));
            }
            if i > 0 && plan.price_id.is_none() {
                return Err(format!(
                    "the plan {:?} has no Stripe price id (set CAPTIONFEED_STRIPE_PRICE_{} or price_id)",
                    plan.id,
                    plan.id.to_ascii_uppercase()
                ));
            }
            if plan.min_check_minutes == 0 {
                return Err(format!(
                    "the plan {:?} needs min_check_minutes of at least 1",
                    plan.id
                ));
            }
            if let Some(bad) = plan
                .digest_frequencies
                .iter()
                .find(|f| !FREQUENCIES.contains(&f.as_str()))
            {
                return Err(format!(
                    "the plan {:?} names an unknown digest frequency {bad:?}",
                    plan.id
                ));
            }
        }
        Ok(Plans(plans))
    }

    /// The plan of accounts without a paid subscription.
    pub fn free(&self) -> &Plan {
        &self.0[0]
    }

    pub fn all(&self) -> &[Plan] {
        &self.0
    }

    /// A plan by id; an id no longer configured reads as the free plan.
    pub fn get(&self, id: &str) -> &Plan {
        self.0.iter().find(|p| p.id == id).unwrap_or(self.free())
    }

    pub fn find(&self, id: &str) -> Option<&Plan> {
        self.0.iter().find(|p| p.id == id)
    }

    /// The plan a Stripe price bills.
    pub fn by_price(&self, price_id: &str) -> Option<&Plan> {
        self.0
            .iter()
            .find(|p| p.price_id.as_deref() == Some(price_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prices() -> Vec<(&'static str, Option<String>)> {
        vec![
            ("pro", Some("price_pro".into())),
            ("business", Some("price_biz".into())),
        ]
    }

    #[test]
    fn the_default_plans_are_free_pro_and_business() {
        let plans = Plans::parse(DEFAULT_PLANS, &prices()).unwrap();
        let free = plans.free();
        assert_eq!(
            (free.id.as_str(), free.max_feeds, free.min_check_minutes),
            ("free", 3, 60)
        );
        assert!(free.allows_digest("daily") && !free.allows_digest("weekly"));
        assert!(!free.api && !free.custom_templates && !free.webhooks);
        let pro = plans.get("pro");
        assert_eq!((pro.max_feeds, pro.min_check_minutes), (50, 15));
        assert!(pro.custom_templates && pro.caption_feeds && pro.api && !pro.webhooks);
        let business = plans.by_price("price_biz").unwrap();
        assert_eq!(
            (
                business.id.as_str(),
                business.max_feeds,
                business.min_check_minutes
            ),
            ("business", 500, 5)
        );
        assert!(business.webhooks);
        assert_eq!(plans.get("gone").id, "free");
    }

    #[test]
    fn a_paid_plan_without_a_price_is_refused() {
        let e = Plans::parse(DEFAULT_PLANS, &[("pro", Some("price_pro".into()))]).unwrap_err();
        assert!(e.contains("CAPTIONFEED_STRIPE_PRICE_BUSINESS"), "{e}");
    }

    #[test]
    fn broken_plan_files_are_refused() {
        for json in [
            "[]",
            "{}",
            r#"[{"id":"free","name":"F","price_id":"p","max_feeds":1,"min_check_minutes":60,"digest_frequencies":[],"custom_templates":false,"variants":false,"api":false,"caption_feeds":false,"webhooks":false}]"#,
            r#"[{"id":"free","name":"F","max_feeds":1,"min_check_minutes":60,"digest_frequencies":["hourly"],"custom_templates":false,"variants":false,"api":false,"caption_feeds":false,"webhooks":false}]"#,
        ] {
            assert!(Plans::parse(json, &[]).is_err(), "{json}");
        }
    }
}
