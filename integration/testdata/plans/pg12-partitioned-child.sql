-- target: public.tags.id
-- catalog from: PostgreSQL 12
-- PostgreSQL 12 takes no row trigger on a partitioned table: the sync
-- trigger goes on each leaf partition, two levels down here (events_2026
-- is itself partitioned), and both swaps check that every leaf has one.
CREATE TABLE tags (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE events (
  id bigint NOT NULL,
  created_at date NOT NULL,
  region int NOT NULL,
  tag_id int REFERENCES tags (id),
  PRIMARY KEY (id, created_at, region)
) PARTITION BY RANGE (created_at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') PARTITION BY LIST (region);
CREATE TABLE events_2026_eu PARTITION OF events_2026 FOR VALUES IN (1);
CREATE TABLE events_2026_us PARTITION OF events_2026 FOR VALUES IN (2);
