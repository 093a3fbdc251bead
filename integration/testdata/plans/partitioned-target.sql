-- target: public.measurements.id
-- The target itself is partitioned: its key constraint is re-added on the
-- parent after each partition's index is built concurrently.
CREATE TABLE measurements (
  id serial,
  taken_on date NOT NULL,
  value numeric,
  PRIMARY KEY (id, taken_on)
) PARTITION BY RANGE (taken_on);
CREATE TABLE measurements_2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE measurements_2026 PARTITION OF measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX measurements_id_idx ON measurements (id);
