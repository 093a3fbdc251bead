-- $1: the schemas asked for; NULL or empty means every user schema, i.e.
-- everything but the system schemas, TOAST and temporary schemas (of any
-- session) and pgwiden's own state schema.
SELECT n.oid, n.nspname::text AS name
FROM pg_namespace n
WHERE CASE WHEN cardinality($1::text[]) > 0 THEN n.nspname = ANY ($1::text[])
           ELSE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgwiden')
                AND n.nspname NOT LIKE 'pg\_toast%'
                AND n.nspname NOT LIKE 'pg\_temp\_%'
      END
ORDER BY n.nspname
