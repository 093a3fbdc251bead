package planner

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/pgwiden/pgwiden/catalog"
)

// checkCitus refuses, at plan time, what Citus would refuse halfway
// through prepare, and says what pgwiden does with each Citus table:
//   - a distribution column cannot change type at all (citusdata/citus
//     #2919): the whole colocation group has to be redistributed, a
//     procedure with downtime described in the fix and docs/citus.md;
//   - another column of a hash-distributed, reference or Citus local table
//     migrates online: Citus propagates the shadow column, the trigger
//     (citus.enable_unsafe_triggers), the indexes and the swap's DDL to
//     every shard, and the serial's sequence, which Citus does not let
//     anyone alter, is replaced by a new bigint one (citus_swap.go);
//   - what that path was not built for is refused with its reason.
func (b *builder) checkCitus() {
	if b.snap.Citus == "" {
		return
	}
	b.plan.Citus = b.snap.Citus
	for i, w := range b.work {
		c := w.t.Citus
		tc := &b.plan.Tables[i]
		tc.CitusAction = "local to the coordinator: migrated as on PostgreSQL"
		if c == nil {
			continue
		}
		tc.CitusAction = "migrated online: shadow column, sync trigger, indexes and swap reach every shard"
		for _, m := range w.cols {
			ref := Target{Table: w.t.Name, Column: m.col.Name}
			if c.DistributionColumn == m.col.Name {
				tc.CitusAction = "refused: " + m.col.Name + " is its distribution column (blocker citus-distribution-column)"
				b.finds.block("citus-distribution-column", ref.String(), distributionDetail(b.snap, w.t, ref), distributionFix(c))
				continue
			}
			if why := b.citusUnsupported(w, m.col); why != "" {
				tc.CitusAction = "refused: " + why + " (blocker citus-table)"
				b.finds.block("citus-table", ref.String(),
					fmt.Sprintf("%s is a Citus %s; %s", w.t.Name, citusWords(c), why),
					fmt.Sprintf("in a quiet period widen it by hand as docs/citus.md shows: ALTER TABLE %s ALTER COLUMN %s TYPE bigint rewrites every shard under an ACCESS EXCLUSIVE lock", w.t.Name.Quoted(), catalog.Ident(m.col.Name)))
			}
		}
	}
}

// citusUnsupported says why pgwiden cannot migrate column c of the Citus
// table of w online, "" when it can.
func (b *builder) citusUnsupported(w *tableWork, c *catalog.Column) string {
	switch t := w.t.Citus; {
	case t.Kind == catalog.CitusSingleShard:
		return "pgwiden does not migrate single-shard distributed tables (not tested)"
	case t.Kind == catalog.CitusDistributed && t.Method != "h":
		return "pgwiden migrates only hash-distributed tables, not " + methodWords(t.Method) + "-distributed ones"
	case c.Identity != "":
		return "pgwiden does not move an identity column's sequence on Citus"
	case len(b.views) > 0:
		return "views depend on the closure's columns, and pgwiden does not re-create views on Citus"
	}
	for _, con := range w.t.Constraints {
		if con.Type == catalog.ConCheck && !con.Inherited && b.usesClosure(w, con.Columns) {
			return fmt.Sprintf("its CHECK constraint %s uses the column, and Citus cannot rename the copy pgwiden builds (RENAME CONSTRAINT is unsupported on distributed tables)", con.Name)
		}
	}
	for _, tr := range w.t.Triggers {
		if !tr.Inherited && b.usesClosure(w, tr.Columns) {
			return fmt.Sprintf("its trigger %s names the column, and pgwiden does not re-create triggers on Citus", tr.Name)
		}
	}
	return ""
}

// citusWords describes a Citus table as `plan` shows it.
func citusWords(c *catalog.CitusTable) string {
	switch c.Kind {
	case catalog.CitusDistributed:
		return fmt.Sprintf("distributed table (%s by %s, colocation group %d, %d shards)", methodWords(c.Method), c.DistributionColumn, c.ColocationID, c.ShardCount)
	case catalog.CitusSingleShard:
		return fmt.Sprintf("single-shard distributed table (colocation group %d)", c.ColocationID)
	case catalog.CitusReference:
		return fmt.Sprintf("reference table (replicated to every node, %d shard)", c.ShardCount)
	}
	return "local table (citus-local: on the coordinator, in Citus's metadata)"
}

func methodWords(m string) string {
	switch m {
	case "h":
		return "hash"
	case "r":
		return "range"
	case "a":
		return "append"
	}
	return m
}

// colocated lists the tables of a colocation group, in catalog order.
func colocated(snap *catalog.Snapshot, group int) []string {
	var out []string
	for _, t := range snap.Tables {
		if t.Citus != nil && t.Citus.ColocationID == group && t.Citus.Kind == catalog.CitusDistributed {
			out = append(out, t.Name.String()+"."+t.Citus.DistributionColumn)
		}
	}
	return out
}

func distributionDetail(snap *catalog.Snapshot, t *catalog.Table, ref Target) string {
	c := t.Citus
	return fmt.Sprintf("%s is the distribution column of %s, a %s; Citus refuses ALTER COLUMN ... TYPE on a distribution column (citusdata/citus #2919), and colocation group %d declares %s for all of %s",
		ref, t.Name, citusWords(c), c.ColocationID, c.ColocationType, strings.Join(colocated(snap, c.ColocationID), ", "))
}

// distributionFix is the manual procedure, in one line: the docs spell
// it out with the statements for the whole group.
func distributionFix(c *catalog.CitusTable) string {
	return fmt.Sprintf("with writes to colocation group %d stopped: SELECT undistribute_table(...) on each of its tables (cascade_via_foreign_keys => true), ALTER COLUMN ... TYPE bigint on every key, then create_distributed_table(...) again with shard_count => %d and colocate_with the first; see docs/citus.md",
		c.ColocationID, c.ShardCount)
}

// citus prints each closure table's place in the Citus cluster and what
// pgwiden does with it.
func (pw *printer) citus(p *Plan) {
	if p.Citus == "" {
		return
	}
	pw.printf("\nCitus %s topology (what pgwiden does with each table):\n", p.Citus)
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, t := range p.Tables {
		where := "local table"
		if t.Citus != nil {
			where = citusWords(t.Citus)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", t.Table, where, t.CitusAction)
	}
	_ = tw.Flush() // it writes to a strings.Builder, which never fails
	pw.printf("%s", b.String())
}
