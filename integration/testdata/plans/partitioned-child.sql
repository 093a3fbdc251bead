-- target: public.tags.id
-- A partitioned child table referencing the target, with a partitioned
-- index on the FK column, and an identity column on the parent.
CREATE TABLE tags (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text);
CREATE TABLE events (
  id bigint GENERATED ALWAYS AS IDENTITY,
  created_at date NOT NULL,
  tag_id int NOT NULL REFERENCES tags(id),
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX events_tag_id_idx ON events (tag_id);
