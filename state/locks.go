package state

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Lock is a migration's session advisory lock. It lives as long as its
// connection, which it holds out of the pool until Unlock: if the process
// dies, or the connection breaks, the server releases the lock with the
// session, so a kill -9 never leaves a migration locked.
//
// That connection is one of the "one or two connections" pgwiden uses: a
// caller may run its own statements on Conn (the pool then needs one
// connection fewer), but must leave the session as it found it (no plain
// SET, no transaction left open, never pg_advisory_unlock_all). The pool
// must allow at least two connections if other work goes through it while
// the lock is held.
type Lock struct {
	conn     *pgxpool.Conn
	key      int64
	hi, lo   int64
	jobKey   string
	acquired time.Time
}

// BusyError is a migration another session holds. Fields the server hides
// from the current role (another user's session, without
// pg_read_all_stats) are empty.
type BusyError struct {
	// JobKey names the migration, as passed to Lock.
	JobKey          string
	PID             int
	ApplicationName string
	ClientAddr      string
	Host            string
	// Since is when the holder's session started: pgwiden is a short-lived
	// process, so it is close to when that run began.
	Since time.Time
}

func (e *BusyError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("migration of %s is held by another session that could not be identified: run again in a moment", e.JobKey)
	}
	var about []string
	if e.ApplicationName != "" {
		about = append(about, "application_name="+e.ApplicationName)
	}
	if e.ClientAddr != "" {
		client := "client " + e.ClientAddr
		if e.Host != "" {
			client += " (" + e.Host + ")"
		}
		about = append(about, client)
	}
	if !e.Since.IsZero() {
		about = append(about, "since "+e.Since.Format(time.DateTime))
	}
	who := fmt.Sprintf("pid %d", e.PID)
	if len(about) > 0 {
		who += " (" + strings.Join(about, ", ") + ")"
	}
	return fmt.Sprintf("migration of %s is held by %s: wait for it to finish or stop that process", e.JobKey, who)
}

// lockKey derives the advisory lock key of a migration from its name,
// normally planner.Target.String(), so that the key exists before the job
// does (prepare takes it before creating the job).
func lockKey(jobKey string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("pgwiden:" + jobKey)) // never fails
	return int64(h.Sum64())                     //nolint:gosec // a bit pattern, not a quantity
}

// LockHalves returns the two oids pg_locks shows for a migration's lock:
// the key's high half in classid, its low half in objid (objsubid 1). status
// reads holders with them.
func LockHalves(jobKey string) (hi, lo int64) {
	key := uint64(lockKey(jobKey)) //nolint:gosec // G115: the key's bit pattern, not a quantity
	return int64(key >> 32), int64(key & 0xffffffff)
}

// Lock takes the migration's lock without waiting, on a connection it
// keeps until Unlock. When another session holds it, the error is a
// *BusyError naming that session.
func (s *Store) Lock(ctx context.Context, jobKey string) (*Lock, error) {
	key := lockKey(jobKey)
	// pg_locks shows a bigint key as two oids: the high half in classid,
	// the low half in objid, and objsubid 1.
	hi, lo := LockHalves(jobKey)
	l := &Lock{key: key, hi: hi, lo: lo, jobKey: jobKey}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("state: lock migration of %s: %w", jobKey, err)
	}
	// The holder may let go between the failed try and the look at
	// pg_locks; then try again, a few times.
	for range 3 {
		var ok bool
		if err := conn.QueryRow(ctx, "/* pgwiden state */ SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
			conn.Release()
			return nil, fmt.Errorf("state: lock migration of %s: %w", jobKey, err)
		}
		if ok {
			l.conn, l.acquired = conn, time.Now()
			s.log.Debug().Str("migration", jobKey).Uint32("pid", conn.Conn().PgConn().PID()).Msg("lock taken")
			return l, nil
		}
		busy, err := l.holder(ctx, conn)
		if err != nil || busy.PID != 0 {
			conn.Release()
			if err != nil {
				return nil, fmt.Errorf("state: lock migration of %s: find holder: %w", jobKey, err)
			}
			return nil, busy
		}
	}
	conn.Release()
	return nil, &BusyError{JobKey: jobKey}
}

// holder describes the session holding l's key, with PID 0 when none does.
func (l *Lock) holder(ctx context.Context, q querier) (*BusyError, error) {
	e := &BusyError{JobKey: l.jobKey}
	var since *time.Time
	err := q.QueryRow(ctx, `/* pgwiden state */ SELECT l.pid, coalesce(a.application_name, ''),
		coalesce(host(a.client_addr), ''), coalesce(a.client_hostname, ''), a.backend_start
		FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted
		AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.objsubid = 1
		LIMIT 1`, l.hi, l.lo).Scan(&e.PID, &e.ApplicationName, &e.ClientAddr, &e.Host, &since)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, nil
	}
	if since != nil {
		e.Since = *since
	}
	return e, err
}

// Conn is the connection that holds the lock; see Lock for its rules.
func (l *Lock) Conn() *pgxpool.Conn { return l.conn }

// PID is the server process ID of the lock's session.
func (l *Lock) PID() uint32 { return l.conn.Conn().PgConn().PID() }

// Check reports whether the lock is still held: a connection closed by
// the server (idle_session_timeout, pg_terminate_backend, a failover)
// takes the lock with it. Call it before a step that must not run twice.
func (l *Lock) Check(ctx context.Context) error {
	var held bool
	err := l.conn.QueryRow(ctx, `/* pgwiden state */ SELECT EXISTS (SELECT FROM pg_locks
		WHERE pid = pg_backend_pid() AND locktype = 'advisory' AND granted
		AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 1)`, l.hi, l.lo).Scan(&held)
	if err == nil && !held {
		err = errors.New("the lock is no longer held")
	}
	if err != nil {
		return fmt.Errorf("state: lock on migration of %s, taken at %s: %w", l.jobKey, l.acquired.Format(time.DateTime), err)
	}
	return nil
}

// Unlock releases the lock and returns its connection to the pool. When
// the release fails the connection is closed instead, which releases the
// lock just as surely; the error then says the lock may have been lost
// earlier. Unlock on an unlocked Lock does nothing.
func (l *Lock) Unlock(ctx context.Context) error {
	conn := l.conn
	if conn == nil {
		return nil
	}
	l.conn = nil
	var released bool
	err := conn.QueryRow(ctx, "/* pgwiden state */ SELECT pg_advisory_unlock($1)", l.key).Scan(&released)
	if err == nil && !released {
		err = errors.New("the lock was not held (its session was ended?)")
	}
	if err != nil {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = conn.Conn().Close(closeCtx) // Release then drops the closed connection
		conn.Release()
		return fmt.Errorf("state: unlock migration of %s: %w", l.jobKey, err)
	}
	conn.Release()
	return nil
}
