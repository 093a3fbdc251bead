package state

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Slice is one slice of a task's walk (--workers N): the keys after
// Start (nil: from the table's start; the Stop of the slice before) up to
// Stop, with its own checkpoint, Cursor: Start before its first batch.
type Slice struct {
	Index    int
	Start    []string
	Cursor   []string
	Stop     []string
	RowsDone int64
	Done     bool
}

// SplitTask records the slices of a task that has not begun, in one
// transaction, and returns the task's slices: those it recorded, or those
// an earlier run recorded, which stand (a walk's slices are fixed when it
// begins, whatever --workers a later run has). It returns nil when the
// task is one walk already under way (it has a cursor) or done.
func (s *Store) SplitTask(ctx context.Context, jobID int64, stepID string, slices []Slice) ([]Slice, error) {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `/* pgwiden state */ UPDATE pgwiden.tasks SET slices = $3, updated_at = clock_timestamp()
			WHERE migration_id = $1 AND step_id = $2 AND slices IS NULL AND cursor IS NULL AND NOT done`, jobID, stepID, len(slices))
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		for _, sl := range slices {
			if _, err := tx.Exec(ctx, `/* pgwiden state */ INSERT INTO pgwiden.task_slices (migration_id, step_id, slice, start_at, cursor, stop_at)
				VALUES ($1, $2, $3, $4, $4, $5)`, jobID, stepID, sl.Index, sl.Start, sl.Stop); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("state: job %d step %s: split task in %d slices: %w", jobID, stepID, len(slices), err)
	}
	return s.Slices(ctx, jobID, stepID)
}

// Slices returns the task's slices in order, nil when it has none.
func (s *Store) Slices(ctx context.Context, jobID int64, stepID string) ([]Slice, error) {
	rows, err := s.pool.Query(ctx, `/* pgwiden state */ SELECT slice, start_at, cursor, stop_at, rows_done, done FROM pgwiden.task_slices
		WHERE migration_id = $1 AND step_id = $2 ORDER BY slice`, jobID, stepID)
	if err != nil {
		return nil, fmt.Errorf("state: job %d step %s: read slices: %w", jobID, stepID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Slice, error) {
		var sl Slice
		err := r.Scan(&sl.Index, &sl.Start, &sl.Cursor, &sl.Stop, &sl.RowsDone, &sl.Done)
		return sl, err
	})
	if err != nil {
		return nil, fmt.Errorf("state: job %d step %s: read slices: %w", jobID, stepID, err)
	}
	return out, nil
}

// AdvanceSlice is Advance for one slice of a task: run it through the
// batch's own transaction.
func (s *Store) AdvanceSlice(ctx context.Context, q Execer, jobID int64, stepID string, slice int, cursor []string, rows int64) error {
	tag, err := q.Exec(ctx, `/* pgwiden state */ UPDATE pgwiden.task_slices
		SET cursor = $4, rows_done = rows_done + $5,
			started_at = coalesce(started_at, clock_timestamp()), updated_at = clock_timestamp()
		WHERE migration_id = $1 AND step_id = $2 AND slice = $3 AND NOT done`, jobID, stepID, slice, cursor, rows)
	if err := affected(tag, err); err != nil {
		return fmt.Errorf("state: job %d step %s: advance slice %d to %q: %w", jobID, stepID, slice, cursor, err)
	}
	return nil
}

// FinishSlice marks one slice of a task done through q, in the
// transaction of the batch that found no rows left in it.
func (s *Store) FinishSlice(ctx context.Context, q Execer, jobID int64, stepID string, slice int) error {
	tag, err := q.Exec(ctx, `/* pgwiden state */ UPDATE pgwiden.task_slices SET done = true, updated_at = clock_timestamp()
		WHERE migration_id = $1 AND step_id = $2 AND slice = $3`, jobID, stepID, slice)
	if err := affected(tag, err); err != nil {
		return fmt.Errorf("state: job %d step %s: finish slice %d: %w", jobID, stepID, slice, err)
	}
	return nil
}
