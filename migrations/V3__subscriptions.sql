-- Plans, subscriptions and payments (seed: subscriptions.ts).
-- Money is integer cents. Additions to the seed: CHECKs that amounts are not
-- negative and that currencies are three upper-case letters, so a bad value
-- is refused by the database rather than shown on an invoice.

CREATE TABLE subscription_plans (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    description text,
    price_cents integer NOT NULL,
    currency text NOT NULL DEFAULT 'USD',
    interval text NOT NULL,
    features text[],
    is_active boolean NOT NULL DEFAULT true,
    sort_order integer DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT subscription_plans_interval_check CHECK (interval IN ('month', 'year')),
    CONSTRAINT subscription_plans_price_cents_check CHECK (price_cents >= 0),
    CONSTRAINT subscription_plans_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);
CREATE UNIQUE INDEX plans_name_idx ON subscription_plans (name);
CREATE INDEX plans_active_idx ON subscription_plans (is_active);
CREATE INDEX plans_sort_order_idx ON subscription_plans (sort_order);
CREATE TRIGGER subscription_plans_set_updated_at BEFORE UPDATE ON subscription_plans
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE subscriptions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL CONSTRAINT subscriptions_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    plan_id uuid NOT NULL CONSTRAINT subscriptions_plan_id_fkey REFERENCES subscription_plans (id),
    status text NOT NULL,
    stripe_customer_id text,
    stripe_subscription_id text,
    current_period_start timestamptz,
    current_period_end timestamptz,
    cancel_at_period_end boolean DEFAULT false,
    canceled_at timestamptz,
    trial_end timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT subscriptions_status_check
        CHECK (status IN ('active', 'inactive', 'canceled', 'past_due', 'unpaid'))
);
CREATE UNIQUE INDEX subscriptions_user_id_idx ON subscriptions (user_id);
CREATE INDEX subscriptions_stripe_customer_idx ON subscriptions (stripe_customer_id);
CREATE INDEX subscriptions_status_idx ON subscriptions (status);
CREATE TRIGGER subscriptions_set_updated_at BEFORE UPDATE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- payments.metadata is jsonb (the seed's "JSON string"), so it is always valid JSON.
CREATE TABLE payments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL CONSTRAINT payments_user_id_fkey REFERENCES users (id),
    subscription_id uuid CONSTRAINT payments_subscription_id_fkey REFERENCES subscriptions (id),
    amount_cents integer NOT NULL,
    currency text NOT NULL DEFAULT 'USD',
    status text NOT NULL,
    stripe_payment_intent_id text,
    stripe_charge_id text,
    description text,
    metadata jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payments_status_check
        CHECK (status IN ('pending', 'succeeded', 'failed', 'canceled', 'refunded')),
    CONSTRAINT payments_amount_cents_check CHECK (amount_cents >= 0),
    CONSTRAINT payments_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);
CREATE INDEX payments_user_id_idx ON payments (user_id);
CREATE INDEX payments_status_idx ON payments (status);
CREATE INDEX payments_stripe_pi_idx ON payments (stripe_payment_intent_id);
CREATE INDEX payments_created_at_idx ON payments (created_at);
