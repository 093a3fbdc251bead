package migrator

import (
	"slices"
	"testing"

	"github.com/pgwiden/pgwiden/planner"
)

// TestVacuumPace walks a table of 1,000 estimated rows in batches of 70
// and records after which batches a VACUUM is due.
func TestVacuumPace(t *testing.T) {
	copyStep := planner.Step{Phase: planner.Backfill, Batch: &planner.Batch{Estimate: 1000}}
	verify := planner.Step{Phase: planner.Cutover, Batch: &planner.Batch{Estimate: 1000}}
	unknown := planner.Step{Phase: planner.Backfill, Batch: &planner.Batch{}}
	cfg := func(every int, fraction float64) Config {
		c := DefaultConfig()
		c.VacuumEvery, c.VacuumFraction = every, fraction
		return c
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		step planner.Step
		rows int64 // rows the walk finds (the estimate may be wrong)
		want []int
	}{
		// 250 rows a slice: crossed after batches 4 (280 rows), 8 (560),
		// 11 (770) and 15 (1000, the last); batch 16 finds none.
		{"fraction", cfg(0, 0.25), copyStep, 1000, []int{4, 8, 11, 15}},
		// Nothing walked since the last VACUUM: none at the end.
		{"fraction, end on a boundary", cfg(0, 0.5), copyStep, 1050, []int{8, 15}},
		// Twice the estimate: the pace goes on past it, and the end
		// vacuums the last stretch.
		{"more rows than estimated", cfg(0, 0.5), copyStep, 2060, []int{8, 15, 22, 29, 31}},
		{"every N batches wins", cfg(5, 0.25), copyStep, 1000, []int{5, 10, 15}},
		{"off", cfg(0, 0), copyStep, 1000, nil},
		{"verification writes nothing", cfg(0, 0.25), verify, 1000, nil},
		{"no estimate", cfg(0, 0.25), unknown, 1000, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pace := newVacuumPace(tc.cfg, tc.step)
			var got []int
			var scanned int64
			for batch := 1; ; batch++ {
				done := scanned >= tc.rows
				if !done {
					scanned += min(70, tc.rows-scanned)
				}
				if pace.due(batch, scanned, done) {
					got = append(got, batch)
				}
				if done {
					break
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("VACUUM after batches %v, want %v", got, tc.want)
			}
		})
	}
}
