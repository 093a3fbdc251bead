-- A table with several integer keys (GitLab's issues: id, project_id,
-- author_id), referenced by a keyless link table on two columns.
CREATE TABLE account (id serial PRIMARY KEY, note text);
CREATE TABLE project (id serial PRIMARY KEY, account_id integer NOT NULL REFERENCES account, note text);
CREATE TABLE issue (
    id serial PRIMARY KEY,
    project_id integer NOT NULL REFERENCES project,
    author_id integer REFERENCES account ON DELETE SET NULL,
    iid integer NOT NULL,
    title text,
    note text,
    UNIQUE (project_id, iid)
);
CREATE TABLE issue_link (source_id integer NOT NULL REFERENCES issue ON DELETE CASCADE, target_id integer NOT NULL REFERENCES issue ON DELETE CASCADE, note text);
CREATE INDEX issue_link_source ON issue_link (source_id, target_id);

INSERT INTO account (note) SELECT 'a' || a FROM generate_series(1, 100) a;
INSERT INTO project (account_id, note) SELECT 1 + p % 100, 'p' || p FROM generate_series(1, 40) p;
INSERT INTO issue (project_id, author_id, iid, title, note)
SELECT 1 + i % 40, CASE WHEN i % 9 = 0 THEN NULL ELSE 1 + i % 100 END, i, 'issue ' || i, 'i' || i FROM generate_series(1, 2500) i;
INSERT INTO issue_link SELECT 1 + l % 2500, 1 + (l * 7) % 2500, 'l' || l FROM generate_series(1, 1500) l;
ANALYZE;
