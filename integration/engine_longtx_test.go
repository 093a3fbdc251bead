package integration

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/state"
)

// TestEngineLongTransaction: a report left idle in transaction holds up
// the cutover: with a snapshot (REPEATABLE READ, as pg_dump) its CREATE
// INDEX CONCURRENTLY, which waits for every older snapshot; with a lock on
// a table, its swap. Each wait is bounded, and the error names the step,
// the report's pid, application_name, state and age, and the fix; once the
// report's transaction ends, cutover goes through.
func TestEngineLongTransaction(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	cfg := engineConfig()
	cfg.ScanLockTimeout = 300 * time.Millisecond
	cfg.Retry.MaxElapsed = time.Second
	e := newEngine(t, db, cfg, noHooks)
	e.run(t, ctx, "prepare", "backfill")

	conf, err := pgx.ParseConfig(db.DSN)
	if err != nil {
		t.Fatal(err)
	}
	conf.RuntimeParams["application_name"] = "nightly-report"
	report, err := pgx.ConnectConfig(ctx, conf)
	if err != nil {
		t.Fatal(err)
	}
	defer report.Close(ctx)
	pid := report.PgConn().PID()
	for _, c := range []struct {
		iso  pgx.TxIsoLevel
		step string
	}{
		{pgx.RepeatableRead, "step cutover/index/"}, // waits for the report's snapshot
		{pgx.ReadCommitted, "step cutover/swap: "},  // waits for its lock on tag_stats
	} {
		tx, err := report.BeginTx(ctx, pgx.TxOptions{IsoLevel: c.iso})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `SELECT count(*) FROM tag_stats`); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err = e.phase(ctx, "cutover")
		took := time.Since(start)
		var be *migrator.BlockedError
		want := fmt.Sprintf(`(SQLSTATE 55P03); held up by pid %d (application_name="nightly-report", idle in transaction, transaction open for`, pid)
		fix := fmt.Sprintf("fix: end that transaction (SELECT pg_terminate_backend(%d)) or let it finish, then run cutover again", pid)
		if msg := fmt.Sprint(err); !errors.As(err, &be) || !strings.Contains(msg, c.step) || !strings.Contains(msg, want) || !strings.Contains(msg, fix) {
			t.Fatalf("cutover behind an idle %s transaction: %v\nwant a BlockedError at %q with %q", c.iso, err, c.step, want)
		}
		if took > 20*time.Second {
			t.Errorf("the cutover waited %v behind the report", took)
		}
		t.Logf("refused after %v: %v", took.Round(time.Millisecond), err)
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
	}
	e.run(t, ctx, "cutover")
	e.wantPhase(t, ctx, state.PhaseCutOver)
}
