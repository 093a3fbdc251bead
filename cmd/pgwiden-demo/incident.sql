-- The incident: years of tag churn (imports, merges, deletes) burned through
-- tags_id_seq although the table holds few rows. 2,000,000,000 is 93% of
-- int4's 2,147,483,647; the next rows get ids above it, and the day the
-- sequence passes 2^31-1 every INSERT INTO tags fails.
SELECT setval('tags_id_seq', 2000000000);

INSERT INTO tags (name)
SELECT 'fresh-tag-' || i FROM generate_series(1, 5) AS i;

INSERT INTO taggings (tag_id, account_id, taggable_type, taggable_id)
SELECT id, 1, 'Issue', 1000000 + id - 2000000000
FROM tags WHERE name LIKE 'fresh-tag-%';
