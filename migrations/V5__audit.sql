-- The audit trail (seed: audit.ts), range-partitioned by month on
-- created_at as the seed's partitioning strategy suggests.
--
-- Departures from the seed:
-- * a partitioned table's primary key must contain the partition key, so the
--   key is (id, created_at) instead of id alone; ids stay random uuids;
-- * changes and metadata are jsonb (the seed's "JSON string");
-- * audit_logs_default catches rows outside every monthly partition (a
--   clock far off), so an audit write never fails for want of a partition;
-- * audit_logs_create_partitions(n) creates the partitions of the current
--   month and the next n months; Soloist calls it at boot and daily.

CREATE TABLE audit_logs (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid CONSTRAINT audit_logs_user_id_fkey REFERENCES users (id),
    action text NOT NULL,
    entity text NOT NULL,
    entity_id uuid,
    changes jsonb,
    ip_address text,
    user_agent text,
    metadata jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT audit_logs_pkey PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX audit_logs_user_id_idx ON audit_logs (user_id);
CREATE INDEX audit_logs_action_idx ON audit_logs (action);
CREATE INDEX audit_logs_entity_idx ON audit_logs (entity);
CREATE INDEX audit_logs_entity_id_idx ON audit_logs (entity_id);
CREATE INDEX audit_logs_created_at_idx ON audit_logs (created_at);

CREATE TABLE audit_logs_default PARTITION OF audit_logs DEFAULT;

-- Creates the monthly partitions from the current month to months_ahead
-- months later; returns how many it created. Rows that had landed in the
-- default partition for a new month are moved into it.
CREATE FUNCTION audit_logs_create_partitions(months_ahead integer DEFAULT 3)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    -- Month arithmetic on plain UTC timestamps: on timestamptz it would follow
    -- the session's time zone and shift boundaries across DST changes.
    this_month timestamp := date_trunc('month', now() AT TIME ZONE 'UTC');
    month_start timestamptz;
    month_end timestamptz;
    partition_name text;
    created integer := 0;
BEGIN
    FOR offset_months IN 0..months_ahead LOOP
        month_start := (this_month + make_interval(months => offset_months)) AT TIME ZONE 'UTC';
        month_end := (this_month + make_interval(months => offset_months + 1)) AT TIME ZONE 'UTC';
        partition_name := format('audit_logs_y%sm%s',
            to_char(month_start AT TIME ZONE 'UTC', 'YYYY'),
            to_char(month_start AT TIME ZONE 'UTC', 'MM'));
        CONTINUE WHEN to_regclass(partition_name) IS NOT NULL;

        EXECUTE format('CREATE TABLE %I (LIKE audit_logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
            partition_name);
        EXECUTE format(
            'WITH moved AS (DELETE FROM audit_logs_default WHERE created_at >= %L AND created_at < %L RETURNING *)
             INSERT INTO %I SELECT * FROM moved',
            month_start, month_end, partition_name);
        EXECUTE format('ALTER TABLE audit_logs ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
            partition_name, month_start, month_end);
        created := created + 1;
    END LOOP;
    RETURN created;
END;
$$;

SELECT audit_logs_create_partitions(3);
