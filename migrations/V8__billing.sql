-- Stripe billing: what the seed's billing tables need to follow Stripe.
-- All additive; every seed name stays as it is.

-- The Stripe Price a plan is sold at (Checkout and plan changes use it;
-- webhooks map a subscription's price back to the plan).
ALTER TABLE subscription_plans ADD COLUMN stripe_price_id text;
CREATE UNIQUE INDEX subscription_plans_stripe_price_id_idx
    ON subscription_plans (stripe_price_id);

-- The creation time of the newest Stripe event applied to the row: events
-- arrive out of order, and an older one never overwrites a newer state.
ALTER TABLE subscriptions ADD COLUMN stripe_synced_at timestamptz;
CREATE UNIQUE INDEX subscriptions_stripe_subscription_idx
    ON subscriptions (stripe_subscription_id);

-- One payment row per Stripe invoice, whatever the order of its events.
ALTER TABLE payments ADD COLUMN stripe_invoice_id text;
CREATE UNIQUE INDEX payments_stripe_invoice_idx ON payments (stripe_invoice_id);
CREATE INDEX payments_stripe_charge_idx ON payments (stripe_charge_id);

-- Every Stripe event applied, recorded in the transaction of its effect:
-- a redelivered event (also a concurrent one) finds its id and does nothing.
CREATE TABLE stripe_events (
    id text PRIMARY KEY,
    type text NOT NULL,
    object_id text,
    event_created timestamptz NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_events_object_idx ON stripe_events (object_id, type);

-- Open Checkout sessions: a second "choose plan" while one is open goes to
-- the same session, so two clicks never start two subscriptions.
CREATE TABLE stripe_checkouts (
    id text PRIMARY KEY,
    user_id uuid NOT NULL CONSTRAINT stripe_checkouts_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    plan_id uuid NOT NULL CONSTRAINT stripe_checkouts_plan_id_fkey REFERENCES subscription_plans (id) ON DELETE CASCADE,
    url text NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_checkouts_user_id_idx ON stripe_checkouts (user_id, expires_at);
