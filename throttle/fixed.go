package throttle

import (
	"context"
	"fmt"
	"time"
)

// Fixed paces a job at a fixed batch size and an optional maximum rate in
// rows per second. It is the governor until adaptive pacing is configured.
type Fixed struct {
	BatchSize int
	MaxRate   float64 // rows per second; 0 means no limit
	Clock     Clock

	started time.Time
	rows    int64
}

// Decide returns the next batch size and how long to wait so that the rows
// done since the first call stay at or below MaxRate. It is pure apart from
// the injected clock.
func (f *Fixed) Decide(o BatchOutcome) Decision {
	now := f.clock().Now()
	if f.started.IsZero() {
		f.started = now
	}
	f.rows += int64(o.Rows)
	d := Decision{Rows: f.BatchSize}
	if f.MaxRate > 0 {
		due := f.started.Add(time.Duration(float64(f.rows) / f.MaxRate * float64(time.Second)))
		if wait := due.Sub(now); wait > 0 {
			d.Wait = wait
			d.Reason = fmt.Sprintf("max rate %.0f rows/s", f.MaxRate)
		}
	}
	return d
}

// Next decides and then waits, returning early with ctx's error when ctx
// ends during the wait.
func (f *Fixed) Next(ctx context.Context, last BatchOutcome) (Decision, error) {
	d := f.Decide(last)
	return d, sleep(ctx, f.clock(), d.Wait)
}

func (f *Fixed) clock() Clock {
	if f.Clock == nil {
		return RealClock
	}
	return f.Clock
}
