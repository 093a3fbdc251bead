package integration

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
)

// stateStore opens a store on its own pool, named as pgwiden names its
// sessions, so lock holders can be told apart by pid.
func stateStore(t *testing.T, db *pgtest.DB) *state.Store {
	t.Helper()
	ctx := pgtest.Context(t)
	cfg, err := pgxpool.ParseConfig(db.DSN)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "pgwiden"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close) // before NewDB's drop: cleanups run last first
	st, err := state.Open(ctx, pool, zerolog.New(zerolog.NewTestWriter(t)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return st
}

func statePlan(table string) *planner.Plan {
	t := planner.Target{Table: catalog.QName{Schema: "public", Name: table}, Column: "id"}
	return &planner.Plan{FormatVersion: planner.FormatVersion, Target: t, Steps: []planner.Step{{
		ID: "prepare/add-shadow/public." + table, Phase: planner.Prepare, Table: t.Table,
		SQL: "ALTER TABLE x ADD COLUMN y bigint", Lock: planner.AccessExclusive, InTx: true, ProbeArgs: []any{"x"},
	}}}
}

func TestStateEnsure(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := pgtest.Context(t)
	a, b := stateStore(t, db), stateStore(t, db)
	var schema *string
	if err := db.Pool.QueryRow(ctx, "SELECT to_regnamespace('pgwiden')::text").Scan(&schema); err != nil || schema != nil {
		t.Fatalf("Open created schema pgwiden (%v, %v): it must only read", schema, err)
	}
	if a.Exists() {
		t.Error("Exists() on a fresh database")
	}
	// Both at once: the advisory lock makes one wait for the other.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, st := range []*state.Store{a, b} {
		wg.Go(func() { errs[i] = st.Ensure(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Ensure %d: %v", i, err)
		}
	}
	if err := a.Ensure(ctx); err != nil || !a.Exists() {
		t.Fatalf("Ensure again: %v, Exists %v", err, a.Exists())
	}
	var rows int
	if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM pgwiden.schema_version WHERE version = $1", state.Version).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("schema_version holds %d rows of version %d (%v), want 1", rows, state.Version, err)
	}
	if st := stateStore(t, db); !st.Exists() {
		t.Error("Open after Ensure: Exists() is false")
	}
}

// TestStateUpgradeFromVersion1: a database whose state schema a pgwiden
// of version 1 made (before --workers: no slices) is brought to the
// current version by Ensure, its migrations kept, and a sliced walk can
// record its slices.
func TestStateUpgradeFromVersion1(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := pgtest.Context(t)
	st := stateStore(t, db)
	if err := st.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	job, err := st.Create(ctx, statePlan("tags"))
	if err != nil {
		t.Fatal(err)
	}
	// What version 1 had: no slices.
	db.Exec(t, `DROP TABLE pgwiden.task_slices; ALTER TABLE pgwiden.tasks DROP COLUMN slices;
		UPDATE pgwiden.schema_version SET version = 1`)
	old := stateStore(t, db)
	if err := old.Ensure(ctx); err != nil {
		t.Fatalf("Ensure on a version 1 schema: %v", err)
	}
	var version int
	var slices bool
	err = db.Pool.QueryRow(ctx, `SELECT (SELECT version FROM pgwiden.schema_version),
		to_regclass('pgwiden.task_slices') IS NOT NULL AND EXISTS (SELECT FROM pg_attribute
		WHERE attrelid = 'pgwiden.tasks'::regclass AND attname = 'slices' AND NOT attisdropped)`).Scan(&version, &slices)
	if err != nil || version != state.Version || !slices {
		t.Errorf("after Ensure: version %d, slices %v (%v); want version %d with the slices", version, slices, err, state.Version)
	}
	if j, err := old.Get(ctx, job.ID); err != nil || j == nil || j.Target.String() != job.Target.String() {
		t.Errorf("the migration recorded by version 1: %+v, %v", j, err)
	}
}

func TestStateNewerVersionRefused(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := pgtest.Context(t)
	st := stateStore(t, db) // before the newer pgwiden came
	db.Exec(t, `CREATE SCHEMA pgwiden; CREATE TABLE pgwiden.schema_version (version int NOT NULL);
		INSERT INTO pgwiden.schema_version VALUES (99)`)
	want := fmt.Sprintf("pgwiden state schema is version 99, this binary knows %d: upgrade pgwiden", state.Version)
	var ve *state.VersionError
	if err := st.Ensure(ctx); !errors.As(err, &ve) || err.Error() != want {
		t.Errorf("Ensure = %v, want %q", err, want)
	}
	if _, err := state.Open(ctx, db.Pool, zerolog.Nop()); err == nil || err.Error() != want {
		t.Errorf("Open = %v, want %q", err, want)
	}
}

func TestStateJobs(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := pgtest.Context(t)
	st := stateStore(t, db)
	tags := statePlan("tags")
	if j, err := st.Peek(ctx, tags.Target); err != nil || j != nil {
		t.Fatalf("Peek without a state schema = %v, %v; want nil, nil", j, err)
	}
	if jobs, err := st.List(ctx); err != nil || len(jobs) != 0 {
		t.Fatalf("List without a state schema = %v, %v", jobs, err)
	}
	if j, err := st.Last(ctx, tags.Target); err != nil || j != nil {
		t.Fatalf("Last without a state schema = %v, %v", j, err)
	}
	if err := st.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	j, err := st.Create(ctx, tags)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if j.ID == 0 || j.Phase != state.PhasePreparing || j.Target.String() != tags.Target.String() || j.LastError != "" || j.MaxRate != nil ||
		len(j.Plan.Steps) != 1 || j.Plan.Steps[0].ID != tags.Steps[0].ID || j.CreatedAt.IsZero() {
		t.Fatalf("Create returned %+v", j)
	}
	var ae *state.ActiveError
	if _, err := st.Create(ctx, statePlan("tags")); !errors.As(err, &ae) || ae.ID != j.ID ||
		!strings.Contains(err.Error(), fmt.Sprintf("migration of public.tags.id already exists as job %d (preparing)", j.ID)) {
		t.Fatalf("second Create = %v, want an ActiveError naming job %d", err, j.ID)
	}
	other, err := st.Create(ctx, statePlan("posts"))
	if err != nil {
		t.Fatal(err)
	}

	// A phase set in a transaction that rolls back is not set.
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetPhase(ctx, tx, j.ID, state.PhasePrepared); err != nil {
		t.Fatal(err)
	}
	_ = tx.Rollback(ctx)
	if got, _ := st.Get(ctx, j.ID); got == nil || got.Phase != state.PhasePreparing {
		t.Errorf("phase after rollback = %+v, want preparing", got)
	}
	if err := st.SetPhase(ctx, db.Pool, j.ID, state.PhaseBackfilling); err != nil {
		t.Fatal(err)
	}
	if err := st.SetError(ctx, j.ID, "step x: boom"); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Active(ctx, tags.Target); err != nil || got.ID != j.ID || got.Phase != state.PhaseBackfilling || got.LastError != "step x: boom" {
		t.Errorf("Active = %+v, %v", got, err)
	}
	if err := st.SetError(ctx, j.ID, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Get(ctx, j.ID); got.LastError != "" {
		t.Errorf("LastError after clearing = %q", got.LastError)
	}

	// Once rolled back, the target is free for a new job.
	if err := st.SetPhase(ctx, db.Pool, j.ID, state.PhaseRolledBack); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Active(ctx, tags.Target); err != nil || got != nil {
		t.Errorf("Active after rollback = %+v, %v; want none", got, err)
	}
	again, err := st.Create(ctx, statePlan("tags"))
	if err != nil {
		t.Fatalf("Create after rollback: %v", err)
	}
	if last, err := st.Last(ctx, tags.Target); err != nil || last.ID != again.ID {
		t.Errorf("Last = %+v, %v; want job %d", last, err, again.ID)
	}
	jobs, err := st.List(ctx)
	if err != nil || len(jobs) != 3 || jobs[0].ID != again.ID || jobs[1].ID != other.ID || jobs[2].ID != j.ID {
		t.Errorf("List = %+v, %v; want jobs %d, %d, %d", jobs, err, again.ID, other.ID, j.ID)
	}
	if _, err := st.Get(ctx, 424242); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Get unknown = %v, want ErrNotFound", err)
	}
	if err := st.SetPhase(ctx, db.Pool, 424242, state.PhaseDone); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("SetPhase unknown = %v, want ErrNotFound", err)
	}
}

func TestStateStepsAndTasks(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := pgtest.Context(t)
	st := stateStore(t, db)
	if err := st.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	j, err := st.Create(ctx, statePlan("tags"))
	if err != nil {
		t.Fatal(err)
	}
	const step, fill = "prepare/add-shadow/public.tags", "backfill/fill/public.tags"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	stepState := func(id string) string {
		t.Helper()
		s, err := st.StepState(ctx, j.ID, id)
		must(err)
		return s
	}
	if s := stepState(step); s != "" {
		t.Errorf("state of a step never run = %q", s)
	}
	must(st.MarkRunning(ctx, db.Pool, j.ID, step))
	must(st.MarkRunning(ctx, db.Pool, j.ID, step))
	var attempts int
	must(db.Pool.QueryRow(ctx, "SELECT attempts FROM pgwiden.steps WHERE step_id = $1", step).Scan(&attempts))
	if s := stepState(step); s != state.StepRunning || attempts != 2 {
		t.Errorf("after two MarkRunning: state %q, attempts %d", s, attempts)
	}
	must(st.MarkDone(ctx, db.Pool, j.ID, step))
	must(st.MarkDone(ctx, db.Pool, j.ID, "prepare/probe-said-done"))
	done, err := st.DoneSteps(ctx, j.ID)
	if err != nil || len(done) != 2 || !done[step] || stepState(step) != state.StepDone {
		t.Errorf("DoneSteps = %v, %v", done, err)
	}

	task, err := st.EnsureTask(ctx, j.ID, fill, "public.tags", 1000, []string{"1000"})
	if err != nil || task == nil || task.Cursor != nil || task.RowsDone != 0 || task.RowsEstimate != 1000 || task.StartedAt != nil || !slices.Equal(task.Stop, []string{"1000"}) {
		t.Fatalf("new task = %+v, %v", task, err)
	}
	// A batch that rolls back takes its checkpoint with it; one that
	// commits moves it.
	errRollback := errors.New("roll back")
	for _, commit := range []bool{false, true} {
		err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
			if err := st.Advance(ctx, tx, j.ID, fill, []string{"500"}, 500); err != nil {
				return err
			}
			if !commit {
				return errRollback
			}
			return nil
		})
		if err != nil && !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		task, err = st.Task(ctx, j.ID, fill)
		if err != nil {
			t.Fatal(err)
		}
		if !commit && (task.Cursor != nil || task.RowsDone != 0) {
			t.Errorf("rolled-back batch moved the task: %+v", task)
		}
	}
	if len(task.Cursor) != 1 || task.Cursor[0] != "500" || task.RowsDone != 500 || task.StartedAt == nil {
		t.Errorf("committed batch: task = %+v", task)
	}
	// A resumed run continues from its checkpoint, towards the stop key
	// of the first run, not the table's last key now.
	if task, err := st.EnsureTask(ctx, j.ID, fill, "public.tags", 7, []string{"9999"}); err != nil || task.RowsDone != 500 || task.Cursor[0] != "500" || !slices.Equal(task.Stop, []string{"1000"}) {
		t.Errorf("EnsureTask of a started task = %+v, %v; want its checkpoint and first stop key", task, err)
	}
	must(st.Advance(ctx, db.Pool, j.ID, fill, []string{"900", "a b"}, 400))
	must(st.FinishTask(ctx, db.Pool, j.ID, fill))
	if _, err := st.EnsureTask(ctx, j.ID, "backfill/fill/public.posts", "public.posts", -1, nil); err != nil {
		t.Fatal(err)
	}
	tasks, err := st.Tasks(ctx, j.ID)
	if err != nil || len(tasks) != 2 {
		t.Fatalf("Tasks = %+v, %v", tasks, err)
	}
	if got := tasks[0]; got.StepID != fill || !got.Done || got.RowsDone != 900 || got.RowsEstimate != 1000 ||
		strings.Join(got.Cursor, "|") != "900|a b" || tasks[1].RowsEstimate != -1 {
		t.Errorf("Tasks = %+v", tasks)
	}
	if err := st.Advance(ctx, db.Pool, j.ID, fill, []string{"901"}, 1); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Advance of a finished task = %v, want ErrNotFound", err)
	}
	must(st.ResetTask(ctx, j.ID, fill))
	if task, err := st.Task(ctx, j.ID, fill); err != nil || task.Done || task.Cursor != nil || task.RowsDone != 0 {
		t.Errorf("Task after ResetTask = %+v, %v", task, err)
	}
	must(st.ResetTasks(ctx, j.ID))
	if task, err := st.Task(ctx, j.ID, fill); err != nil || task != nil {
		t.Errorf("Task after ResetTasks = %+v, %v", task, err)
	}
}

func TestStateLock(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := pgtest.Context(t)
	a, b := stateStore(t, db), stateStore(t, db)
	held, err := a.Lock(ctx, "public.tags.id")
	if err != nil {
		t.Fatal(err)
	}
	var busy *state.BusyError
	_, err = b.Lock(ctx, "public.tags.id")
	t.Logf("busy: %v", err)
	if !errors.As(err, &busy) || busy.PID != int(held.PID()) || busy.ApplicationName != "pgwiden" || busy.Since.IsZero() {
		t.Fatalf("second Lock = %v (%+v), want a BusyError naming pid %d", err, busy, held.PID())
	}
	want := fmt.Sprintf("migration of public.tags.id is held by pid %d (application_name=pgwiden", held.PID())
	if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "wait for it to finish or stop that process") {
		t.Errorf("message = %q, want it to start %q", err.Error(), want)
	}
	other, err := b.Lock(ctx, "public.posts.id")
	if err != nil {
		t.Fatalf("Lock of another migration: %v", err)
	}
	if err := held.Check(ctx); err != nil {
		t.Errorf("Check while held: %v", err)
	}
	for _, l := range []*state.Lock{held, other} {
		if err := l.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	again, err := b.Lock(ctx, "public.tags.id")
	if err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
	if err := again.Unlock(ctx); err != nil || again.Unlock(ctx) != nil {
		t.Errorf("Unlock, twice: %v", err)
	}
}

func TestStateLockDiesWithHolder(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := pgtest.Context(t)
	a, b := stateStore(t, db), stateStore(t, db)
	held, err := a.Lock(ctx, "public.tags.id")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, "SELECT pg_terminate_backend($1)", int64(held.PID())); err != nil {
		t.Fatal(err)
	}
	// The backend exits just after the signal: allow it a moment.
	var l *state.Lock
	for deadline := time.Now().Add(10 * time.Second); l == nil; {
		if l, err = b.Lock(ctx, "public.tags.id"); err != nil && time.Now().After(deadline) {
			t.Fatalf("Lock after the holder was terminated: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := held.Check(ctx); err == nil {
		t.Error("Check on a terminated session found the lock held")
	}
	if err := held.Unlock(context.WithoutCancel(ctx)); err == nil {
		t.Error("Unlock of a lost lock reported no error")
	}
	if err := l.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}
