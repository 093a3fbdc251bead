package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgwiden/pgwiden/planner"
)

// Phase is where a migration stands. The -ing phases are set when a phase
// starts, the others when it has finished; a job left in an -ing phase was
// interrupted, and running the same command again resumes it.
type Phase string

// The phases a job goes through.
const (
	PhasePreparing   Phase = "preparing"
	PhasePrepared    Phase = "prepared"
	PhaseBackfilling Phase = "backfilling"
	PhaseBackfilled  Phase = "backfilled"
	PhaseCuttingOver Phase = "cutting_over"
	PhaseCutOver     Phase = "cut_over"
	PhaseCleaningUp  Phase = "cleaning_up"
	PhaseDone        Phase = "done" // after cleanup
	PhaseRollingBack Phase = "rolling_back"
	PhaseRolledBack  Phase = "rolled_back"
)

// Finished reports whether p ends a job: a new migration of the same
// target may then start.
func (p Phase) Finished() bool { return p == PhaseDone || p == PhaseRolledBack }

// Job is one migration of one target column.
type Job struct {
	ID        int64
	Target    planner.Target
	Plan      *planner.Plan
	Phase     Phase
	CreatedAt time.Time
	UpdatedAt time.Time
	// LastError is the error the last run stopped on, "" when it did not.
	LastError string
	// Paused is set by pgwiden pause: a running backfill holds.
	Paused bool
	// MaxRate overrides the backfill's rows per second when set.
	MaxRate *int
	// Throttled is why the phase running this job waited when it last
	// said so, "" when it ran freely (see SetThrottled). A process that
	// died leaves its last value: read it with the job's lock holder.
	Throttled string
}

// ActiveError is a second migration of a target whose first one is not
// finished.
type ActiveError struct {
	Target planner.Target
	ID     int64
	Phase  Phase
}

func (e *ActiveError) Error() string {
	return fmt.Sprintf("migration of %s already exists as job %d (%s): continue it with the next phase, or roll it back first",
		e.Target, e.ID, e.Phase)
}

// jobColumns are the columns scanJob reads, in its order.
const jobColumns = `id, target_schema, target_table, target_column, plan, phase, created_at, updated_at,
	coalesce(last_error, ''), paused, max_rate, coalesce(throttled, '')`

// activeIndex is the partial unique index that allows one unfinished job
// per target (schema.sql).
const activeIndex = "migrations_one_active"

// Create records a new job for plan, in phase preparing. A target that
// already has an unfinished job gives an *ActiveError.
func (s *Store) Create(ctx context.Context, plan *planner.Plan) (*Job, error) {
	if plan == nil || plan.FormatVersion != planner.FormatVersion {
		return nil, fmt.Errorf("state: create job: plan format must be version %d", planner.FormatVersion)
	}
	t := plan.Target
	doc, err := json.Marshal(plan)
	if err != nil {
		return nil, fmt.Errorf("state: create job for %s: encode plan: %w", t, err)
	}
	row := s.pool.QueryRow(ctx, `/* pgwiden state */ INSERT INTO pgwiden.migrations
		(target_schema, target_table, target_column, plan, phase) VALUES ($1, $2, $3, $4, $5)
		RETURNING `+jobColumns, t.Table.Schema, t.Table.Name, t.Column, doc, PhasePreparing)
	j, err := scanJob(row)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == activeIndex {
		if other, aerr := s.Active(ctx, t); aerr == nil && other != nil {
			return nil, &ActiveError{Target: t, ID: other.ID, Phase: other.Phase}
		}
		// The other job finished in between; say so rather than retry.
		return nil, fmt.Errorf("state: create job for %s: another job was active a moment ago: run again", t)
	}
	if err != nil {
		return nil, fmt.Errorf("state: create job for %s: %w", t, err)
	}
	return j, nil
}

// Active returns the target's unfinished job, or nil when it has none.
func (s *Store) Active(ctx context.Context, t planner.Target) (*Job, error) {
	row := s.pool.QueryRow(ctx, `/* pgwiden state */ SELECT `+jobColumns+` FROM pgwiden.migrations
		WHERE target_schema = $1 AND target_table = $2 AND target_column = $3
		AND phase NOT IN ('done', 'rolled_back')`, t.Table.Schema, t.Table.Name, t.Column)
	j, err := scanJob(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state: active job for %s: %w", t, err)
	}
	return j, nil
}

// Peek is Active for read-only commands: when the state schema does not
// exist (nothing was ever prepared here) it returns nil without error.
func (s *Store) Peek(ctx context.Context, t planner.Target) (*Job, error) {
	if ok, err := s.present(ctx); err != nil || !ok {
		return nil, err
	}
	return s.Active(ctx, t)
}

// Last returns the target's newest job, whatever its phase, or nil when
// the target never had one (or the state schema does not exist).
func (s *Store) Last(ctx context.Context, t planner.Target) (*Job, error) {
	if ok, err := s.present(ctx); err != nil || !ok {
		return nil, err
	}
	row := s.pool.QueryRow(ctx, `/* pgwiden state */ SELECT `+jobColumns+` FROM pgwiden.migrations
		WHERE target_schema = $1 AND target_table = $2 AND target_column = $3
		ORDER BY id DESC LIMIT 1`, t.Table.Schema, t.Table.Name, t.Column)
	j, err := scanJob(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state: last job for %s: %w", t, err)
	}
	return j, nil
}

// Get returns job id; an unknown id gives an error wrapping ErrNotFound.
func (s *Store) Get(ctx context.Context, id int64) (*Job, error) {
	row := s.pool.QueryRow(ctx, `/* pgwiden state */ SELECT `+jobColumns+` FROM pgwiden.migrations WHERE id = $1`, id)
	j, err := scanJob(row)
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("state: job %d: %w", id, err)
	}
	return j, nil
}

// List returns every job, newest first; none when the state schema does
// not exist.
func (s *Store) List(ctx context.Context) ([]Job, error) {
	if ok, err := s.present(ctx); err != nil || !ok {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `/* pgwiden state */ SELECT `+jobColumns+` FROM pgwiden.migrations ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("state: list jobs: %w", err)
	}
	jobs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Job, error) {
		j, err := scanJob(r)
		if err != nil {
			return Job{}, err
		}
		return *j, nil
	})
	if err != nil {
		return nil, fmt.Errorf("state: list jobs: %w", err)
	}
	return jobs, nil
}

// SetPhase records job id's phase through q, so it can commit with the
// work that reached it.
func (s *Store) SetPhase(ctx context.Context, q Execer, id int64, phase Phase) error {
	tag, err := q.Exec(ctx, `/* pgwiden state */ UPDATE pgwiden.migrations SET phase = $2, updated_at = clock_timestamp()
		WHERE id = $1`, id, phase)
	if err := affected(tag, err); err != nil {
		return fmt.Errorf("state: job %d: set phase %s: %w", id, phase, err)
	}
	return nil
}

// SetError records the error job id stopped on; "" clears it.
func (s *Store) SetError(ctx context.Context, id int64, msg string) error {
	tag, err := s.pool.Exec(ctx, `/* pgwiden state */ UPDATE pgwiden.migrations SET last_error = nullif($2, ''),
		updated_at = clock_timestamp() WHERE id = $1`, id, msg)
	if err := affected(tag, err); err != nil {
		return fmt.Errorf("state: job %d: set last error: %w", id, err)
	}
	return nil
}

// present reports whether the state schema exists now.
func (s *Store) present(ctx context.Context) (bool, error) {
	v, err := readVersion(ctx, s.pool)
	if err != nil {
		return false, fmt.Errorf("state: look for schema pgwiden: %w", err)
	}
	if v > Version {
		return false, &VersionError{Have: v, Know: Version}
	}
	return v > 0, nil
}

// scanJob reads one row of jobColumns and decodes its plan.
func scanJob(row pgx.Row) (*Job, error) {
	var j Job
	var doc []byte
	err := row.Scan(&j.ID, &j.Target.Table.Schema, &j.Target.Table.Name, &j.Target.Column, &doc, &j.Phase,
		&j.CreatedAt, &j.UpdatedAt, &j.LastError, &j.Paused, &j.MaxRate, &j.Throttled)
	if err != nil {
		return nil, err
	}
	j.Plan = new(planner.Plan)
	if err := json.Unmarshal(doc, j.Plan); err != nil {
		return nil, fmt.Errorf("job %d: decode plan: %w", j.ID, err)
	}
	if v := j.Plan.FormatVersion; v != planner.FormatVersion {
		return nil, fmt.Errorf("job %d: plan format %d, this binary reads %d: use the pgwiden version that prepared it", j.ID, v, planner.FormatVersion)
	}
	return &j, nil
}

// affected returns err, or ErrNotFound when the statement matched no row.
func affected(tag pgconn.CommandTag, err error) error {
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}
