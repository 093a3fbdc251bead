package migrator

import (
	"context"
	"time"

	"github.com/pgwiden/pgwiden/internal/pgerr"
	"github.com/pgwiden/pgwiden/planner"
)

// Events are what the migrator tells its consumers as it works, as typed
// values: the CLI's progress display, a rehearsal's report and the tests
// subscribe to them (Migrator.Subscribe) and never read the log, so a log
// line can be reworded without breaking anything. Any field may be nil.
//
// The callbacks run on the goroutine that runs the phase, except that
// OnProgress and OnHold also come from a watcher goroutine while the phase
// waits in its governor (the phase's goroutine is then blocked: never two
// calls at once). They must return quickly: the phase waits for them.
type Events struct {
	// OnStep follows a non-batched step that ran (not one found done).
	OnStep func(StepDone)
	// OnSwap follows the cutover's swap or the rollback's swap back.
	OnSwap func(SwapDone)
	// OnRetry follows an attempt that failed with a retryable error
	// (lock_timeout, deadlock, serialization), before the wait.
	OnRetry func(Retry)
	// OnProgress follows every batch of a batched step (backfill copy,
	// verification), and comes periodically during a hold.
	OnProgress func(Progress)
	// OnHold follows a change of the throttle's state of a walk: a hold
	// or a slower pace begins, changes reason, or ends (Reason "").
	OnHold func(Hold)
	// OnWarning reports something that went wrong without stopping the
	// phase, that the operator should know (a failed ANALYZE).
	OnWarning func(Warning)
}

// StepDone is a step that ran: Took runs from its first attempt to its
// commit, so it bounds how long it held its lock; LockWait is the part
// spent before the attempt that succeeded (failed attempts, backoff).
type StepDone struct {
	Step     planner.Step
	Attempts int
	LockWait time.Duration
	Took     time.Duration
}

// SwapDone is a swap transaction that committed; Back is true for the
// rollback's swap back.
type SwapDone struct {
	Step string
	Back bool
	SwapStats
}

// Retry is an attempt that failed and will be tried again after Wait.
// What names the operation: a step ID, "<step ID> batch", "swap".
type Retry = pgerr.Retry

// Hold is the throttle's state of a walk: Reason says why it waits
// (throttleText), "" once it runs freely again; Held is true while a
// signal holds it (rather than a rate slowing it).
type Hold struct {
	Step   string
	Table  string
	Reason string
	Held   bool
}

// Warning is a problem that did not stop the phase.
type Warning struct {
	Step    string
	Object  string
	Message string
	Err     error
}

// Subscribe adds a consumer of the migrator's events. Call it before a
// phase runs; consumers are called in the order they subscribed.
func (m *Migrator) Subscribe(e Events) { m.events = append(m.events, e) }

// emit calls the callback pick chooses of every subscriber that has one.
func emit[T any](m *Migrator, pick func(Events) func(T), v T) {
	m.emitMu.Lock()
	defer m.emitMu.Unlock()
	for _, e := range m.events {
		if f := pick(e); f != nil {
			f(v)
		}
	}
}

func onStep(e Events) func(StepDone)     { return e.OnStep }
func onSwap(e Events) func(SwapDone)     { return e.OnSwap }
func onRetry(e Events) func(Retry)       { return e.OnRetry }
func onProgress(e Events) func(Progress) { return e.OnProgress }
func onHold(e Events) func(Hold)         { return e.OnHold }
func onWarning(e Events) func(Warning)   { return e.OnWarning }

// retry is pgerr.DoNotify with the run's log, each retry sent to OnRetry.
func (r *run) retry(ctx context.Context, p pgerr.Policy, what string, op func(ctx context.Context, attempt int) error) error {
	return pgerr.DoNotify(ctx, p, r.log, what, op, func(n Retry) { emit(r.m, onRetry, n) })
}

// warn logs a problem that does not stop the phase and sends it to
// OnWarning.
func (r *run) warn(w Warning) {
	ev := r.log.Warn().Err(w.Err)
	if w.Step != "" {
		ev = ev.Str("step", w.Step)
	}
	if w.Object != "" {
		ev = ev.Str("object", w.Object)
	}
	ev.Msg(w.Message)
	emit(r.m, onWarning, w)
}
