package throttle

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Controller paces a job: it adapts the batch size so that each batch
// takes about Config.TargetBatch, caps the rate at MaxRate, and holds the
// job while any of its signals says the database needs a rest.
//
// Next is called by the job's one goroutine. SetMaxRate and Snapshot may
// be called from any goroutine at any time.
type Controller struct {
	cfg     Config
	signals []Signal
	clock   Clock
	log     zerolog.Logger

	// mu guards size, maxRate and snap: the job's goroutine changes them
	// in Decide while an operator's rate change (SetMaxRate) and a status
	// report (Snapshot) come from others.
	mu      sync.Mutex
	size    float64 // the batch size being adapted, unrounded so small steps add up
	maxRate float64
	snap    Decision

	// Only Next's goroutine touches the fields below.
	readings []Reading       // the last reading of each signal, in signals' order
	readAt   time.Time       // when the signals were last read
	failing  map[string]bool // signals whose last Read failed
	holders  string          // names of the signals holding, as last logged
	heldAt   time.Time       // when the current hold began
}

var _ interface {
	Next(context.Context, BatchOutcome) (Decision, error)
} = (*Controller)(nil)

// NewController returns a controller for cfg, which should have passed
// Validate. A nil clock is the wall clock. log receives one line per change
// of throttle state, never one per batch.
func NewController(cfg Config, signals []Signal, clock Clock, log zerolog.Logger) *Controller {
	if clock == nil {
		clock = RealClock
	}
	if cfg.HoldPoll <= 0 {
		cfg.HoldPoll = DefaultConfig().HoldPoll // never poll in a busy loop
	}
	c := &Controller{
		cfg:      cfg,
		signals:  append([]Signal(nil), signals...),
		clock:    clock,
		log:      log,
		maxRate:  max(cfg.MaxRate, 0),
		readings: make([]Reading, len(signals)),
		failing:  map[string]bool{},
	}
	c.size = c.clamp(float64(cfg.StartBatch))
	c.snap = Decision{Rows: c.rows()}
	return c
}

// Decide computes the next decision from the last batch's outcome and the
// signals' readings. It reads no clock and does no I/O: the same outcomes
// and readings in the same order give the same decisions.
//
//   - Rows: after a batch of n rows that took t, the size moves halfway (in
//     ratio) toward n*TargetBatch/t, the size that would have taken
//     TargetBatch: at most doubled and at least quartered per batch, then
//     clamped to [MinBatch, MaxBatch]. A failed batch halves it. A zero
//     outcome (the first batch of a table) keeps it. With MaxRate, a batch
//     holds at most one second of the rate, so the rows come evenly rather
//     than in bursts.
//   - Wait: with MaxRate, the batch of n rows that took t is followed by
//     n/MaxRate - t of waiting, with Reason "max rate 500 rows/s". With
//     workers sharing the controller (Shared), t is BatchOutcome.Since:
//     batch starts are spaced n/MaxRate apart, whichever worker runs them.
//   - Held: any reading that holds sets Held and replaces Reason with the
//     holding readings' reasons, joined by "; ".
func (c *Controller) Decide(o BatchOutcome, rs []Reading) Decision {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.adapt(o)
	d := Decision{Rows: c.rows()}
	// The rest is the job's normal pace, not a throttle: it has no reason,
	// so status does not show the job as throttled for it.
	d.Wait = time.Duration(c.cfg.NiceRatio * float64(o.Took))
	if rate := c.maxRate; rate > 0 && o.Rows > 0 {
		paced := o.Took
		if o.Since > 0 { // several workers: the time since the last batch of any of them began
			paced = o.Since
		}
		if w := time.Duration(float64(o.Rows)/rate*float64(time.Second)) - paced; w > d.Wait {
			d.Wait = w
			d.Reason = "max rate " + strconv.FormatFloat(rate, 'f', -1, 64) + " rows/s"
		}
	}
	if reasons := holdReasons(rs); len(reasons) > 0 {
		d.Held, d.Reason = true, strings.Join(reasons, "; ")
	}
	c.snap = d
	return d
}

// adapt moves c.size after outcome o; c.mu is held.
func (c *Controller) adapt(o BatchOutcome) {
	if c.cfg.TargetBatch <= 0 {
		c.size = c.clamp(float64(c.cfg.StartBatch)) // fixed size, within MaxRate
		return
	}
	switch {
	case o.Err != nil:
		c.size /= 2
	case o.Rows > 0 && o.Took > 0:
		ideal := float64(o.Rows) * c.cfg.TargetBatch.Seconds() / o.Took.Seconds()
		// The geometric mean of the current and ideal sizes halves the
		// (log) distance to the ideal each batch: fast to converge, and
		// one odd batch (a checkpoint, a cold cache) moves it only partly.
		c.size = min(max(math.Sqrt(c.size*ideal), c.size/4), c.size*2)
	}
	c.size = c.clamp(c.size)
}

// clamp bounds a batch size to [MinBatch, MaxBatch], and to one second of
// MaxRate when there is one; c.mu is held (or c is not shared yet).
func (c *Controller) clamp(n float64) float64 {
	lo, hi := float64(c.cfg.MinBatch), float64(c.cfg.MaxBatch)
	if c.maxRate > 0 {
		hi = min(hi, math.Floor(c.maxRate))
	}
	return max(min(n, hi), lo, 1)
}

func (c *Controller) rows() int { return int(math.Round(c.size)) }

// holdReasons returns the reasons of the readings that hold.
func holdReasons(rs []Reading) []string {
	var out []string
	for _, r := range rs {
		if !r.Hold {
			continue
		}
		if r.Reason == "" {
			r.Reason = r.Signal + " holds"
		}
		out = append(out, r.Reason)
	}
	return out
}

// SetMaxRate changes the rate cap (rows/s, 0 = none) from any goroutine;
// the next decision uses it. A negative rate means none.
func (c *Controller) SetMaxRate(r float64) {
	r = max(r, 0)
	c.mu.Lock()
	old := c.maxRate
	c.maxRate = r
	c.mu.Unlock()
	if old != r {
		c.log.Info().Float64("from", old).Float64("to", r).Msg("max rate changed")
	}
}

// MaxRate returns the current rate cap.
func (c *Controller) MaxRate() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.maxRate
}

// Snapshot returns the controller's current decision, from any goroutine:
// while a signal holds the job, Held and the reasons; otherwise the size
// and rate wait of the next batch.
func (c *Controller) Snapshot() Decision {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snap
}

// setSnap records d as the current decision.
func (c *Controller) setSnap(d Decision) {
	c.mu.Lock()
	c.snap = d
	c.mu.Unlock()
}
