-- Users and their profiles (seed: users.ts).
--
-- Departures from the seed, all additions:
-- * timestamps are timestamptz (UTC at rest), as the architecture asks;
-- * the seed's text enums are CHECK constraints named <table>_<column>_check;
-- * the seed declares users.email both `.unique()` and
--   `uniqueIndex('users_email_idx')`: one named unique index does both jobs;
-- * emails are stored lower-case (users_email_lowercase_check) so that the
--   unique index means "one account per address" whatever the casing typed;
-- * set_updated_at() keeps every updated_at column honest on UPDATE.

CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL,
    name text NOT NULL,
    avatar_url text,
    role text NOT NULL DEFAULT 'user',
    email_verified boolean NOT NULL DEFAULT false,
    is_active boolean NOT NULL DEFAULT true,
    last_login_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_role_check CHECK (role IN ('user', 'admin')),
    CONSTRAINT users_email_lowercase_check CHECK (email = lower(email))
);
CREATE UNIQUE INDEX users_email_idx ON users (email);
CREATE INDEX users_role_idx ON users (role);
CREATE INDEX users_active_idx ON users (is_active);
CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE user_profiles (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL CONSTRAINT user_profiles_user_id_fkey REFERENCES users (id),
    bio text,
    website text,
    location text,
    timezone text DEFAULT 'UTC',
    language text DEFAULT 'en',
    theme text DEFAULT 'system',
    notifications_enabled boolean DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_profiles_theme_check CHECK (theme IN ('light', 'dark', 'system'))
);
CREATE UNIQUE INDEX profiles_user_id_idx ON user_profiles (user_id);
CREATE TRIGGER user_profiles_set_updated_at BEFORE UPDATE ON user_profiles
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
