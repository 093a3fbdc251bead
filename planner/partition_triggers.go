package planner

import (
	"fmt"

	"github.com/pgwiden/pgwiden/catalog"
)

// PostgreSQL 12 refuses a BEFORE ROW trigger on a partitioned table ("is a
// partitioned table", 42809); 13 accepts one and clones it onto every
// partition, present and future. On 12 the sync trigger goes on each leaf
// partition instead, and a partition created or attached after prepare
// has none: its rows carry no bigint copy. The swap (both directions)
// checks under its lock that every leaf has the trigger and refuses
// otherwise, so such rows are never exposed as the live column.

// leafTriggers reports whether the sync trigger of w must go on each leaf
// partition rather than on the partitioned table itself.
func (b *builder) leafTriggers(w *tableWork) bool {
	return w.t.Kind == "partitioned" && !b.snap.RowTriggersOnPartitioned()
}

// checkLeafTriggers records what the per-leaf triggers mean for the
// operator, and refuses a leaf that already carries a sync trigger (a
// second migration would take it for its own: the step's probe would
// skip creating it).
func (b *builder) checkLeafTriggers() {
	for _, w := range b.work {
		if !b.leafTriggers(w) {
			continue
		}
		name := w.t.Name.String()
		b.finds.warn("partitions-pg12", name,
			fmt.Sprintf("PostgreSQL %s cannot put a row trigger on a partitioned table: the sync trigger goes on each of its %d leaf partitions, and a partition created or attached after prepare has none, so the cutover refuses to swap",
				catalog.VersionString(b.snap.ServerVersion), len(w.leaves)),
			"create the partitions the application will need before prepare, and none until cleanup (or upgrade to PostgreSQL 13+)")
		for _, l := range w.leaves {
			for _, tr := range l.Triggers {
				if tr.Name == SyncTrigger {
					b.finds.block("in-migration", l.Name.String(), "the partition is already part of a pgwiden migration (its trigger "+SyncTrigger+" exists): two migrations would share its shadow columns",
						"finish that migration (pgwiden status lists it) or roll it back first")
				}
			}
		}
	}
}

// guardLeafTriggers adds to a swap, right after its LOCK TABLE (which also
// keeps partitions from being created or attached), a check that every
// leaf of each partitioned table carrying per-leaf triggers has one.
// RAISE is not retried: the swap fails with the partition's name.
func (b *builder) guardLeafTriggers(s *stmts) {
	for _, w := range b.work {
		if !b.leafTriggers(w) {
			continue
		}
		t := sqlQuoteInner(w.t.Name.Quoted())
		s.add("DO %s", dollarQuote(fmt.Sprintf(`DECLARE leaf regclass;
BEGIN
  SELECT p.relid INTO leaf FROM pg_partition_tree('%[1]s') p
  WHERE p.isleaf AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = p.relid AND g.tgname = '%[2]s')
  LIMIT 1;
  IF leaf IS NOT NULL THEN
    RAISE EXCEPTION 'partition %% of %% was created or attached after prepare: it has no %[2]s trigger (PostgreSQL 12 cannot put one on the partitioned table), so its rows have no copy in the other column', leaf, '%[1]s'
      USING HINT = 'run pgwiden rollback, then prepare again once the partitions exist';
  END IF;
END`, t, SyncTrigger)))
	}
}
