package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/migrator"
)

// TestBackfillVacuumFraction: the backfill copies every row of a table
// autovacuum leaves alone, once with --vacuum-fraction 0 (no VACUUM: the
// table must about double, or this test measures nothing) and once with
// --vacuum-fraction 0.2 (a VACUUM after each fifth of the table and at the
// end: the new row versions reuse the dead ones' space, and the table
// grows by about a fifth). Every row is copied in both.
func TestBackfillVacuumFraction(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	const rows = 20000
	grown := map[string]float64{}
	for _, fraction := range []string{"0", "0.2"} {
		db := pgtest.NewDB(t)
		db.Exec(t, paddedItems(rows))
		before := relationSize(ctx, t, db, "items")
		throttleCLI(ctx, t, db, 0, "prepare")
		// One pass a batch: with passes most rows stay on their pages
		// (TestBackfillHotPasses), and the table barely grows either way.
		throttleCLI(ctx, t, db, 0, "backfill", "--batch-size", "500", "--batch-target", "0", "--vacuum-fraction", fraction, "--hot-passes", "1")
		backfillDone(ctx, t, db, rows)
		grown[fraction] = float64(relationSize(ctx, t, db, "items")) / float64(before)
		t.Logf("--vacuum-fraction %s: items %d bytes before, %.2fx after the backfill", fraction, before, grown[fraction])
	}
	if grown["0"] < 1.8 {
		t.Errorf("without VACUUM the table grew %.2fx, want about 2x: the test no longer measures the lever", grown["0"])
	}
	if grown["0.2"] > 1.35 {
		t.Errorf("with --vacuum-fraction 0.2 the table grew %.2fx, want about 1.2x (at most 1.35x)", grown["0.2"])
	}
}

// paddedItems is the SQL of throttleTarget's table items with n rows of
// about 100 bytes, which autovacuum leaves alone.
func paddedItems(n int) string {
	return fmt.Sprintf(`CREATE TABLE items (id serial PRIMARY KEY, v int NOT NULL, pad text NOT NULL)
		WITH (autovacuum_enabled = false);
		INSERT INTO items (v, pad) SELECT g, repeat('x', 60) FROM generate_series(1, %d) g;
		ANALYZE items;`, n)
}

// relationSize is pg_relation_size of a table's main fork.
func relationSize(ctx context.Context, t *testing.T, db *pgtest.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.Pool.QueryRow(ctx, "SELECT pg_relation_size(to_regclass($1))", table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestEngineSwapWaitsForVacuum: a VACUUM running on a closure table when
// the swap begins (made slow with vacuum_cost_delay) is waited for before
// the swap takes its locks, and SwapStats.VacuumWait says how long: the
// figure make bench reports as the swap's wait for autovacuum.
func TestEngineSwapWaitsForVacuum(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	vacuumed := make(chan error, 1)
	var started time.Time
	hooks := migrator.Hooks{BeforeSwap: func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, db.DSN)
		if err != nil {
			return err
		}
		go func() {
			defer conn.Close(context.WithoutCancel(ctx)) // a short session: its close error changes nothing
			_, err := conn.Exec(ctx, `SET vacuum_cost_delay = 100`)
			if err == nil {
				_, err = conn.Exec(ctx, `SET vacuum_cost_limit = 1`)
			}
			if err == nil {
				_, err = conn.Exec(ctx, `VACUUM "Tags"`)
			}
			vacuumed <- err
		}()
		started = time.Now()
		eventually(t, 10*time.Second, "the VACUUM in pg_stat_progress_vacuum", func() bool {
			var n int
			err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_progress_vacuum WHERE relid = '"Tags"'::regclass`).Scan(&n)
			select {
			case err := <-vacuumed:
				t.Fatalf("the VACUUM ended before it was seen: %v", err)
			default:
			}
			return err == nil && n > 0
		})
		return nil
	}}
	e := newEngine(t, db, engineConfig(), hooks)
	e.run(t, ctx, "prepare", "backfill", "cutover")
	if err := <-vacuumed; err != nil {
		t.Fatalf("VACUUM: %v", err)
	}
	took := time.Since(started)
	wait := e.m.LastSwap.VacuumWait
	t.Logf("the swap waited %v for the VACUUM (%v from its start to the end of cutover)", wait, took)
	if wait <= 0 || wait > took {
		t.Errorf("SwapStats.VacuumWait = %v, want the time the swap waited for the VACUUM (0 < wait <= %v)", wait, took)
	}
	assertWidened(t, ctx, db, saasPlan(t, ctx, db))
}
