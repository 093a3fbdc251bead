package pgerr

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/rs/zerolog"
)

// Policy is how long and how often Do retries. The waits grow exponentially
// from Initial to Max with ±50% jitter, so two pgwiden processes (or a
// pgwiden and an application) that collided do not collide again in step.
type Policy struct {
	// Initial is the first wait; Max caps every later one.
	Initial, Max time.Duration
	// MaxElapsed stops retrying once this much time has passed since the
	// first attempt. It is deliberate: backoff/v4's default is 15 minutes,
	// and zero there means forever.
	MaxElapsed time.Duration
	// MaxAttempts counts every attempt, the first included; 0 means no
	// limit other than MaxElapsed.
	MaxAttempts int
}

// DefaultPolicy retries for up to ten minutes, waiting 200ms at first and
// never more than 10s between attempts: a lock_timeout collision with a
// busy application usually clears within seconds, and an operator who left
// a phase running expects it to keep trying for a while, not forever.
func DefaultPolicy() Policy {
	return Policy{Initial: 200 * time.Millisecond, Max: 10 * time.Second, MaxElapsed: 10 * time.Minute}
}

// Validate reports a policy an operator must fix.
func (p Policy) Validate() error {
	switch {
	case p.Initial <= 0:
		return errors.New("retry: the initial wait must be positive")
	case p.Max < p.Initial:
		return fmt.Errorf("retry: the longest wait (%s) must not be shorter than the first (%s)", p.Max, p.Initial)
	case p.MaxElapsed < 0 || p.MaxAttempts < 0:
		return errors.New("retry: limits must not be negative")
	case p.MaxElapsed == 0 && p.MaxAttempts == 0:
		return errors.New("retry: set a time limit or an attempt limit; pgwiden never retries forever")
	}
	return nil
}

// backOff builds the schedule for one Do call; ctx stops it.
func (p Policy) backOff(ctx context.Context) backoff.BackOff {
	initial, maxWait := p.Initial, p.Max
	if initial <= 0 {
		initial = DefaultPolicy().Initial
	}
	if maxWait < initial {
		maxWait = initial
	}
	var b backoff.BackOff = backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(initial),
		backoff.WithMaxInterval(maxWait),
		backoff.WithMultiplier(2),
		backoff.WithRandomizationFactor(0.5),
		backoff.WithMaxElapsedTime(p.MaxElapsed),
	)
	if p.MaxAttempts > 0 {
		// WithMaxRetries counts retries, not attempts.
		b = backoff.WithMaxRetries(b, uint64(p.MaxAttempts-1))
	}
	return backoff.WithContext(b, ctx)
}

// GaveUpError is a retryable error that outlasted the policy. It unwraps
// to the last attempt's error.
type GaveUpError struct {
	What     string
	Attempts int
	Elapsed  time.Duration
	Err      error
}

func (e *GaveUpError) Error() string {
	attempts := "attempts"
	if e.Attempts == 1 {
		attempts = "attempt"
	}
	return fmt.Sprintf("%s: gave up after %d %s over %s: %v", e.What, e.Attempts, attempts, e.Elapsed.Round(time.Millisecond), e.Err)
}

// Unwrap returns the last attempt's error.
func (e *GaveUpError) Unwrap() error { return e.Err }

// Do runs op until it succeeds, fails with an error Retryable rejects, the
// policy runs out, or ctx ends. op receives the attempt number, from 1, and
// must do all its work under the ctx it is given (a transaction it opens
// belongs to that attempt alone). what names the operation in the log and
// in errors, e.g. "cutover swap public.tags".
//
// A non-retryable error is returned as op returned it: op already names its
// object, and there is nothing to add. When the policy runs out Do returns a
// *GaveUpError; when ctx ends it returns promptly with an error that is
// both ctx.Err() and the last attempt's error (errors.Is finds either).
func Do(ctx context.Context, p Policy, log zerolog.Logger, what string, op func(ctx context.Context, attempt int) error) error {
	return DoNotify(ctx, p, log, what, op, nil)
}

// Retry is an attempt of Do that failed and will be tried again after
// Wait, as DoNotify reports it; What is Do's what.
type Retry struct {
	What     string
	Attempt  int
	Wait     time.Duration
	SQLState string
	Err      error
}

// noRetryError marks an error Do must not retry, whatever its class.
type noRetryError struct{ err error }

func (e *noRetryError) Error() string { return e.err.Error() }
func (e *noRetryError) Unwrap() error { return e.err }

// NoRetry makes Do return err at once instead of retrying it: for an
// operation whose retry in place would be wrong although the error class
// says it is safe (a batch after a lost connection, see migrator).
func NoRetry(err error) error { return &noRetryError{err: err} }

// DoNotify is Do that also calls onRetry (when not nil) for each retry,
// after logging it.
func DoNotify(ctx context.Context, p Policy, log zerolog.Logger, what string, op func(ctx context.Context, attempt int) error, onRetry func(Retry)) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: not started: %w", what, err)
	}
	start := time.Now()
	attempt := 0
	var last error
	// RetryNotify calls the operation and notify on this goroutine, so
	// attempt and last need no lock.
	err := backoff.RetryNotify(func() error {
		attempt++
		err := op(ctx, attempt)
		if err == nil {
			return nil
		}
		last = err
		var nr *noRetryError
		if ctx.Err() != nil || !Retryable(err) || errors.As(err, &nr) {
			return backoff.Permanent(err)
		}
		return err
	}, p.backOff(ctx), func(err error, wait time.Duration) {
		log.Warn().Str("what", what).Int("attempt", attempt).Dur("wait", wait).
			Str("sqlstate", Code(err)).Err(err).Msg("retry")
		if onRetry != nil {
			onRetry(Retry{What: what, Attempt: attempt, Wait: wait, SQLState: Code(err), Err: err})
		}
	})
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("%s: stopped after %d attempts (%w); last error: %w", what, attempt, ctx.Err(), last)
	case !Retryable(last):
		return last
	default:
		return &GaveUpError{What: what, Attempts: attempt, Elapsed: time.Since(start), Err: last}
	}
}
