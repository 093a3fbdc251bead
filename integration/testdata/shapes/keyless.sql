-- pgbench -i --foreign-keys, in small: pgbench_history has no key at all,
-- as pgbench leaves it, and references pgbench_accounts.aid. The note
-- column (no constraint) lets the test tell rows apart; pgbench's filler
-- would do the same if it held anything.
CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88));
CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int REFERENCES pgbench_branches, tbalance int, filler char(84));
CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int REFERENCES pgbench_branches, abalance int, filler char(84));
CREATE TABLE pgbench_history (
    tid int REFERENCES pgbench_tellers,
    bid int REFERENCES pgbench_branches,
    aid int REFERENCES pgbench_accounts,
    delta int,
    mtime timestamp,
    filler char(22),
    note text
);

INSERT INTO pgbench_branches SELECT b, 0 FROM generate_series(1, 2) b;
INSERT INTO pgbench_tellers SELECT t, 1 + t % 2, 0 FROM generate_series(1, 20) t;
INSERT INTO pgbench_accounts SELECT a, 1 + a % 2, 0 FROM generate_series(1, 2000) a;
-- Rows with the same aid twice, NULL aids and negative deltas: no column
-- of the table identifies a row.
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime, note)
SELECT 1 + h % 20, 1 + h % 2, CASE WHEN h % 97 = 0 THEN NULL ELSE 1 + h % 1000 END, h % 11 - 5, '2026-01-01'::timestamp + h * interval '1 s', 'h' || h
FROM generate_series(1, 4000) h;
-- Dead space in the middle of the table: the walk crosses empty pages.
DELETE FROM pgbench_history WHERE substr(note, 2)::int BETWEEN 1000 AND 1800;
ANALYZE;
