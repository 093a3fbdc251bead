package throttle

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// With workers sharing a controller, the max rate's wait counts from the
// previous batch start of any worker (Since), not from this worker's own
// batch: two workers whose batches overlap must not reach twice the rate.
func TestDecideRateCountsFromSince(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxRate, cfg.TargetBatch = 1000, 0
	c := NewController(cfg, nil, nil, zerolog.Nop())
	// 1000 rows at 1000 rows/s are due 1s after the previous batch began:
	// alone, this batch took 0.4s of that second; shared, the previous
	// batch of any worker began only 0.1s ago.
	if d := c.Decide(BatchOutcome{Rows: 1000, Took: 400 * time.Millisecond}, nil); d.Wait != 600*time.Millisecond {
		t.Errorf("one worker: wait %v, want 600ms", d.Wait)
	}
	if d := c.Decide(BatchOutcome{Rows: 1000, Took: 400 * time.Millisecond, Since: 100 * time.Millisecond}, nil); d.Wait != 900*time.Millisecond {
		t.Errorf("shared: wait %v, want 900ms", d.Wait)
	}
}

// countingGov records how many callers are inside Next at once.
type countingGov struct {
	in, most atomic.Int32
	sinces   chan time.Duration
}

func (g *countingGov) Next(ctx context.Context, last BatchOutcome) (Decision, error) {
	n := g.in.Add(1)
	defer g.in.Add(-1)
	for {
		m := g.most.Load()
		if n <= m || g.most.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(time.Millisecond) // long enough for a second caller to overlap, were it let in
	if last.Rows > 0 {
		g.sinces <- last.Since
	}
	return Decision{Rows: 10}, nil
}

// Shared lets one worker at a time into the governor, and tells it the
// time since the previous grant of any worker.
func TestSharedTakesTurns(t *testing.T) {
	g := &countingGov{sinces: make(chan time.Duration, 100)}
	clk := &fakeClock{t: time.Unix(1000, 0)}
	s := NewShared(g, clk, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := BatchOutcome{}
			for range 5 {
				if _, err := s.Next(context.Background(), last); err != nil {
					t.Error(err)
					return
				}
				last = BatchOutcome{Rows: 10, Took: time.Second}
			}
		}()
	}
	wg.Wait()
	close(g.sinces)
	if m := g.most.Load(); m != 1 {
		t.Errorf("%d workers were in the governor's Next at once, want 1", m)
	}
	n := 0
	for since := range g.sinces {
		n++
		if since <= 0 {
			t.Errorf("a batch reached the governor without Since (%v)", since)
		}
	}
	if n != 16 {
		t.Errorf("%d outcomes with rows, want 16", n)
	}
}

// A worker waiting for its turn stops when its context ends.
func TestSharedWaitEndsWithContext(t *testing.T) {
	block := make(chan struct{})
	s := NewShared(govFunc(func(ctx context.Context, _ BatchOutcome) (Decision, error) {
		<-block
		return Decision{}, nil
	}), nil, 2)
	go func() { _, _ = s.Next(context.Background(), BatchOutcome{}) }()
	for len(s.turn) == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Next(ctx, BatchOutcome{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Next while another worker holds the turn, ctx cancelled: %v, want context.Canceled", err)
	}
	close(block)
}

type govFunc func(context.Context, BatchOutcome) (Decision, error)

func (f govFunc) Next(ctx context.Context, o BatchOutcome) (Decision, error) { return f(ctx, o) }

// With N workers, a batch holds at most 1/N of a second of the max rate:
// the batches under way, not paid for yet, together hold at most one
// second of it, as one worker's one batch does.
func TestSharedSplitsTheRate(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxRate, cfg.StartBatch = 1000, 5000 // the controller alone clamps to 1000 rows
	clk := newAutoClock()
	s := NewShared(NewController(cfg, nil, clk, zerolog.Nop()), clk, 4)
	d, err := s.Next(context.Background(), BatchOutcome{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Rows != 250 {
		t.Errorf("a batch of 4 workers at 1000 rows/s takes %d rows, want 250", d.Rows)
	}
}
