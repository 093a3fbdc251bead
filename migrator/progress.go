package migrator

import "time"

// Progress is a snapshot of a batched step (backfill or verification), sent
// to Events.OnProgress after every batch.
type Progress struct {
	Step  string
	Table string
	// Scanned counts keys walked so far, Estimate the table's rows from
	// statistics (0 when unknown); Copied counts rows actually updated.
	Scanned, Estimate, Copied int64
	Batches                   int
	Started                   time.Time
	Elapsed                   time.Duration
	// Throttled says why the walk waits or the last batch waited, if it
	// did (throttleText); Held is true while a signal holds the walk.
	Throttled string
	Held      bool
	Done      bool
}

// Rate is the walk's speed in rows per second.
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Scanned) / p.Elapsed.Seconds()
}

// ETA is the estimated time left, or 0 when unknown.
func (p Progress) ETA() time.Duration {
	rate := p.Rate()
	if rate <= 0 || p.Estimate <= p.Scanned {
		return 0
	}
	return time.Duration(float64(p.Estimate-p.Scanned) / rate * float64(time.Second))
}
