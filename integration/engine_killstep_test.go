package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
	"github.com/pgwiden/pgwiden/throttle"
)

// The pgwiden CLI has no fault-injection hook (and must not grow one for
// tests), so the crashes at each cutover step are real kill -9s of a
// helper process: this test binary, started again with crashDSNEnv set.
// Its init runs the in-process migrator's cutover with hooks that SIGKILL
// the process when it reaches the chosen step; TestMain never runs there.
// These variables are read by nothing but this init.
const (
	crashDSNEnv = "PGWIDEN_ENGINE_CRASH_DSN"
	crashAtEnv  = "PGWIDEN_ENGINE_CRASH_AT" // a step ID; empty: run on, to be killed from outside
	crashApp    = "pgwiden-crash"           // the helper's application_name
)

func init() {
	if dsn := os.Getenv(crashDSNEnv); dsn != "" {
		os.Exit(crashChild(dsn, os.Getenv(crashAtEnv)))
	}
}

// crashChild runs the cutover until its hook kills the process; it
// returns only if the cutover ends first.
func crashChild(dsn, at string) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	cfg.MaxConns = 2
	cfg.ConnConfig.RuntimeParams["application_name"] = crashApp
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	st, err := state.Open(ctx, pool, zerolog.Nop())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	die := func(why string) error {
		fmt.Fprintln(os.Stderr, "SIGKILL", why)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
	hooks := migrator.Hooks{
		BeforeStep: func(_ context.Context, id string) error {
			if id == at {
				return die("before step " + id)
			}
			return nil
		},
		// Verification steps are walked in batches: die after the first.
		BeforeBatch: func(_ context.Context, id string, batch int) error {
			if id == at && batch == 2 {
				return die("before batch 2 of " + id)
			}
			return nil
		},
		BeforeSwap: func(context.Context) error {
			if at == "cutover/swap" {
				return die("before the swap")
			}
			return nil
		},
	}
	mcfg := engineConfig()
	if at == "" {
		mcfg.LockTimeout = 10 * time.Second // wait on the test's lock until killed
	}
	m := migrator.New(pool, st, &throttle.Fixed{BatchSize: engineBatch}, zerolog.New(os.Stderr).Level(zerolog.WarnLevel), mcfg, hooks)
	if err := m.Cutover(ctx, saasTarget); err != nil {
		fmt.Fprintln(os.Stderr, "cutover:", err)
		return 3
	}
	fmt.Fprintln(os.Stderr, "cutover completed")
	return 0
}

// TestEngineKillAtEveryCutoverStep kills a cutover with SIGKILL at every
// step of the stored plan, in order, on one database: each run completes
// the step the previous one died at and dies at the next. Index builds and
// the swap are also killed in the middle of their statement, while they
// wait for a lock the test holds: the build leaves an INVALID index that
// the next run must drop and build again, the swap leaves nothing. After
// every kill the data is unchanged; at the end an uninterrupted cutover
// and cleanup leave the schema as TestEngineEndToEnd does.
func TestEngineKillAtEveryCutoverStep(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	before := schemaDump(t, db)
	p := saasPlan(t, ctx, db)
	sums := keyChecksums(t, ctx, db, p)
	e := newEngine(t, db, engineConfig(), noHooks)
	e.run(t, ctx, "prepare", "backfill")
	job := e.job(t, ctx)

	steps := stepsOf(job.Plan, planner.Cutover)
	for i, s := range steps {
		crash(t, ctx, db, s.ID, nil)
		wantDone(t, ctx, e, job.ID, steps[:i], s)
		if lock := duringLock(s); lock != "" {
			crash(t, ctx, db, "", func(cmd *exec.Cmd) { killDuring(t, ctx, db, cmd, s, lock) })
			wantDone(t, ctx, e, job.ID, steps[:i], s)
		}
		assertUnchanged(t, "by a kill at "+s.ID, sums, keyChecksums(t, ctx, db, p))
		if t.Failed() {
			t.FailNow()
		}
	}
	t.Logf("killed %d cutover steps", len(steps))
	e.run(t, ctx, "cutover", "cleanup")
	assertWidened(t, ctx, db, p)
	assertSchemaAsBefore(t, p, before, schemaDump(t, db))
	assertNoPgwidenObjects(t, ctx, db)
	if invalid := readRows(t, ctx, db.Pool, `SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid`); len(invalid) > 0 {
		t.Errorf("INVALID indexes left by the killed builds: %v", invalid)
	}
	assertUnchanged(t, "by the killed cutover", sums, keyChecksums(t, ctx, db, p))
}

// crash runs the helper process and requires it to die of SIGKILL, either
// from its own hook at step at, or from meanwhile, which kills it.
func crash(t *testing.T, ctx context.Context, db *pgtest.DB, at string, meanwhile func(*exec.Cmd)) {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), crashDSNEnv+"="+db.DSN, crashAtEnv+"="+at)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if meanwhile != nil {
		meanwhile(cmd)
	}
	wantKilled(t, cmd.Wait(), &out)
	waitUnlocked(t, ctx, db)
}

// duringLock is the lock the test holds to stop step s in the middle of
// its statement, or "" for steps only killed before they start. CREATE
// INDEX CONCURRENTLY waits for writers (ROW EXCLUSIVE) after it has
// committed its INVALID index; the swap's LOCK TABLE waits for anyone.
func duringLock(s planner.Step) string {
	switch {
	case s.ID == "cutover/swap":
		return `LOCK TABLE "Tags" IN ACCESS SHARE MODE`
	case !s.InTx && s.Lock == planner.ShareUpdateExclusive:
		return "LOCK TABLE " + s.Table.Quoted() + " IN ROW EXCLUSIVE MODE"
	}
	return ""
}

// killDuring holds lock while the helper reaches step s and waits on it,
// kills the helper, ends its server sessions as the server would once it
// found the dead client's socket, checks what the statement left, and
// only then releases the lock.
func killDuring(t *testing.T, ctx context.Context, db *pgtest.DB, cmd *exec.Cmd, s planner.Step, lock string) {
	t.Helper()
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, lock); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, db, `SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = $1
		AND datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '/* pgwiden ' || $2 || ' */%')`, crashApp, s.ID)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, crashApp); err != nil {
		t.Fatal(err)
	}
	waitGone(t, ctx, db, crashApp)
	if s.ID == "cutover/swap" {
		if typ := columnType(t, ctx, db.Pool, `"Tags"`, "Id"); typ != "integer" {
			t.Fatalf(`killed in the middle of the swap: "Tags"."Id" is %s, want integer`, typ)
		}
		return
	}
	var invalid bool
	err = db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_index WHERE indexrelid = to_regclass($1) AND NOT indisvalid)`, s.ProbeArgs[0]).Scan(&invalid)
	if err != nil || !invalid {
		t.Fatalf("killed in the middle of %s: no INVALID index %s left (err %v)", s.ID, s.ProbeArgs[0], err)
	}
}

// wantDone checks the state after a kill at s: every earlier step is done
// (the run passed it) and s is not.
func wantDone(t *testing.T, ctx context.Context, e *engine, job int64, earlier []planner.Step, s planner.Step) {
	t.Helper()
	done, err := e.st.DoneSteps(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range earlier {
		if !done[x.ID] {
			t.Errorf("after a kill at %s: earlier step %s is not done", s.ID, x.ID)
		}
	}
	if done[s.ID] {
		t.Errorf("step %s is recorded done, yet the run was killed before it ended", s.ID)
	}
}

// waitFor polls a boolean query until it is true, for up to 20s.
func waitFor(t *testing.T, ctx context.Context, db *pgtest.DB, sql string, args ...any) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var ok bool
		if err := db.Pool.QueryRow(ctx, sql, args...).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still false after 20s: %s %v", sql, args)
		}
	}
}
