package planner

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/pgwiden/pgwiden/catalog"
)

// checkCitus refuses, at plan time, what Citus would refuse halfway
// through prepare. pgwiden migrates columns of tables that are local to
// the coordinator; on a Citus table:
//   - a distribution column cannot change type at all (citusdata/citus
//     #2919): the whole colocation group has to be redistributed, a
//     procedure with downtime described in the fix and docs/citus.md;
//   - other columns of distributed, reference and Citus local tables need
//     the sync trigger on every shard and a new sequence, which pgwiden
//     does not do yet: the fix gives the one-statement alternative;
//   - a sequence Citus propagates cannot be altered (ALTER SEQUENCE ... AS
//     bigint is refused), whatever table it feeds.
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
		tc.CitusAction = "refused: pgwiden does not migrate columns of Citus tables yet (blocker citus-table)"
		for _, m := range w.cols {
			ref := Target{Table: w.t.Name, Column: m.col.Name}
			if c.DistributionColumn == m.col.Name {
				tc.CitusAction = "refused: " + m.col.Name + " is its distribution column (blocker citus-distribution-column)"
				b.finds.block("citus-distribution-column", ref.String(), distributionDetail(b.snap, w.t, ref), distributionFix(c))
				continue
			}
			b.finds.block("citus-table", ref.String(),
				fmt.Sprintf("%s is a Citus %s; pgwiden does not yet put its shadow column's sync trigger on every shard nor replace its distributed sequence", w.t.Name, citusWords(c)),
				fmt.Sprintf("in a quiet period run ALTER TABLE %s ALTER COLUMN %s TYPE bigint (Citus rewrites every shard under an ACCESS EXCLUSIVE lock, and refuses it while a sequence feeds the column: the procedure is in docs/citus.md)", w.t.Name.Quoted(), catalog.Ident(m.col.Name)))
		}
	}
	for _, sc := range b.seqs {
		if s := b.snap.Sequence(sc.Sequence); s != nil && s.CitusDistributed {
			b.finds.block("citus-sequence", sc.Sequence.String(),
				"Citus propagates this sequence to its nodes and refuses ALTER SEQUENCE on it (\"Altering a distributed sequence is currently not supported\")",
				fmt.Sprintf("give %s a new bigint sequence set to its largest value, in the transaction that widens it: ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT; CREATE SEQUENCE ... AS bigint; SELECT setval(...); DROP SEQUENCE %s; ... SET DEFAULT nextval(...); see docs/citus.md",
					Target{Table: sc.Feeds.Table, Column: sc.Feeds.Column}, sc.Feeds.Table.Quoted(), catalog.Ident(sc.Feeds.Column), sc.Sequence.Quoted()))
		}
	}
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
