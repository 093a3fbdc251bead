-- A FOR ALL TABLES publication: every table is published without being
-- named anywhere in pg_publication_rel. Needs a superuser.
CREATE PUBLICATION all_tables_pub FOR ALL TABLES;
