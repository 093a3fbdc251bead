package throttle

import (
	"errors"
	"fmt"
	"time"
)

// Config is how a Controller paces a job; DefaultConfig gives the defaults
// the CLI flags show.
type Config struct {
	// TargetBatch is how long each batch should take. The batch size is
	// adjusted so that batches take about this long: short enough that
	// the locks of a batch are held briefly, long enough that the
	// per-batch overhead stays small. 0 keeps the size at StartBatch.
	TargetBatch time.Duration
	// StartBatch is the first batch's size; the size then stays within
	// [MinBatch, MaxBatch].
	StartBatch, MinBatch, MaxBatch int
	// MaxRate caps the rows per second; 0 means no cap.
	MaxRate float64
	// NiceRatio rests after each batch for this multiple of the batch's
	// duration (gh-ost's --nice-ratio): 0.5 keeps the job busy two thirds
	// of the time. Batch size and rate limits measure how long a batch
	// holds its locks and how fast rows go; the ratio bounds the share of
	// the server's time the job takes, whatever the size of the server.
	NiceRatio float64
	// SignalEvery is how often the signals are read while the job runs:
	// at most once per SignalEvery, not once per batch. 0 reads them
	// before every batch.
	SignalEvery time.Duration
	// HoldPoll is how often the signals are read again while one holds.
	HoldPoll time.Duration
}

// DefaultConfig returns the defaults: 200ms batches of 100 to 50,000 rows
// starting at 1,000, no rate cap, signals read every 5s and every second
// while held.
func DefaultConfig() Config {
	return Config{
		TargetBatch: 200 * time.Millisecond,
		StartBatch:  1000,
		MinBatch:    100,
		MaxBatch:    50000,
		// Signal reads are small catalog queries; once a second makes the
		// backfill stop within about a second (plus a batch) when a
		// replica falls behind or an operator pauses it.
		SignalEvery: time.Second,
		HoldPoll:    time.Second,
	}
}

// Validate reports a configuration an operator must fix.
func (c Config) Validate() error {
	switch {
	case c.TargetBatch < 0:
		return errors.New("target batch duration must be 0 (fixed batch size) or positive")
	case c.MinBatch <= 0:
		return fmt.Errorf("minimum batch size must be at least 1, not %d", c.MinBatch)
	case c.MaxBatch < c.MinBatch:
		return fmt.Errorf("maximum batch size %d is below the minimum %d", c.MaxBatch, c.MinBatch)
	case c.StartBatch < c.MinBatch || c.StartBatch > c.MaxBatch:
		return fmt.Errorf("batch size %d is outside [%d, %d]: change it or the bounds", c.StartBatch, c.MinBatch, c.MaxBatch)
	case c.MaxRate < 0:
		return errors.New("max rate must be 0 (no limit) or positive")
	case c.NiceRatio < 0:
		return fmt.Errorf("nice ratio must be 0 (no rest) or positive, not %g", c.NiceRatio)
	case c.SignalEvery < 0:
		return errors.New("signal interval must be 0 (every batch) or positive")
	case c.HoldPoll <= 0:
		return errors.New("hold poll interval must be positive")
	}
	return nil
}
