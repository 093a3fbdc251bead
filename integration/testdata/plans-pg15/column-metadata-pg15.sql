-- target: public.accounts.id
-- PostgreSQL 15+: publication column lists and row filters that name
-- closure columns (the publications keep their other tables), and what
-- hangs on the closure column of each partition of a partitioned child:
-- a comment on one, a statistics target, an extended statistics object
-- with a target and a column privilege on the other.
DO $$
BEGIN
  CREATE ROLE pgwiden_fx_reporter;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

CREATE TABLE accounts (id int PRIMARY KEY, name text);
CREATE TABLE orders (id int PRIMARY KEY, account_id int REFERENCES accounts, note text);
CREATE TABLE events (
  id int,
  account_id int NOT NULL REFERENCES accounts,
  at date NOT NULL,
  PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE notes (id int PRIMARY KEY, body text);

COMMENT ON COLUMN events_2025.account_id IS 'the archived year''s accounts';
ALTER TABLE ONLY events_2026 ALTER COLUMN account_id SET STATISTICS 500;
CREATE STATISTICS events_2026_account_at ON account_id, at FROM events_2026;
ALTER STATISTICS events_2026_account_at SET STATISTICS 200;
GRANT SELECT (id, account_id) ON events_2026 TO pgwiden_fx_reporter;

CREATE PUBLICATION fx_cols FOR TABLE orders (id, account_id), accounts WHERE (id > 0), notes;
CREATE PUBLICATION fx_events FOR TABLE events (id, account_id, at) WITH (publish_via_partition_root = true);
