-- Comment, statistics target, attribute options and security labels of the
-- columns of the tables $1 (oid[]); only columns with one of them set.
--
-- attstattarget is int4 with -1 for the default up to PostgreSQL 16, int2
-- and NULL for the default from 17: read as int, both defaults become NULL.
-- attoptions holds n_distinct and n_distinct_inherited ("n_distinct=500").
SELECT a.attrelid                                   AS oid,
       a.attname::text                              AS name,
       col_description(a.attrelid, a.attnum)        AS comment,
       NULLIF(coalesce(a.attstattarget::int, -1), -1) AS stats_target,
       coalesce(a.attoptions, '{}')                 AS options,
       ARRAY(SELECT l.provider FROM pg_seclabel l
             WHERE l.classoid = 'pg_class'::regclass AND l.objoid = a.attrelid AND l.objsubid = a.attnum
             ORDER BY l.provider)                   AS label_providers,
       ARRAY(SELECT l.label FROM pg_seclabel l
             WHERE l.classoid = 'pg_class'::regclass AND l.objoid = a.attrelid AND l.objsubid = a.attnum
             ORDER BY l.provider)                   AS labels
FROM pg_attribute a
WHERE a.attrelid = ANY ($1::oid[])
  AND a.attnum > 0
  AND NOT a.attisdropped
  AND (col_description(a.attrelid, a.attnum) IS NOT NULL
       OR coalesce(a.attstattarget::int, -1) <> -1
       OR a.attoptions IS NOT NULL
       OR EXISTS (SELECT 1 FROM pg_seclabel l
                  WHERE l.classoid = 'pg_class'::regclass AND l.objoid = a.attrelid AND l.objsubid = a.attnum))
ORDER BY a.attrelid, a.attnum
