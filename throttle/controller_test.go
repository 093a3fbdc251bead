package throttle

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func testConfig() Config {
	return Config{TargetBatch: 200 * time.Millisecond, StartBatch: 1000, MinBatch: 100, MaxBatch: 50000,
		SignalEvery: 5 * time.Second, HoldPoll: time.Second}
}

func newTestController(cfg Config, clk Clock, signals ...Signal) *Controller {
	return NewController(cfg, signals, clk, zerolog.Nop())
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// TestDecideAdapts: fast batches grow the size, slow ones shrink it, by
// the geometric mean of the current and the ideal size, at most doubled
// and at least quartered per batch.
func TestDecideAdapts(t *testing.T) {
	cases := []struct {
		name string
		took time.Duration
		want int
	}{
		{"on target", ms(200), 1000},
		{"4x fast: ideal 4000", ms(50), 2000},
		{"100x fast: doubled only", ms(2), 2000},
		{"4x slow: ideal 250", ms(800), 500},
		{"50x slow: quartered only", 10 * time.Second, 250},
	}
	for _, tc := range cases {
		c := newTestController(testConfig(), newAutoClock())
		if d := c.Decide(BatchOutcome{Rows: 1000, Took: tc.took}, nil); d.Rows != tc.want {
			t.Errorf("%s: rows %d, want %d", tc.name, d.Rows, tc.want)
		}
	}
}

// TestDecideConverges: on a table that copies 10,000 rows/s, batches
// settle at the 2,000 rows that take the 200ms target.
func TestDecideConverges(t *testing.T) {
	c := newTestController(testConfig(), newAutoClock())
	rows := c.Decide(BatchOutcome{}, nil).Rows
	for range 20 {
		took := time.Duration(rows) * 100 * time.Microsecond
		rows = c.Decide(BatchOutcome{Rows: rows, Took: took}, nil).Rows
	}
	if rows < 1980 || rows > 2020 {
		t.Fatalf("after 20 batches: %d rows, want about 2000", rows)
	}
}

// TestDecideClamps keeps the size within [MinBatch, MaxBatch].
func TestDecideClamps(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBatch = 1500
	c := newTestController(cfg, newAutoClock())
	for range 5 {
		c.Decide(BatchOutcome{Rows: 1000, Took: time.Millisecond}, nil)
	}
	if d := c.Snapshot(); d.Rows != 1500 {
		t.Fatalf("fast batches: %d rows, want max 1500", d.Rows)
	}
	for range 10 {
		c.Decide(BatchOutcome{Rows: 100, Took: time.Minute}, nil)
	}
	if d := c.Snapshot(); d.Rows != 100 {
		t.Fatalf("slow batches: %d rows, want min 100", d.Rows)
	}
}

// TestDecideHalvesOnError and keeps the size on a zero outcome.
func TestDecideHalvesOnError(t *testing.T) {
	c := newTestController(testConfig(), newAutoClock())
	var got []int
	for range 5 {
		got = append(got, c.Decide(BatchOutcome{Rows: 1000, Took: time.Millisecond, Err: errors.New("boom")}, nil).Rows)
	}
	if want := []int{500, 250, 125, 100, 100}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after errors: %v, want %v", got, want)
	}
	if d := c.Decide(BatchOutcome{}, nil); d.Rows != 100 {
		t.Fatalf("zero outcome moved the size to %d", d.Rows)
	}
}

// TestDecideFixedSize: TargetBatch 0 keeps StartBatch.
func TestDecideFixedSize(t *testing.T) {
	cfg := testConfig()
	cfg.TargetBatch = 0
	c := newTestController(cfg, newAutoClock())
	if d := c.Decide(BatchOutcome{Rows: 1000, Took: time.Millisecond}, nil); d.Rows != 1000 {
		t.Fatalf("fixed size moved to %d", d.Rows)
	}
}

// TestDecideMaxRate waits n/rate - took after each batch, and caps the
// size at one second of the rate.
func TestDecideMaxRate(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRate = 1000
	c := newTestController(cfg, newAutoClock())
	d := c.Decide(BatchOutcome{Rows: 500, Took: ms(100)}, nil)
	if d.Wait != ms(400) || d.Reason != "max rate 1000 rows/s" || d.Held {
		t.Fatalf("500 rows in 100ms at 1000 rows/s: %+v", d)
	}
	if d := c.Decide(BatchOutcome{Rows: 500, Took: ms(600)}, nil); d.Wait != 0 || d.Reason != "" {
		t.Fatalf("500 rows in 600ms: %+v", d)
	}
	for range 5 {
		d = c.Decide(BatchOutcome{Rows: d.Rows, Took: time.Millisecond}, nil)
	}
	if d.Rows != 1000 {
		t.Fatalf("size under a 1000 rows/s cap: %d", d.Rows)
	}
	c.SetMaxRate(0)
	if d := c.Decide(BatchOutcome{Rows: 1000, Took: time.Millisecond}, nil); d.Wait != 0 || d.Rows != 2000 {
		t.Fatalf("after lifting the cap: %+v", d)
	}
}

// TestDecideHeld: holding readings set Held and join their reasons, in
// the signals' order; they replace the rate's reason.
func TestDecideHeld(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRate = 100
	c := newTestController(cfg, newAutoClock())
	rs := []Reading{
		{Signal: "a", Hold: true, Reason: "replication lag 12.4s > 5s on replica-1"},
		{Signal: "b", Value: 3},
		{Signal: "c", Hold: true},
	}
	d := c.Decide(BatchOutcome{Rows: 100, Took: ms(10)}, rs)
	if !d.Held || d.Reason != "replication lag 12.4s > 5s on replica-1; c holds" || d.Wait != ms(990) {
		t.Fatalf("held decision %+v", d)
	}
	if s := c.Snapshot(); s != d {
		t.Fatalf("snapshot %+v, want %+v", s, d)
	}
}

// TestDecideDeterministic: the same outcomes and readings give the same
// decisions, whatever the clock says.
func TestDecideDeterministic(t *testing.T) {
	run := func(clk Clock) []Decision {
		c := newTestController(testConfig(), clk)
		c.SetMaxRate(5000)
		var out []Decision
		for i := range 30 {
			rs := []Reading{{Signal: "x", Hold: i%7 == 0, Reason: "x"}}
			o := BatchOutcome{Rows: 100 + i*37, Took: ms(10 + i*13)}
			if i%11 == 0 {
				o.Err = errors.New("lock timeout")
			}
			out = append(out, c.Decide(o, rs))
		}
		return out
	}
	a := run(newAutoClock())
	b := run(&fakeClock{t: time.Unix(1e9, 0)})
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("decisions differ:\n%v\n%v", a, b)
	}
}

// TestSetMaxRateConcurrent changes the rate and reads snapshots from other
// goroutines while the job runs: go test -race checks the locking.
func TestSetMaxRateConcurrent(t *testing.T) {
	cfg := testConfig()
	cfg.SignalEvery = 0
	c := newTestController(cfg, newAutoClock(), Func("f", func(context.Context) (Reading, error) { return Reading{}, nil }))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				c.SetMaxRate(float64(i % 3 * 1000))
				_ = c.Snapshot()
				_ = c.MaxRate()
			}
		}
	})
	for range 1000 {
		if _, err := c.Next(context.Background(), BatchOutcome{Rows: 500, Took: ms(5)}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	bad := map[string]func(*Config){
		"min 0":         func(c *Config) { c.MinBatch = 0 },
		"max < min":     func(c *Config) { c.MaxBatch = 10 },
		"start < min":   func(c *Config) { c.StartBatch = 50 },
		"negative rate": func(c *Config) { c.MaxRate = -1 },
		"hold poll 0":   func(c *Config) { c.HoldPoll = 0 },
		"target < 0":    func(c *Config) { c.TargetBatch = -1 },
	}
	for name, f := range bad {
		c := DefaultConfig()
		f(&c)
		if c.Validate() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestDecideNiceRatio rests ratio × the batch's duration after each
// batch, silently, and the max rate's longer wait wins over it with its
// reason.
func TestDecideNiceRatio(t *testing.T) {
	cfg := testConfig()
	cfg.NiceRatio = 0.5
	c := newTestController(cfg, newAutoClock())
	if d := c.Decide(BatchOutcome{Rows: 500, Took: ms(200)}, nil); d.Wait != ms(100) || d.Reason != "" || d.Held {
		t.Fatalf("a 200ms batch at ratio 0.5: %+v, want a 100ms rest without a reason", d)
	}
	c.SetMaxRate(1000)
	if d := c.Decide(BatchOutcome{Rows: 500, Took: ms(200)}, nil); d.Wait != ms(300) || d.Reason != "max rate 1000 rows/s" {
		t.Fatalf("500 rows in 200ms at 1000 rows/s and ratio 0.5: %+v, want the rate's 300ms", d)
	}
	if d := c.Decide(BatchOutcome{Rows: 100, Took: ms(400)}, nil); d.Wait != ms(200) || d.Reason != "" {
		t.Fatalf("100 rows in 400ms at 1000 rows/s and ratio 0.5: %+v, want the 200ms rest", d)
	}
	cfg.NiceRatio = -1
	if err := cfg.Validate(); err == nil {
		t.Fatal("a negative nice ratio validated")
	}
}
