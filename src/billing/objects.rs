//! The Stripe objects captionfeed reads from events, typed: only the fields it uses, each
//! optional, since Stripe's API versions move and drop them (and localstripe, the test
//! double, speaks an older one than the `async-stripe` crate's types expect).

use serde::Deserialize;

/// An id Stripe sends as a string, or as the object itself when the field was expanded.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Ref {
    Id(String),
    Object { id: String },
}

impl Ref {
    fn id(&self) -> &str {
        match self {
            Ref::Id(id) | Ref::Object { id } => id,
        }
    }
}

/// The id of an optional reference, or none when it is missing or empty.
fn id_of(reference: &Option<Ref>) -> Option<&str> {
    reference.as_ref().map(Ref::id).filter(|id| !id.is_empty())
}

fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|s| !s.is_empty())
}

/// `checkout.session.completed`'s object.
#[derive(Debug, Clone, Deserialize)]
pub struct CheckoutSession {
    id: Option<String>,
    customer: Option<Ref>,
}

impl CheckoutSession {
    pub fn id(&self) -> Option<&str> {
        text(&self.id)
    }

    pub fn customer(&self) -> Option<&str> {
        id_of(&self.customer)
    }
}

/// `customer.subscription.*`'s object.
#[derive(Debug, Clone, Deserialize)]
pub struct Subscription {
    id: Option<String>,
    status: Option<String>,
    customer: Option<Ref>,
    items: Option<List<SubscriptionItem>>,
    /// Set on API versions before 2018-02-05, and on single-price subscriptions after.
    plan: Option<Ref>,
}

#[derive(Debug, Clone, Deserialize)]
struct List<T> {
    #[serde(default = "Vec::new")]
    data: Vec<T>,
}

#[derive(Debug, Clone, Deserialize)]
struct SubscriptionItem {
    price: Option<Ref>,
    plan: Option<Ref>,
}

impl Subscription {
    pub fn id(&self) -> Option<&str> {
        text(&self.id)
    }

    pub fn status(&self) -> Option<&str> {
        text(&self.status)
    }

    pub fn customer(&self) -> Option<&str> {
        id_of(&self.customer)
    }

    /// The price the subscription is for: its first item's price, else that item's plan
    /// (older API versions), else the subscription's own plan.
    pub fn price(&self) -> Option<&str> {
        let first = self.items.as_ref().and_then(|items| items.data.first());
        first
            .and_then(|item| id_of(&item.price))
            .or_else(|| first.and_then(|item| id_of(&item.plan)))
            .or_else(|| id_of(&self.plan))
    }
}

/// `invoice.*`'s object.
#[derive(Debug, Clone, Deserialize)]
pub struct Invoice {
    subscription: Option<Ref>,
    parent: Option<InvoiceParent>,
    customer: Option<Ref>,
}

#[derive(Debug, Clone, Deserialize)]
struct InvoiceParent {
    subscription_details: Option<SubscriptionDetails>,
}

#[derive(Debug, Clone, Deserialize)]
struct SubscriptionDetails {
    subscription: Option<Ref>,
}

impl Invoice {
    /// The subscription billed; API versions from 2025-03-31 moved it under `parent`.
    pub fn subscription(&self) -> Option<&str> {
        id_of(&self.subscription).or_else(|| {
            self.parent
                .as_ref()
                .and_then(|parent| parent.subscription_details.as_ref())
                .and_then(|details| id_of(&details.subscription))
        })
    }

    pub fn customer(&self) -> Option<&str> {
        id_of(&self.customer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read<T: for<'de> Deserialize<'de>>(value: serde_json::Value) -> T {
        serde_json::from_value(value).expect("the object reads")
    }

    #[test]
    fn a_subscription_names_its_first_items_price() {
        let subscription: Subscription = read(json!({
            "id": "sub_1", "status": "active", "customer": "cus_1",
            "items": { "object": "list", "data": [
                { "price": { "id": "price_pro", "unit_amount": 900 }, "plan": { "id": "plan_old" } },
                { "price": { "id": "price_other" } }
            ] },
            "plan": { "id": "plan_top" }
        }));
        assert_eq!(subscription.id(), Some("sub_1"));
        assert_eq!(subscription.status(), Some("active"));
        assert_eq!(subscription.customer(), Some("cus_1"));
        assert_eq!(subscription.price(), Some("price_pro"));
    }

    #[test]
    fn an_older_subscription_falls_back_to_its_items_plan_then_its_own() {
        let by_item: Subscription = read(json!({
            "id": "sub_1", "items": { "data": [ { "plan": { "id": "plan_item" } } ] },
            "plan": { "id": "plan_top" }
        }));
        assert_eq!(by_item.price(), Some("plan_item"));
        let by_own: Subscription = read(json!({ "id": "sub_1", "plan": { "id": "plan_top" } }));
        assert_eq!(by_own.price(), Some("plan_top"));
        let none: Subscription = read(json!({ "id": "sub_1", "items": { "data": [] } }));
        assert_eq!(none.price(), None);
    }

    #[test]
    fn an_expanded_customer_reads_as_its_id_and_an_empty_one_as_none() {
        let expanded: CheckoutSession =
            read(json!({ "id": "cs_1", "customer": { "id": "cus_9", "email": "a@b.example" } }));
        assert_eq!(expanded.customer(), Some("cus_9"));
        let empty: CheckoutSession = read(json!({ "id": "", "customer": null }));
        assert_eq!(empty.id(), None);
        assert_eq!(empty.customer(), None);
    }

    #[test]
    fn an_invoice_names_its_subscription_in_either_api_versions_place() {
        let before: Invoice = read(json!({ "subscription": "sub_1", "customer": "cus_1" }));
        assert_eq!(before.subscription(), Some("sub_1"));
        let after: Invoice = read(json!({
            "customer": "cus_1",
            "parent": { "type": "subscription_details",
                        "subscription_details": { "subscription": "sub_2" } }
        }));
        assert_eq!(after.subscription(), Some("sub_2"));
        assert_eq!(after.customer(), Some("cus_1"));
        let one_off: Invoice = read(json!({ "customer": "cus_1", "parent": null }));
        assert_eq!(one_off.subscription(), None);
    }

    #[test]
    fn a_field_of_the_wrong_kind_is_an_error_not_a_guess() {
        let wrong = serde_json::from_value::<Subscription>(json!({ "id": "sub_1", "status": 3 }));
        assert!(
            wrong.is_err(),
            "a numeric status must not read as a missing one"
        );
    }
}
