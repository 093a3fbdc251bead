-- A multi-tenant schema: row-level security policies on tenant_id (a
-- permissive one with USING and WITH CHECK, a restrictive one for DELETE,
-- one on the key's own table), a rule that reads the column, and a view.
CREATE TABLE tenant (tenant_id serial PRIMARY KEY, name text NOT NULL, note text);
CREATE TABLE document (
    id serial PRIMARY KEY,
    tenant_id integer NOT NULL REFERENCES tenant,
    body text,
    note text
);
CREATE TABLE document_log (document_id integer, tenant_id integer, what text);
ALTER TABLE tenant ENABLE ROW LEVEL SECURITY;
ALTER TABLE document ENABLE ROW LEVEL SECURITY;
ALTER TABLE document FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_self ON tenant FOR SELECT USING (tenant_id = current_setting('app.tenant', true)::integer);
CREATE POLICY document_tenant ON document
    USING (tenant_id = current_setting('app.tenant', true)::integer)
    WITH CHECK (tenant_id > 0 AND tenant_id IN (SELECT t.tenant_id FROM tenant t));
CREATE POLICY document_keep ON document AS RESTRICTIVE FOR DELETE TO PUBLIC USING (tenant_id <> 13);
CREATE RULE document_moved AS ON UPDATE TO document WHERE old.tenant_id <> new.tenant_id
    DO ALSO INSERT INTO document_log VALUES (new.id, new.tenant_id, 'moved');
CREATE VIEW tenant_documents AS SELECT d.tenant_id, count(*) AS documents FROM document d GROUP BY d.tenant_id;

INSERT INTO tenant (name, note) SELECT 'tenant ' || t, 't' || t FROM generate_series(1, 50) t;
INSERT INTO document (tenant_id, body, note) SELECT 1 + d % 50, 'body ' || d, 'd' || d FROM generate_series(1, 2000) d;
ANALYZE;
