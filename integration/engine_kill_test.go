package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/planner"
)

// saasTargetFlags are the CLI's target flags for saasTarget.
var saasTargetFlags = []string{"--schema", "public", "--table", "Tags", "--column", "Id"}

// TestEngineKillBackfill kills the pgwiden binary with SIGKILL in the
// middle of a backfill. Every checkpoint must then describe the rows
// exactly: the rows up to its cursor copied, after it only those of the
// first passes of an unfinished batch, and rows_done equal to the rows
// copied (checkCheckpoint). A second run finishes from there; each row is copied exactly
// once, the cutover's verification passes and the keys are unchanged.
func TestEngineKillBackfill(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	p := saasPlan(t, ctx, db)
	sums := keyChecksums(t, ctx, db, p)
	e := newEngine(t, db, engineConfig(), noHooks)
	e.run(t, ctx, "prepare")

	args := append(append([]string{"--dsn", db.DSN, "--log-level", "warn", "backfill"}, saasTargetFlags...), "--batch-size", "10")
	killMidway(t, ctx, db, append(args, "--max-rate", "200")...)
	steps := stepsOf(e.job(t, ctx).Plan, planner.Backfill)
	for _, s := range steps {
		checkCheckpoint(t, ctx, db, p, s, false)
	}

	if stdout, stderr, code := runPgwiden(ctx, t, args...); code != 0 {
		t.Fatalf("backfill again: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, s := range steps {
		checkCheckpoint(t, ctx, db, p, s, true)
	}
	e.run(t, ctx, "cutover") // verifies every row before it swaps
	assertWidened(t, ctx, db, p)
	assertUnchanged(t, "by a killed and resumed backfill", sums, keyChecksums(t, ctx, db, p))
}

// killMidway runs `pgwiden <args>` (a backfill), kills it with SIGKILL
// once it has copied 100 rows, and waits for the server to release the
// migration's lock.
func killMidway(t *testing.T, ctx context.Context, db *pgtest.DB, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, pgtest.Binary(t), args...)
	cmd.Env = append(os.Environ(), "PGWIDEN_DSN=", "DATABASE_URL=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rows := waitRowsDone(t, ctx, db, cmd)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no defer, no rollback, no unlock runs
		t.Fatal(err)
	}
	wantKilled(t, cmd.Wait(), &out)
	t.Logf("killed pgwiden %v after %d rows", args[4:], rows)
	waitUnlocked(t, ctx, db)
}

// waitRowsDone waits until the backfill has committed ten batches of its
// first table (of 1,000 rows) and returns how many rows they copied.
func waitRowsDone(t *testing.T, ctx context.Context, db *pgtest.DB, cmd *exec.Cmd) int64 {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var n int64
		if err := db.Pool.QueryRow(ctx, `SELECT (SELECT coalesce(sum(rows_done), 0) FROM pgwiden.tasks)
			+ (SELECT coalesce(sum(rows_done), 0) FROM pgwiden.task_slices)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n >= 100 {
			return n
		}
	}
	_ = cmd.Process.Kill()
	t.Fatal("the backfill copied fewer than 100 rows within 30s")
	return 0
}

// wantKilled checks that a child process died of SIGKILL, not of its own.
func wantKilled(t *testing.T, err error, out *bytes.Buffer) {
	t.Helper()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("the child was not killed (it ended with %v):\n%s", err, out)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child ended with %v, not SIGKILL:\n%s", err, out)
	}
}

// waitUnlocked waits until no session holds an advisory lock in the
// test's database: the server ends a killed client's session, and with it
// the migration's lock, once it notices the closed socket.
func waitUnlocked(t *testing.T, ctx context.Context, db *pgtest.DB) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var n int
		err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the migration lock is still held 10s after its holder was killed")
		}
	}
}

// stepsOf returns the plan's steps of one phase, in order.
func stepsOf(p *planner.Plan, ph planner.Phase) []planner.Step {
	var out []planner.Step
	for _, s := range p.Steps {
		if s.Phase == ph && s.During == "" { // not the steps another runs
			out = append(out, s)
		}
	}
	return out
}

// checkCheckpoint compares a backfill step's checkpoint with its table:
// rows up to the cursor have shadow = column, and rows_done counts exactly
// the rows copied (every row of this schema needs a copy: the keys are NOT
// NULL and the shadows start at 0). Rows after the cursor are copied only
// by the first passes of a batch whose last pass did not commit
// (Config.HotPasses), at most one batch of them. finished requires the
// task to be done.
func checkCheckpoint(t *testing.T, ctx context.Context, db *pgtest.DB, p *planner.Plan, s planner.Step, finished bool) {
	t.Helper()
	var cursor []string
	var rowsDone int64
	var done bool
	err := db.Pool.QueryRow(ctx, `SELECT cursor, rows_done, done FROM pgwiden.tasks WHERE step_id = $1
		UNION ALL SELECT NULL, 0, false LIMIT 1`, s.ID).Scan(&cursor, &rowsDone, &done)
	if err != nil {
		t.Fatalf("task of %s: %v", s.ID, err)
	}
	if finished && !done {
		t.Fatalf("task of %s is not done", s.ID)
	}
	upTo, args := "false", []any{}
	switch {
	case done:
		upTo = "true"
	case cursor != nil:
		params := make([]string, len(cursor))
		for i, c := range cursor {
			params[i], args = fmt.Sprintf("$%d", i+1), append(args, c)
		}
		upTo = fmt.Sprintf("ROW(%s) <= ROW(%s)", catalog.Idents(s.Batch.Key), strings.Join(params, ", "))
	}
	differs := shadowDiffers(p, s.Table)
	var total, below, missed, early int64
	err = db.Pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*), count(*) FILTER (WHERE %[1]s),
		count(*) FILTER (WHERE (%[1]s) AND (%[2]s)), count(*) FILTER (WHERE NOT (%[1]s) AND NOT (%[2]s)) FROM %[3]s`,
		upTo, differs, s.Table.Quoted()), args...).Scan(&total, &below, &missed, &early)
	if err != nil {
		t.Fatalf("check checkpoint of %s: %v", s.ID, err)
	}
	t.Logf("%s: cursor %v, done %v, rows_done %d of %d rows", s.Table, cursor, done, rowsDone, total)
	if missed != 0 || early > maxEarly || rowsDone != below+early || rowsDone > total {
		t.Errorf("%s: %d rows up to the checkpoint %v not copied, %d after it copied (at most %d); rows_done %d, want %d (of %d rows)",
			s.Table, missed, cursor, early, maxEarly, rowsDone, below+early, total)
	}
}

// maxEarly bounds the rows after a checkpoint that the first passes of
// an unfinished batch may have copied: three quarters of a batch of the
// engine's fixed size, and a margin for the rows of a page.
const maxEarly = engineBatch

// shadowDiffers is "some shadow of this table differs from its column".
func shadowDiffers(p *planner.Plan, leaf catalog.QName) string {
	for _, tc := range p.Tables {
		if tc.Table != leaf && !slices.Contains(tc.Leaves, leaf) {
			continue
		}
		var or []string
		for _, c := range tc.Columns {
			or = append(or, catalog.Ident(c.Shadow)+" IS DISTINCT FROM "+catalog.Ident(c.Name))
		}
		return strings.Join(or, " OR ")
	}
	panic("no closure table for " + leaf.String())
}
