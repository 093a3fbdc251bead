package throttle

import (
	"context"
	"fmt"
	"math"
	"time"
)

// xminAgeSQL finds the oldest transaction that holds back the xmin horizon
// of this database: client sessions with an xid or a snapshot, and
// prepared transactions. Only this database counts, because vacuum of the
// backfilled tables waits for no other database's transactions. Sessions of
// other roles show backend_xmin but not xact_start (nor backend_type) to a
// role without pg_read_all_stats; they are counted as hidden. $1 is
// pgwiden's application_name.
const xminAgeSQL = `/* pgwiden throttle xmin-age */
SELECT coalesce(max(age), 0)::float8,
       coalesce((array_agg(what ORDER BY age DESC NULLS LAST))[1], ''),
       count(*) FILTER (WHERE age IS NULL)::int
FROM (SELECT extract(epoch FROM now() - xact_start) AS age, 'pid ' || pid AS what
      FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid()
        AND application_name <> $1
        AND (backend_type = 'client backend' OR (backend_type IS NULL AND usesysid IS NOT NULL))
        AND (backend_xid IS NOT NULL OR backend_xmin IS NOT NULL)
      UNION ALL
      SELECT extract(epoch FROM now() - prepared), 'prepared transaction ' || quote_literal(gid)
      FROM pg_prepared_xacts
      WHERE database = current_database()) t`

// XminAge holds while another session's transaction has been open longer
// than max and holds back the xmin horizon, so vacuum cannot remove the
// dead row versions every backfill batch leaves. pgwiden's own sessions
// (application_name pgwiden) are left out. Replication slots' xmin is not
// watched.
func XminAge(q Querier, max time.Duration) Signal { return &xminAge{q: q, max: max} }

type xminAge struct {
	q   Querier
	max time.Duration
}

func (s *xminAge) Name() string { return "xmin-age" }

func (s *xminAge) Read(ctx context.Context) (Reading, error) {
	var age float64
	var what string
	var hidden int
	if err := s.q.QueryRow(ctx, xminAgeSQL, ownApp).Scan(&age, &what, &hidden); err != nil {
		return Reading{}, fmt.Errorf("read transaction ages: %w", err)
	}
	if hidden > 0 {
		return Reading{}, hiddenErr("transactions", hidden)
	}
	r := Reading{Signal: s.Name(), Value: age, Limit: s.max.Seconds()}
	if age > s.max.Seconds() {
		r.Hold = true
		r.Reason = fmt.Sprintf("transaction open %s (%s) > %s", secs(math.Round(age)), what, durLimit(s.max))
	}
	return r, nil
}
