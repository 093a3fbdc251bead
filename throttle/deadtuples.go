package throttle

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// deadTuplesSQL returns the table with the largest share of dead row
// versions among $1 (names as to_regclass reads them), and the tables a
// VACUUM is running on, autovacuum or not. No row: none of the tables
// exists or has statistics yet.
const deadTuplesSQL = `/* pgwiden throttle dead-tuples */
WITH t AS (
  SELECT s.relid, quote_ident(s.schemaname) || '.' || quote_ident(s.relname) AS name,
         CASE WHEN s.n_live_tup + s.n_dead_tup = 0 THEN 0
              ELSE s.n_dead_tup::float8 / (s.n_live_tup + s.n_dead_tup) END AS ratio
  FROM pg_stat_user_tables s
  WHERE s.relid IN (SELECT to_regclass(n) FROM unnest($1::text[]) n))
SELECT (SELECT name FROM t ORDER BY ratio DESC, name LIMIT 1),
       (SELECT max(ratio) FROM t),
       coalesce((SELECT string_agg(DISTINCT
                   CASE a.backend_type WHEN 'autovacuum worker' THEN 'autovacuum' ELSE 'vacuum' END
                   || ' running on ' || t.name, ', ')
                 FROM pg_stat_progress_vacuum v JOIN t ON t.relid = v.relid
                 LEFT JOIN pg_stat_activity a ON a.pid = v.pid), '')
WHERE EXISTS (SELECT FROM t)`

// DeadTuples holds while a table among tables has more than maxRatio of its
// row versions dead: n_dead_tup / (n_live_tup + n_dead_tup) in
// pg_stat_user_tables. Every backfilled row leaves one dead version until
// vacuum removes it; holding gives autovacuum time to catch up. A vacuum
// running on the tables is named in the reason. The statistics lag the
// truth by up to a second or so (the server flushes them in batches).
func DeadTuples(q Querier, tables []string, maxRatio float64) Signal {
	return &deadTuples{q: q, tables: append([]string(nil), tables...), max: maxRatio}
}

type deadTuples struct {
	q      Querier
	tables []string
	max    float64
}

func (s *deadTuples) Name() string { return "dead-tuples" }

func (s *deadTuples) Read(ctx context.Context) (Reading, error) {
	var name, vacuum string
	var ratio float64
	err := s.q.QueryRow(ctx, deadTuplesSQL, s.tables).Scan(&name, &ratio, &vacuum)
	if errors.Is(err, pgx.ErrNoRows) {
		return Reading{Signal: s.Name(), Limit: s.max}, nil
	}
	if err != nil {
		return Reading{}, fmt.Errorf("read dead tuples: %w", err)
	}
	r := Reading{Signal: s.Name(), Value: ratio, Limit: s.max}
	if ratio > s.max {
		r.Hold = true
		r.Reason = fmt.Sprintf("dead tuples %.1f%% > %.1f%% on %s", ratio*100, s.max*100, name)
		if vacuum != "" {
			r.Reason += " (" + vacuum + ")"
		}
	}
	return r, nil
}
