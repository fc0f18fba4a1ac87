-- Not in the seed: the one-time tokens of the first-run setup.
--
-- Until the first administrator exists, `soloist serve` makes a token,
-- prints it in its boot output and log, and /setup accepts only a visitor
-- who brings it: the site may be on the internet before its owner opens
-- it. Only the token's SHA-256 is kept. Every instance that boots adds its
-- own (each works), and making the first administrator deletes them all.
CREATE TABLE setup_tokens (
    token_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT setup_tokens_pkey PRIMARY KEY (token_hash)
);
