// Package migrator runs a plan's phases against a live database: prepare,
// backfill, cutover, cleanup and rollback, each resumable after a kill at
// any instant.
//
// The migrator never builds SQL for the user's tables itself: it executes
// the Steps the planner rendered and stored with the migration at prepare.
// Around them it adds what makes them safe on a busy database: lock_timeout
// on every statement and retries with backoff (internal/pgerr), a "done?"
// probe before re-running a step, a checkpoint committed in the same
// transaction as each backfill batch, and an advisory lock so two pgwiden
// processes never act on one migration.
//
// Batched steps are paced by a Governor between two batches, never inside
// one (throttle.go): the CLI's is a throttle.Controller, whose holds the
// migrator shows in its progress and records for pgwiden status. Operator
// is the throttle signal that carries pgwiden pause and throttle from the
// migration's row to that controller: the throttle knows nothing of
// migrations.
//
// Consumers learn what the migrator does through typed events (Events,
// Subscribe: steps, swaps, retries, progress, holds, warnings), never by
// reading its log.
//
// Import rules: migrator imports planner, catalog, state, throttle (value
// types) and internal/pgerr; it never imports urfave/cli.
package migrator
