package throttle

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pgwiden/pgwiden/internal/format"
)

// walLSNSQL reads the primary's WAL insert position in bytes: the WAL
// generated so far, including what is not yet written out (with
// synchronous_commit=off, pg_current_wal_lsn() lags by up to
// wal_writer_delay and would read a burst late). It fails on a standby
// ("recovery is in progress").
const walLSNSQL = `/* pgwiden throttle wal-rate */ SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::float8`

// WALRate holds while the server generates more than maxBytesPerSec bytes of
// WAL per second, measured between two reads (clock times them): the
// first read only takes the starting point and never holds. The rate is
// all of the server's WAL, the backfill's included; it is what standbys,
// archiving and backups must keep up with.
func WALRate(q Querier, maxBytesPerSec float64, clock Clock) Signal {
	if clock == nil {
		clock = RealClock
	}
	return &walRate{q: q, max: maxBytesPerSec, clock: clock}
}

type walRate struct {
	q     Querier
	max   float64
	clock Clock

	mu   sync.Mutex // guards the previous read, should two reads overlap
	lsn  float64
	at   time.Time
	rate float64
}

func (s *walRate) Name() string { return "wal-rate" }

func (s *walRate) Read(ctx context.Context) (Reading, error) {
	var lsn float64
	if err := s.q.QueryRow(ctx, walLSNSQL).Scan(&lsn); err != nil {
		return Reading{}, fmt.Errorf("read WAL position: %w", err)
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	// No time passed (a fake clock, or two reads in one tick): keep the
	// last rate rather than divide by zero.
	if el := now.Sub(s.at).Seconds(); !s.at.IsZero() && el > 0 {
		s.rate = max(lsn-s.lsn, 0) / el
	}
	s.lsn, s.at = lsn, now
	r := Reading{Signal: s.Name(), Value: s.rate, Limit: s.max}
	if s.rate > s.max {
		r.Hold = true
		r.Reason = fmt.Sprintf("WAL rate %s > %s", format.BytesPerSecond(s.rate), format.BytesPerSecond(s.max))
	}
	return r, nil
}
