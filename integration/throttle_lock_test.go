package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// TestThrottleLockWaiters: session A holds LOCK TABLE items IN SHARE MODE
// in an open transaction and session B's UPDATE of items waits for it.
// The lock-waiter signal, on by default, sees B: the backfill holds
// between two batches and says why, copies nothing while B waits, and
// finishes once A commits (and B with it).
//
// The backfill is first held by a pause file while A and B line up: A's
// SHARE lock also blocks the backfill's own UPDATE, so a batch that
// started between A's LOCK and B's wait would sit in lock_timeout and
// retries instead of in the throttle, and the test would race. Removing
// the file then leaves the lock waiter as the only reason to hold, as it
// is when a writer queues up while pgwiden is between batches.
func TestThrottleLockWaiters(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	const rows = 20000
	db := throttleDB(ctx, t, rows)
	pause := filepath.Join(t.TempDir(), "hold")
	bf := startPgwiden(ctx, t, db, append(append([]string{"backfill"}, throttleTarget...),
		"--batch-size", "200", "--max-batch", "500", "--max-rate", "3000", "--signal-interval", "100ms", "--pause-file", pause)...)
	eventually(t, 20*time.Second, "copying", func() bool { return rowsDone(ctx, t, db) > 0 })
	if err := os.WriteFile(pause, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "held by the pause file", func() bool {
		return strings.Contains(throttledState(ctx, t, db), "pause file")
	})

	a, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Rollback(ctx) //nolint:errcheck // committed below
	if _, err := a.Exec(ctx, "LOCK TABLE items IN SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	bDone := make(chan error, 1)
	go func() {
		_, err := db.Pool.Exec(ctx, "UPDATE items SET v = v + 1 WHERE id = 1")
		bDone <- err
	}()
	waitFor(t, ctx, db, `SELECT EXISTS (SELECT FROM pg_locks WHERE NOT granted AND relation = 'items'::regclass)`)
	if err := os.Remove(pause); err != nil {
		t.Fatal(err)
	}
	const want = `paused: 1 session waits for locks on "public"."items"`
	took := eventually(t, 10*time.Second, "held by the lock waiter", func() bool { return throttledState(ctx, t, db) == want })
	t.Logf("held by the lock waiter %v after the pause file went (--signal-interval 100ms)", took.Round(time.Millisecond))
	held := stalled(ctx, t, db, time.Second)
	if held >= rows {
		t.Fatalf("the backfill had finished (%d rows) before the hold: make the table bigger", held)
	}
	text := statusText(ctx, t, db)
	if !strings.Contains(text, "throttle: "+want) {
		t.Errorf("status does not show the hold:\n%s", text)
	}
	t.Logf("status while the lock waiter holds the backfill:\n%s", text)

	if err := a.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-bDone; err != nil {
		t.Fatalf("session B's UPDATE: %v", err)
	}
	bf.wait(t, 60*time.Second)
	backfillDone(ctx, t, db, rows)
	var lockHold bool
	for _, l := range bf.logLines("throttle held") {
		lockHold = lockHold || strings.Contains(l["reason"].(string), "waits for locks")
	}
	if !lockHold || len(bf.logLines("throttle released")) == 0 {
		t.Errorf("want a 'throttle held' line for the lock waiter and a 'throttle released':\n%s", bf.stderr)
	}
}
