package throttle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// fakeSignal reads what f returns for the read's number (from 1).
type fakeSignal struct {
	name  string
	reads atomic.Int32
	f     func(n int) (Reading, error)
}

func (s *fakeSignal) Name() string { return s.name }

func (s *fakeSignal) Read(context.Context) (Reading, error) {
	return s.f(int(s.reads.Add(1)))
}

// holdFor holds for the first n reads, with a reason whose number changes
// at every read, as a measured lag would.
func holdFor(name string, n int) *fakeSignal {
	return &fakeSignal{name: name, f: func(i int) (Reading, error) {
		if i > n {
			return Reading{}, nil
		}
		return Reading{Hold: true, Value: float64(i), Reason: fmt.Sprintf("%s %d > 0", name, i)}, nil
	}}
}

// syncBuffer is a log sink the race detector accepts.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// count returns how many log lines carry msg.
func (b *syncBuffer) count(msg string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.b.String(), `"message":"`+msg+`"`)
}

// TestNextHoldsUntilClear: Next returns only once the signal clears, each
// poll a HoldPoll of the fake clock, which the test advances.
func TestNextHoldsUntilClear(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0), waits: make(chan time.Duration, 1)}
	start := clk.Now()
	sig := &fakeSignal{name: "lag", f: func(int) (Reading, error) {
		if clk.Now().Before(start.Add(3 * time.Second)) {
			return Reading{Hold: true, Reason: "replication lag 12.4s > 5s on replica-1"}, nil
		}
		return Reading{}, nil
	}}
	c := newTestController(testConfig(), clk, sig)
	type result struct {
		d   Decision
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, err := c.Next(context.Background(), BatchOutcome{})
		done <- result{d, err}
	}()
	for polls := 0; polls < 3; polls++ {
		if w := <-clk.waits; w != time.Second {
			t.Fatalf("hold wait %v, want HoldPoll 1s", w)
		}
		select {
		case r := <-done:
			t.Fatalf("Next returned while held: %+v", r)
		default:
		}
		if s := c.Snapshot(); !s.Held {
			t.Fatalf("snapshot during hold: %+v", s)
		}
		clk.Advance(time.Second)
	}
	r := <-done
	if r.err != nil || !r.d.Held || r.d.Reason != "replication lag 12.4s > 5s on replica-1" || r.d.Wait != 3*time.Second {
		t.Fatalf("Next = %+v, %v", r.d, r.err)
	}
	if n := sig.reads.Load(); n != 4 {
		t.Fatalf("%d reads, want 4 (1 + 3 polls)", n)
	}
	if s := c.Snapshot(); s.Held || s.Rows != 1000 {
		t.Fatalf("snapshot after the hold: %+v", s)
	}
}

// TestNextSignalEvery: with batches a second apart, signals are read at
// most every SignalEvery (5s), not before every batch.
func TestNextSignalEvery(t *testing.T) {
	clk := newAutoClock()
	sig := holdFor("never", 0)
	c := newTestController(testConfig(), clk, sig)
	for range 12 { // at t = 0..11s
		if _, err := c.Next(context.Background(), BatchOutcome{Rows: 1000, Took: time.Second}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	if n := sig.reads.Load(); n != 3 { // at 0s, 5s and 10s
		t.Fatalf("%d reads in 12 batches, want 3", n)
	}
}

// TestNextLogsChangesOnce: a hold whose reason's numbers change at every
// poll is logged once when it begins and once when it ends; another signal
// joining the hold is a change, logged once more.
func TestNextLogsChangesOnce(t *testing.T) {
	var buf syncBuffer
	cfg := testConfig()
	cfg.SignalEvery = 0
	a, b := holdFor("a", 5), holdFor("b", 0)
	c := NewController(cfg, []Signal{a, b}, newAutoClock(), zerolog.New(&buf))
	for range 10 {
		if _, err := c.Next(context.Background(), BatchOutcome{Rows: 1000, Took: ms(200)}); err != nil {
			t.Fatal(err)
		}
	}
	if h, r := buf.count("throttle held"), buf.count("throttle released"); h != 1 || r != 1 {
		t.Fatalf("held logged %d times, released %d; want 1 and 1:\n%s", h, r, buf.b.String())
	}
	b.f = holdFor("b", 2).f // b holds from its next read on, for as long as a
	a.reads.Store(0)
	b.reads.Store(0)
	if _, err := c.Next(context.Background(), BatchOutcome{}); err != nil {
		t.Fatal(err)
	}
	// {a, b} held, then {a} alone, then released.
	if h, r := buf.count("throttle held"), buf.count("throttle released"); h != 3 || r != 2 {
		t.Fatalf("held logged %d times, released %d; want 3 and 2:\n%s", h, r, buf.b.String())
	}
}

// TestNextCancelDuringHold: ctx ending during a hold ends Next at once.
func TestNextCancelDuringHold(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0), waits: make(chan time.Duration, 1)}
	c := newTestController(testConfig(), clk, holdFor("forever", 1<<30))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Next(ctx, BatchOutcome{})
		done <- err
	}()
	<-clk.waits // held, waiting for the next poll
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Next after cancel: %v", err)
		}
	case <-time.After(10 * time.Second): // a guard against a hang, not a sleep
		t.Fatal("Next did not return after cancel")
	}
}

// TestNextFailingSignalHolds: a signal whose Read fails holds the job with
// the error as its reason, logged once, until it reads again.
func TestNextFailingSignalHolds(t *testing.T) {
	var buf syncBuffer
	clk := newAutoClock()
	sig := &fakeSignal{name: "standby-lag:replica-1", f: func(n int) (Reading, error) {
		if n <= 4 {
			return Reading{}, fmt.Errorf("read lag on standby replica-1: attempt %d: connection refused", n)
		}
		return Reading{}, nil
	}}
	c := NewController(testConfig(), []Signal{sig}, clk, zerolog.New(&buf))
	d, err := c.Next(context.Background(), BatchOutcome{})
	if err != nil || !d.Held || !strings.HasPrefix(d.Reason, "standby-lag:replica-1 check failed: read lag on standby replica-1") {
		t.Fatalf("Next = %+v, %v", d, err)
	}
	if s := clk.Slept(); len(s) != 4 {
		t.Fatalf("held for %v, want 4 polls", s)
	}
	for msg, want := range map[string]int{"throttle signal failed: holding until it reads again": 1,
		"throttle held": 1, "throttle signal reads again": 1, "throttle released": 1} {
		if n := buf.count(msg); n != want {
			t.Errorf("%q logged %d times, want %d:\n%s", msg, n, want, buf.b.String())
		}
	}
}

// TestNextRateWait: Next waits the MaxRate wait on the clock and reports it.
func TestNextRateWait(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRate = 1000
	clk := newAutoClock()
	c := newTestController(cfg, clk)
	d, err := c.Next(context.Background(), BatchOutcome{Rows: 500, Took: ms(100)})
	if err != nil || d.Wait != ms(400) || d.Reason != "max rate 1000 rows/s" || d.Held {
		t.Fatalf("Next = %+v, %v", d, err)
	}
	if s := clk.Slept(); len(s) != 1 || s[0] != ms(400) {
		t.Fatalf("slept %v", s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Next(ctx, BatchOutcome{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next on an ended ctx: %v", err)
	}
}
