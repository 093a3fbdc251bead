-- Column privileges (attacl) of the tables $1 (oid[]), one row per
-- privilege. Grantee 0 is PUBLIC. as_grantor: whether the current user may
-- SET ROLE to the grantor (true for a superuser), which re-issuing a grant
-- recorded as made by a role other than the table's owner needs.
SELECT a.attrelid                            AS oid,
       a.attname::text                       AS name,
       x.privilege_type::text                AS privilege,
       coalesce(ge.rolname::text, '')        AS grantee,
       gr.rolname::text                      AS grantor,
       x.is_grantable                        AS grantable,
       pg_has_role(x.grantor, 'MEMBER')      AS as_grantor
FROM pg_attribute a
CROSS JOIN LATERAL aclexplode(a.attacl) x
JOIN pg_roles gr ON gr.oid = x.grantor
LEFT JOIN pg_roles ge ON ge.oid = x.grantee
WHERE a.attrelid = ANY ($1::oid[])
  AND a.attnum > 0
  AND NOT a.attisdropped
  AND a.attacl IS NOT NULL
ORDER BY a.attrelid, a.attnum, gr.rolname, coalesce(ge.rolname::text, ''), x.privilege_type
