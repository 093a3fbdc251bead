package throttle

import (
	"context"
	"fmt"
)

// CustomQuery holds while the operator's sql, which returns one boolean,
// returns true. NULL counts as false, as in a WHERE clause. The query runs
// as given, on q, every time the signals are read: keep it cheap.
func CustomQuery(q Querier, sql string) Signal { return &customQuery{q: q, sql: sql} }

type customQuery struct {
	q   Querier
	sql string
}

func (s *customQuery) Name() string { return "query" }

func (s *customQuery) Read(ctx context.Context) (Reading, error) {
	var hold *bool
	if err := s.q.QueryRow(ctx, s.sql).Scan(&hold); err != nil {
		return Reading{}, fmt.Errorf("throttle query: %w", err)
	}
	r := Reading{Signal: s.Name()}
	if hold != nil && *hold {
		r.Hold, r.Value = true, 1
		r.Reason = "throttle query returned true"
	}
	return r, nil
}
