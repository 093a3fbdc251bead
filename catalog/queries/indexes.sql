-- Indexes of the tables $1 (oid[]).
--
-- columns / include: indkey split at indnkeyatts; 0 (an expression) is "".
-- expr_columns: the columns that index expressions and the predicate read,
-- pulled from the varattno fields of the stored node trees. pg_depend cannot
-- tell them apart from plain key columns (both are recorded as 'a'). A
-- whole-row reference (varattno 0) counts as every column.
SELECT i.indrelid                                    AS oid,
       ic.relname::text                              AS name,
       pg_get_indexdef(i.indexrelid)                 AS def,
       ARRAY(SELECT coalesce(a.attname::text, '')
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE k.ord <= i.indnkeyatts
             ORDER BY k.ord)                         AS columns,
       ARRAY(SELECT a.attname::text
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE k.ord > i.indnkeyatts
             ORDER BY k.ord)                         AS include,
       ARRAY(SELECT a.attname::text
             FROM pg_attribute a
             WHERE (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL)
               AND a.attrelid = i.indrelid
               AND a.attnum > 0
               AND NOT a.attisdropped
               AND EXISTS (
                 SELECT 1
                 FROM regexp_matches(coalesce(i.indexprs::text, '') || ' ' || coalesce(i.indpred::text, ''),
                                     ':varattno (\d+)', 'g') AS m(v)
                 WHERE m.v[1]::int IN (a.attnum, 0))
             ORDER BY a.attnum)                      AS expr_columns,
       i.indisunique                                 AS is_unique,
       i.indisprimary                                AS is_primary,
       pg_get_expr(i.indpred, i.indrelid)            AS predicate,
       i.indisvalid                                  AS valid,
       am.amname::text                               AS method,
       con.conname::text                             AS constraint_name,
       pn.nspname::text                              AS parent_schema,
       pc.relname::text                              AS parent_name,
       pg_relation_size(i.indexrelid)                AS bytes
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am    ON am.oid = ic.relam
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid
                           AND con.conrelid = i.indrelid
                           AND con.contype IN ('p', 'u', 'x')
LEFT JOIN pg_inherits inh   ON inh.inhrelid = i.indexrelid
LEFT JOIN pg_class pc       ON pc.oid = inh.inhparent
LEFT JOIN pg_namespace pn   ON pn.oid = pc.relnamespace
WHERE i.indrelid = ANY ($1::oid[])
ORDER BY i.indrelid, ic.relname
