package migrator

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/internal/pgerr"
	"github.com/pgwiden/pgwiden/planner"
)

// RunStep runs one step that belongs to no migration, such as `pgwiden
// runway`'s ALTER SEQUENCE: its probe first (false: found done, nothing
// run), then its statement in a transaction under lock_timeout and
// statement_timeout, retried with the engine's backoff when it times out
// waiting for a lock, exactly as a phase's step; only nothing is recorded
// in pgwiden's state, which it neither needs nor creates.
func (m *Migrator) RunStep(ctx context.Context, s planner.Step) (bool, error) {
	if s.Probe != "" {
		var done bool
		if err := m.pool.QueryRow(ctx, tag(s.ID+" probe", s.Probe), s.ProbeArgs...).Scan(&done); err != nil {
			return false, &pgerr.StepError{StepID: s.ID, SQL: s.Probe, Err: err}
		}
		if done {
			return false, nil
		}
	}
	start := time.Now()
	err := pgerr.Do(ctx, m.cfg.Retry, m.log, s.ID, func(ctx context.Context, _ int) error {
		return pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
			if err := setLocal(ctx, tx, m.cfg.LockTimeout, m.cfg.StatementTimeout); err != nil {
				return err
			}
			return execScript(ctx, tx, s)
		})
	})
	if err != nil {
		return false, &pgerr.StepError{StepID: s.ID, SQL: annotate(s), Err: err}
	}
	m.log.Info().Str("step", s.ID).Str("lock", string(s.Lock)).Dur("took", time.Since(start)).Msg("step done")
	return true, nil
}
