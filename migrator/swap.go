package migrator

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/internal/pgerr"
	"github.com/pgwiden/pgwiden/planner"
)

// SwapStats describe a swap: how many attempts it took and, as an upper
// bound, how long it held its exclusive locks (the whole transaction).
// VacuumWait is how long its attempts first waited, in all, for an
// autovacuum on the tables to end (run.awaitVacuum).
type SwapStats struct {
	Attempts   int
	Held       time.Duration
	VacuumWait time.Duration
}

// swap runs the cutover's swap transaction and records the phase with it.
func (r *run) swap(ctx context.Context, s planner.Step) error {
	if r.done[s.ID] {
		return nil
	}
	if h := r.m.hooks.BeforeSwap; h != nil {
		if err := h(ctx); err != nil {
			return err
		}
	}
	// The phase stays cutting_over until the steps after the swap are done
	// too: a cutover killed right after the swap's commit finds them to do.
	stats, err := r.swapTx(ctx, s, "swap")
	if err != nil {
		return err
	}
	r.m.LastSwap = stats
	r.log.Info().Int("attempts", stats.Attempts).Dur("locks_held_at_most", stats.Held).Dur("vacuum_wait", stats.VacuumWait).Msg("columns swapped")
	emit(r.m, onSwap, SwapDone{Step: s.ID, SwapStats: stats})
	return nil
}

// swapBack runs the rollback's swap back.
func (r *run) swapBack(ctx context.Context, s planner.Step) error {
	if r.done[s.ID] {
		return nil
	}
	stats, err := r.swapTx(ctx, s, "swap back")
	if err != nil {
		return err
	}
	r.log.Info().Int("attempts", stats.Attempts).Dur("locks_held_at_most", stats.Held).Msg("old columns swapped back")
	emit(r.m, onSwap, SwapDone{Step: s.ID, Back: true, SwapStats: stats})
	return nil
}

// swapTx runs a swap script in one transaction. Its first statement takes
// every lock at once under lock_timeout; when that times out the
// transaction rolls back, holding nothing, and is tried again after a
// backoff, up to SwapAttempts times. So the application never waits behind
// pgwiden for longer than lock_timeout, and after the last attempt the
// tables are as they were. The step is recorded as done inside the same
// transaction.
func (r *run) swapTx(ctx context.Context, s planner.Step, what string) (SwapStats, error) {
	policy := r.m.cfg.Retry
	policy.MaxAttempts = r.m.cfg.SwapAttempts
	var stats SwapStats
	sql := annotate(s)
	err := r.retry(ctx, policy, what, func(ctx context.Context, attempt int) error {
		stats.Attempts = attempt
		waited, err := r.awaitVacuum(ctx, r.m.cfg.VacuumWait)
		stats.VacuumWait += waited
		if err != nil {
			return err
		}
		start := time.Now()
		defer func() { stats.Held = time.Since(start) }()
		return pgx.BeginFunc(ctx, r.m.pool, func(tx pgx.Tx) error {
			if err := setLocal(ctx, tx, r.m.cfg.LockTimeout, r.m.cfg.StatementTimeout); err != nil {
				return err
			}
			if err := execScript(ctx, tx, s); err != nil {
				return err
			}
			return r.m.st.MarkDone(ctx, tx, r.job.ID, s.ID)
		})
	})
	if err != nil {
		return stats, r.blocked(ctx, s, &pgerr.StepError{StepID: s.ID, SQL: sql, Err: err})
	}
	r.done[s.ID] = true
	return stats, nil
}
