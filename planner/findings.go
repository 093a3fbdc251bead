package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// findings collects blockers and warnings; every finding names the object
// and, for blockers, the fix.
type findings struct {
	blockers, warnings []Finding
}

func (f *findings) block(code, object, detail, fix string) {
	f.blockers = append(f.blockers, Finding{Code: code, Object: object, Detail: detail, Fix: fix})
}

func (f *findings) warn(code, object, detail, fix string) {
	f.warnings = append(f.warnings, Finding{Code: code, Object: object, Detail: detail, Fix: fix})
}

// checkTable looks at one closure table as a whole.
func (f *findings) checkTable(snap *catalog.Snapshot, t *catalog.Table) {
	name := t.Name.String()
	if !t.Owned && !snap.Superuser {
		f.block("not-owner", name, fmt.Sprintf("the table is owned by %q and %q is not a member of that role; ALTER TABLE needs ownership", t.Owner, snap.CurrentUser),
			fmt.Sprintf("run pgwiden as the owner (or a member of role %q)", t.Owner))
	}
	if len(t.InheritsFrom) > 1 {
		f.block("inheritance", name, fmt.Sprintf("the table inherits from %d parents; its columns follow all of them at once", len(t.InheritsFrom)),
			"detach it from all parents but one (ALTER TABLE ... NO INHERIT) or migrate with a maintenance window")
	}
	if t.Unlogged {
		f.warn("unlogged", name, "the table is UNLOGGED: a crash during the migration empties it, as it would anyway", "")
	}
	for _, tr := range t.Triggers {
		if tr.Name == SyncTrigger && !tr.Inherited {
			f.block("in-migration", name, "the table is already part of a pgwiden migration (its trigger "+SyncTrigger+" exists): two migrations would share its shadow columns",
				"finish that migration (pgwiden status lists it) or roll it back first")
			continue
		}
		if !tr.Inherited && tr.Enabled != "D" && isRowUpdateTrigger(tr.Def) {
			f.warn("user-trigger", name+" trigger "+tr.Name, "fires on every row the backfill updates (an updated_at or audit trigger would touch every row)",
				"accept it, or run backfill --disable-user-triggers as a superuser")
		}
	}
}

// checkWalk blocks a table that holds rows but can be walked neither by a
// key nor by ctid.
func (f *findings) checkWalk(snap *catalog.Snapshot, t *catalog.Table) {
	if w := walkOf(snap, t); w.Method == "" {
		f.block("no-batch-key", t.Name.String(), w.Why,
			"add a primary key or a unique index on NOT NULL columns (CREATE UNIQUE INDEX CONCURRENTLY)")
	}
}

// isRowUpdateTrigger reports whether a trigger fires on the backfill's
// UPDATEs, which set only the shadow columns: a row trigger on UPDATE
// without a column list (UPDATE OF names columns the backfill never sets).
func isRowUpdateTrigger(def string) bool {
	return strings.Contains(def, "FOR EACH ROW") && strings.Contains(def, " UPDATE ") && !strings.Contains(def, "UPDATE OF ")
}

// checkColumn looks at what depends on one closure column.
func (f *findings) checkColumn(t *catalog.Table, c *catalog.Column) {
	obj := t.Name.String() + "." + c.Name
	if last := t.Columns[len(t.Columns)-1]; last.Name != c.Name {
		f.warn("column-order", obj, "the widened column becomes the table's last column (a new column replaces it)",
			"check for INSERT statements without a column list and for code reading SELECT * by position")
	}
	if c.Generated != "" {
		f.block("generated", obj, "the column is a generated column", "make it a plain column first")
	}
}

// checkDependents looks at what depends on one closure column of a table
// or of one of its partitions.
func (f *findings) checkDependents(t *catalog.Table, c *catalog.Column) {
	obj := t.Name.String() + "." + c.Name
	if c.AlsoLocal && t.PartitionOf == nil {
		f.block("inheritance-local", obj, "the table declares the column itself as well as inheriting it (it was attached with ALTER TABLE ... INHERIT): the parent's swap and DROP COLUMN would leave its old column and constraints behind",
			fmt.Sprintf("detach it (ALTER TABLE %s NO INHERIT ...), widen it and its former parent as two migrations, then attach it again", t.Name.Quoted()))
	}
	for _, g := range c.GeneratedDeps {
		f.block("generated-dep", obj, fmt.Sprintf("generated column %s is computed from it; its expression cannot be moved to the new column without a table rewrite", catalog.Ident(g)),
			fmt.Sprintf("before prepare run ALTER TABLE %s ALTER COLUMN %s DROP EXPRESSION (PostgreSQL 13+; it keeps its values as a plain column, to be kept current by the application or a trigger during the migration; on 12, drop the column), and make it generated again after cleanup, in a maintenance window (that rewrites the table)",
				t.Name.Quoted(), catalog.Ident(g)))
	}
	if slices.Contains(t.PartitionKey, c.Name) {
		f.block("partition-key", obj, "the column is part of the partition key, which cannot be swapped for another column",
			"this column needs a rewrite (ALTER TABLE ... TYPE bigint) in a maintenance window")
	}
	for _, con := range t.Constraints {
		if con.Type == catalog.ConExclusion && !con.Inherited && slices.Contains(con.Columns, c.Name) {
			f.block("exclusion", obj, fmt.Sprintf("exclusion constraint %s uses it; exclusion constraints cannot be attached from a concurrently built index", catalog.Ident(con.Name)),
				fmt.Sprintf("drop %s for the migration and re-add it afterwards", catalog.Ident(con.Name)))
		}
	}
	for _, p := range t.Policies {
		switch {
		case !slices.Contains(p.Columns, c.Name):
		case p.Def == "": // a catalog dumped before policies had definitions
			f.block("policy", obj, fmt.Sprintf("row-level security policy %s uses it, and the catalog has no definition to re-create it from", catalog.Ident(p.Name)),
				"plan again from the live database")
		default:
			f.warn("policy", obj+" policy "+p.Name, "row-level security policy reads the column: the swap drops and re-creates it from its definition, in the same transaction", "")
		}
	}
	for _, ix := range t.Indexes {
		if ix.ParentIndex == nil && slices.Contains(ix.ExprColumns, c.Name) {
			f.warn("expression-index", obj+" index "+ix.Name, "an expression or predicate uses the column; the cutover rebuilds it with the expression rewritten for the new column", "")
		}
	}
}

// checkViews lists views, materialized views and rules that read closure
// columns, directly or through another such view, in creation order (a
// view after the views it reads): they follow the column by number, so the
// swap drops them (last first) and re-creates them from their definitions.
func (f *findings) checkViews(snap *catalog.Snapshot, in map[catalog.ColumnRef]bool, superuser bool) []catalog.View {
	out := dependentViews(snap.Views, in)
	for _, v := range out {
		switch {
		case !v.Owned && !superuser:
			f.block("view-owner", v.Name.String(), fmt.Sprintf("%s owned by %q reads the column; the swap must drop and re-create it, which needs its owner", v.Kind, v.Owner),
				fmt.Sprintf("run pgwiden as a member of role %q", v.Owner))
		case v.Kind == "materialized view" && v.Populated:
			f.warn("matview", v.Name.String(), "materialized view reads the column: the swap re-creates it empty (WITH NO DATA, with its indexes, owner, grants and comment) and the step after the swap refreshes it; from the swap's commit until that REFRESH takes its lock, a query on it fails with \"materialized view has not been populated\", then waits for the refresh",
				"")
		case v.Kind == "materialized view":
			f.warn("matview", v.Name.String(), "materialized view reads the column: the swap re-creates it from its definition, empty as it is now (WITH NO DATA), with its indexes, owner, grants and comment", "")
		default:
			f.warn("view", v.Name.String(), v.Kind+" reads the column: the swap drops and re-creates it from its definition, with its options, owner, grants and comment", "")
		}
	}
	return out
}

// dependentViews finds the views that read closure columns or columns of
// such views, ordered so that every view comes after those it reads.
func dependentViews(views []catalog.View, in map[catalog.ColumnRef]bool) []catalog.View {
	level := map[catalog.QName]int{} // 0: unaffected; n: n-1 affected views below it
	for changed := true; changed; {
		changed = false
		for _, v := range views {
			l := 0
			for _, d := range v.DependsOn {
				if in[d] {
					l = max(l, 1)
				}
				if up := level[d.Table]; up > 0 {
					l = max(l, up+1)
				}
			}
			if l != level[v.Name] {
				level[v.Name], changed = l, true
			}
		}
	}
	var out []catalog.View
	for _, v := range views {
		if level[v.Name] > 0 {
			out = append(out, v)
		}
	}
	slices.SortStableFunc(out, func(a, b catalog.View) int { return level[a.Name] - level[b.Name] })
	return out
}

// checkWiderRefs reports narrow FK columns of the closure's tables that
// reference an already-bigint key: the closure does not change them, but
// they overflow once that key passes their range.
func (f *findings) checkWiderRefs(snap *catalog.Snapshot, tables []*catalog.Table) {
	for _, t := range tables {
		for _, con := range t.Constraints {
			if con.Type != catalog.ConForeign || con.Inherited || con.RefTable == nil {
				continue
			}
			ref := snap.Table(*con.RefTable)
			for i, col := range con.Columns {
				c, rc := t.Column(col), refColumn(ref, con.RefColumns, i)
				if c != nil && rc != nil && catalog.IsNarrowInt(c.Type) && rc.Type == "bigint" {
					f.warn("fk-to-wider-key", t.Name.String()+"."+col, fmt.Sprintf("%s column references bigint %s.%s: it overflows when that key passes its range", c.Type, ref.Name, rc.Name),
						fmt.Sprintf("widen it too: pgwiden plan --schema %s --table %s --column %s", t.Name.Schema, t.Name.Name, col))
				}
			}
		}
	}
}

func refColumn(t *catalog.Table, cols []string, i int) *catalog.Column {
	if t == nil || i >= len(cols) {
		return nil
	}
	return t.Column(cols[i])
}
