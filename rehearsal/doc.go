// Package rehearsal runs a whole migration for real on a staging copy of
// the database, prepare, backfill, cutover and (unless asked to keep the
// result) rollback, and turns what it measured into a report an operator
// can take to a change review: each phase's duration, the backfill's
// rows/s, how long the exclusive locks were held and how many attempts the
// swap needed, the extra disk and the WAL each phase used, every warning
// met, the verification's result, whether the rollback left the schema as
// it was, and the same figures extrapolated to the production tables' size.
//
// A rehearsal writes to the database it runs on, so it refuses to start
// unless the operator's own rule (a query that returns true only on
// staging) says the server is staging, or the operator says so explicitly.
// That check, the plan, the production statistics and the "before" schema
// dump all happen in Check, before anything is written. Production is only
// ever read, through catalog statistics (pg_class.reltuples and relation
// sizes), on a session the caller opens with default_transaction_read_only.
//
// The migrator does the work; the rehearsal only watches it, through the
// migrator's typed events (migrator.Events: steps with their durations,
// swaps, retries, warnings, the batched steps' progress), never through
// its log, and measures sizes and WAL between phases. It plans once, in
// Check, and prepare records that same plan (Migrator.PrepareWith). The
// caller gives the migrator the governor the phase commands use, built
// from that plan, so pgwiden pause and throttle reach a rehearsal. An
// optional load (load.go) plays the application meanwhile and reports its
// latency per phase.
//
// Import rules: rehearsal imports migrator, state, planner and catalog,
// pgx and zerolog, and throttle for its Config only (shown in the report);
// never urfave/cli (the caller builds the migrator and its governor).
package rehearsal
