package migrator

import (
	"context"
	"sync"

	"github.com/rs/zerolog"

	"github.com/pgwiden/pgwiden/planner"
	"github.com/pgwiden/pgwiden/state"
	"github.com/pgwiden/pgwiden/throttle"
)

// RateSetter is a governor whose maximum rate can change while it runs:
// *throttle.Controller is one.
type RateSetter interface {
	SetMaxRate(rowsPerSecond float64)
}

var _ RateSetter = (*throttle.Controller)(nil)

// PausedReason is what progress and status show while pgwiden pause holds
// a walk.
const PausedReason = "pgwiden pause (pgwiden resume continues)"

// Operator is the throttle signal that carries pgwiden pause, resume and
// throttle to a running walk: at each signal interval it reads the
// target's migration's paused and max_rate (state.Control), holds while
// paused, and gives the governor max_rate, or its own rate again once
// max_rate is cleared. The throttle knows nothing of migrations; this is
// where the two meet.
//
// The migration is looked up by target on the first read that finds one,
// so a signal built before prepare (a rehearsal's) follows the migration
// prepare creates.
type Operator struct {
	st       *state.Store
	target   planner.Target
	flagRate float64
	log      zerolog.Logger

	// mu guards the fields below: the governor is attached after it is
	// built (it needs this signal first), and reads may come from its
	// goroutines.
	mu      sync.Mutex
	id      int64 // 0 until found
	gov     RateSetter
	applied float64 // the rate last given to the governor
}

// NewOperator returns the operator signal of target's migration; rate is
// the governor's own maximum rate (--max-rate), restored when the
// operator's is cleared.
func NewOperator(st *state.Store, t planner.Target, rate float64, log zerolog.Logger) *Operator {
	return &Operator{st: st, target: t, flagRate: rate, applied: rate, log: log}
}

var _ throttle.Signal = (*Operator)(nil)

// Name implements throttle.Signal.
func (o *Operator) Name() string { return "operator" }

// Attach gives the signal the governor whose rate it sets.
func (o *Operator) Attach(gov RateSetter) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.gov = gov
}

// Read implements throttle.Signal: it holds while the migration is paused.
func (o *Operator) Read(ctx context.Context) (throttle.Reading, error) {
	r := throttle.Reading{Signal: o.Name()}
	id, err := o.job(ctx)
	if err != nil || id == 0 {
		return r, err
	}
	c, err := o.st.Control(ctx, id)
	if err != nil {
		return r, err
	}
	rate := o.flagRate
	if c.MaxRate > 0 {
		rate = float64(c.MaxRate)
	}
	o.apply(rate, c.MaxRate > 0)
	r.Hold = c.Paused
	if c.Paused {
		r.Value, r.Limit, r.Reason = 1, 0, PausedReason
	}
	return r, nil
}

// job returns the target's migration's ID, 0 while it has none.
func (o *Operator) job(ctx context.Context) (int64, error) {
	o.mu.Lock()
	id := o.id
	o.mu.Unlock()
	if id != 0 {
		return id, nil
	}
	j, err := o.st.Peek(ctx, o.target)
	if err != nil || j == nil {
		return 0, err
	}
	o.mu.Lock()
	o.id = j.ID
	o.mu.Unlock()
	return j.ID, nil
}

// apply gives the governor a new maximum rate, once per change (the
// governor logs the change; this says where it came from).
func (o *Operator) apply(rate float64, byOperator bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.gov == nil || rate == o.applied {
		return
	}
	o.applied = rate
	from := "--max-rate"
	if byOperator {
		from = "pgwiden throttle"
	}
	o.log.Debug().Float64("max_rate", rate).Str("from", from).Msg("apply the operator's max rate")
	o.gov.SetMaxRate(rate)
}
