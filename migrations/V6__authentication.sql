-- What sign-in needs beyond the seed (all additions; no seed name changes).
--
-- * Passwords: the seed has no column for a password hash. A password is a
--   sign-in method, so it lives where the seed keeps sign-in methods: an
--   `accounts` row with provider = 'credentials', type = 'credentials',
--   provider_account_id = the user's id, and the argon2id PHC string in the
--   new column password_hash. OAuth rows leave it NULL.
-- * sessions.last_seen_at: idle expiry (the seed's expires_at is the
--   absolute one).
-- * rate_limits: fixed-window counters shared by every instance, so limits
--   hold behind a load balancer.
-- * verification_tokens.user_id: for an email change, the account the new
--   address will belong to (NULL for the other token types).
-- * mail_outbox: mail written when no SMTP server is configured, readable
--   by admins in the browser.

ALTER TABLE accounts ADD COLUMN password_hash text;
ALTER TABLE accounts ADD CONSTRAINT accounts_password_hash_check
    CHECK ((provider = 'credentials') = (password_hash IS NOT NULL));

ALTER TABLE verification_tokens ADD COLUMN user_id uuid
    CONSTRAINT verification_tokens_user_id_fkey REFERENCES users (id) ON DELETE CASCADE;

ALTER TABLE sessions ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();

CREATE TABLE rate_limits (
    bucket text NOT NULL,
    window_start timestamptz NOT NULL,
    hits integer NOT NULL DEFAULT 0,
    CONSTRAINT rate_limits_pkey PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limits_window_start_idx ON rate_limits (window_start);

CREATE TABLE mail_outbox (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    to_address text NOT NULL,
    subject text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mail_outbox_created_at_idx ON mail_outbox (created_at);
