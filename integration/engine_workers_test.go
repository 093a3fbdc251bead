package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/planner"
)

// TestEngineWorkersConcurrentWriters runs TestEngineConcurrentWriters's
// migration with three workers: the backfill's copy and the cutover's
// verification walk every table in slices at once, under the writers,
// and every row the writers wrote must be there as they wrote it.
func TestEngineWorkersConcurrentWriters(t *testing.T) {
	t.Parallel()
	cfg := engineConfig()
	cfg.Workers = 3
	db := underWriters(t, cfg)
	if t.Failed() {
		return
	}
	ctx := pgtest.Context(t)
	// The walks really ran in slices: "Tags" (1,000 rows) by its copy and
	// by its verification.
	for _, step := range []string{"backfill/copy/public.Tags", "cutover/verify/public.Tags"} {
		if n, done := sliceCount(t, ctx, db, step); n != 3 || done != 3 {
			t.Errorf("%s: %d slices, %d done; want 3 and 3", step, n, done)
		}
	}
}

// sliceCount returns how many slices the task of step has, and how many
// of them are done.
func sliceCount(t *testing.T, ctx context.Context, db *pgtest.DB, step string) (n, done int) {
	t.Helper()
	err := db.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE done) FROM pgwiden.task_slices WHERE step_id = $1`, step).Scan(&n, &done)
	if err != nil {
		t.Fatal(err)
	}
	return n, done
}

// TestEngineWorkersKill kills the pgwiden binary with SIGKILL while three
// workers walk the backfill's tables in slices, then runs it again with
// two workers. After the kill, every slice's checkpoint must describe its
// rows exactly (rows up to its cursor copied, none after); the slices of
// a table must follow one another with no gap or overlap. After the second
// run, which keeps the slices the first one made, every slice is done and
// the rows done add up to the rows of each table (every row of this
// schema needs a copy, so a skipped range would show, and the cutover's
// verification, with two workers too, would refuse it).
func TestEngineWorkersKill(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	p := saasPlan(t, ctx, db)
	sums := keyChecksums(t, ctx, db, p)
	e := newEngine(t, db, engineConfig(), noHooks)
	e.run(t, ctx, "prepare")

	args := append(append([]string{"--dsn", db.DSN, "--log-level", "warn", "backfill"}, saasTargetFlags...), "--batch-size", "10")
	killMidway(t, ctx, db, append(args, "--max-rate", "200", "--workers", "3")...)
	steps := stepsOf(e.job(t, ctx).Plan, planner.Backfill)
	var sliced int
	for _, s := range steps {
		if checkSlices(t, ctx, db, p, s, false) > 1 {
			sliced++
		}
	}
	if sliced == 0 {
		t.Fatal("no table was walked in slices before the kill: the test proves nothing")
	}

	if stdout, stderr, code := runPgwiden(ctx, t, append(args, "--workers", "2")...); code != 0 {
		t.Fatalf("backfill --workers 2 again: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, s := range steps {
		checkSlices(t, ctx, db, p, s, true)
	}
	cut := append(append([]string{"--dsn", db.DSN, "--log-level", "warn", "cutover"}, saasTargetFlags...), "--workers", "2")
	if stdout, stderr, code := runPgwiden(ctx, t, cut...); code != 0 { // verifies every row, in slices, before it swaps
		t.Fatalf("cutover --workers 2: exit %d\n%s\n%s", code, stdout, stderr)
	}
	assertWidened(t, ctx, db, p)
	assertUnchanged(t, "by a killed and resumed parallel backfill", sums, keyChecksums(t, ctx, db, p))
}

// checkSlices compares a backfill step's checkpoints with its table and
// returns how many slices it has (0 when it was walked as one, which
// checkCheckpoint checks). The slices must follow one another from the
// table's start to the task's stop; in each, the rows after its start up
// to its cursor are copied and counted in its rows_done, and none after
// its cursor is copied. finished requires every slice done and, with no
// writer, rows_done to add up to the table's rows.
func checkSlices(t *testing.T, ctx context.Context, db *pgtest.DB, p *planner.Plan, s planner.Step, finished bool) int {
	t.Helper()
	var n int
	var stop []string
	if err := db.Pool.QueryRow(ctx, `SELECT coalesce(slices, 0), stop_at FROM pgwiden.tasks WHERE step_id = $1
		UNION ALL SELECT 0, NULL LIMIT 1`, s.ID).Scan(&n, &stop); err != nil {
		t.Fatalf("task of %s: %v", s.ID, err)
	}
	if n == 0 {
		checkCheckpoint(t, ctx, db, p, s, finished)
		return 0
	}
	rows, err := db.Pool.Query(ctx, `SELECT start_at, cursor, stop_at, rows_done, done FROM pgwiden.task_slices
		WHERE step_id = $1 ORDER BY slice`, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	type slice struct {
		start, cursor, stop []string
		rowsDone            int64
		done                bool
	}
	var all []slice
	for rows.Next() {
		var x slice
		if err := rows.Scan(&x.start, &x.cursor, &x.stop, &x.rowsDone, &x.done); err != nil {
			t.Fatal(err)
		}
		all = append(all, x)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(all) != n {
		t.Fatalf("%s: tasks.slices says %d, task_slices holds %d", s.ID, n, len(all))
	}
	differs := shadowDiffers(p, s.Table)
	var sum int64
	for i, x := range all {
		want := []string(nil)
		if i > 0 {
			want = all[i-1].stop
		}
		if !slices.Equal(x.start, want) {
			t.Errorf("%s slice %d starts after %v, want %v (where the slice before it stops): a gap or an overlap", s.ID, i, x.start, want)
		}
		if finished && !x.done {
			t.Errorf("%s slice %d is not done", s.ID, i)
		}
		upTo := x.cursor
		if x.done {
			upTo = x.stop
		}
		// A slice's cursor is its start until its first batch commits.
		walked := keyRange(s.Batch.Key, x.start, upTo, 1)
		rest := keyRange(s.Batch.Key, upTo, x.stop, 1+len(walked.args))
		var below, missed, early int64
		q := fmt.Sprintf(`SELECT count(*) FILTER (WHERE %[1]s), count(*) FILTER (WHERE (%[1]s) AND (%[3]s)),
			count(*) FILTER (WHERE (%[2]s) AND NOT (%[3]s)) FROM %[4]s`, walked.sql, rest.sql, differs, s.Table.Quoted())
		if err := db.Pool.QueryRow(ctx, q, append(walked.args, rest.args...)...).Scan(&below, &missed, &early); err != nil {
			t.Fatalf("check slice %d of %s: %v\n%s", i, s.ID, err, q)
		}
		if missed != 0 || early != 0 || x.rowsDone != below {
			t.Errorf("%s slice %d (%v, %v], cursor %v: %d rows up to the cursor not copied, %d after it copied; rows_done %d, want %d",
				s.ID, i, x.start, x.stop, x.cursor, missed, early, x.rowsDone, below)
		}
		sum += x.rowsDone
	}
	if last := all[len(all)-1].stop; !slices.Equal(last, stop) {
		t.Errorf("%s: the last slice stops at %v, the task at %v", s.ID, last, stop)
	}
	var total int64
	if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM "+s.Table.Quoted()).Scan(&total); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d slices, rows_done %d of %d rows", s.Table, n, sum, total)
	if finished && sum != total {
		t.Errorf("%s: the slices' rows_done add up to %d, the table has %d rows: a range skipped or counted twice", s.ID, sum, total)
	}
	return n
}

// sqlArgs is a predicate and its $n arguments.
type sqlArgs struct {
	sql  string
	args []any
}

// keyRange is "the key is after lo (nil: from the start) and up to hi
// (nil: nowhere)", its arguments numbered from $from.
func keyRange(key, lo, hi []string, from int) sqlArgs {
	if hi == nil {
		return sqlArgs{sql: "false"}
	}
	k := "ROW(" + catalog.Idents(key) + ")"
	var conds []string
	var args []any
	bound := func(op string, v []string) {
		ps := make([]string, len(v))
		for i, x := range v {
			ps[i], args = fmt.Sprintf("$%d", from+len(args)), append(args, x)
		}
		conds = append(conds, fmt.Sprintf("%s %s ROW(%s)", k, op, strings.Join(ps, ", ")))
	}
	if lo != nil {
		bound(">", lo)
	}
	bound("<=", hi)
	return sqlArgs{sql: strings.Join(conds, " AND "), args: args}
}
