-- Row-level security policies of the tables $1 (oid[]) with the columns of
-- their own table that USING / WITH CHECK read (pg_depend entries of the
-- policy on those columns). ALTER COLUMN TYPE refuses such columns.
--
-- def is the CREATE POLICY statement that re-creates the policy, quoted by
-- the server (the loader's search_path makes names qualified); polroles
-- holds 0 for PUBLIC. polpermissive exists from PostgreSQL 10.
SELECT p.polrelid                              AS oid,
       p.polname::text                         AS name,
       format('CREATE POLICY %I ON %s AS %s FOR %s TO %s', p.polname, p.polrelid::regclass,
              CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
              CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
              (SELECT string_agg(CASE WHEN r.oid = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r.oid)) END, ', ' ORDER BY r.ord)
               FROM unnest(p.polroles) WITH ORDINALITY AS r(oid, ord)))
       || coalesce(' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')
       || coalesce(' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', '') AS def,
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
