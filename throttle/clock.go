package throttle

import (
	"context"
	"time"
)

// Clock is the time source of everything that paces or waits; tests use
// a fake one, so no test sleeps.
type Clock interface {
	Now() time.Time
	// After fires once d has passed, like time.After.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// RealClock is the wall clock.
var RealClock Clock = realClock{}

// sleep waits d on clock, returning ctx's error at once when ctx ends
// first. Every wait in this package goes through it: a select on ctx and
// the clock, never time.Sleep, so Ctrl-C is honoured mid-wait.
func sleep(ctx context.Context, clock Clock, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-clock.After(d):
		return nil
	}
}
