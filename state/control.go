package state

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Control is the operator's say over a running job: set from another
// terminal or host by pgwiden pause, resume and throttle, and read by the
// running phase every signal interval. Nothing else about the job changes
// with it, so these writes never take the job's advisory lock.
type Control struct {
	Paused bool
	// MaxRate is the rows per second the operator set, 0 when none.
	MaxRate int
}

// Control reads job id's operator control. It reads two columns, not the
// plan, because the running phase calls it every signal interval.
func (s *Store) Control(ctx context.Context, id int64) (Control, error) {
	var c Control
	err := s.pool.QueryRow(ctx, `/* pgwiden state */ SELECT paused, coalesce(max_rate, 0) FROM pgwiden.migrations
		WHERE id = $1`, id).Scan(&c.Paused, &c.MaxRate)
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("state: job %d: read pause and max rate: %w", id, err)
	}
	return c, nil
}

// SetPaused pauses (true) or resumes (false) job id.
func (s *Store) SetPaused(ctx context.Context, id int64, paused bool) error {
	tag, err := s.pool.Exec(ctx, `/* pgwiden state */ UPDATE pgwiden.migrations SET paused = $2 WHERE id = $1`, id, paused)
	if err := affected(tag, err); err != nil {
		return fmt.Errorf("state: job %d: set paused %t: %w", id, paused, err)
	}
	return nil
}

// SetMaxRate sets job id's rows per second; 0 clears it, and the running
// phase goes back to its own --max-rate. A negative rate is refused.
func (s *Store) SetMaxRate(ctx context.Context, id int64, rate int) error {
	if rate < 0 {
		return fmt.Errorf("state: job %d: max rate %d: must be 0 (clear) or positive", id, rate)
	}
	tag, err := s.pool.Exec(ctx, `/* pgwiden state */ UPDATE pgwiden.migrations SET max_rate = nullif($2, 0) WHERE id = $1`, id, rate)
	if err := affected(tag, err); err != nil {
		return fmt.Errorf("state: job %d: set max rate %d: %w", id, rate, err)
	}
	return nil
}

// SetThrottled records why job id's running phase waits, "" when it runs
// freely. The caller writes only when the reason changes. updated_at is
// left alone: it dates the job's progress, and a wait is not progress.
func (s *Store) SetThrottled(ctx context.Context, id int64, reason string) error {
	tag, err := s.pool.Exec(ctx, `/* pgwiden state */ UPDATE pgwiden.migrations SET throttled = nullif($2, '') WHERE id = $1`, id, reason)
	if err := affected(tag, err); err != nil {
		return fmt.Errorf("state: job %d: set throttled: %w", id, err)
	}
	return nil
}
