-- Partition and classic inheritance links that touch the tables $1 (oid[]).
-- pg_inherits also links partitioned indexes; only tables are kept here
-- (relkind f: a foreign table may be a partition too).
SELECT i.inhrelid                 AS child_oid,
       cn.nspname::text           AS child_schema,
       c.relname::text            AS child_name,
       i.inhparent                AS parent_oid,
       pn.nspname::text           AS parent_schema,
       p.relname::text            AS parent_name,
       c.relispartition           AS is_partition,
       i.inhseqno                 AS seqno
FROM pg_inherits i
JOIN pg_class c      ON c.oid = i.inhrelid
JOIN pg_namespace cn ON cn.oid = c.relnamespace
JOIN pg_class p      ON p.oid = i.inhparent
JOIN pg_namespace pn ON pn.oid = p.relnamespace
WHERE (i.inhrelid = ANY ($1::oid[]) OR i.inhparent = ANY ($1::oid[]))
  AND c.relkind IN ('r', 'p', 'f')
  AND p.relkind IN ('r', 'p')
ORDER BY i.inhrelid, i.inhseqno
