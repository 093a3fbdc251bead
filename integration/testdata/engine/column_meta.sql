-- A parent and a child whose key columns carry everything PostgreSQL
-- attaches to a column by its number: comments, a statistics target,
-- n_distinct overrides and an extended statistics object. The roles, the
-- column privileges and (PostgreSQL 15+) the publications with a column
-- list and a row filter are added by the test (column_meta_test.go): role
-- names are cluster-wide, and column lists need 15.
CREATE TABLE parent (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE child (
  id int PRIMARY KEY,
  parent_id int NOT NULL REFERENCES parent,
  kind int NOT NULL DEFAULT 0
);
CREATE INDEX child_parent_id_idx ON child (parent_id);
-- A table the publications also publish: it must stay in them untouched.
CREATE TABLE audit_log (id int PRIMARY KEY, note text);

INSERT INTO parent SELECT g, 'parent ' || g FROM generate_series(1, 300) g;
INSERT INTO child SELECT g, 1 + g % 300, g % 7 FROM generate_series(1, 3000) g;

COMMENT ON COLUMN parent.id IS 'the parent''s key, as the API exposes it';
COMMENT ON COLUMN child.parent_id IS 'the owning parent';
ALTER TABLE child ALTER COLUMN parent_id SET STATISTICS 1000, ALTER COLUMN parent_id SET (n_distinct = 500);
ALTER TABLE parent ALTER COLUMN id SET (n_distinct = -1, n_distinct_inherited = -1);
CREATE STATISTICS child_parent_kind (ndistinct, dependencies) ON parent_id, kind FROM child;
COMMENT ON STATISTICS child_parent_kind IS 'kinds per parent are skewed';
