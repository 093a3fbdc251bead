-- Keys that are not simply positive serials: negative values, both ends of
-- integer, gaps; a foreign key to a UNIQUE constraint (not the primary
-- key) with ON UPDATE CASCADE; a deferrable one; a composite key whose
-- second column is the target, referenced with MATCH FULL and ON UPDATE
-- CASCADE.
CREATE TABLE code (id integer PRIMARY KEY, ext integer NOT NULL UNIQUE, note text);
CREATE TABLE code_by_ext (code_ext integer REFERENCES code (ext) ON UPDATE CASCADE, note text);
CREATE TABLE code_deferred (code_id integer REFERENCES code (id) DEFERRABLE INITIALLY DEFERRED, note text);
CREATE TABLE pair (a integer NOT NULL, b integer NOT NULL, note text, PRIMARY KEY (a, b));
CREATE TABLE pair_ref (pa integer, pb integer, note text,
    FOREIGN KEY (pa, pb) REFERENCES pair (a, b) MATCH FULL ON UPDATE CASCADE ON DELETE CASCADE);

INSERT INTO code VALUES (-2147483648, 2147483647, 'min'), (2147483647, -2147483648, 'max'), (0, 0, 'zero'), (-1, 1, 'minus one');
-- Gaps: every 7th value, on both sides of zero.
INSERT INTO code SELECT c * 7, -c * 7 - 10, 'c' || c FROM generate_series(-800, 800) c WHERE c <> 0;
INSERT INTO code_by_ext SELECT ext, 'x' || row_number() OVER (ORDER BY id) FROM code WHERE id % 3 = 0;
INSERT INTO code_deferred SELECT id, 'y' || row_number() OVER (ORDER BY id) FROM code WHERE id % 2 = 0;
INSERT INTO pair SELECT p, CASE p % 4 WHEN 0 THEN -2147483648 WHEN 1 THEN 2147483647 ELSE p * 1000 - 500000 END, 'p' || p FROM generate_series(1, 1500) p;
INSERT INTO pair_ref SELECT a, b, 'r' || a FROM pair WHERE a % 2 = 0;
INSERT INTO pair_ref VALUES (NULL, NULL, 'both null');
ANALYZE;
