package main

import (
	"context"
	"fmt"

	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/runway"
)

// readRunways reads, for each unfinished migration, the runway its
// target's sequence is on, if any (keyed by migration id).
func readRunways(ctx context.Context, e *env, all []migrator.Status) (map[int64]*runway.Status, error) {
	out := map[int64]*runway.Status{}
	for _, s := range all {
		if s.Job.Phase.Finished() {
			continue
		}
		r, err := runway.Read(ctx, e.pool, s.Job.Target)
		if err != nil {
			return nil, err
		}
		if r != nil {
			out[s.Job.ID] = r
		}
	}
	return out, nil
}

// runwayLine says how much of the runway is left.
func runwayLine(r *runway.Status) string {
	return fmt.Sprintf("runway:   %s hands out negative ids (pgwiden runway): %d of %d left, %.1f%% used; the cutover gives positive ids back",
		r.Sequence, r.Left, r.To-r.From+1, r.Used*100)
}
