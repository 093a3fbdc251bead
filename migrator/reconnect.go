package migrator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pgwiden/pgwiden/internal/pgerr"
	"github.com/pgwiden/pgwiden/planner"
)

// A backfill runs for hours: a server restart, a crash or a managed
// service's failover behind the same DSN should cost a pause, not the
// operator's night. When a phase stops on a lost connection, resilient
// waits for the server with backoff and runs the phase again, which is
// exactly what an operator would do: it takes the migration's lock again,
// reloads the steps done, resumes each walk after its last committed
// batch, and probes a step left running (an index build left INVALID, a
// swap that never committed) before redoing it, as after a kill.

// StandbyError is a phase refused because the server is a read-only
// standby, as a DSN may lead after a failover.
type StandbyError struct {
	Phase planner.Phase
	Err   error
}

func (e *StandbyError) Error() string {
	return fmt.Sprintf("%s: the server is a read-only standby (pg_is_in_recovery, SQLSTATE 25006): --dsn must lead to the primary; after a failover point it at the new primary and run %s again", e.Phase, e.Phase)
}

func (e *StandbyError) Unwrap() error { return e.Err }

// resilient runs phase until it ends other than on a lost connection, or
// until the server has not come back for Config.ReconnectTimeout.
func (m *Migrator) resilient(ctx context.Context, phase planner.Phase, t planner.Target, run func(context.Context, planner.Target) error) error {
	for {
		err := run(ctx, t)
		if pgerr.Code(err) == pgerr.ReadOnlyTransaction {
			return &StandbyError{Phase: phase, Err: err}
		}
		if !pgerr.ConnectionLost(err) || m.cfg.ReconnectTimeout <= 0 || ctx.Err() != nil {
			return err
		}
		if err := m.reconnect(ctx, phase, err); err != nil {
			return err
		}
		m.log.Info().Str("phase", string(phase)).Str("target", t.String()).Msg("reconnected: continuing from the last checkpoint")
	}
}

// reconnect waits, with backoff, until the server answers as a primary.
func (m *Migrator) reconnect(ctx context.Context, phase planner.Phase, lost error) error {
	deadline := time.Now().Add(m.cfg.ReconnectTimeout)
	wait := 250 * time.Millisecond
	last := lost
	for attempt := 1; ; attempt++ {
		m.log.Warn().Str("phase", string(phase)).Int("attempt", attempt).Dur("wait", wait).AnErr("cause", last).
			Msg("connection to the server lost: reconnecting")
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), lost)
		case <-time.After(wait):
		}
		var standby bool
		last = m.pool.QueryRow(ctx, "/* pgwiden reconnect */ SELECT pg_is_in_recovery()").Scan(&standby)
		switch {
		case last == nil && standby:
			return &StandbyError{Phase: phase, Err: lost}
		case last == nil:
			return nil
		case !pgerr.ConnectionLost(last):
			return fmt.Errorf("%s: reconnect after a lost connection: %w", phase, last)
		case time.Now().After(deadline):
			return fmt.Errorf("%s: the server did not come back within --reconnect-timeout %s (%d attempts; last: %w); run %s again once it is up",
				phase, m.cfg.ReconnectTimeout, attempt, last, phase)
		}
		wait = min(2*wait, 5*time.Second)
	}
}
