-- A small multi-tenant SaaS schema shaped like the one of the incident:
-- tags.id is a serial (int4) whose sequence nears 2^31-1, and int4 columns
-- point at it (taggings.tag_id) and at its neighbour (tagging_events), so
-- widening tags.id drags a foreign key, a view and a trigger along.

CREATE TABLE accounts (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL,
    plan       text NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'team', 'enterprise')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tags (
    id         serial PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    color      text NOT NULL DEFAULT '#888888',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE taggings (
    id            serial PRIMARY KEY,
    tag_id        integer NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    account_id    bigint NOT NULL REFERENCES accounts (id),
    taggable_type text NOT NULL,
    taggable_id   bigint NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tag_id, taggable_type, taggable_id)
);
CREATE INDEX taggings_account_id_idx ON taggings (account_id);

CREATE TABLE tagging_events (
    id          bigserial PRIMARY KEY,
    tagging_id  integer NOT NULL REFERENCES taggings (id),
    kind        text NOT NULL CHECK (kind IN ('added', 'removed')),
    occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tagging_events_tagging_id_idx ON tagging_events (tagging_id);

-- The dashboard's "popular tags" widget reads this view.
CREATE VIEW tag_usage AS
SELECT t.id AS tag_id, t.name, count(tg.id) AS uses, max(tg.created_at) AS last_used_at
FROM tags t
LEFT JOIN taggings tg ON tg.tag_id = t.id
GROUP BY t.id, t.name;

CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE TRIGGER tags_set_updated_at BEFORE UPDATE ON tags
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
