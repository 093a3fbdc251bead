package state

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The states a step records; a step with no row has not been started.
const (
	StepRunning = "running"
	StepDone    = "done"
)

// StepState returns "", StepRunning or StepDone.
func (s *Store) StepState(ctx context.Context, jobID int64, stepID string) (string, error) {
	var st string
	err := s.pool.QueryRow(ctx, `/* pgwiden state */ SELECT state FROM pgwiden.steps
		WHERE migration_id = $1 AND step_id = $2`, jobID, stepID).Scan(&st)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("state: job %d step %s: read state: %w", jobID, stepID, err)
	}
	return st, nil
}

// MarkRunning records through q that the step starts, counting one more
// attempt. Commit it before running the step: if the process dies, the
// next run finds the step running and re-checks it through its Probe.
func (s *Store) MarkRunning(ctx context.Context, q Execer, jobID int64, stepID string) error {
	_, err := q.Exec(ctx, `/* pgwiden state */ INSERT INTO pgwiden.steps AS st
		(migration_id, step_id, state, started_at, attempts) VALUES ($1, $2, 'running', clock_timestamp(), 1)
		ON CONFLICT (migration_id, step_id) DO UPDATE
		SET state = 'running', started_at = clock_timestamp(), finished_at = NULL, attempts = st.attempts + 1`,
		jobID, stepID)
	if err != nil {
		return fmt.Errorf("state: job %d step %s: mark running: %w", jobID, stepID, err)
	}
	return nil
}

// MarkDone records through q that the step's effect is in place; run it in
// the step's own transaction when the step has one. A step found done by
// its Probe alone is recorded with no attempt.
func (s *Store) MarkDone(ctx context.Context, q Execer, jobID int64, stepID string) error {
	_, err := q.Exec(ctx, `/* pgwiden state */ INSERT INTO pgwiden.steps AS st
		(migration_id, step_id, state, finished_at) VALUES ($1, $2, 'done', clock_timestamp())
		ON CONFLICT (migration_id, step_id) DO UPDATE SET state = 'done', finished_at = clock_timestamp()`,
		jobID, stepID)
	if err != nil {
		return fmt.Errorf("state: job %d step %s: mark done: %w", jobID, stepID, err)
	}
	return nil
}

// DoneSteps returns the IDs of the job's done steps.
func (s *Store) DoneSteps(ctx context.Context, jobID int64) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `/* pgwiden state */ SELECT step_id FROM pgwiden.steps
		WHERE migration_id = $1 AND state = 'done'`, jobID)
	if err != nil {
		return nil, fmt.Errorf("state: job %d: read done steps: %w", jobID, err)
	}
	done := map[string]bool{}
	var id string
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error { done[id] = true; return nil }); err != nil {
		return nil, fmt.Errorf("state: job %d: read done steps: %w", jobID, err)
	}
	return done, nil
}

// Forget removes the record of steps, so that they run again: a rollback
// refused after it put its guard in place takes the guard away again, and
// the next rollback must put it back.
func (s *Store) Forget(ctx context.Context, q Execer, jobID int64, stepIDs []string) error {
	_, err := q.Exec(ctx, `/* pgwiden state */ DELETE FROM pgwiden.steps WHERE migration_id = $1 AND step_id = ANY ($2::text[])`, jobID, stepIDs)
	if err != nil {
		return fmt.Errorf("state: job %d: forget steps %v: %w", jobID, stepIDs, err)
	}
	return nil
}
