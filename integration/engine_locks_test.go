package integration

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/internal/pgerr"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/state"
)

// TestEngineSwapYieldsToLocks: a session holds ACCESS SHARE on "Tags" in
// an open transaction when the swap starts, and releases it 1.5s later.
// The swap's LOCK TABLE queues behind it, and the application's queries
// queue behind the swap, but only until lock_timeout (200ms) cancels it:
// the swap is retried until it gets through, and the application's worst
// query takes less than lock_timeout plus 300ms.
func TestEngineSwapYieldsToLocks(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	blocker := &lockHolder{db: db}
	defer blocker.release(t)
	e := newEngine(t, db, engineConfig(), migrator.Hooks{BeforeSwap: func(ctx context.Context) error {
		blocker.hold(t, ctx, `LOCK TABLE "Tags" IN ACCESS SHARE MODE`)
		time.AfterFunc(1500*time.Millisecond, func() { blocker.release(t) })
		return nil
	}})
	e.run(t, ctx, "prepare", "backfill")

	probe := startProbe(t, ctx, db)
	start := time.Now()
	e.run(t, ctx, "cutover")
	took := time.Since(start)
	worst, n := probe.stop(t)
	t.Logf("cutover took %v, swap %d attempts; %d application queries meanwhile, the slowest %v", took, e.m.LastSwap.Attempts, n, worst)
	if e.m.LastSwap.Attempts < 2 || took < 1500*time.Millisecond {
		t.Errorf("the swap took %d attempt(s) and the cutover %v: it did not wait for the lock to be released", e.m.LastSwap.Attempts, took)
	}
	if limit := engineConfig().LockTimeout + 300*time.Millisecond; worst > limit {
		t.Errorf("an application query waited %v behind the swap, more than lock_timeout + 300ms (%v)", worst, limit)
	}
	e.wantPhase(t, ctx, state.PhaseCutOver)
	assertWidened(t, ctx, db, saasPlan(t, ctx, db))
}

// TestEngineSwapGivesUp: the lock is never released, so after its three
// attempts the cutover gives up, saying so. Nothing is swapped and
// nothing stays locked: the table takes reads and writes at once, and a
// later cutover finishes the job once the lock is gone.
func TestEngineSwapGivesUp(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	blocker := &lockHolder{db: db}
	defer blocker.release(t)
	cfg := engineConfig()
	cfg.SwapAttempts = 3
	e := newEngine(t, db, cfg, migrator.Hooks{BeforeSwap: func(ctx context.Context) error {
		blocker.hold(t, ctx, `LOCK TABLE "Tags" IN ACCESS SHARE MODE`)
		return nil
	}})
	e.run(t, ctx, "prepare", "backfill")

	err := e.phase(ctx, "cutover")
	var gaveUp *pgerr.GaveUpError
	if !errors.As(err, &gaveUp) || gaveUp.Attempts != 3 || !strings.Contains(err.Error(), "gave up after 3 attempts") || pgerr.Code(err) != pgerr.LockNotAvailable {
		t.Fatalf("cutover = %v, want it to give up after 3 attempts on lock_timeout", err)
	}
	t.Logf("cutover: %v", err)
	e.wantPhase(t, ctx, state.PhaseCuttingOver)
	if typ := columnType(t, ctx, db.Pool, `"Tags"`, "Id"); typ != "integer" {
		t.Errorf(`"Tags"."Id" is %s after a swap that gave up, want integer`, typ)
	}
	// With a 100ms lock_timeout, any lock pgwiden kept would fail these.
	err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '100ms';
			INSERT INTO "Tags" (tenant_id, name) VALUES (1, 'after giving up');
			INSERT INTO tag_assignments (tenant_id, tag_id, item_id) SELECT tenant_id, "Id", 7 FROM "Tags" WHERE name = 'after giving up';
			SELECT count(*) FROM tag_usage`)
		return err
	})
	if err != nil {
		t.Fatalf("the tables are not usable after the swap gave up: %v", err)
	}

	blocker.release(t)
	again := newEngine(t, db, engineConfig(), noHooks)
	again.run(t, ctx, "cutover")
	again.wantPhase(t, ctx, state.PhaseCutOver)
	assertWidened(t, ctx, db, saasPlan(t, ctx, db))
}

// lockHolder is another session's open transaction holding a lock.
type lockHolder struct {
	db *pgtest.DB
	mu sync.Mutex
	tx pgx.Tx
}

func (h *lockHolder) hold(t *testing.T, ctx context.Context, lock string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	tx, err := h.db.Pool.Begin(ctx)
	if err == nil {
		_, err = tx.Exec(ctx, lock)
	}
	if err != nil {
		t.Errorf("hold %s: %v", lock, err)
	}
	h.tx = tx
}

// release ends the transaction, if it is still open.
func (h *lockHolder) release(t *testing.T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.tx != nil {
		if err := h.tx.Rollback(context.Background()); err != nil {
			t.Errorf("release the lock: %v", err)
		}
		h.tx = nil
	}
}

// probe is an application session running short reads and writes on
// "Tags" in a loop, timing each.
type probe struct {
	done  chan struct{}
	wg    sync.WaitGroup
	worst time.Duration
	n     int
	err   error
}

func startProbe(t *testing.T, ctx context.Context, db *pgtest.DB) *probe {
	pool := enginePool(t, db.DSN, "app-probe", 1) // no lock_timeout: an application's defaults
	p := &probe{done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for i := 0; ; i++ {
			select {
			case <-p.done:
				return
			case <-time.After(5 * time.Millisecond):
			}
			id := 1 + rand.IntN(1000)
			start := time.Now()
			sql := `SELECT name FROM "Tags" WHERE "Id" = $1`
			if i%2 == 1 {
				sql = `UPDATE "Tags" SET name = name WHERE "Id" = $1`
			}
			if _, err := pool.Exec(ctx, sql, id); err != nil {
				p.err = err
				return
			}
			p.worst, p.n = max(p.worst, time.Since(start)), p.n+1
		}
	}()
	t.Cleanup(func() { _, _ = p.stop(t) })
	return p
}

// stop ends the loop and returns the worst latency and the query count; a
// query that failed fails the test.
func (p *probe) stop(t *testing.T) (time.Duration, int) {
	select {
	case <-p.done:
	default:
		close(p.done)
	}
	p.wg.Wait()
	if p.err != nil {
		t.Errorf("an application query failed: %v", p.err)
		p.err = nil
	}
	return p.worst, p.n
}
