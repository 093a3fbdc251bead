// Package state keeps pgwiden's own records in schema pgwiden of the
// target database: one job per migration with its plan and phase, the
// state of every plan step, and the backfill checkpoints. Keeping them in
// the target database (rather than in a file) means any machine can resume
// a migration, and it needs no more than the table owner's privileges, so
// it works on managed services.
//
// The schema is versioned and embedded (schema.sql). Open only reads: a
// database pgwiden never wrote to reports Exists() == false, so `status`
// and --dry-run create nothing. Ensure creates or upgrades the schema under
// the same transaction advisory lock the audit takes for its table, and
// both refuse a schema newer than the binary.
//
// Resuming after kill -9 rests on two rules the migrator follows:
//
//   - MarkRunning commits before a step runs; MarkDone commits in the
//     step's own transaction (or right after a step that cannot run in
//     one). A step found "running" may or may not have taken effect, so it
//     is re-checked through its Probe before it runs again.
//   - A backfill batch calls Advance inside the batch's transaction, so the
//     cursor and the rows it covers commit together: a restart continues
//     at the next batch, skipping nothing and redoing nothing.
//
// Methods that take an Execer run in the caller's transaction; the others
// use the pool.
//
// A job's row also carries the operator's control of a running phase
// (control.go): paused and max_rate, written by pgwiden pause, resume and
// throttle from any host without the job's lock, and throttled, the state
// the running phase records for pgwiden status.
//
// Store.Lock gives each migration a session advisory lock held on a
// dedicated pool connection for the whole run, so two pgwiden processes
// never act on the same migration at once; when it is taken, the
// *BusyError names the holder's pid and application_name.
//
// Import rules: state imports pgx, zerolog and planner (for the Plan and
// Target types it stores), never migrator, throttle or the CLI.
package state
