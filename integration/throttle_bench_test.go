package integration

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/throttle"
)

// The throttled run of BenchmarkMigratePgbench (bench_test.go): the same
// migration under the same load, paced by a throttle.Controller as the
// CLI builds it by default: batches adapted to --batch-target (200ms),
// the lock-waiter signal, signals read every --signal-interval (the CLI's
// default). PGWIDEN_BENCH_TARGET changes the batch target (a Go duration),
// PGWIDEN_BENCH_RATE gives the backfill a --max-rate in rows/s (the
// cutover's verification then runs without one, as its command's default).

// benchThrottledGovernor builds the controller.
func benchThrottledGovernor(b *testing.B) benchGovernor {
	cfg := throttle.DefaultConfig()
	if s := os.Getenv("PGWIDEN_BENCH_TARGET"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			b.Fatalf("PGWIDEN_BENCH_TARGET=%q: want a duration such as 200ms", s)
		}
		cfg.TargetBatch = d
	}
	if s := os.Getenv("PGWIDEN_BENCH_RATE"); s != "" {
		r, err := strconv.ParseFloat(s, 64)
		if err != nil || r < 0 {
			b.Fatalf("PGWIDEN_BENCH_RATE=%q: want rows per second", s)
		}
		cfg.MaxRate = r
	}
	if s := os.Getenv("PGWIDEN_BENCH_NICE"); s != "" {
		r, err := strconv.ParseFloat(s, 64)
		if err != nil || r < 0 {
			b.Fatalf("PGWIDEN_BENCH_NICE=%q: want a ratio such as 0.5", s)
		}
		cfg.NiceRatio = r
	}
	b.Logf("throttle: batch target %v, batches %d..%d from %d, max rate %.0f rows/s, nice ratio %g, signals every %v: lock waiters",
		cfg.TargetBatch, cfg.MinBatch, cfg.MaxBatch, cfg.StartBatch, cfg.MaxRate, cfg.NiceRatio, cfg.SignalEvery)
	return func(pool *pgxpool.Pool, plan *planner.Plan, log zerolog.Logger) migrator.Governor {
		signals := []throttle.Signal{throttle.LockWaiters(pool, migrator.WalkedTables(plan))}
		return throttle.NewController(cfg, signals, throttle.RealClock, log)
	}
}

// benchPlan is the migration's plan as prepare will make it.
func benchPlan(ctx context.Context, b *testing.B, db *pgtest.DB) *planner.Plan {
	snap, err := catalog.Load(ctx, db.Pool, nil)
	if err != nil {
		b.Fatal(err)
	}
	p, err := planner.Build(snap, benchTarget)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// benchCompareThrottled checks the throttle's target: the application's
// p99 during the backfill and the cutover's verification within 1.5x of
// its baseline. It logs rather than fails, as figures from a shared
// machine vary. online is the unthrottled run, nil when it did not run.
func benchCompareThrottled(b *testing.B, r, online *benchRun) {
	if r == nil {
		return
	}
	base := r.app["baseline"].p99
	for _, w := range []string{"backfill", "cutover"} {
		p99 := r.app[w].p99
		ratio := float64(p99) / float64(base)
		verdict := "met"
		if ratio > 1.5 {
			verdict = "MISSED"
		}
		line := "throttled %s: %s; app p99 %.1f ms vs baseline %.1f ms (%.2fx, target <= 1.5x: %s)"
		args := []any{w, r.dur[w].Round(time.Millisecond), benchMS(p99), benchMS(base), ratio, verdict}
		if online != nil {
			line += "; unthrottled: %s, app p99 %.1f ms vs baseline %.1f ms (%.2fx)"
			args = append(args, online.dur[w].Round(time.Millisecond), benchMS(online.app[w].p99), benchMS(online.app["baseline"].p99),
				float64(online.app[w].p99)/float64(online.app["baseline"].p99))
		}
		b.Logf(line, args...)
		b.ReportMetric(ratio, "app_p99_ratio_"+w)
	}
}
