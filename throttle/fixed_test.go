package throttle

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestFixedRate: at 1000 rows/s, after 500 rows done at once the next
// batch waits half a second; once time has caught up it waits nothing.
func TestFixedRate(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	f := &Fixed{BatchSize: 500, MaxRate: 1000, Clock: clk}
	if d := f.Decide(BatchOutcome{}); d.Rows != 500 || d.Wait != 0 {
		t.Fatalf("first decision %+v", d)
	}
	d := f.Decide(BatchOutcome{Rows: 500, Took: time.Millisecond})
	if d.Wait != 500*time.Millisecond || d.Reason != "max rate 1000 rows/s" {
		t.Fatalf("after 500 rows: %+v", d)
	}
	clk.t = clk.t.Add(2 * time.Second)
	if d := f.Decide(BatchOutcome{Rows: 500}); d.Wait != 0 {
		t.Fatalf("after catching up: %+v", d)
	}
}

// TestFixedUnlimited never waits.
func TestFixedUnlimited(t *testing.T) {
	f := &Fixed{BatchSize: 100, Clock: &fakeClock{t: time.Unix(0, 0)}}
	for i := 0; i < 3; i++ {
		if d := f.Decide(BatchOutcome{Rows: 1e6}); d.Wait != 0 || d.Rows != 100 {
			t.Fatalf("decision %+v", d)
		}
	}
}

// TestFixedNextWaitsOnClock: Next waits the rate's wait on the injected
// clock, and returns ctx's error when ctx has ended.
func TestFixedNextWaitsOnClock(t *testing.T) {
	clk := newAutoClock()
	f := &Fixed{BatchSize: 500, MaxRate: 1000, Clock: clk}
	if _, err := f.Next(context.Background(), BatchOutcome{Rows: 500}); err != nil {
		t.Fatal(err)
	}
	if s := clk.Slept(); len(s) != 1 || s[0] != 500*time.Millisecond {
		t.Fatalf("slept %v, want [500ms]", s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Next(ctx, BatchOutcome{Rows: 500}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next after cancel: %v", err)
	}
}
