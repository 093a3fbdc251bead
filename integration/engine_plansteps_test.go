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
	cliMatch(t, "backfill's VACUUM", `(?m)^-- \d+\. backfill/vacuum/public\.tags\n-- lock: SHARE UPDATE EXCLUSIVE, outside a transaction, with lock_timeout\n-- run by backfill/copy/public\.tags, not on its own: only with --vacuum-every N.*\nVACUUM "public"\."tags";$`, out)
	cliPhase(ctx, t, db, 0, "backfill")
	out, _ = cliPhase(ctx, t, db, 0, "cutover", "--dry-run")
	cliMatch(t, "drop of an INVALID index", `(?m)^-- run by cutover/index/public\.tags_pkey_pgwiden_new, not on its own: only when an interrupted build left the index INVALID.*\nDROP INDEX CONCURRENTLY IF EXISTS "public"\."tags_pkey_pgwiden_new";$`, out)
	cliMatch(t, "ANALYZE after the swap", `(?m)^-- \d+\. cutover/analyze/public\.tags\n.*\n-- a failure is a warning: .*\nANALYZE "public"\."tags" \("id"\);$`, out)
	if strings.Index(out, "cutover/analyze/") < strings.Index(out, "cutover/swap") {
		t.Errorf("cutover --dry-run shows ANALYZE before the swap:\n%s", out)
	}
}

// TestEngineAnalyzeIsBestEffort: an ANALYZE after the swap that cannot get
// its lock is a warning (OnWarning), not a failed cutover; the statistics
// are then the operator's to refresh, and the step is not recorded done.
func TestEngineAnalyzeIsBestEffort(t *testing.T) {
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
	var mu sync.Mutex
	var warnings []migrator.Warning
	e.m.Subscribe(migrator.Events{OnWarning: func(w migrator.Warning) { mu.Lock(); warnings = append(warnings, w); mu.Unlock() }})
	e.run(t, ctx, "prepare", "backfill", "cutover")
	release.Do(func() { _ = tx.Rollback(ctx) })

	e.wantPhase(t, ctx, state.PhaseCutOver)
	mu.Lock()
	defer mu.Unlock()
	if len(warnings) != 1 || warnings[0].Step != analyze || pgerr.Code(warnings[0].Err) != "55P03" {
		t.Errorf("warnings %+v: want the ANALYZE of Tags, given up on lock_timeout (55P03)", warnings)
	}
	done, err := e.st.DoneSteps(ctx, e.job(t, ctx).ID)
	if err != nil {
		t.Fatal(err)
	}
	if done[analyze] || !done["cutover/analyze/public.tag_stats"] {
		t.Errorf("done: %s %v, tag_stats' analyze %v; want the failed one not done, the others done", analyze, done[analyze], done["cutover/analyze/public.tag_stats"])
	}
}
