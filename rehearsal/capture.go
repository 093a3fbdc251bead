package rehearsal

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pgwiden/pgwiden/migrator"
)

// capture records what the migrator tells through its events (OnStep,
// OnSwap, OnRetry, OnWarning), tagged with the phase running at the time:
// the per-step timings, the swaps and every warning the report lists.
// The batched steps' progress goes to the walkRecorder.
type capture struct {
	mu    sync.Mutex
	phase string
	steps []StepTiming
	swaps map[string]Swap // "swap" and "swap back"
	warns []Warning
}

// subscribe hooks the capture to m's events.
func (c *capture) subscribe(m *migrator.Migrator) {
	m.Subscribe(migrator.Events{OnStep: c.step, OnSwap: c.swap, OnRetry: c.retry, OnWarning: c.warning})
}

// StepTiming is one step the migrator ran, as its OnStep event says.
// TookMS runs from the step's first attempt to its commit: lock waits and
// retries included, so it bounds the time the step held its lock.
type StepTiming struct {
	Phase  string  `json:"phase"`
	Step   string  `json:"step"`
	Lock   string  `json:"lock"`
	TookMS float64 `json:"took_ms"`
}

// Swap is a swap (or swap back) transaction: its attempts, and the
// duration of the last, successful one, an upper bound of how long it
// held its ACCESS EXCLUSIVE locks.
type Swap struct {
	Attempts int     `json:"attempts"`
	HeldMS   float64 `json:"held_ms"`
}

// Warning is something the operator should read: a plan warning, a
// warning of the migrator (a retry, a failed ANALYZE: Source "log", as
// its log shows them too), or an error the load met.
type Warning struct {
	Phase   string `json:"phase,omitempty"`
	Source  string `json:"source"` // plan, log or load
	Level   string `json:"level,omitempty"`
	Message string `json:"message"`
	Detail  string `json:"detail,omitempty"`
	Count   int    `json:"count,omitempty"`
}

// setPhase tags the events that follow with phase.
func (c *capture) setPhase(phase string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.phase = phase
}

func (c *capture) step(e migrator.StepDone) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.steps = append(c.steps, StepTiming{Phase: c.phase, Step: e.Step.ID, Lock: string(e.Step.Lock), TookMS: ms(e.Took)})
}

func (c *capture) swap(e migrator.SwapDone) {
	c.mu.Lock()
	defer c.mu.Unlock()
	which := "swap"
	if e.Back {
		which = "swap back"
	}
	c.swaps[which] = Swap{Attempts: e.Attempts, HeldMS: ms(e.Held)}
}

// retry records a retry as the report has always shown it: a warning
// "retry" with what was retried, the attempt, the wait and the SQLSTATE.
func (c *capture) retry(e migrator.Retry) {
	c.addWarning("retry", fmt.Sprintf("what=%s attempt=%d wait=%s sqlstate=%s error=%v", e.What, e.Attempt, e.Wait, e.SQLState, e.Err))
}

func (c *capture) warning(e migrator.Warning) {
	var parts []string
	if e.Step != "" {
		parts = append(parts, "step="+e.Step)
	}
	if e.Object != "" {
		parts = append(parts, "object="+e.Object)
	}
	if e.Err != nil {
		parts = append(parts, fmt.Sprintf("error=%v", e.Err))
	}
	c.addWarning(e.Message, strings.Join(parts, " "))
}

func (c *capture) addWarning(msg, detail string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.warns = append(c.warns, Warning{Phase: c.phase, Source: "log", Level: "warn", Message: msg, Detail: detail})
}

// Steps returns the steps the migrator reported done, in order.
func (c *capture) Steps() []StepTiming {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.steps)
}

// Swap returns the swap ("swap") or swap back ("swap back") recorded.
func (c *capture) Swap(which string) (Swap, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.swaps[which]
	return s, ok
}

// Warnings returns the migrator's retries and warnings.
func (c *capture) Warnings() []Warning {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.warns)
}

// ms converts a duration to float milliseconds for the report.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
