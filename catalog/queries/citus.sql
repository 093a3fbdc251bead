-- The Citus topology of the loaded tables ($1: their OIDs). Read only
-- when the citus extension is installed: these catalogs exist only then.
SELECT p.logicalrelid::oid AS oid,
       p.partmethod::text AS method,
       p.repmodel::text AS repmodel,
       CASE WHEN p.partkey IS NULL OR p.partkey = '' THEN NULL
            ELSE column_to_column_name(p.logicalrelid, p.partkey) END AS dist_column,
       p.colocationid::int AS colocation_id,
       (SELECT format_type(c.distributioncolumntype, NULL) FROM pg_dist_colocation c
         WHERE c.colocationid = p.colocationid AND c.distributioncolumntype <> 0) AS colocation_type,
       (SELECT count(*) FROM pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid)::int AS shards
FROM pg_dist_partition p
WHERE p.logicalrelid::oid = ANY ($1)
