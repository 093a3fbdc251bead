package throttle

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotStandby is returned by a StandbyLag signal whose DSN leads to a
// server that is not in recovery.
var ErrNotStandby = errors.New("not a standby")

// replicationLagSQL reads the worst lag among the primary's walsenders.
// replay_lag is what a reader of the standby sees; a walsender that has
// not reported it yet falls back to flush_lag, then write_lag. All three
// are NULL once a standby has caught up with an idle primary, which reads
// as 0. Walsenders whose details the role may not see (state IS NULL) are
// counted, so a blind check fails loudly instead of reading 0.
const replicationLagSQL = `/* pgwiden throttle replication-lag */
SELECT coalesce(max(lag), 0)::float8,
       coalesce((array_agg(name ORDER BY lag DESC NULLS LAST))[1], ''),
       count(*) FILTER (WHERE hidden)::int
FROM (SELECT coalesce(nullif(application_name, ''), host(client_addr), 'pid ' || pid) AS name,
             extract(epoch FROM coalesce(replay_lag, flush_lag, write_lag)) AS lag,
             state IS NULL AS hidden
      FROM pg_stat_replication) s`

// ReplicationLag holds while a standby connected to the primary q lags more
// than max: the largest replay_lag in pg_stat_replication (flush_lag or
// write_lag while replay_lag is unknown), logical subscribers included. A
// standby that is disconnected has no row there and is not seen: watch it
// through its own DSN with StandbyLag.
func ReplicationLag(q Querier, max time.Duration) Signal {
	return &replicationLag{q: q, max: max}
}

type replicationLag struct {
	q   Querier
	max time.Duration
}

func (s *replicationLag) Name() string { return "replication-lag" }

func (s *replicationLag) Read(ctx context.Context) (Reading, error) {
	var lag float64
	var name string
	var hidden int
	if err := s.q.QueryRow(ctx, replicationLagSQL).Scan(&lag, &name, &hidden); err != nil {
		return Reading{}, fmt.Errorf("read pg_stat_replication: %w", err)
	}
	if hidden > 0 {
		return Reading{}, hiddenErr("walsenders", hidden)
	}
	return lagReading(s.Name(), lag, s.max, name), nil
}

func lagReading(signal string, lag float64, max time.Duration, on string) Reading {
	r := Reading{Signal: signal, Value: lag, Limit: max.Seconds()}
	if lag > max.Seconds() {
		r.Hold = true
		r.Reason = fmt.Sprintf("replication lag %s > %s on %s", secs(lag), durLimit(max), on)
	}
	return r
}

// standbyLagSQL measures lag on the standby itself. While everything
// received has been replayed the standby is current and the lag is 0.
// Otherwise the lag is the age of the last replayed commit; a standby that
// restores from the archive only (no receive LSN) is measured the same way.
// pg_is_wal_replay_paused() is only called in recovery: elsewhere it fails.
const standbyLagSQL = `/* pgwiden throttle standby-lag */
SELECT pg_is_in_recovery(),
       CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END,
       CASE WHEN NOT pg_is_in_recovery()
                 OR coalesce(pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn(), false) THEN 0
            ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)
       END::float8`

// StandbyLag holds while the standby q (named name in reasons) lags more
// than max, or while its WAL replay is paused: a paused standby would only
// pile up the backfill's WAL.
//
// The lag is now() on the standby minus the commit time of the last
// replayed transaction, counted only while received WAL waits for replay.
// Two caveats: clock skew between the hosts adds to it; and after the
// primary was idle, the first WAL to arrive shows a lag as long as the
// quiet period until it is replayed, usually for milliseconds, so at worst
// one extra HoldPoll. Read fails with ErrNotStandby when q is not in
// recovery: the DSN was meant for a standby, and a primary would read 0.
func StandbyLag(name string, q Querier, max time.Duration) Signal {
	return &standbyLag{name: name, q: q, max: max}
}

type standbyLag struct {
	name string
	q    Querier
	max  time.Duration
}

func (s *standbyLag) Name() string { return "standby-lag:" + s.name }

func (s *standbyLag) Read(ctx context.Context) (Reading, error) {
	var recovery, paused bool
	var lag float64
	if err := s.q.QueryRow(ctx, standbyLagSQL).Scan(&recovery, &paused, &lag); err != nil {
		return Reading{}, fmt.Errorf("read lag on standby %s: %w", s.name, err)
	}
	if !recovery {
		return Reading{}, fmt.Errorf("standby %s: %w (pg_is_in_recovery() is false): give the standby's own DSN", s.name, ErrNotStandby)
	}
	r := lagReading(s.Name(), lag, s.max, s.name)
	if paused {
		r.Hold = true
		r.Reason = "WAL replay paused on " + s.name
	}
	return r, nil
}
