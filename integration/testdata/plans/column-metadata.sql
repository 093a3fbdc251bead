-- target: public.parent.id
-- What hangs on the closure columns and must follow them to the new
-- columns: column privileges (one WITH GRANT OPTION, one granted on by the
-- role that holds that option, one to PUBLIC), comments, a statistics
-- target, n_distinct, and an extended statistics object with a comment.
-- The roles are cluster-wide: made once, kept for later runs.
DO $$
BEGIN
  CREATE ROLE pgwiden_fx_reporter;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$
BEGIN
  CREATE ROLE pgwiden_fx_delegate;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

CREATE TABLE parent (id int PRIMARY KEY, name text);
CREATE TABLE child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parent, kind int);
CREATE INDEX child_parent_id_idx ON child (parent_id);

COMMENT ON COLUMN parent.id IS 'the parent''s key';
COMMENT ON COLUMN child.parent_id IS 'who it belongs to';
ALTER TABLE child ALTER COLUMN parent_id SET STATISTICS 1000, ALTER COLUMN parent_id SET (n_distinct = 500);
ALTER TABLE parent ALTER COLUMN id SET (n_distinct = -1);
CREATE STATISTICS child_parent_kind (ndistinct, dependencies) ON parent_id, kind FROM child;
COMMENT ON STATISTICS child_parent_kind IS 'kinds per parent are skewed';

GRANT SELECT (id, name) ON parent TO pgwiden_fx_reporter;
GRANT SELECT (id, parent_id, kind), UPDATE (kind) ON child TO pgwiden_fx_reporter;
GRANT SELECT (parent_id), REFERENCES (parent_id) ON child TO pgwiden_fx_delegate WITH GRANT OPTION;
SET ROLE pgwiden_fx_delegate;
GRANT SELECT (parent_id) ON child TO PUBLIC;
RESET ROLE;
