-- Live columns of the tables $1 (oid[]).
--
-- seq_*: the sequence feeding the column, from pg_depend rather than from
-- the default's text. An identity sequence depends on its column with
-- deptype 'i'; a serial or DEFAULT nextval('s'::regclass) column has a
-- pg_attrdef that depends on the sequence. Identity is preferred.
--
-- also_local: inherited, but declared by the table too (a child attached
-- with ALTER TABLE ... INHERIT): a DROP COLUMN on the parent leaves it.
--
-- not_null_name: the NOT NULL constraint's name on servers that record NOT
-- NULL in pg_constraint (contype 'n', PostgreSQL 18+); NULL before 18,
-- where no row has that contype.
--
-- generated_deps: generated columns whose expression reads this column.
-- PostgreSQL records that as a dependency of the generated column itself
-- (pg_class, table, attnum) on the column; the pg_attrdef form is matched too
-- in case a version records it there.
SELECT a.attrelid                                        AS oid,
       a.attnum::int                                     AS num,
       a.attname::text                                   AS name,
       format_type(a.atttypid, a.atttypmod)              AS type,
       a.attnotnull                                      AS not_null,
       (SELECT nn.conname::text
        FROM pg_constraint nn
        WHERE nn.conrelid = a.attrelid
          AND nn.contype = 'n'
          AND nn.conkey[1] = a.attnum)                   AS not_null_name,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS default_expr,
       a.attidentity::text                               AS identity,
       a.attinhcount > 0 AND a.attislocal                AS also_local,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END AS generated,
       s.oid                                             AS seq_oid,
       sn.nspname::text                                  AS seq_schema,
       s.relname::text                                   AS seq_name,
       ARRAY(SELECT g.attname::text
             FROM pg_attribute g
             WHERE g.attrelid = a.attrelid
               AND g.attgenerated <> ''
               AND g.attnum <> a.attnum
               AND NOT g.attisdropped
               AND EXISTS (
                 SELECT 1
                 FROM pg_depend dep
                 WHERE dep.refclassid = 'pg_class'::regclass
                   AND dep.refobjid = a.attrelid
                   AND dep.refobjsubid = a.attnum
                   AND ((dep.classid = 'pg_class'::regclass
                         AND dep.objid = g.attrelid AND dep.objsubid = g.attnum)
                     OR (dep.classid = 'pg_attrdef'::regclass
                         AND dep.objid IN (SELECT gd.oid FROM pg_attrdef gd
                                           WHERE gd.adrelid = g.attrelid AND gd.adnum = g.attnum))))
             ORDER BY g.attnum)                          AS generated_deps
FROM pg_attribute a
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN LATERAL (
  SELECT seq.oid, seq.relname, seq.relnamespace
  FROM (
    SELECT dep.objid AS oid, 1 AS pref
    FROM pg_depend dep
    WHERE a.attidentity <> ''
      AND dep.classid = 'pg_class'::regclass
      AND dep.refclassid = 'pg_class'::regclass
      AND dep.refobjid = a.attrelid
      AND dep.refobjsubid = a.attnum
      AND dep.deptype = 'i'
    UNION ALL
    SELECT dep.refobjid, 2
    FROM pg_depend dep
    WHERE dep.classid = 'pg_attrdef'::regclass
      AND dep.objid = d.oid
      AND dep.refclassid = 'pg_class'::regclass
  ) cand
  JOIN pg_class seq ON seq.oid = cand.oid AND seq.relkind = 'S'
  ORDER BY cand.pref, seq.relname
  LIMIT 1
) s ON true
LEFT JOIN pg_namespace sn ON sn.oid = s.relnamespace
WHERE a.attrelid = ANY ($1::oid[])
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
