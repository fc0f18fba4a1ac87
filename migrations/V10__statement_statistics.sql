-- Not in the seed: statement statistics for the admin "Database" page
-- (its slowest statements come from pg_stat_statements).
--
-- The embedded server preloads the module and lets Soloist create the
-- extension. An external server may lack the contrib module, or may not let
-- Soloist's role create extensions; neither may stop Soloist from starting,
-- so a failure only leaves a notice, and the page then says the statistics
-- are not available. An operator can create the extension later by hand.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_stat_statements was not created (%): the admin Database page will not list statements', SQLERRM;
END
$$;
