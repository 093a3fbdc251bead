-- Row-level security policies of the tables $1 (oid[]) with the columns of
-- their own table that USING / WITH CHECK read (pg_depend entries of the
-- policy on those columns). ALTER COLUMN TYPE refuses such columns.
SELECT p.polrelid                              AS oid,
       p.polname::text                         AS name,
       ARRAY(SELECT a.attname::text
             FROM pg_attribute a
             WHERE a.attrelid = p.polrelid
               AND a.attnum IN (SELECT dep.refobjsubid
                                FROM pg_depend dep
                                WHERE dep.classid = 'pg_policy'::regclass
                                  AND dep.objid = p.oid
                                  AND dep.refclassid = 'pg_class'::regclass
                                  AND dep.refobjid = p.polrelid
                                  AND dep.refobjsubid > 0)
             ORDER BY a.attnum)                AS columns
FROM pg_policy p
WHERE p.polrelid = ANY ($1::oid[])
ORDER BY p.polrelid, p.polname
