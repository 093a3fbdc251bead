package throttle

import (
	"context"
	"fmt"
)

// activeSQL counts the client sessions of the whole server that are
// running a statement, pgwiden's own left out: connections and CPU are
// shared by every database. Sessions of other roles hide their state from
// a role without pg_read_all_stats (and their backend_type, but not their
// role or database, which background processes such as the logical
// replication launcher lack); they are counted as hidden. $1 is pgwiden's
// application_name.
const activeSQL = `/* pgwiden throttle active-backends */
SELECT count(*) FILTER (WHERE state = 'active')::int,
       count(*) FILTER (WHERE backend_type IS NULL)::int
FROM pg_stat_activity
WHERE pid <> pg_backend_pid() AND application_name <> $1
  AND (backend_type = 'client backend' OR (backend_type IS NULL AND usesysid IS NOT NULL AND datid IS NOT NULL))`

// ActiveBackends holds while more than max other client sessions are
// active (running a statement) on the server.
func ActiveBackends(q Querier, max int) Signal { return &activeBackends{q: q, max: max} }

type activeBackends struct {
	q   Querier
	max int
}

func (s *activeBackends) Name() string { return "active-backends" }

func (s *activeBackends) Read(ctx context.Context) (Reading, error) {
	var n, hidden int
	if err := s.q.QueryRow(ctx, activeSQL, ownApp).Scan(&n, &hidden); err != nil {
		return Reading{}, fmt.Errorf("read active sessions: %w", err)
	}
	if hidden > 0 {
		return Reading{}, hiddenErr("sessions", hidden)
	}
	r := Reading{Signal: s.Name(), Value: float64(n), Limit: float64(s.max)}
	if n > s.max {
		r.Hold = true
		r.Reason = fmt.Sprintf("%d active sessions > %d", n, s.max)
	}
	return r, nil
}
