-- Publications of the tables $1 (oid[]) with a column list or a row filter
-- (pg_publication_rel.prattrs and prqual exist from PostgreSQL 15; Load
-- runs this query only there). depends_on: the table's columns the two
-- use, from pg_depend. owned: whether the current user may ALTER the
-- publication (its owner, a member of the owner, or a superuser).
SELECT pr.prrelid                                     AS oid,
       p.pubname::text                                AS publication,
       CASE WHEN pr.prattrs IS NOT NULL THEN
         ARRAY(SELECT a.attname::text
               FROM unnest(pr.prattrs::int2[]) WITH ORDINALITY k(num, ord)
               JOIN pg_attribute a ON a.attrelid = pr.prrelid AND a.attnum = k.num
               ORDER BY k.ord)
       END                                            AS columns,
       pg_get_expr(pr.prqual, pr.prrelid)             AS row_filter,
       ARRAY(SELECT a.attname::text
             FROM pg_attribute a
             WHERE a.attrelid = pr.prrelid
               AND a.attnum IN (SELECT d.refobjsubid
                                FROM pg_depend d
                                WHERE d.classid = 'pg_publication_rel'::regclass
                                  AND d.objid = pr.oid
                                  AND d.refclassid = 'pg_class'::regclass
                                  AND d.refobjid = pr.prrelid
                                  AND d.refobjsubid > 0)
             ORDER BY a.attnum)                       AS depends_on,
       pg_has_role(p.pubowner, 'USAGE')               AS owned
FROM pg_publication_rel pr
JOIN pg_publication p ON p.oid = pr.prpubid
WHERE pr.prrelid = ANY ($1::oid[])
  AND (pr.prattrs IS NOT NULL OR pr.prqual IS NOT NULL)
ORDER BY pr.prrelid, p.pubname
