package throttle

import (
	"context"
	"time"
)

// Governor is what Shared shares: a Controller or a Fixed.
type Governor interface {
	Next(ctx context.Context, last BatchOutcome) (Decision, error)
}

// Shared lets several workers walk under one Governor, which then governs
// the sum of their batches rather than each worker's.
//
// The workers take turns in Next: one asks, and waits there for as long
// as the governor says, while the others wait for their turn. So a hold
// (a signal, a pause) holds every worker between two batches; the
// governor sees every worker's outcome and adapts one batch size for all;
// and with a max rate, each BatchOutcome carries Since, the time since
// the previous batch of any worker began, so that batch starts are spaced
// for the rate of the sum (Controller.Decide).
//
// A batch is paid for, in waiting, when its worker asks for the next one:
// the batches under way are not paid for yet. One worker has one, of at
// most a second of the max rate (Controller.Decide); with N workers each
// batch holds at most 1/N of a second of it, so that the N under way
// together never run more than a second ahead of the rate.
type Shared struct {
	gov     Governor
	clock   Clock
	workers int
	turn    chan struct{} // holds a token while a worker is in Next
	// granted is when Next last let a batch start; only the worker whose
	// turn it is reads or writes it.
	granted time.Time
}

// NewShared shares gov among workers; a nil clock is the wall clock.
func NewShared(gov Governor, clock Clock, workers int) *Shared {
	if clock == nil {
		clock = RealClock
	}
	return &Shared{gov: gov, clock: clock, workers: max(workers, 1), turn: make(chan struct{}, 1)}
}

// Next waits for the caller's turn (or ctx's end), then asks the shared
// governor, from any goroutine.
func (s *Shared) Next(ctx context.Context, last BatchOutcome) (Decision, error) {
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return Decision{}, ctx.Err()
	}
	defer func() { <-s.turn }()
	if !s.granted.IsZero() && last.Rows > 0 {
		last.Since = max(s.clock.Now().Sub(s.granted), time.Nanosecond)
	}
	d, err := s.gov.Next(ctx, last)
	s.granted = s.clock.Now()
	if r, ok := s.gov.(interface{ MaxRate() float64 }); ok && d.Rows > 0 {
		if rate := r.MaxRate(); rate > 0 {
			d.Rows = min(d.Rows, max(int(rate/float64(s.workers)), 1))
		}
	}
	return d, err
}

// Snapshot is the shared governor's Snapshot when it has one (a
// Controller's), from any goroutine; a zero Decision otherwise.
func (s *Shared) Snapshot() Decision {
	if sn, ok := s.gov.(interface{ Snapshot() Decision }); ok {
		return sn.Snapshot()
	}
	return Decision{}
}
