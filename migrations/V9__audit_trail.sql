-- The audit trail is append-only: no UPDATE, DELETE or TRUNCATE of audit
-- rows, whoever asks (also the role Soloist connects as). Old rows leave
-- only as whole monthly partitions, by the retention setting
-- (audit_logs_drop_partitions), which DROP does without touching a row.

CREATE FUNCTION audit_logs_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_logs is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Row triggers on the partitioned table reach every partition, present
-- and future; TRUNCATE triggers are per table, so each partition gets one.
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION audit_logs_refuse_change();
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_refuse_change();
DO $$
DECLARE
    partition regclass;
BEGIN
    FOR partition IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'audit_logs'::regclass LOOP
        EXECUTE format('CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON %s
                        FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_refuse_change()', partition);
    END LOOP;
END
$$;

-- The partition maker no longer moves rows out of the default partition
-- (that would be a DELETE): a month whose rows already sit there (a clock
-- that was far off) stays in the default partition, where queries find it.
CREATE OR REPLACE FUNCTION audit_logs_create_partitions(months_ahead integer DEFAULT 3)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
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
        CONTINUE WHEN EXISTS (SELECT 1 FROM audit_logs_default
                              WHERE created_at >= month_start AND created_at < month_end);
        EXECUTE format('CREATE TABLE %I PARTITION OF audit_logs FOR VALUES FROM (%L) TO (%L)',
            partition_name, month_start, month_end);
        EXECUTE format('CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_refuse_change()', partition_name);
        created := created + 1;
    END LOOP;
    RETURN created;
END;
$$;

-- Drops the monthly partitions that end before the start of the month
-- keep_months ago (keep_months = 24 keeps this month and the 24 before it);
-- returns how many. The default partition is never dropped.
CREATE FUNCTION audit_logs_drop_partitions(keep_months integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    cutoff timestamptz := (date_trunc('month', now() AT TIME ZONE 'UTC')
                           - make_interval(months => keep_months)) AT TIME ZONE 'UTC';
    partition record;
    dropped integer := 0;
BEGIN
    IF keep_months < 1 THEN
        RAISE EXCEPTION 'keep at least one month of the audit trail';
    END IF;
    FOR partition IN
        SELECT c.oid::regclass AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'audit_logs'::regclass
    LOOP
        CONTINUE WHEN partition.bound = 'DEFAULT';
        IF (regexp_match(partition.bound, 'TO \(''([^'']+)''\)'))[1]::timestamptz <= cutoff THEN
            EXECUTE format('DROP TABLE %s', partition.name);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    RETURN dropped;
END;
$$;

-- The admin trail's filters, each newest first for keyset pages. The seed's
-- single-column indexes become composite ones under the same names (same
-- leading column, then the page order), so an audit write updates six
-- indexes, not ten.
DROP INDEX audit_logs_user_id_idx;
CREATE INDEX audit_logs_user_id_idx ON audit_logs (user_id, created_at DESC, id DESC);
DROP INDEX audit_logs_action_idx;
CREATE INDEX audit_logs_action_idx ON audit_logs (action, created_at DESC, id DESC);
DROP INDEX audit_logs_entity_idx;
CREATE INDEX audit_logs_entity_idx ON audit_logs (entity, created_at DESC, id DESC);
DROP INDEX audit_logs_created_at_idx;
CREATE INDEX audit_logs_created_at_idx ON audit_logs (created_at DESC, id DESC);
