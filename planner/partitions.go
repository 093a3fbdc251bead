package planner

import (
	"fmt"
	"slices"

	"github.com/pgwiden/pgwiden/catalog"
)

// PartitionChanges compares the leaf partitions a plan was made for with
// the live catalog. A partition attached or created since prepare has had
// no backfill walk and none of the indexes built ahead of the swap; one
// detached or dropped would be left half changed by a swap that renames
// its columns only while it is attached. Either way the cutover must not
// go on: each change is a blocker naming the partition.
func PartitionChanges(p *Plan, snap *catalog.Snapshot) []Finding {
	var out []Finding
	for _, tc := range p.Tables {
		if !tc.Partitioned {
			continue
		}
		fix := fmt.Sprintf("put the partitions of %s back as they were at prepare, or roll the migration back (pgwiden rollback) and prepare it again", tc.Table)
		t := snap.Table(tc.Table)
		var live []catalog.QName
		if t != nil {
			for _, l := range leaves(snap, t) {
				live = append(live, l.Name)
			}
		}
		for _, l := range live {
			if !slices.Contains(tc.Leaves, l) {
				out = append(out, Finding{Code: "partition-attached", Object: l.String(),
					Detail: fmt.Sprintf("partition of %s since the migration was prepared: the backfill has not walked it", tc.Table), Fix: fix})
			}
		}
		for _, l := range tc.Leaves {
			if !slices.Contains(live, l) {
				out = append(out, Finding{Code: "partition-detached", Object: l.String(),
					Detail: fmt.Sprintf("no longer a partition of %s since the migration was prepared", tc.Table), Fix: fix})
			}
		}
	}
	return out
}
