package integration

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/internal/pgerr"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/state"
)

// TestDryRunShowsEveryStatement: the statements the engine runs on the
// user's tables besides the plan's main line are steps too, shown by
// --dry-run with when they run: the VACUUM between backfill batches, the
// drop of an INVALID index before its build runs again, the ANALYZE after
// the swap.
func TestDryRunShowsEveryStatement(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := cliDB(t)
	cliPhase(ctx, t, db, 0, "prepare")
	out, _ := cliPhase(ctx, t, db, 0, "backfill", "--dry-run")
	cliMatch(t, "backfill's VACUUM", `(?m)^-- \d+\. backfill/vacuum/public\.tags\n-- lock: SHARE UPDATE EXCLUSIVE, outside a transaction, with lock_timeout\n-- run by backfill/copy/public\.tags, not on its own: between two batches, each time --vacuum-fraction.*\nVACUUM "public"\."tags";$`, out)
	cliPhase(ctx, t, db, 0, "backfill")
	out, _ = cliPhase(ctx, t, db, 0, "cutover", "--dry-run")
	cliMatch(t, "drop of an INVALID index", `(?m)^-- run by cutover/index/public\.tags_pkey_pgwiden_new, not on its own: only when an interrupted build left the index INVALID.*\nDROP INDEX CONCURRENTLY IF EXISTS "public"\."tags_pkey_pgwiden_new";$`, out)
	cliMatch(t, "ANALYZE before the swap", `(?m)^-- \d+\. cutover/analyze/public\.tags\n.*\nANALYZE "public"\."tags" \("id_pgwiden_new"\);$`, out)
	if a, sw := strings.Index(out, "cutover/analyze/"), strings.Index(out, "cutover/swap"); a < 0 || a > sw {
		t.Errorf("cutover --dry-run does not show ANALYZE before the swap:\n%s", out)
	}
}

// TestEngineAnalyzeBeforeSwap: the new columns are analyzed before the
// swap, so the application's planner never sees a key column without
// statistics. An ANALYZE that cannot get its lock stops the cutover before
// the swap (nothing is swapped, the application sees no change), and a
// re-run once the lock is free finishes with statistics in place.
func TestEngineAnalyzeBeforeSwap(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	cfg := engineConfig()
	cfg.ScanLockTimeout = 100 * time.Millisecond
	cfg.Retry = pgerr.Policy{Initial: 20 * time.Millisecond, Max: 50 * time.Millisecond, MaxElapsed: 500 * time.Millisecond}
	const analyze = "cutover/analyze/public.Tags"
	var release sync.Once
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { release.Do(func() { _ = tx.Rollback(context.Background()) }) })
	hooks := migrator.Hooks{BeforeStep: func(ctx context.Context, id string) error {
		if id != analyze {
			return nil
		}
		// ANALYZE's lock conflicts with this one: it waits, times out,
		// retries and gives up.
		_, err := tx.Exec(ctx, `LOCK TABLE "Tags" IN SHARE UPDATE EXCLUSIVE MODE`)
		return err
	}}
	e := newEngine(t, db, cfg, hooks)
	e.run(t, ctx, "prepare", "backfill")
	err = e.phase(ctx, "cutover")
	if pgerr.Code(err) != "55P03" {
		t.Fatalf("cutover with ANALYZE's lock held elsewhere: %v, want a lock_timeout (55P03) failure", err)
	}
	release.Do(func() { _ = tx.Rollback(ctx) })
	e.wantPhase(t, ctx, state.PhaseCuttingOver)
	var typ string
	if err := db.Pool.QueryRow(ctx, `SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '"Tags"'::regclass AND attname = 'Id'`).Scan(&typ); err != nil {
		t.Fatal(err)
	}
	if typ != "integer" {
		t.Errorf(`"Tags"."Id" is %s after a cutover stopped at its ANALYZE: the swap must not have run`, typ)
	}

	e2 := newEngine(t, db, engineConfig(), migrator.Hooks{})
	e2.run(t, ctx, "cutover")
	e2.wantPhase(t, ctx, state.PhaseCutOver)
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stats WHERE tablename = 'Tags' AND attname = 'Id'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf(`pg_stats has %d rows for "Tags"."Id" right after the cutover, want 1: the new column was not analyzed before the swap`, n)
	}
}
