package throttle

import (
	"sync"
	"time"
)

// fakeClock is a Clock the test drives. With auto set, After moves the
// time forward by d and fires at once, so a wait costs nothing and shows
// in slept. Without it, After fires only when Advance reaches it, and each
// call is reported on waits (when not nil) so the test knows a wait began.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	auto   bool
	slept  []time.Duration
	timers []fakeTimer
	waits  chan time.Duration
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	if c.auto {
		c.t = c.t.Add(d)
		c.slept = append(c.slept, d)
		ch <- c.t
		c.mu.Unlock()
		return ch
	}
	c.timers = append(c.timers, fakeTimer{at: c.t.Add(d), ch: ch})
	c.mu.Unlock()
	if c.waits != nil {
		c.waits <- d
	}
	return ch
}

// Advance moves the time forward and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	kept := c.timers[:0]
	for _, tm := range c.timers {
		if tm.at.After(c.t) {
			kept = append(kept, tm)
			continue
		}
		tm.ch <- c.t
	}
	c.timers = kept
}

// Slept returns the waits done in auto mode.
func (c *fakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

func newAutoClock() *fakeClock { return &fakeClock{t: time.Unix(1000, 0), auto: true} }
