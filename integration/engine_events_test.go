package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/throttle"
)

// eventLog keeps every event of a migrator, for the tests to read.
type eventLog struct {
	mu       sync.Mutex
	steps    []migrator.StepDone
	swaps    []migrator.SwapDone
	retries  []migrator.Retry
	progress []migrator.Progress
	holds    []migrator.Hold
	onRetry  func(migrator.Retry)
	onHold   func(migrator.Hold)
}

func (l *eventLog) events() migrator.Events {
	return migrator.Events{
		OnStep:     func(e migrator.StepDone) { logEvent(l, &l.steps, e, nil) },
		OnSwap:     func(e migrator.SwapDone) { logEvent(l, &l.swaps, e, nil) },
		OnRetry:    func(e migrator.Retry) { logEvent(l, &l.retries, e, l.onRetry) },
		OnProgress: func(e migrator.Progress) { logEvent(l, &l.progress, e, nil) },
		OnHold:     func(e migrator.Hold) { logEvent(l, &l.holds, e, l.onHold) },
	}
}

// logEvent appends e to list, then calls then (outside the lock).
func logEvent[T any](l *eventLog, list *[]T, e T, then func(T)) {
	l.mu.Lock()
	*list = append(*list, e)
	l.mu.Unlock()
	if then != nil {
		then(e)
	}
}

// TestEngineEvents: a migration's consumers learn what it does from typed
// events, not its log. A lock held on the target table makes prepare's
// first statement retry (OnRetry with the SQLSTATE, then OnStep with the
// wait); pgwiden pause set on the migration holds the backfill (OnHold,
// through the operator signal and the throttle controller) until resumed;
// every walk reports its progress and the swap its attempts.
func TestEngineEvents(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	e := newEngine(t, db, engineConfig(), migrator.Hooks{})
	var l eventLog
	e.m.Subscribe(l.events())

	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE "Tags" IN ACCESS SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	var release sync.Once
	l.onRetry = func(migrator.Retry) { release.Do(func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }) }
	e.run(t, ctx, "prepare")
	release.Do(func() { _ = tx.Rollback(ctx) })

	if len(l.retries) == 0 || l.retries[0].SQLState != "55P03" || !strings.HasPrefix(l.retries[0].What, "prepare/") || l.retries[0].Wait <= 0 {
		t.Fatalf("retries %+v: want a lock_timeout (55P03) retry of a prepare step, with its wait", l.retries)
	}
	var waited *migrator.StepDone
	for i, s := range l.steps {
		if s.Step.Phase != planner.Prepare {
			t.Errorf("step %s reported during prepare", s.Step.ID)
		}
		if s.Step.ID == l.retries[0].What {
			waited = &l.steps[i]
		}
	}
	if waited == nil || waited.Attempts < 2 || waited.LockWait < 200*time.Millisecond || waited.Took < waited.LockWait {
		t.Errorf("the retried step's event %+v: want 2+ attempts, a lock wait of at least one lock_timeout, within its duration", waited)
	}
	if want := len(e.job(t, ctx).Plan.Steps); len(l.steps) == 0 || len(l.steps) > want {
		t.Errorf("%d step events for prepare", len(l.steps))
	}

	// Pause the migration, then run the backfill under the controller the
	// CLI builds: it holds at once, and the test resumes it on OnHold.
	job := e.job(t, ctx)
	if err := e.st.SetPaused(ctx, job.ID, true); err != nil {
		t.Fatal(err)
	}
	tcfg := throttle.DefaultConfig()
	tcfg.StartBatch, tcfg.SignalEvery, tcfg.HoldPoll = 50, 50*time.Millisecond, 50*time.Millisecond
	op := migrator.NewOperator(e.st, saasTarget, 0, zerolog.Nop())
	ctrl := throttle.NewController(tcfg, []throttle.Signal{op}, throttle.RealClock, zerolog.Nop())
	op.Attach(ctrl)
	e.m.SetGovernor(ctrl)
	var resumed sync.Once
	l.onHold = func(h migrator.Hold) {
		if h.Held && strings.Contains(h.Reason, migrator.PausedReason) {
			resumed.Do(func() {
				if err := e.st.SetPaused(context.WithoutCancel(ctx), job.ID, false); err != nil {
					t.Error(err)
				}
			})
		}
	}
	e.run(t, ctx, "backfill", "cutover")

	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.holds) < 2 || !l.holds[0].Held || !strings.Contains(l.holds[0].Reason, "pgwiden pause") || l.holds[len(l.holds)-1].Reason != "" {
		t.Errorf("holds %+v: want the pause first, and the walk released at the end", l.holds)
	}
	done := map[string]bool{}
	for _, p := range l.progress {
		done[p.Step] = done[p.Step] || p.Done
	}
	for _, s := range e.job(t, ctx).Plan.Steps {
		if s.Batch != nil && (s.Phase == planner.Backfill || s.Phase == planner.Cutover) && !done[s.ID] {
			t.Errorf("no final progress event for %s", s.ID)
		}
	}
	if len(l.swaps) != 1 || l.swaps[0].Back || l.swaps[0].Attempts < 1 || l.swaps[0].Held <= 0 {
		t.Errorf("swaps %+v: want one swap with its attempts and hold", l.swaps)
	}
}

// TestRehearsePausedByOperator: pgwiden pause reaches a running rehearsal,
// whose walks are paced by the same controller as the backfill's; resumed,
// the rehearsal finishes and passes.
func TestRehearsePausedByOperator(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	const rows = 20000
	db := pgtest.NewDB(t)
	db.Exec(t, fmt.Sprintf(`CREATE TABLE items (id serial PRIMARY KEY, v int NOT NULL);
		INSERT INTO items (v) SELECT g FROM generate_series(1, %d) g;
		ANALYZE items;`, rows))
	path := filepath.Join(t.TempDir(), "report.json")
	rh := startPgwiden(ctx, t, db, append(append([]string{"rehearse"}, throttleTarget...), "--i-know-this-is-staging",
		"--batch-size", "200", "--max-rate", "4000", "--signal-interval", "200ms", "--report", path, "--json")...)
	eventually(t, 20*time.Second, "copying", func() bool {
		var n int64
		_ = db.Pool.QueryRow(ctx, `SELECT coalesce(sum(rows_done), 0)::bigint FROM pgwiden.tasks WHERE step_id LIKE 'backfill/%'`).Scan(&n)
		return n > 0
	})
	throttleCLI(ctx, t, db, 0, "pause")
	eventually(t, 10*time.Second, "held by the pause", func() bool {
		return strings.Contains(throttledState(ctx, t, db), "pgwiden pause")
	})
	if held := stalled(ctx, t, db, time.Second); held >= rows {
		t.Fatalf("the rehearsal's backfill had finished (%d rows) before the pause took effect", held)
	}
	throttleCLI(ctx, t, db, 0, "resume")
	rh.wait(t, 90*time.Second)
	if rep := readRehearseJSON(t, path); !rep.Passed {
		t.Errorf("rehearsal after pause and resume: problems %q", rep.Problems)
	}
}
