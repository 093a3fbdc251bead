-- target: public.tags.id
-- A serial key referenced three levels deep (tag_stats.tag_id is both an FK
-- and the key the next level references), a view, a check, a user trigger.
CREATE TABLE tags (
  id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (id > 0)
);
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER tags_touch BEFORE UPDATE ON tags FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TABLE tag_stats (
  tag_id int PRIMARY KEY REFERENCES tags(id) ON DELETE CASCADE,
  uses bigint NOT NULL DEFAULT 0
);
CREATE TABLE tag_stat_snapshots (
  id bigserial PRIMARY KEY,
  tag_id int NOT NULL REFERENCES tag_stats(tag_id),
  taken_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tag_stat_snapshots_tag_id_taken_at_idx ON tag_stat_snapshots (tag_id, taken_at DESC);
CREATE TABLE taggings (
  id serial PRIMARY KEY,
  tag_id int NOT NULL REFERENCES tags(id),
  item_id int NOT NULL,
  deleted boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX taggings_live_uniq ON taggings (tag_id, item_id) WHERE NOT deleted;
CREATE VIEW tag_counts AS SELECT tag_id, count(*) AS n FROM taggings GROUP BY tag_id;
INSERT INTO tags (name) SELECT 'tag' || g FROM generate_series(1, 100) g;
-- A view on the view, with options, a comment and grants that the swap must
-- restore.
CREATE VIEW busy_tags WITH (security_barrier=true) AS SELECT tag_id FROM tag_counts WHERE n > 1 WITH CASCADED CHECK OPTION;
COMMENT ON VIEW tag_counts IS 'tags in use, for the dashboard''s widget';
DO $$ BEGIN CREATE ROLE pgwiden_app NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
GRANT SELECT ON tag_counts TO pgwiden_app;
GRANT SELECT, UPDATE ON busy_tags TO pgwiden_app WITH GRANT OPTION;
