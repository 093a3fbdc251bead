-- Views, materialized views and rules that read columns of the tables
-- $1 (oid[]), one row per (rewrite rule, column read).
--
-- A view's or materialized view's query is its '_RETURN' rule; any other
-- rule is a CREATE RULE on its ev_class. The walk is recursive: a view that
-- reads a column of a view found earlier is listed too (its depends_on names
-- the upstream view's column), because that upstream view can only be
-- dropped and recreated together with it.
WITH RECURSIVE deps(rule_oid, ref_oid, ref_att) AS (
  SELECT dep.objid, dep.refobjid, dep.refobjsubid
  FROM pg_depend dep
  WHERE dep.classid = 'pg_rewrite'::regclass
    AND dep.refclassid = 'pg_class'::regclass
    AND dep.refobjid = ANY ($1::oid[])
    AND dep.refobjsubid > 0
  UNION
  SELECT dep.objid, dep.refobjid, dep.refobjsubid
  FROM deps
  JOIN pg_rewrite r ON r.oid = deps.rule_oid AND r.rulename = '_RETURN'
  JOIN pg_depend dep ON dep.classid = 'pg_rewrite'::regclass
                    AND dep.refclassid = 'pg_class'::regclass
                    AND dep.refobjid = r.ev_class
                    AND dep.refobjsubid > 0
)
SELECT r.oid                                    AS rule_oid,
       vn.nspname::text                         AS schema,
       CASE WHEN r.rulename = '_RETURN' THEN v.relname ELSE r.rulename END::text AS name,
       CASE WHEN r.rulename <> '_RETURN' THEN 'rule'
            WHEN v.relkind = 'm' THEN 'materialized view'
            ELSE 'view' END                     AS kind,
       CASE WHEN r.rulename = '_RETURN' THEN pg_get_viewdef(v.oid, true)
            ELSE pg_get_ruledef(r.oid, true) END AS definition,
       CASE WHEN r.rulename <> '_RETURN' THEN v.relname::text END AS rule_table,
       pg_get_userbyid(v.relowner)::text        AS owner,
       pg_has_role(current_user, v.relowner, 'USAGE') AS owned,
       coalesce(v.reloptions, '{}')::text[]     AS options,
       obj_description(v.oid, 'pg_class')       AS comment,
       -- The view's grants as statements, quoted by the server; the owner's
       -- own privileges come with ownership and are left out.
       ARRAY(SELECT format('GRANT %s ON %I.%I TO %s%s', acl.privilege_type, vn.nspname, v.relname,
                           CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(acl.grantee)) END,
                           CASE WHEN acl.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
             FROM aclexplode(v.relacl) acl
             WHERE acl.grantee <> v.relowner
             ORDER BY 1)                        AS grants,
       -- A materialized view's indexes and whether it holds data: the
       -- swap re-creates it empty, with its indexes, and the cutover
       -- refreshes it if it was populated.
       ARRAY(SELECT pg_get_indexdef(i.indexrelid)
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
             WHERE i.indrelid = v.oid AND v.relkind = 'm'
             ORDER BY ic.relname)               AS indexes,
       v.relkind = 'm' AND v.relispopulated     AS populated,
       tn.nspname::text                         AS ref_schema,
       t.relname::text                          AS ref_table,
       a.attname::text                          AS ref_column
FROM (SELECT DISTINCT rule_oid, ref_oid, ref_att FROM deps) d
JOIN pg_rewrite r     ON r.oid = d.rule_oid
JOIN pg_class v       ON v.oid = r.ev_class
JOIN pg_namespace vn  ON vn.oid = v.relnamespace
JOIN pg_class t       ON t.oid = d.ref_oid
JOIN pg_namespace tn  ON tn.oid = t.relnamespace
JOIN pg_attribute a   ON a.attrelid = d.ref_oid AND a.attnum = d.ref_att
-- A view's own rule may reference the view itself; a rule on a table that
-- reads the table's columns (OLD.id) is kept.
WHERE NOT (r.rulename = '_RETURN' AND d.ref_oid = r.ev_class)
ORDER BY r.oid, tn.nspname, t.relname, a.attnum
