-- Partition keys of the partitioned tables among $1 (oid[]). partattrs holds
-- one attnum per key column and 0 for an expression; the expressions are
-- taken from pg_get_partkeydef, whose text lists the keys in the same order.
SELECT pt.partrelid                  AS oid,
       pg_get_partkeydef(pt.partrelid) AS def,
       ARRAY(SELECT coalesce(a.attname::text, '')
             FROM unnest(pt.partattrs::int2[]) WITH ORDINALITY AS k(attnum, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = k.attnum
             ORDER BY k.ord)         AS columns
FROM pg_partitioned_table pt
WHERE pt.partrelid = ANY ($1::oid[])
