package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Task is the checkpoint of one batched step (a backfill of one table or
// leaf partition).
type Task struct {
	StepID string
	Table  string
	// Cursor is the batch key of the last row of the last committed batch,
	// as text in key column order; nil before the first batch.
	Cursor []string
	// Stop is the last key the walk covers (the table's last key when it
	// began); nil when the table was empty then.
	Stop     []string
	RowsDone int64
	// RowsEstimate is the planner's row count; -1 when unknown.
	RowsEstimate int64
	Done         bool
	// StartedAt is set by the first Advance, UpdatedAt by every change.
	StartedAt *time.Time
	UpdatedAt *time.Time
	// Slices is how many slices the walk was split into (SplitTask), 0
	// when it is one walk; SlicesDone how many of them are done. RowsDone,
	// StartedAt and UpdatedAt then sum up the slices'.
	Slices, SlicesDone int
}

// taskColumns are the columns scanTask reads, in its order, from tasks t
// and the sums of its slices s (taskFrom).
const taskColumns = `t.step_id, t.table_name, t.cursor, t.stop_at, t.rows_done + coalesce(s.rows, 0), coalesce(t.rows_estimate, -1), t.done,
	least(t.started_at, s.started), greatest(t.updated_at, s.updated), coalesce(t.slices, 0), coalesce(s.done, 0)::int`

// taskFrom reads tasks with the sums of their slices.
const taskFrom = `pgwiden.tasks t LEFT JOIN LATERAL (SELECT sum(x.rows_done) AS rows, count(*) FILTER (WHERE x.done) AS done,
		min(x.started_at) AS started, max(x.updated_at) AS updated
	FROM pgwiden.task_slices x WHERE x.migration_id = t.migration_id AND x.step_id = t.step_id) s ON true`

// EnsureTask records the step's task unless it exists and returns it: a
// resumed backfill gets its checkpoint back, and the stop key it recorded
// first (stop is only stored when none is). A negative estimate means
// unknown.
func (s *Store) EnsureTask(ctx context.Context, jobID int64, stepID, table string, estimate int64, stop []string) (*Task, error) {
	var est *int64
	if estimate >= 0 {
		est = &estimate
	}
	_, err := s.pool.Exec(ctx, `/* pgwiden state */ INSERT INTO pgwiden.tasks AS t
		(migration_id, step_id, table_name, rows_estimate, stop_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (migration_id, step_id) DO UPDATE SET stop_at = coalesce(t.stop_at, EXCLUDED.stop_at)`,
		jobID, stepID, table, est, stop)
	if err != nil {
		return nil, fmt.Errorf("state: job %d step %s: ensure task: %w", jobID, stepID, err)
	}
	t, err := s.Task(ctx, jobID, stepID)
	if err == nil && t == nil {
		// Only ResetTasks or a cascade from a deleted job removes tasks.
		err = fmt.Errorf("state: job %d step %s: task vanished as it was made: %w", jobID, stepID, ErrNotFound)
	}
	return t, err
}

// Task returns the step's task, or nil when EnsureTask has not made it.
func (s *Store) Task(ctx context.Context, jobID int64, stepID string) (*Task, error) {
	row := s.pool.QueryRow(ctx, `/* pgwiden state */ SELECT `+taskColumns+` FROM `+taskFrom+`
		WHERE t.migration_id = $1 AND t.step_id = $2`, jobID, stepID)
	t, err := scanTask(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state: job %d step %s: read task: %w", jobID, stepID, err)
	}
	return &t, nil
}

// Advance moves the task's cursor to the last key of a batch of rows rows.
// Run it through the batch's own transaction: the checkpoint must commit,
// or roll back, with the rows it stands for. A finished or missing task
// gives an error wrapping ErrNotFound.
func (s *Store) Advance(ctx context.Context, q Execer, jobID int64, stepID string, cursor []string, rows int64) error {
	tag, err := q.Exec(ctx, `/* pgwiden state */ UPDATE pgwiden.tasks
		SET cursor = $3, rows_done = rows_done + $4,
			started_at = coalesce(started_at, clock_timestamp()), updated_at = clock_timestamp()
		WHERE migration_id = $1 AND step_id = $2 AND NOT done`, jobID, stepID, cursor, rows)
	if err := affected(tag, err); err != nil {
		return fmt.Errorf("state: job %d step %s: advance task to %q: %w", jobID, stepID, cursor, err)
	}
	return nil
}

// FinishTask marks the task done through q, in the transaction of the
// batch that found no rows left when there is one.
func (s *Store) FinishTask(ctx context.Context, q Execer, jobID int64, stepID string) error {
	tag, err := q.Exec(ctx, `/* pgwiden state */ UPDATE pgwiden.tasks SET done = true, updated_at = clock_timestamp()
		WHERE migration_id = $1 AND step_id = $2`, jobID, stepID)
	if err := affected(tag, err); err != nil {
		return fmt.Errorf("state: job %d step %s: finish task: %w", jobID, stepID, err)
	}
	return nil
}

// Tasks returns the job's tasks, started ones first.
func (s *Store) Tasks(ctx context.Context, jobID int64) ([]Task, error) {
	rows, err := s.pool.Query(ctx, `/* pgwiden state */ SELECT `+taskColumns+` FROM `+taskFrom+`
		WHERE t.migration_id = $1 ORDER BY 8 NULLS LAST, t.step_id`, jobID)
	if err != nil {
		return nil, fmt.Errorf("state: job %d: read tasks: %w", jobID, err)
	}
	tasks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Task, error) { return scanTask(r) })
	if err != nil {
		return nil, fmt.Errorf("state: job %d: read tasks: %w", jobID, err)
	}
	return tasks, nil
}

// ResetTask starts the step's task over from the beginning of its table,
// e.g. a verification that must run again; its slices go, and the next
// walk splits it anew.
func (s *Store) ResetTask(ctx context.Context, jobID int64, stepID string) error {
	tag, err := s.pool.Exec(ctx, `/* pgwiden state */ WITH gone AS (DELETE FROM pgwiden.task_slices WHERE migration_id = $1 AND step_id = $2)
		UPDATE pgwiden.tasks SET cursor = NULL, stop_at = NULL, rows_done = 0, done = false, slices = NULL,
		started_at = NULL, updated_at = clock_timestamp() WHERE migration_id = $1 AND step_id = $2`, jobID, stepID)
	if err := affected(tag, err); err != nil {
		return fmt.Errorf("state: job %d step %s: reset task: %w", jobID, stepID, err)
	}
	return nil
}

// ResetTasks forgets all the job's checkpoints: after a rollback has
// dropped the shadow columns, a backfill must start over.
func (s *Store) ResetTasks(ctx context.Context, jobID int64) error {
	if _, err := s.pool.Exec(ctx, `/* pgwiden state */ DELETE FROM pgwiden.tasks WHERE migration_id = $1`, jobID); err != nil {
		return fmt.Errorf("state: job %d: reset tasks: %w", jobID, err)
	}
	return nil
}

// scanTask reads one row of taskColumns.
func scanTask(row pgx.Row) (Task, error) {
	var t Task
	err := row.Scan(&t.StepID, &t.Table, &t.Cursor, &t.Stop, &t.RowsDone, &t.RowsEstimate, &t.Done, &t.StartedAt, &t.UpdatedAt,
		&t.Slices, &t.SlicesDone)
	return t, err
}
