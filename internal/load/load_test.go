package load

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestLatencies: percentiles by nearest rank, errors grouped by message
// and SQLSTATE, skips counted apart from operations.
func TestLatencies(t *testing.T) {
	s := &latencies{errs: map[string]int{}}
	for i := 1; i <= 100; i++ {
		s.observe(time.Duration(i) * time.Millisecond)
	}
	pgErr := &pgconn.PgError{Code: "0A000", Message: "cached plan must not change result type"}
	s.record(0, pgErr, false)
	s.record(0, pgErr, false)
	s.record(0, nil, true)
	got := s.summary("cutover")
	if got.Name != "cutover" || got.Ops != 102 || got.Errors != 2 || got.Skipped != 1 || got.P50 != 50*time.Millisecond ||
		got.P99 != 99*time.Millisecond || got.Max != 100*time.Millisecond || len(got.ErrorSamples) != 1 ||
		got.ErrorSamples[0] != "cached plan must not change result type (SQLSTATE 0A000) (2)" {
		t.Errorf("summary %+v", got)
	}
	if p := percentile(nil, 0.5); p != 0 {
		t.Errorf("percentile of nothing = %v", p)
	}
}

// TestRunner: a paced load skips what its busy workers cannot start; a
// back-to-back load runs on; both count under the phase entered; the
// operations of a stopped load are not counted as errors.
func TestRunner(t *testing.T) {
	var slowRuns, fastRuns atomic.Int64
	block := make(chan struct{})
	specs := []Spec{
		{Name: "paced", Rate: 200, Workers: 2, Op: func(ctx context.Context, _ int, _ *rand.Rand) error {
			slowRuns.Add(1)
			select { // the workers stay busy: later operations are skipped
			case <-block:
			case <-ctx.Done():
			}
			return ctx.Err()
		}},
		{Name: "loop", Pause: time.Millisecond, Op: func(_ context.Context, _ int, rng *rand.Rand) error {
			if fastRuns.Add(1)%10 == 0 {
				return errors.New("every tenth fails")
			}
			return nil
		}},
	}
	r := Start(context.Background(), specs, "baseline")
	time.Sleep(100 * time.Millisecond)
	r.Enter("backfill")
	close(block)
	time.Sleep(100 * time.Millisecond)
	reps := r.Stop()
	if len(reps) != 2 || reps[0].Name != "paced" || reps[1].Name != "loop" {
		t.Fatalf("reports %+v", reps)
	}
	if ph := reps[0].Phases; len(ph) == 0 || ph[0].Name != "baseline" || ph[0].Skipped == 0 {
		t.Errorf("paced load's baseline %+v: want skipped operations while both workers were busy", ph)
	}
	ops, errs, _, first := reps[1].Totals()
	if ops == 0 || errs == 0 || errs > ops/5 || !strings.HasPrefix(first, "every tenth fails (") {
		t.Errorf("loop load: %d operations, %d errors, first %q", ops, errs, first)
	}
	if len(reps[1].Phases) != 2 || reps[1].Phases[1].Name != "backfill" || reps[1].Phases[1].Ops == 0 {
		t.Errorf("loop load phases %+v: want operations under baseline and backfill", reps[1].Phases)
	}
}
