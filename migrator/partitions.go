package migrator

import (
	"context"
	"fmt"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/planner"
)

// checkPartitions refuses to go on when a partitioned table of the plan
// gained or lost partitions since prepare, or an inheritance parent
// children (planner.PartitionChanges).
func (r *run) checkPartitions(ctx context.Context) error {
	trees := false
	for _, tc := range r.job.Plan.Tables {
		trees = trees || len(tc.Leaves) > 0
	}
	if !trees {
		return nil
	}
	snap, err := catalog.Load(ctx, r.m.pool, nil)
	if err != nil {
		return fmt.Errorf("read catalog: %w", err)
	}
	if f := planner.PartitionChanges(r.job.Plan, snap); len(f) > 0 {
		return &BlockerError{Target: r.job.Plan.Target, Blockers: f}
	}
	return nil
}
