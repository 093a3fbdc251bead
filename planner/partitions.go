package planner

import (
	"fmt"
	"slices"

	"github.com/pgwiden/pgwiden/catalog"
)

// PartitionChanges compares the leaf partitions (or inheritance children)
// a plan was made for with the live catalog. A partition attached or created since prepare has had
// no backfill walk and none of the indexes built ahead of the swap; one
// detached or dropped would be left half changed by a swap that renames
// its columns only while it is attached. Either way the cutover must not
// go on: each change is a blocker naming the partition.
func PartitionChanges(p *Plan, snap *catalog.Snapshot) []Finding {
	var out []Finding
	for _, tc := range p.Tables {
		if len(tc.Leaves) == 0 {
			continue
		}
		link := "a partition of"
		if !tc.Partitioned {
			link = "inheriting from"
		}
		fix := fmt.Sprintf("put the tables under %s back as they were at prepare, or roll the migration back (pgwiden rollback) and prepare it again", tc.Table)
		t := snap.Table(tc.Table)
		var live []catalog.QName
		if t != nil {
			for _, l := range rowTables(snap, t) {
				live = append(live, l.Name)
			}
		}
		for _, l := range live {
			if !slices.Contains(tc.Leaves, l) {
				out = append(out, Finding{Code: "partition-attached", Object: l.String(),
					Detail: fmt.Sprintf("%s %s since the migration was prepared: the backfill has not walked it", link, tc.Table), Fix: fix})
			}
		}
		for _, l := range tc.Leaves {
			if !slices.Contains(live, l) {
				out = append(out, Finding{Code: "partition-detached", Object: l.String(),
					Detail: fmt.Sprintf("no longer %s %s since the migration was prepared", link, tc.Table), Fix: fix})
			}
		}
	}
	return out
}
