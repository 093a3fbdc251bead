package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/migrator"
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
		// Rows after the cursor: copied only by the first passes of the
		// slice's unfinished batch (checkCheckpoint).
		if missed != 0 || early > maxEarly || x.rowsDone != below+early {
			t.Errorf("%s slice %d (%v, %v], cursor %v: %d rows up to the cursor not copied, %d after it copied (at most %d); rows_done %d, want %d",
				s.ID, i, x.start, x.stop, x.cursor, missed, early, maxEarly, x.rowsDone, below+early)
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

// TestShapeKeylessWorkers migrates TestShapeKeylessTable's tables with
// three workers under its writer: the keyless pgbench_history is walked
// by ctid in slices of its pages (a TID Range Scan on 14+, TID lists
// before), its verification too, and every row must be as the writer
// left it.
func TestShapeKeylessWorkers(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, keylessSchema)
	cfg := engineConfig()
	cfg.Workers = 3
	w := newShapeWriter(t, ctx, db, keylessTables, keylessOps)
	migrateUnderWith(t, ctx, db, keylessTarget, w, cfg)
	for _, step := range []string{"backfill/copy/public.pgbench_history", "cutover/verify/public.pgbench_history"} {
		if n, done := sliceCount(t, ctx, db, step); n < 2 || done != n {
			t.Errorf("%s: %d slices, %d done; want at least 2, all done", step, n, done)
		}
	}
}

// TestThrottleWorkersPauseAndRate: with --workers 3, the max rate is the
// rate of the three workers together, `pgwiden pause` holds every worker
// between two batches (no slice advances while it holds), status shows
// the table's progress as one (how many of its slices are done), and
// `pgwiden resume` lets them all finish.
func TestThrottleWorkersPauseAndRate(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	const rows = 40000
	db := throttleDB(ctx, t, rows)
	bf := startPgwiden(ctx, t, db, append(append([]string{"backfill"}, throttleTarget...), "--workers", "3",
		"--batch-size", "200", "--max-batch", "500", "--max-rate", "2000", "--signal-interval", "200ms", "--progress-interval", "300ms")...)
	eventually(t, 20*time.Second, "copying", func() bool { return rowsDone(ctx, t, db) > 0 })
	time.Sleep(300 * time.Millisecond) // every worker under way
	rate := rateOver(ctx, t, db, 2*time.Second)
	t.Logf("three workers at --max-rate 2000: %.0f rows/s together", rate)
	if rate > 2600 {
		t.Errorf("three workers copied %.0f rows/s at --max-rate 2000: the rate must govern their sum", rate)
	}

	throttleCLI(ctx, t, db, 0, "pause")
	eventually(t, 10*time.Second, "held by the pause", func() bool {
		return strings.Contains(throttledState(ctx, t, db), "pgwiden pause")
	})
	// A hold stops each worker before its next batch: a batch under way
	// when the hold began, in its passes (--hot-passes), ends first.
	time.Sleep(time.Second)
	before := slicePositions(ctx, t, db)
	held := stalled(ctx, t, db, time.Second)
	if after := slicePositions(ctx, t, db); !slices.Equal(before, after) {
		t.Errorf("slices moved while paused:\n%v\n%v", before, after)
	}
	if held >= rows {
		t.Fatalf("the backfill had finished (%d rows) before the pause took effect: make the table bigger", held)
	}
	if text := statusText(ctx, t, db); !strings.Contains(text, " of 3 slices") {
		t.Errorf("status does not show the slices of the walk:\n%s", text)
	} else {
		t.Logf("status while paused:\n%s", text)
	}
	throttleCLI(ctx, t, db, 0, "resume")
	throttleCLI(ctx, t, db, 0, "throttle", "--max-rate", "100000") // finish quickly
	bf.wait(t, 60*time.Second)
	backfillDone(ctx, t, db, rows)
	if n, done := sliceCount(t, ctx, db, "backfill/copy/public.items"); n != 3 || done != 3 {
		t.Errorf("items: %d slices, %d done; want 3 and 3", n, done)
	}
	if got := rowsDone(ctx, t, db); got != rows {
		t.Errorf("rows_done adds up to %d, want %d", got, rows)
	}
}

// slicePositions lists every slice's checkpoint, to compare over time.
func slicePositions(ctx context.Context, t *testing.T, db *pgtest.DB) []string {
	t.Helper()
	return readRows(t, ctx, db.Pool, `SELECT step_id || ' ' || slice || ' ' || coalesce(cursor::text, '-') || ' ' || rows_done
		FROM pgwiden.task_slices ORDER BY step_id, slice`)
}

// TestBackfillVacuumFractionWorkers: TestBackfillVacuumFraction's table
// backfilled by three workers with --vacuum-fraction 0.2: the pacing
// counts the rows of every worker, so the table still grows by about a
// fifth, and no VACUUM ever fails because another one runs on the table.
func TestBackfillVacuumFractionWorkers(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	const rows = 20000
	db := pgtest.NewDB(t)
	db.Exec(t, paddedItems(rows))
	before := relationSize(ctx, t, db, "items")
	throttleCLI(ctx, t, db, 0, "prepare")
	args := append(append([]string{"--dsn", db.DSN, "--log-level", "debug", "backfill"}, throttleTarget...),
		"--workers", "3", "--batch-size", "500", "--batch-target", "0", "--vacuum-fraction", "0.2")
	_, stderr, code := runPgwiden(ctx, t, args...)
	if code != 0 {
		t.Fatalf("backfill: exit %d\n%s", code, stderr)
	}
	backfillDone(ctx, t, db, rows)
	grown := float64(relationSize(ctx, t, db, "items")) / float64(before)
	vacuums := strings.Count(stderr, "vacuumed between batches")
	t.Logf("--workers 3 --vacuum-fraction 0.2: items %d bytes before, %.2fx after; %d VACUUMs", before, grown, vacuums)
	if strings.Contains(stderr, "vacuum between batches failed") {
		t.Errorf("a VACUUM between batches failed:\n%s", stderr)
	}
	if vacuums < 4 || vacuums > 8 {
		t.Errorf("%d VACUUMs at --vacuum-fraction 0.2, want about 5 (one per fifth of the rows of all workers, one at the end)", vacuums)
	}
	if grown > 1.35 {
		t.Errorf("with --workers 3 --vacuum-fraction 0.2 the table grew %.2fx, want about 1.2x (at most 1.35x)", grown)
	}
	if n, done := sliceCount(t, ctx, db, "backfill/copy/public.items"); n != 3 || done != 3 {
		t.Errorf("items: %d slices, %d done; want 3 and 3", n, done)
	}
}

// TestEngineWorkersRollback: after a cutover with three workers, a value
// beyond the old type's range makes rollback's check walk (in slices too)
// refuse, naming the row; the keys are sparse (1..1000, then 3,000,000,000),
// so most of the equal-width ranges of the first key column hold no key and
// the slices must still cover every row. Once that row is gone, the
// rollback walks again and returns the schema to what it was.
func TestEngineWorkersRollback(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	before := schemaDump(t, db)
	cfg := engineConfig()
	cfg.Workers = 3
	var mu sync.Mutex
	slicesSeen := map[string]int{} // rollback's check walk of "Tags" -> its slices
	hooks := migrator.Hooks{BeforeBatch: func(ctx context.Context, step string, _ int) error {
		if !strings.HasPrefix(step, string(planner.Unswap)+"/") || !strings.HasSuffix(step, "public.Tags") {
			return nil
		}
		var n int
		err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pgwiden.task_slices WHERE step_id = $1`, step).Scan(&n)
		mu.Lock()
		slicesSeen[step] = n
		mu.Unlock()
		return err
	}}
	e := newEngine(t, db, cfg, hooks)
	e.run(t, ctx, "prepare", "backfill", "cutover")
	db.Exec(t, `INSERT INTO "Tags" ("Id", tenant_id, name) VALUES (3000000000, 1, 'wide')`)

	err := e.phase(ctx, "rollback")
	if err == nil || !strings.Contains(err.Error(), "1 row(s) of public.Tags hold values beyond the old column's range") {
		t.Fatalf("rollback = %v, want a refusal naming the row of public.Tags beyond the old range", err)
	}
	mu.Lock()
	if len(slicesSeen) != 1 {
		t.Errorf("rollback's check walks of public.Tags: %v, want one, in slices", slicesSeen)
	}
	for step, n := range slicesSeen {
		t.Logf("%s: %d slices", step, n)
		if n < 2 {
			t.Errorf("%s walked in %d slices, want at least 2", step, n)
		}
	}
	mu.Unlock()
	db.Exec(t, `DELETE FROM "Tags" WHERE "Id" = 3000000000`)
	e.run(t, ctx, "rollback")
	assertSchemaAsBefore(t, e.job(t, ctx).Plan, before, schemaDump(t, db))
}
