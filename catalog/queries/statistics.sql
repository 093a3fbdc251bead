-- Extended statistics objects on the tables $1 (oid[]) with the table
-- columns they use, keys and expressions alike (their pg_depend entries).
-- stxstattarget is read through to_jsonb: it does not exist before
-- PostgreSQL 13, is int4 with -1 for the default up to 16 and int2 with
-- NULL for the default from 17.
SELECT s.stxrelid                                       AS oid,
       n.nspname::text                                  AS schema,
       s.stxname::text                                  AS name,
       pg_get_statisticsobjdef(s.oid)                   AS def,
       ARRAY(SELECT a.attname::text
             FROM pg_attribute a
             WHERE a.attrelid = s.stxrelid
               AND a.attnum IN (SELECT d.refobjsubid
                                FROM pg_depend d
                                WHERE d.classid = 'pg_statistic_ext'::regclass
                                  AND d.objid = s.oid
                                  AND d.refclassid = 'pg_class'::regclass
                                  AND d.refobjid = s.stxrelid
                                  AND d.refobjsubid > 0)
             ORDER BY a.attnum)                         AS columns,
       NULLIF((to_jsonb(s) ->> 'stxstattarget')::int, -1) AS target,
       pg_get_userbyid(s.stxowner)::text                AS owner,
       obj_description(s.oid, 'pg_statistic_ext')       AS comment
FROM pg_statistic_ext s
JOIN pg_namespace n ON n.oid = s.stxnamespace
WHERE s.stxrelid = ANY ($1::oid[])
ORDER BY s.stxrelid, n.nspname, s.stxname
