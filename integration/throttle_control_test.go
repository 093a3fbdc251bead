package integration

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// TestThrottlePauseResume: `pgwiden pause` from a second process holds a
// running backfill between two batches within its --signal-interval;
// status says it is paused and why; nothing is copied while it holds;
// `pgwiden resume` lets it run to the end. Ctrl-C is not needed at any
// point: the backfill process never stops.
func TestThrottlePauseResume(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	const rows = 20000
	db := throttleDB(ctx, t, rows)
	bf := startPgwiden(ctx, t, db, append(append([]string{"backfill"}, throttleTarget...),
		"--batch-size", "200", "--max-rate", "4000", "--signal-interval", "200ms", "--progress-interval", "300ms")...)
	eventually(t, 20*time.Second, "copying", func() bool { return rowsDone(ctx, t, db) > 0 })

	out := throttleCLI(ctx, t, db, 0, "pause")
	cliMatch(t, "pause", `^pause: migration \d+ \(public\.items\.id\) paused; the running phase takes it within its --signal-interval\n$`, out)
	took := eventually(t, 10*time.Second, "held by the pause", func() bool {
		return strings.Contains(throttledState(ctx, t, db), "pgwiden pause")
	})
	t.Logf("held %v after pgwiden pause returned (--signal-interval 200ms)", took.Round(time.Millisecond))
	held := stalled(ctx, t, db, time.Second)
	if held >= rows {
		t.Fatalf("the backfill had finished (%d rows) before the pause took effect: make the table bigger", held)
	}
	st := statusOf(ctx, t, db)
	if !st.Paused || st.Holder == nil || st.Throttled != "paused: pgwiden pause (pgwiden resume continues)" {
		t.Errorf("status --json while paused: %+v", st)
	}
	text := statusText(ctx, t, db)
	for _, want := range []string{"throttle: paused: pgwiden pause (pgwiden resume continues)", "paused:   yes, by pgwiden pause"} {
		if !strings.Contains(text, want) {
			t.Errorf("status does not say %q:\n%s", want, text)
		}
	}
	t.Logf("status while paused:\n%s", text)

	out = throttleCLI(ctx, t, db, 0, "resume")
	cliMatch(t, "resume", `^resume: migration \d+ \(public\.items\.id\) resumed; `, out)
	bf.wait(t, 60*time.Second)
	backfillDone(ctx, t, db, rows)
	if st := statusOf(ctx, t, db); st.Paused {
		t.Errorf("still paused after resume: %+v", st)
	}
	// The progress lines go on while it holds, and say why.
	var shown bool
	for _, l := range bf.logLines("progress") {
		shown = shown || l["throttled"] == "paused: pgwiden pause (pgwiden resume continues)"
	}
	if !shown {
		t.Errorf("no progress line says the backfill is paused:\n%s", bf.stderr)
	}
	// The controller logs each change of throttle state once: one hold by
	// the operator and its release, however long the hold lasted.
	heldLines, released := bf.logLines("throttle held"), bf.logLines("throttle released")
	if len(heldLines) != 1 || len(released) != 1 || !strings.Contains(heldLines[0]["reason"].(string), "pgwiden pause") {
		t.Errorf("want one 'throttle held' (by the pause) and one 'throttle released' line, got %v and %v\n%s", heldLines, released, bf.stderr)
	}
}

// TestThrottleMaxRate: `pgwiden throttle --max-rate` changes the pace of a
// running backfill within its --signal-interval, and --max-rate 0 gives it
// back the rate it was started with.
func TestThrottleMaxRate(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	const rows = 40000
	db := throttleDB(ctx, t, rows)
	bf := startPgwiden(ctx, t, db, append(append([]string{"backfill"}, throttleTarget...),
		"--batch-size", "200", "--max-batch", "500", "--max-rate", "2000", "--signal-interval", "200ms")...)
	eventually(t, 20*time.Second, "copying", func() bool { return rowsDone(ctx, t, db) > 0 })

	// Batches of at most 500 rows: at 2000 rows/s four a second, so that
	// 1.5s windows measure the rate, not the luck of a batch boundary.
	slow := rateOver(ctx, t, db, 1500*time.Millisecond)
	throttleCLI(ctx, t, db, 0, "throttle", "--max-rate", "8000")
	if st := statusOf(ctx, t, db); st.MaxRate == nil || *st.MaxRate != 8000 {
		t.Errorf("status max_rate after throttle --max-rate 8000: %v", st.MaxRate)
	}
	time.Sleep(500 * time.Millisecond) // a signal interval, and the batch size adapting
	fast := rateOver(ctx, t, db, 1500*time.Millisecond)
	throttleCLI(ctx, t, db, 0, "throttle", "--max-rate", "0")
	time.Sleep(500 * time.Millisecond)
	back := rateOver(ctx, t, db, 1500*time.Millisecond)
	t.Logf("rows/s: %.0f at --max-rate 2000, %.0f after throttle --max-rate 8000, %.0f after --max-rate 0", slow, fast, back)
	if slow > 2600 || fast < 2*slow || back > 2600 {
		t.Errorf("rates %.0f -> %.0f -> %.0f rows/s: want about 2000, then at least twice that, then about 2000 again", slow, fast, back)
	}
	if st := statusOf(ctx, t, db); st.MaxRate != nil {
		t.Errorf("status max_rate after throttle --max-rate 0: %v, want null", *st.MaxRate)
	}
	throttleCLI(ctx, t, db, 0, "throttle", "--max-rate", "100000") // finish quickly
	bf.wait(t, 60*time.Second)
	backfillDone(ctx, t, db, rows)
	if n := len(bf.logLines("max rate changed")); n != 3 {
		t.Errorf("want 3 'max rate changed' log lines (8000, back to 2000, 100000), got %d\n%s", n, bf.stderr)
	}
}

// rateOver measures the backfill's rows per second over d.
func rateOver(ctx context.Context, t *testing.T, db *pgtest.DB, d time.Duration) float64 {
	t.Helper()
	start, n0 := time.Now(), rowsDone(ctx, t, db)
	time.Sleep(d)
	return float64(rowsDone(ctx, t, db)-n0) / time.Since(start).Seconds()
}

// TestThrottleControlCommands: pause, resume and throttle need an
// unfinished migration, and check their flags before connecting.
func TestThrottleControlCommands(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := pgtest.NewDB(t)
	db.Exec(t, "CREATE TABLE items (id serial PRIMARY KEY, v int NOT NULL); INSERT INTO items (v) SELECT generate_series(1, 1000)")
	for _, c := range [][]string{{"pause"}, {"resume"}, {"throttle", "--max-rate", "5"}} {
		args := append(append([]string{"--dsn", db.DSN, c[0]}, throttleTarget...), c[1:]...)
		_, stderr, code := runPgwiden(ctx, t, args...)
		if code != 2 || !strings.Contains(stderr, "has no unfinished migration") {
			t.Errorf("%s without a migration: exit %d, want 2\n%s", c[0], code, stderr)
		}
	}
	_, stderr, code := runPgwiden(ctx, t, append(append([]string{"--dsn", db.DSN, "throttle"}, throttleTarget...), "--max-rate", "-1")...)
	if code != 2 || !strings.Contains(stderr, "--max-rate must be 0") {
		t.Errorf("throttle --max-rate -1: exit %d, want 2\n%s", code, stderr)
	}
	throttleCLI(ctx, t, db, 0, "prepare")
	out := throttleCLI(ctx, t, db, 0, "pause")
	cliMatch(t, "pause while nothing runs", `no pgwiden process runs it now: the next backfill or cutover starts with it\n$`, out)
	// A backfill started paused holds before its first batch, and a
	// Ctrl-C (here SIGINT) while it holds stops it at once, cleanly.
	bf := startPgwiden(ctx, t, db, append(append([]string{"backfill"}, throttleTarget...), "--signal-interval", "100ms")...)
	eventually(t, 20*time.Second, "held from the start", func() bool {
		if !bf.running() {
			t.Fatalf("backfill exited: %v\n%s", bf.err, bf.stderr)
		}
		return strings.Contains(throttledState(ctx, t, db), "pgwiden pause")
	})
	if err := bf.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-bf.done:
	case <-time.After(10 * time.Second):
		t.Fatal("pgwiden backfill ignored SIGINT while paused")
	}
	if n := rowsDone(ctx, t, db); n != 0 {
		t.Errorf("a backfill started paused copied %d rows", n)
	}
	if st := statusOf(ctx, t, db); st.Holder != nil || !st.Paused || throttledState(ctx, t, db) != "" {
		t.Errorf("after Ctrl-C: %+v (recorded %q), want no holder, no throttle state, still paused", st, throttledState(ctx, t, db))
	}
}

// TestThrottleVacuumEvery: --vacuum-every runs a plain VACUUM of the table
// between batches, outside their transactions (VACUUM refuses to run in
// one), and the backfill still copies every row.
func TestThrottleVacuumEvery(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	const rows = 3000
	db := throttleDB(ctx, t, rows)
	bf := startPgwiden(ctx, t, db, append(append([]string{"--log-level", "debug", "backfill"}, throttleTarget...),
		"--batch-size", "100", "--batch-target", "0", "--vacuum-every", "10")...)
	bf.wait(t, 60*time.Second)
	backfillDone(ctx, t, db, rows)
	// 30 batches of rows, then one that finds none and ends the walk: a
	// VACUUM after the 10th, the 20th and the 30th.
	if n := len(bf.logLines("vacuumed between batches")); n != 3 {
		t.Errorf("%d VACUUMs logged, want 3\n%s", n, bf.stderr)
	}
	// Before PostgreSQL 15 the statistics collector gets the counts by
	// message and a reader may see a file up to 500ms old: poll a while.
	var vacuums int64
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if err := db.Pool.QueryRow(ctx, "SELECT vacuum_count FROM pg_stat_user_tables WHERE relid = 'items'::regclass").Scan(&vacuums); err != nil {
			t.Fatal(err)
		}
		if vacuums >= 3 || time.Now().After(deadline) {
			break
		}
	}
	if vacuums < 3 {
		t.Errorf("pg_stat_user_tables.vacuum_count = %d, want 3 or more", vacuums)
	}
}
