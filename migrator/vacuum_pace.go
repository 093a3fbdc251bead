package migrator

import "github.com/pgwiden/pgwiden/planner"

// vacuumPace decides when a backfill walk vacuums its table (run.vacuum).
//
// The copy writes a new version of every row it changes and leaves the old
// one dead. Without a vacuum before the end of the walk, none of that
// space can be reused: the table grows by the size of every row copied.
// A plain VACUUM after each fraction f of the table makes the dead
// versions of that stretch reusable, and the next stretch's new versions
// go into that space: the table grows by about f of its size instead of
// doubling. The price is one pass over every index of the table per
// VACUUM (the heap pass is cheap: the visibility map skips pages the walk
// has not touched since), so 1/f passes; on a table with large indexes,
// a larger f trades growth for fewer passes (docs/performance.md).
type vacuumPace struct {
	every int   // Config.VacuumEvery: every N batches, when set
	slice int64 // rows per fraction of the table; 0: no fraction pacing
	next  int64 // rows scanned at which the next VACUUM is due
	at    int64 // rows scanned at the last VACUUM
}

// newVacuumPace paces a walk of step s by cfg. Only the backfill's copy
// leaves dead row versions behind. Without a row estimate (a table never
// analyzed), the fraction cannot be turned into rows and only
// Config.VacuumEvery applies.
func newVacuumPace(cfg Config, s planner.Step) vacuumPace {
	if s.Phase != planner.Backfill || s.Batch == nil {
		return vacuumPace{}
	}
	if cfg.VacuumEvery > 0 {
		return vacuumPace{every: cfg.VacuumEvery}
	}
	if cfg.VacuumFraction <= 0 || s.Batch.Estimate <= 0 {
		return vacuumPace{}
	}
	slice := max(int64(cfg.VacuumFraction*float64(s.Batch.Estimate)), 1)
	return vacuumPace{slice: slice, next: slice}
}

// due reports whether a VACUUM is due after batch, with scanned rows
// walked by this run so far, and moves on to the next one. The end of the
// walk (done) vacuums the last stretch too when pacing by fraction, so the
// copy leaves no dead version behind for an autovacuum to find at the
// swap (run.awaitVacuum).
func (v *vacuumPace) due(batch int, scanned int64, done bool) bool {
	switch {
	case v.every > 0:
		return !done && batch%v.every == 0
	case v.slice == 0:
		return false
	case done:
		return scanned > v.at // something walked since the last VACUUM
	case scanned >= v.next:
		for v.next <= scanned {
			v.next += v.slice
		}
		v.at = scanned
		return true
	}
	return false
}
