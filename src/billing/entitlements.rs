//! What a plan lets an account use: one check, [`require`], for every page, API call and
//! worker that offers a feature only some plans have, so a new plan field is refused the
//! same way everywhere and its wording lives in one place.

use super::plans::{Plan, Plans};
use crate::accounts::UserId;
use crate::db::AnyConnection;

/// A feature some plans leave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature<'a> {
    /// The subscriber's own caption templates.
    CustomTemplates,
    /// Template variants other than the default one.
    Variants,
    /// The JSON API and its tokens.
    Api,
    /// Private caption feeds (RSS, Atom, JSON Feed).
    CaptionFeeds,
    /// Outgoing webhooks.
    Webhooks,
    /// Email digests of this frequency (`daily`, `weekly`, ...).
    Digests(&'a str),
}

impl Feature<'_> {
    fn in_plan(self, plan: &Plan) -> bool {
        match self {
            Feature::CustomTemplates => plan.custom_templates,
            Feature::Variants => plan.variants,
            Feature::Api => plan.api,
            Feature::CaptionFeeds => plan.caption_feeds,
            Feature::Webhooks => plan.webhooks,
            Feature::Digests(frequency) => plan.allows_digest(frequency),
        }
    }

    /// How a sentence names it, and whether that name is plural.
    fn name(self) -> (String, bool) {
        match self {
            Feature::CustomTemplates => ("custom templates".into(), true),
            Feature::Variants => ("template variants".into(), true),
            Feature::Api => ("the API".into(), false),
            Feature::CaptionFeeds => ("caption feeds".into(), true),
            Feature::Webhooks => ("webhooks".into(), true),
            Feature::Digests(frequency) => (format!("{frequency} digests"), true),
        }
    }
}

/// A feature refused by the account's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotInPlan {
    /// The plan's name, as the billing page shows it.
    pub plan: String,
    feature: String,
    plural: bool,
}

impl NotInPlan {
    /// "webhooks are not part of the Free plan": the reason, for an API answer or a
    /// caption feed, which add where to upgrade in their own way.
    pub fn reason(&self) -> String {
        format!(
            "{} {} not part of the {} plan",
            self.feature,
            if self.plural { "are" } else { "is" },
            self.plan
        )
    }

    /// The reason as a page shows it, with where to upgrade.
    pub fn sentence(&self) -> String {
        let mut reason = self.reason();
        if let Some(first) = reason.get(..1) {
            reason.replace_range(..1, &first.to_uppercase());
        }
        format!("{reason}. Upgrade on the billing page (/billing).")
    }
}

/// Whether `plan` includes `feature`; `None` is billing off, where nothing is limited.
pub fn require(plan: Option<&Plan>, feature: Feature<'_>) -> Result<(), NotInPlan> {
    match plan {
        Some(plan) if !feature.in_plan(plan) => {
            let (feature, plural) = feature.name();
            Err(NotInPlan {
                plan: plan.name.clone(),
                feature,
                plural,
            })
        }
        _ => Ok(()),
    }
}

/// [`require`] on the plan in force for the account now; `plans` is `None` with billing off.
pub fn require_now(
    conn: &mut AnyConnection,
    plans: Option<&Plans>,
    user: &UserId,
    feature: Feature<'_>,
) -> diesel::QueryResult<Result<(), NotInPlan>> {
    let Some(plans) = plans else {
        return Ok(Ok(()));
    };
    let plan = super::account::effective_plan(conn, user, plans, crate::db::now())?;
    Ok(require(Some(&plan), feature))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plans() -> Plans {
        Plans::parse(
            super::super::plans::DEFAULT_PLANS,
            &[
                ("pro", Some("price_pro".into())),
                ("business", Some("price_business".into())),
            ],
        )
        .expect("the default plans")
    }

    const EVERY_FEATURE: [Feature<'static>; 8] = [
        Feature::CustomTemplates,
        Feature::Variants,
        Feature::Api,
        Feature::CaptionFeeds,
        Feature::Webhooks,
        Feature::Digests("batched"),
        Feature::Digests("daily"),
        Feature::Digests("weekly"),
    ];

    #[test]
    fn each_feature_follows_its_own_plan_field() {
        let mut plan = plans().free().clone();
        for feature in EVERY_FEATURE {
            plan.custom_templates = feature == Feature::CustomTemplates;
            plan.variants = feature == Feature::Variants;
            plan.api = feature == Feature::Api;
            plan.caption_feeds = feature == Feature::CaptionFeeds;
            plan.webhooks = feature == Feature::Webhooks;
            plan.digest_frequencies = match feature {
                Feature::Digests(f) => vec!["off".into(), f.into()],
                _ => vec!["off".into()],
            };
            for other in EVERY_FEATURE {
                assert_eq!(
                    require(Some(&plan), other).is_ok(),
                    other == feature,
                    "a plan with only {feature:?} asked for {other:?}"
                );
            }
        }
    }

    #[test]
    fn the_free_plan_refuses_the_paid_features_and_business_has_them_all() {
        let plans = plans();
        for feature in [
            Feature::CustomTemplates,
            Feature::Variants,
            Feature::Api,
            Feature::CaptionFeeds,
            Feature::Webhooks,
            Feature::Digests("weekly"),
        ] {
            assert!(require(Some(plans.free()), feature).is_err(), "{feature:?}");
            assert_eq!(require(Some(plans.get("business")), feature), Ok(()));
        }
        assert_eq!(
            require(Some(plans.free()), Feature::Digests("daily")),
            Ok(())
        );
    }

    #[test]
    fn billing_off_limits_nothing() {
        for feature in EVERY_FEATURE {
            assert_eq!(require(None, feature), Ok(()));
        }
    }

    #[test]
    fn a_refusal_names_the_feature_and_the_plan() {
        let free = plans().free().clone();
        let api = require(Some(&free), Feature::Api).unwrap_err();
        assert_eq!(api.reason(), "the API is not part of the Free plan");
        assert_eq!(
            api.sentence(),
            "The API is not part of the Free plan. Upgrade on the billing page (/billing)."
        );
        let weekly = require(Some(&free), Feature::Digests("weekly")).unwrap_err();
        assert_eq!(
            weekly.sentence(),
            "Weekly digests are not part of the Free plan. Upgrade on the billing page (/billing)."
        );
    }
}
