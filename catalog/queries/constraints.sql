-- Primary key, unique, foreign key, check and exclusion constraints of the
-- tables $1 (oid[]). NOT NULL constraints (contype 'n', PostgreSQL 18) are
-- column properties in the model and are left out.
--
-- inherited: cloned onto a partition (conparentid <> 0), or a check
-- constraint that exists only because a parent has it (not conislocal); both
-- follow the parent's constraint.
--
-- A foreign key that references a partitioned table has one extra row per
-- referenced partition on the same referencing table (same name, conparentid
-- set). Those are internal plumbing of the one FK the user declared and are
-- skipped; the FK's clones on partitions of the referencing table are kept.
SELECT con.conrelid                                   AS oid,
       con.conname::text                              AS name,
       con.contype::text                              AS type,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord)                          AS columns,
       pg_get_constraintdef(con.oid)                  AS def,
       con.convalidated                               AS validated,
       con.conparentid <> 0 OR (con.coninhcount > 0 AND NOT con.conislocal) AS inherited,
       CASE WHEN con.contype IN ('p', 'u', 'x') THEN ic.relname::text END     AS index,
       rn.nspname::text                               AS ref_schema,
       rc.relname::text                               AS ref_name,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord)                          AS ref_columns
FROM pg_constraint con
LEFT JOIN pg_class ic      ON ic.oid = con.conindid
LEFT JOIN pg_class rc      ON rc.oid = con.confrelid AND con.contype = 'f'
LEFT JOIN pg_namespace rn  ON rn.oid = rc.relnamespace
WHERE con.conrelid = ANY ($1::oid[])
  AND con.contype IN ('p', 'u', 'f', 'c', 'x')
  AND NOT (con.contype = 'f' AND con.conparentid <> 0
           AND EXISTS (SELECT 1 FROM pg_constraint pc
                       WHERE pc.oid = con.conparentid AND pc.conrelid = con.conrelid))
ORDER BY con.conrelid, con.conname, rn.nspname, rc.relname
