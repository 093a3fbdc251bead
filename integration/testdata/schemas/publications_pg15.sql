-- PostgreSQL 15+: a publication of every table of a schema, listed in
-- pg_publication_namespace rather than pg_publication_rel.
CREATE SCHEMA archive;
CREATE TABLE archive.old_tags (id integer PRIMARY KEY);
CREATE PUBLICATION archive_pub FOR TABLES IN SCHEMA archive;
