-- Sequences of the schemas $1 (oid[]), plus the sequences $2 (oid[]) that
-- feed loaded columns from another schema.
--
-- last_value is computed exactly as the pg_sequences view does: NULL unless
-- current_user has SELECT or USAGE on the sequence (and NULL when it was
-- never called), so no privilege error is raised.
--
-- owned_by: deptype 'a' is serial or ALTER SEQUENCE ... OWNED BY; 'i' is an
-- identity column.
SELECT n.nspname::text                         AS schema,
       c.relname::text                         AS name,
       format_type(s.seqtypid, NULL)           AS data_type,
       s.seqmin                                AS min,
       s.seqmax                                AS max,
       s.seqincrement                          AS increment,
       s.seqcycle                              AS cycle,
       s.seqstart                              AS start,
       s.seqcache                              AS cache,
       CASE WHEN has_sequence_privilege(c.oid, 'SELECT,USAGE')
            THEN pg_sequence_last_value(c.oid) END AS last_value,
       own.schema                              AS owner_schema,
       own.name                                AS owner_table,
       own.attname                             AS owner_column,
       coalesce(own.deptype = 'i', false)      AS identity
FROM pg_sequence s
JOIN pg_class c     ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (
  SELECT tn.nspname::text AS schema, t.relname::text AS name, a.attname::text AS attname, dep.deptype
  FROM pg_depend dep
  JOIN pg_class t      ON t.oid = dep.refobjid
  JOIN pg_namespace tn ON tn.oid = t.relnamespace
  JOIN pg_attribute a  ON a.attrelid = t.oid AND a.attnum = dep.refobjsubid
  WHERE dep.classid = 'pg_class'::regclass
    AND dep.objid = s.seqrelid
    AND dep.refclassid = 'pg_class'::regclass
    AND dep.refobjsubid > 0
    AND dep.deptype IN ('a', 'i')
  ORDER BY dep.deptype DESC
  LIMIT 1
) own ON true
WHERE c.relnamespace = ANY ($1::oid[])
   OR c.oid = ANY ($2::oid[])
ORDER BY n.nspname, c.relname
