-- User triggers of the tables $1 (oid[]).
--
-- inherited: the trigger was cloned from a partitioned parent's trigger. That
-- is read from pg_depend (deptype 'P' on the parent trigger), which works on
-- PostgreSQL 12, where pg_trigger.tgparentid (13+) does not exist and such
-- clones were flagged tgisinternal; they are kept, while the internal
-- triggers behind foreign keys and deferrable unique constraints are not.
--
-- columns: the columns named in UPDATE OF or read by WHEN; ALTER COLUMN TYPE
-- refuses to touch them, and PostgreSQL records both as pg_depend entries.
SELECT t.tgrelid                                   AS oid,
       t.tgname::text                              AS name,
       pg_get_triggerdef(t.oid)                    AS def,
       fn.nspname::text                            AS func_schema,
       f.proname::text                             AS func_name,
       coalesce(f.proconfig, '{}')::text[]          AS function_config,
       t.tgenabled::text                           AS enabled,
       inh.inherited                               AS inherited,
       ARRAY(SELECT a.attname::text
             FROM pg_attribute a
             WHERE a.attrelid = t.tgrelid
               AND a.attnum IN (SELECT dep.refobjsubid
                                FROM pg_depend dep
                                WHERE dep.classid = 'pg_trigger'::regclass
                                  AND dep.objid = t.oid
                                  AND dep.refclassid = 'pg_class'::regclass
                                  AND dep.refobjid = t.tgrelid
                                  AND dep.refobjsubid > 0)
             ORDER BY a.attnum)                    AS columns
FROM pg_trigger t
JOIN pg_proc f       ON f.oid = t.tgfoid
JOIN pg_namespace fn ON fn.oid = f.pronamespace
LEFT JOIN pg_constraint con ON con.oid = t.tgconstraint
CROSS JOIN LATERAL (
  SELECT EXISTS (SELECT 1
                 FROM pg_depend dep
                 WHERE dep.classid = 'pg_trigger'::regclass
                   AND dep.objid = t.oid
                   AND dep.refclassid = 'pg_trigger'::regclass
                   AND dep.deptype = 'P') AS inherited
) inh
WHERE t.tgrelid = ANY ($1::oid[])
  AND (NOT t.tgisinternal
       OR (inh.inherited AND (t.tgconstraint = 0 OR con.contype = 't')))
ORDER BY t.tgrelid, t.tgname
