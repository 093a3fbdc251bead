// Package throttle decides how fast a background job may go: how many rows
// the next batch should take, how long to wait before it, and when to stop
// and wait for the database to recover.
//
// It is collectors, then a decision, then a wait:
//
//   - A Signal reads one health check (lag.go, xmin.go, lockwait.go,
//     active.go, walrate.go, deadtuples.go, query.go, pause.go, or Func for
//     a callback) and says whether the job must hold, and why, in an
//     operator's words: "replication lag 12.4s > 5s on replica-1".
//   - Controller.Decide turns the last batch's outcome and the readings
//     into a Decision. It is pure, so it is tested without a database.
//   - Controller.Next reads the signals that are due, decides, and waits:
//     a select on ctx and an injected Clock, never time.Sleep, so tests
//     drive the time and Ctrl-C ends any wait at once.
//
// A throttle state change (held, released, held for other reasons) is
// logged once, not once per batch. Fixed is the simplest governor: a fixed
// batch size and an optional rate.
//
// The SQL signals read pg_stat_activity and pg_stat_replication. A role
// without pg_read_all_stats (or pg_monitor) cannot see other roles'
// sessions there; the signals then fail with a message naming the grant
// instead of reading a reassuring 0, and a failing signal holds the job
// (see Controller.Next).
//
// Import rules: throttle imports the standard library, pgx (for pgx.Row
// only: signals take a Querier, which a pool or a connection satisfies) and
// zerolog, and of pgwiden's only internal/format (a leaf), which writes
// the figures of its reasons as everywhere else. The migrator depends on its value
// types and on a Governor interface it defines itself.
package throttle
