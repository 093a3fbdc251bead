package rehearsal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Capture is the migrator's log writer during a rehearsal. The migrator
// logs JSON lines with stable messages ("step done" with the step's lock
// and duration, "columns swapped" with the attempts, "retry" at warn), so
// reading them gives per-step timings without any hook in the migrator.
// Capture keeps what the report needs, tagged with the phase running at
// the time, and passes every line at or above the display level on to
// display (the operator's terminal or log), unchanged.
type Capture struct {
	display io.Writer
	min     zerolog.Level

	mu     sync.Mutex
	phase  string
	steps  []StepTiming
	swaps  map[string]Swap // "swap" and "swap back"
	warns  []Warning
	broken int // lines that were not JSON
}

// StepTiming is one step the migrator ran, as its "step done" line says.
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
// warning the migrator logged (a retry, a failed ANALYZE), or an error
// the load met.
type Warning struct {
	Phase   string `json:"phase,omitempty"`
	Source  string `json:"source"` // plan, log or load
	Level   string `json:"level,omitempty"`
	Message string `json:"message"`
	Detail  string `json:"detail,omitempty"`
	Count   int    `json:"count,omitempty"`
}

// NewCapture returns a Capture that shows lines at level min and above on
// display (nil shows nothing).
func NewCapture(display io.Writer, min zerolog.Level) *Capture {
	return &Capture{display: display, min: min, swaps: map[string]Swap{}}
}

var _ zerolog.LevelWriter = (*Capture)(nil)

// Write takes a line without a known level (zerolog calls WriteLevel).
func (c *Capture) Write(p []byte) (int, error) { return c.WriteLevel(zerolog.NoLevel, p) }

// WriteLevel records one JSON log line and passes it on for display.
func (c *Capture) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	c.record(p)
	if c.display != nil && l >= c.min && l != zerolog.Disabled {
		if _, err := c.display.Write(p); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// setPhase tags the lines that follow with phase.
func (c *Capture) setPhase(phase string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.phase = phase
}

// record keeps what the report needs from one line.
func (c *Capture) record(p []byte) {
	var ev map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(p), &ev); err != nil {
		c.mu.Lock()
		c.broken++
		c.mu.Unlock()
		return
	}
	msg, _ := ev[zerolog.MessageFieldName].(string)
	level, _ := ev[zerolog.LevelFieldName].(string)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch msg {
	case "step done":
		c.steps = append(c.steps, StepTiming{Phase: c.phase, Step: str(ev["step"]), Lock: str(ev["lock"]), TookMS: num(ev["took"])})
	case "columns swapped":
		c.swaps["swap"] = Swap{Attempts: int(num(ev["attempts"])), HeldMS: num(ev["locks_held_at_most"])}
	case "old columns swapped back":
		c.swaps["swap back"] = Swap{Attempts: int(num(ev["attempts"])), HeldMS: num(ev["locks_held_at_most"])}
	}
	if lvl, err := zerolog.ParseLevel(level); err == nil && lvl >= zerolog.WarnLevel && lvl < zerolog.NoLevel {
		c.warns = append(c.warns, Warning{Phase: c.phase, Source: "log", Level: level, Message: msg, Detail: fields(ev)})
	}
}

// fields writes a line's fields as key=value, the noise left out.
func fields(ev map[string]any) string {
	skip := map[string]bool{zerolog.MessageFieldName: true, zerolog.LevelFieldName: true, zerolog.TimestampFieldName: true,
		"component": true, "target": true}
	keys := make([]string, 0, len(ev))
	for k := range ev {
		if !skip[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, ev[k])
	}
	return strings.Join(parts, " ")
}

// Steps returns the steps the migrator reported done, in order.
func (c *Capture) Steps() []StepTiming {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.steps)
}

// Swap returns the swap ("swap") or swap back ("swap back") recorded.
func (c *Capture) Swap(which string) (Swap, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.swaps[which]
	return s, ok
}

// Warnings returns the warnings and errors the migrator logged.
func (c *Capture) Warnings() []Warning {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.warns)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// num reads a JSON number; zerolog writes durations as float milliseconds.
func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// ms converts a duration to float milliseconds for the report.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
