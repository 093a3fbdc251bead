-- A few thousand rows: 200 accounts, 500 tags, 5,000 taggings and their
-- events, enough for plan's estimates to mean something.

INSERT INTO accounts (name, plan)
SELECT 'account ' || i, (ARRAY['free', 'team', 'enterprise'])[1 + i % 3]
FROM generate_series(1, 200) AS i;

INSERT INTO tags (name)
SELECT 'tag-' || i FROM generate_series(1, 500) AS i;

INSERT INTO taggings (tag_id, account_id, taggable_type, taggable_id)
SELECT 1 + i % 500, 1 + i % 200, (ARRAY['Issue', 'Project', 'Document'])[1 + i % 3], i
FROM generate_series(1, 5000) AS i;

INSERT INTO tagging_events (tagging_id, kind)
SELECT id, 'added' FROM taggings;
INSERT INTO tagging_events (tagging_id, kind)
SELECT id, 'removed' FROM taggings WHERE id % 10 = 0;

-- Fires tags_set_updated_at, as the product's recolouring does.
UPDATE tags SET color = '#d73a4a' WHERE id % 50 = 0;

ANALYZE;
