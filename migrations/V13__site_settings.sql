-- Not in the seed: what the administrator says about the site, set in
-- /admin/settings and shown on every page (the name in the header, titles
-- and mail; the tagline and description on the landing page; the accent
-- colour of buttons and links; the time zone visitors see dates in).
--
-- One row, always: `id` can only be true, and the row is made here with
-- the defaults of a fresh install. `updated_at` stays NULL until an
-- administrator first saves the form, which is how the first-steps
-- checklist knows the site has been named. Every save writes its row in
-- `audit_logs` (entity `site_settings`) in the same transaction.
CREATE TABLE site_settings (
    id boolean NOT NULL DEFAULT true,
    site_name text NOT NULL DEFAULT 'Soloist',
    tagline text NOT NULL DEFAULT 'A complete SaaS application in a single binary.',
    description text NOT NULL DEFAULT '',
    accent_color text,
    time_zone text NOT NULL DEFAULT 'UTC',
    updated_at timestamptz,
    CONSTRAINT site_settings_pkey PRIMARY KEY (id),
    CONSTRAINT site_settings_one_row CHECK (id),
    CONSTRAINT site_settings_site_name_check
        CHECK (char_length(site_name) BETWEEN 1 AND 60),
    CONSTRAINT site_settings_tagline_check CHECK (char_length(tagline) <= 120),
    CONSTRAINT site_settings_description_check CHECK (char_length(description) <= 300),
    CONSTRAINT site_settings_accent_color_check
        CHECK (accent_color ~ '^#[0-9a-f]{6}$')
);

INSERT INTO site_settings DEFAULT VALUES;
