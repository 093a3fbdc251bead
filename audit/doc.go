// Package audit finds the integer keys and sequences of a database that are
// running out of range, and estimates when they will.
//
// It looks at every smallint/integer column that is part of a primary key,
// unique key or foreign key or that is fed by a sequence or identity, at
// every int4 foreign key that references a wider (bigint) key, and at every
// sequence that stops at or below 2^31-1. For each it reports the limit (the
// smaller of the column type's and the feeding sequence's), the current
// value and the fraction of the range used.
//
// The work is split so that most of it is pure and tested without a server:
//
//   - Candidates (scan.go) decides from a *catalog.Snapshot what to look at
//     and where its current value can be read cheaply;
//   - Scan reads those values: a sequence's last_value, or max(col) only
//     when a valid, non-partial btree index leads with the column, so the
//     audit never scans a table;
//   - rate.go turns two samples or a recorded history into a growth rate
//     and a date of exhaustion, with the clock passed in;
//   - history.go records readings in pgwiden.audit_history (only when asked
//     to) and reads them back;
//   - startby.go estimates how long widening each finding takes (its
//     closure's rows, walked twice, at a Pace: --rate, the last backfill
//     recorded in pgwiden's state, or a slow default) and the date to start
//     by: exhaustion minus that duration. Sort orders by it;
//   - render.go prints the report as a text table or as stable JSON, and
//     prometheus.go as metrics in the Prometheus text exposition format.
//
// A column whose sequence is on the emergency runway (pgwiden runway) is
// measured on the runway: its limit is the runway's end, and it always
// counts as above the threshold. A value the current role may not read is
// reported as unknown, so that a monitoring check does not stay green on it.
//
// The audit writes nothing to the database except, through Record, its own
// history table (and, with --out, the metrics file).
//
// Import rules: audit imports catalog, planner (to size a finding's
// closure), state (to read a recorded backfill's pace), runway (to measure
// a runway), pgx, the Prometheus client library and the standard library.
// It never imports urfave/cli; cmd/pgwiden maps flags to its functions.
package audit
