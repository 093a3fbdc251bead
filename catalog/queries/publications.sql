-- Publications that publish the tables $1 (oid[]). pg_publication_tables
-- expands FOR TABLE, FOR ALL TABLES and (PostgreSQL 15+) FOR TABLES IN SCHEMA
-- publications alike. With publish_via_partition_root = false a partitioned
-- table's publication is listed on its leaf partitions, as it replicates.
SELECT c.oid, pt.pubname::text AS pubname
FROM pg_publication_tables pt
JOIN pg_namespace n ON n.nspname = pt.schemaname
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
WHERE c.oid = ANY ($1::oid[])
ORDER BY c.oid, pt.pubname
