-- An account's standing with Stripe. No row: never paid, the free plan.
CREATE TABLE billing_accounts (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    stripe_customer_id TEXT UNIQUE,
    stripe_subscription_id TEXT,
    -- The plan the subscription is for (a plan id from the plan configuration).
    plan TEXT NOT NULL,
    -- Stripe's subscription status (trialing, active, past_due, canceled, unpaid,
    -- incomplete...), or 'none' before any subscription.
    status TEXT NOT NULL,
    -- When the subscription became past_due: the plan is kept for a grace period from here.
    past_due_since TIMESTAMP,
    -- The Stripe time (event `created`) of the state stored here: an older event arriving
    -- later is never applied over it.
    state_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- Every Stripe event applied, by id: written in the transaction of its effect, so a
-- redelivery, or the same event delivered to two replicas at once, has one effect.
CREATE TABLE stripe_events (
    id TEXT PRIMARY KEY NOT NULL,
    event_type TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL
);
-- Paused because the account's plan allows fewer feeds than it follows (not the
-- subscriber's own pause): resumed when the plan allows it again, never deleted.
ALTER TABLE subscriptions ADD COLUMN paused_by_plan BOOLEAN NOT NULL DEFAULT FALSE;
