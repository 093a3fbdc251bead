-- Ordinary and partitioned tables of the schemas $1 (oid[]).
--
-- owned: ALTER TABLE requires that current_user "has the privileges of" the
-- owner (pg_class_ownercheck / object_ownercheck -> has_privs_of_role).
-- pg_has_role(..., 'USAGE') is exactly has_privs_of_role on PostgreSQL 12 to
-- 18, and it is true for superusers. 'MEMBER' is wrong: a member without
-- INHERIT could only ALTER after SET ROLE, which pgwiden does not do.
--
-- Sizes come from pg_relation_size / pg_total_relation_size, which stat the
-- files (no scan) but briefly take ACCESS SHARE on each table and index.
-- relpages goes with reltuples (both set by VACUUM and ANALYZE): their
-- ratio sizes the batches of a walk by ctid. relam is 0 for partitioned
-- tables before PostgreSQL 17, hence the outer join.
SELECT c.oid,
       n.nspname::text                         AS schema,
       c.relname::text                         AS name,
       c.relkind::text                         AS relkind,
       c.relpersistence = 'u'                  AS unlogged,
       pg_get_userbyid(c.relowner)::text       AS owner,
       pg_has_role(current_user, c.relowner, 'USAGE')
         OR coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user), false) AS owned,
       c.reltuples::float8                     AS row_estimate,
       pg_relation_size(c.oid)                 AS table_bytes,
       pg_total_relation_size(c.oid)           AS total_bytes,
       c.relrowsecurity                        AS rls_enabled,
       c.relreplident::text                    AS replica_identity,
       c.relpages::bigint                      AS pages,
       coalesce(am.amname::text, '')           AS access_method
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r', 'p')
  AND c.relnamespace = ANY ($1::oid[])
ORDER BY n.nspname, c.relname
