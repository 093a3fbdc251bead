package throttle

import (
	"context"
	"fmt"
	"strings"
)

// lockWaitersSQL counts the sessions (not pgwiden's) that wait for a lock
// on one of the tables: a relation, page or tuple lock on them, or the
// transaction id of a pgwiden session, which is how a writer waits for a
// row a backfill batch has updated. $1 holds the tables' names as
// to_regclass reads them; a name that resolves to nothing matches nothing.
const lockWaitersSQL = `/* pgwiden throttle lock-waiters */
SELECT count(DISTINCT l.pid)::int
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE NOT l.granted AND l.pid <> pg_backend_pid() AND a.application_name <> $2
  AND ((l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.relation IN (SELECT to_regclass(n) FROM unnest($1::text[]) n))
    OR (l.locktype = 'transactionid' AND EXISTS (
        SELECT FROM pg_stat_activity b
        WHERE b.pid = ANY (pg_blocking_pids(l.pid)) AND b.application_name = $2
          AND b.datname = current_database())))`

// LockWaiters holds while any session waits for a lock on one of tables
// (quoted names such as public.tags or "Odd"."Name"): someone queued behind
// pgwiden, or behind a lock pgwiden would join the queue of.
func LockWaiters(q Querier, tables []string) Signal {
	return &lockWaiters{q: q, tables: append([]string(nil), tables...)}
}

type lockWaiters struct {
	q      Querier
	tables []string
}

func (s *lockWaiters) Name() string { return "lock-waiters" }

func (s *lockWaiters) Read(ctx context.Context) (Reading, error) {
	var n int
	if err := s.q.QueryRow(ctx, lockWaitersSQL, s.tables, ownApp).Scan(&n); err != nil {
		return Reading{}, fmt.Errorf("read lock waiters: %w", err)
	}
	r := Reading{Signal: s.Name(), Value: float64(n)}
	if n > 0 {
		r.Hold = true
		r.Reason = sessions(n, "wait") + " for locks on " + strings.Join(s.tables, ", ")
	}
	return r, nil
}
