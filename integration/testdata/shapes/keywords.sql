-- Closure columns named like the keywords PostgreSQL prints unquoted next
-- to them in index definitions (last, first, hash) or quoted (position),
-- with every clause an index can have.
CREATE TABLE series (first integer PRIMARY KEY, name text NOT NULL, note text);
CREATE UNIQUE INDEX series_name ON series (name) INCLUDE (first);
CREATE TABLE point (
    id serial PRIMARY KEY,
    hash integer REFERENCES series (first),
    last integer REFERENCES series (first) ON DELETE SET NULL,
    "position" integer NOT NULL REFERENCES series (first),
    name text,
    note text,
    CHECK (last > 0 OR last IS NULL)
);
CREATE INDEX point_hash ON point USING hash (hash);
CREATE INDEX point_last ON point (last DESC NULLS LAST) INCLUDE (hash) WHERE last > 0;
CREATE INDEX point_position ON point ("position" NULLS FIRST, name COLLATE "C" text_pattern_ops);
CREATE INDEX point_expr ON point ((last + "position") DESC NULLS LAST) WITH (fillfactor = 70);

INSERT INTO series SELECT s, 'series ' || s, 's' || s FROM generate_series(1, 200) s;
INSERT INTO point (hash, last, "position", name, note)
SELECT 1 + p % 200, CASE WHEN p % 7 = 0 THEN NULL ELSE 1 + p % 199 END, 1 + p % 197, 'point ' || p, 'p' || p
FROM generate_series(1, 2000) p;
ANALYZE;
