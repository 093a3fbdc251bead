package integration

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/state"
)

// TestEnginePhaseOrder: a phase run before the one it needs changes
// nothing and names the command to run first.
func TestEnginePhaseOrder(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	before := schemaDump(t, db)
	e := newEngine(t, db, engineConfig(), noHooks)
	wantOrder := func(phase, run string) {
		t.Helper()
		err := e.phase(ctx, phase)
		var pe *migrator.PhaseOrderError
		if !errors.As(err, &pe) || pe.Run != run || !strings.Contains(err.Error(), "run pgwiden "+run+" first") {
			t.Errorf("%s = %v, want an error saying to run %s first", phase, err, run)
		}
	}
	wantOrder("backfill", "prepare")
	wantOrder("cutover", "prepare")
	if after := schemaDump(t, db); after != before {
		t.Errorf("a refused phase changed the schema:\n%s", firstDiff(before, after))
	}
	e.run(t, ctx, "prepare")
	wantOrder("cutover", "backfill")
	e.wantPhase(t, ctx, state.PhasePrepared)
}

// TestEngineCutoverTwice: a second cutover, by another migrator as a
// second CLI run would be, is a no-op: no swap, no step run again, the
// schema and the migration's record untouched.
func TestEngineCutoverTwice(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	e := newEngine(t, db, engineConfig(), noHooks)
	e.run(t, ctx, "prepare", "backfill", "cutover")
	if e.m.LastSwap.Attempts == 0 {
		t.Fatal("the first cutover reports no swap")
	}
	job, schema := e.job(t, ctx), schemaDump(t, db)
	steps := stateDigest(t, ctx, db)

	again := newEngine(t, db, engineConfig(), noHooks)
	again.run(t, ctx, "cutover")
	if again.m.LastSwap.Attempts != 0 {
		t.Errorf("the second cutover swapped again (%d attempts)", again.m.LastSwap.Attempts)
	}
	if j := again.job(t, ctx); j.Phase != state.PhaseCutOver || !j.UpdatedAt.Equal(job.UpdatedAt) {
		t.Errorf("the second cutover changed the migration: phase %s, updated %v (was %v)", j.Phase, j.UpdatedAt, job.UpdatedAt)
	}
	if after := schemaDump(t, db); after != schema {
		t.Errorf("the second cutover changed the schema:\n%s", firstDiff(schema, after))
	}
	if after := stateDigest(t, ctx, db); after != steps {
		t.Errorf("the second cutover changed the steps' state:\n%s", firstDiff(steps, after))
	}
}

// stateDigest renders pgwiden.steps and pgwiden.tasks, attempts and times
// included.
func stateDigest(t *testing.T, ctx context.Context, db *pgtest.DB) string {
	t.Helper()
	return joinLines(readRows(t, ctx, db.Pool, `SELECT format('%s %s %s %s %s', step_id, state, attempts, started_at, finished_at) FROM pgwiden.steps
		UNION ALL SELECT format('%s %s %s %s %s', step_id, cursor, rows_done, done, updated_at) FROM pgwiden.tasks`))
}

// TestEngineBusy: while one migrator is in the middle of a backfill, a
// second one on the same target is turned away with a *state.BusyError
// that names the first one's session; the first then finishes normally.
func TestEngineBusy(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	inBatch, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	first := newEngine(t, db, engineConfig(), migrator.Hooks{BeforeBatch: func(ctx context.Context, _ string, batch int) error {
		if batch == 2 {
			once.Do(func() { close(inBatch); <-release })
		}
		return nil
	}})
	first.run(t, ctx, "prepare")
	done := make(chan error, 1)
	go func() { done <- first.phase(ctx, "backfill") }()
	select {
	case <-inBatch:
	case err := <-done:
		t.Fatalf("the first backfill ended before its second batch: %v", err)
	}

	var pid int
	err := db.Pool.QueryRow(ctx, `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'pgwiden' AND a.datname = current_database()`).Scan(&pid)
	if err != nil {
		t.Fatalf("find the first migrator's lock: %v", err)
	}
	second := newEngine(t, db, engineConfig(), noHooks)
	for _, ph := range []string{"backfill", "cutover", "rollback"} {
		err := second.phase(ctx, ph)
		var busy *state.BusyError
		if !errors.As(err, &busy) || busy.PID != pid || !strings.Contains(err.Error(), fmt.Sprintf("held by pid %d (application_name=pgwiden", pid)) {
			t.Errorf("second %s = %v, want a BusyError naming pid %d", ph, err, pid)
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the first backfill, after the second was turned away: %v", err)
	}
	first.wantPhase(t, ctx, state.PhaseBackfilled)
}
