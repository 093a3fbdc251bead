package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/pgwiden/pgwiden/state"
)

// RecordedPace reads the pace of the newest backfill recorded in this
// database's pgwiden state: a `pgwiden rehearse` run here (on a staging
// copy) or an earlier migration. false when there is none, or when the
// current role may not read pgwiden's state (a monitoring role usually
// may not: pass --rate then); an error for anything else.
func RecordedPace(ctx context.Context, pool *pgxpool.Pool) (Pace, bool, error) {
	st, err := state.Open(ctx, pool, zerolog.Nop())
	if err != nil || !st.Exists() {
		return Pace{}, false, noPrivilege(err)
	}
	jobs, err := st.List(ctx)
	if err != nil {
		return Pace{}, false, noPrivilege(err)
	}
	for _, j := range jobs { // newest first
		tasks, err := st.Tasks(ctx, j.ID)
		if err != nil {
			return Pace{}, false, noPrivilege(err)
		}
		if rate, ok := PaceFromTasks(tasks); ok {
			return Pace{RowsPerSecond: rate, From: fmt.Sprintf("the backfill of migration %d (%s), recorded in pgwiden.tasks", j.ID, j.Target)}, true, nil
		}
	}
	return Pace{}, false, nil
}

// noPrivilege drops an insufficient_privilege error: no recorded pace then.
func noPrivilege(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42501" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the recorded backfill pace: %w", err)
	}
	return nil
}
