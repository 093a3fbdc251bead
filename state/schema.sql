-- pgwiden state schema, version 2 (state.Version). Store.Ensure runs this
-- file in one transaction, under the pgwiden DDL advisory lock, after
-- creating schema pgwiden when it is missing, on a new database and on one
-- of an older version alike: every statement creates or adds only what is
-- missing. Version 2 added tasks.slices and pgwiden.task_slices. A change
-- that cannot be written that way (a type change, a rewritten constraint)
-- goes in a file of its own, which Ensure runs for the versions below it.

-- One row: the version of this schema.
CREATE TABLE IF NOT EXISTS pgwiden.schema_version (
    version int NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS schema_version_one_row ON pgwiden.schema_version ((true));

-- One row per migration (a "job"): the plan it runs and the phase it is in.
CREATE TABLE IF NOT EXISTS pgwiden.migrations (
    id            bigserial PRIMARY KEY,
    target_schema text NOT NULL,
    target_table  text NOT NULL,
    target_column text NOT NULL,
    plan          jsonb NOT NULL,
    phase         text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    last_error    text,
    -- Operator control of a running backfill (pgwiden pause, resume and
    -- throttle), read by it every --signal-interval: paused holds it,
    -- max_rate (rows/s) overrides its --max-rate while set.
    paused        boolean NOT NULL DEFAULT false,
    max_rate      int CHECK (max_rate > 0),
    -- Why the running backfill or verification waits now ("paused by the
    -- operator", "replication lag 12.4s > 5s on replica-1"); NULL while it
    -- runs freely. Written once per change, for pgwiden status.
    throttled     text
);
-- At most one unfinished migration per target column.
CREATE UNIQUE INDEX IF NOT EXISTS migrations_one_active
    ON pgwiden.migrations (target_schema, target_table, target_column)
    WHERE phase NOT IN ('done', 'rolled_back');

-- Per plan step: 'running' once started, 'done' once its effect committed.
CREATE TABLE IF NOT EXISTS pgwiden.steps (
    migration_id bigint NOT NULL REFERENCES pgwiden.migrations ON DELETE CASCADE,
    step_id      text NOT NULL,
    state        text NOT NULL CHECK (state IN ('running', 'done')),
    started_at   timestamptz,
    finished_at  timestamptz,
    attempts     int NOT NULL DEFAULT 0,
    PRIMARY KEY (migration_id, step_id)
);

-- Backfill checkpoints, one per batched step. cursor is the key of the
-- last row of the last committed batch (NULL: not started); it commits in
-- the batch's own transaction. Updated once per batch, hence the
-- fillfactor, which leaves room for HOT updates.
CREATE TABLE IF NOT EXISTS pgwiden.tasks (
    migration_id  bigint NOT NULL REFERENCES pgwiden.migrations ON DELETE CASCADE,
    step_id       text NOT NULL,
    table_name    text NOT NULL,
    cursor        text[],
    -- stop_at is the table's last key when the walk began: rows beyond it
    -- were written with the sync trigger in place and need no copy, so a
    -- walk ends there instead of chasing the application's inserts.
    stop_at       text[],
    rows_done     bigint NOT NULL DEFAULT 0,
    rows_estimate bigint,
    done          boolean NOT NULL DEFAULT false,
    started_at    timestamptz,
    updated_at    timestamptz,
    PRIMARY KEY (migration_id, step_id)
) WITH (fillfactor = 50);

-- The catalog of the closure's tables as prepare planned from it
-- (planner.Record): later phases compare the live catalog with it to find
-- what changed meanwhile (schema drift).
ALTER TABLE pgwiden.migrations ADD COLUMN IF NOT EXISTS catalog jsonb;

-- A walk split into slices (--workers N): tasks.slices is how many, fixed
-- when the walk began (NULL: one walk, checkpointed in tasks itself). Each
-- slice has its own checkpoint, committed in its batches' transactions
-- like tasks.cursor: it walks the keys after start_at (NULL: from the
-- table's start) up to stop_at, and cursor (start_at before its first
-- batch) is the last key of its last committed batch. Slice n starts
-- where slice n-1 stops. Status shows the task's progress as the sum of
-- its slices'.
ALTER TABLE pgwiden.tasks ADD COLUMN IF NOT EXISTS slices int CHECK (slices > 0);
CREATE TABLE IF NOT EXISTS pgwiden.task_slices (
    migration_id bigint NOT NULL,
    step_id      text NOT NULL,
    slice        int NOT NULL,
    start_at     text[],
    cursor       text[],
    stop_at      text[] NOT NULL,
    rows_done    bigint NOT NULL DEFAULT 0,
    done         boolean NOT NULL DEFAULT false,
    started_at   timestamptz,
    updated_at   timestamptz,
    PRIMARY KEY (migration_id, step_id, slice),
    FOREIGN KEY (migration_id, step_id) REFERENCES pgwiden.tasks ON DELETE CASCADE
) WITH (fillfactor = 50);
