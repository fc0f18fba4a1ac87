-- What happened to each Stripe event, for the admins' event log and for
-- events that cannot be applied yet.
--
-- Stripe delivers out of order: a refund can come before the payment it
-- refunds, an invoice before the subscription it belongs to. Such an event
-- is kept "parked" with the ids it waits for (`waiting_for`: a charge,
-- payment intent, invoice, subscription or customer id) and its whole
-- body (`payload`, kept as Stripe sent it: json, not jsonb, as it is only
-- ever read back whole); when a payment or subscription with one of those ids
-- is written, the parked events are applied in the same transaction.
--
-- outcome:
--   applied      changed something, or confirmed what was there
--   parked       waits for an object Soloist has not seen yet
--   ignored      nothing to do (a type Soloist does not follow, a
--                subscription of no Soloist user, ...); `reason` says why
--   unsupported  an API version this Soloist does not know: Stripe is
--                answered with an error so it retries, and the event is
--                kept so that a retry or a Replay applies it after an upgrade
-- Events recorded before this migration were applied or ignored; they keep
-- no payload and are listed as applied.
ALTER TABLE stripe_events
    ADD COLUMN api_version text,
    ADD COLUMN outcome text NOT NULL DEFAULT 'applied'
        CONSTRAINT stripe_events_outcome_check
        CHECK (outcome IN ('applied', 'parked', 'ignored', 'unsupported')),
    ADD COLUMN reason text,
    ADD COLUMN payload json,
    ADD COLUMN waiting_for text[],
    ADD COLUMN deliveries integer NOT NULL DEFAULT 1,
    ADD COLUMN user_id uuid CONSTRAINT stripe_events_user_id_fkey REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN payment_id uuid CONSTRAINT stripe_events_payment_id_fkey REFERENCES payments (id) ON DELETE SET NULL;

-- The parked events waiting for an id, found when that id is written.
CREATE INDEX stripe_events_waiting_for_idx ON stripe_events USING gin (waiting_for)
    WHERE outcome = 'parked';
-- The admins' event log, newest first.
CREATE INDEX stripe_events_processed_at_idx ON stripe_events (processed_at DESC, id);
