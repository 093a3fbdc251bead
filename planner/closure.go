package planner

import (
	"fmt"
	"slices"

	"github.com/pgwiden/pgwiden/catalog"
)

// member is one column of the closure with the reason it is there.
type member struct {
	table *catalog.Table
	col   *catalog.Column
	why   string
}

// fkRef is a foreign key that must be rebuilt because one of its columns, on
// either side, changes.
type fkRef struct {
	table *catalog.Table
	con   *catalog.Constraint
}

// closure walks foreign keys from the target: every narrow integer column
// that references a closure column joins it, and so on down the chain. A
// composite FK pulls in only the column at the referencing position. The
// result is in breadth-first order, so parents come before children.
func closure(snap *catalog.Snapshot, tab *catalog.Table, col *catalog.Column) []member {
	out := []member{{table: tab, col: col, why: "target"}}
	seen := map[catalog.ColumnRef]bool{{Table: tab.Name, Column: col.Name}: true}
	for i := 0; i < len(out); i++ {
		parent := out[i]
		for _, ref := range referencing(snap, parent.table.Name, parent.col.Name) {
			child := ref.table.Column(ref.con.Columns[ref.pos])
			key := catalog.ColumnRef{Table: ref.table.Name, Column: child.Name}
			if seen[key] || !catalog.IsNarrowInt(child.Type) {
				continue
			}
			seen[key] = true
			why := fmt.Sprintf("FK %s references %s.%s", catalog.Ident(ref.con.Name), parent.table.Name, parent.col.Name)
			out = append(out, member{table: ref.table, col: child, why: why})
		}
	}
	return out
}

// fkPos is a foreign key and the position of one referenced column in it.
type fkPos struct {
	table *catalog.Table
	con   *catalog.Constraint
	pos   int
}

// referencing lists the foreign keys that reference column col of table t,
// skipping the copies PostgreSQL clones onto partitions.
func referencing(snap *catalog.Snapshot, t catalog.QName, col string) []fkPos {
	var out []fkPos
	for i := range snap.Tables {
		tab := &snap.Tables[i]
		for j := range tab.Constraints {
			c := &tab.Constraints[j]
			if c.Type != catalog.ConForeign || c.Inherited || c.RefTable == nil || *c.RefTable != t {
				continue
			}
			if pos := slices.Index(c.RefColumns, col); pos >= 0 && pos < len(c.Columns) {
				out = append(out, fkPos{table: tab, con: c, pos: pos})
			}
		}
	}
	return out
}

// affectedFKs lists every foreign key with a closure column on either side:
// each must be rebuilt on the new columns at cutover.
func affectedFKs(snap *catalog.Snapshot, in map[catalog.ColumnRef]bool) []fkRef {
	var out []fkRef
	for i := range snap.Tables {
		tab := &snap.Tables[i]
		for j := range tab.Constraints {
			c := &tab.Constraints[j]
			if c.Type != catalog.ConForeign || c.Inherited || c.RefTable == nil {
				continue
			}
			if touches(tab.Name, c.Columns, in) || touches(*c.RefTable, c.RefColumns, in) {
				out = append(out, fkRef{table: tab, con: c})
			}
		}
	}
	return out
}

func touches(t catalog.QName, cols []string, in map[catalog.ColumnRef]bool) bool {
	for _, c := range cols {
		if in[catalog.ColumnRef{Table: t, Column: c}] {
			return true
		}
	}
	return false
}

// leaves returns the leaf partitions under a partitioned table, depth first.
func leaves(snap *catalog.Snapshot, t *catalog.Table) []*catalog.Table {
	var out []*catalog.Table
	for _, p := range t.Partitions {
		pt := snap.Table(p)
		if pt == nil {
			continue
		}
		if pt.Kind == "partitioned" {
			out = append(out, leaves(snap, pt)...)
		} else {
			out = append(out, pt)
		}
	}
	return out
}

// batchKey picks the unique key the backfill walks: the primary key, else
// the narrowest unique, non-partial, expression-free index on NOT NULL
// columns. Nil means there is none and the table cannot be backfilled in
// keyset order.
func batchKey(t *catalog.Table) []string {
	var best []string
	for _, ix := range t.Indexes {
		if !ix.Unique || !ix.Valid || ix.Predicate != "" || slices.Contains(ix.Columns, "") {
			continue
		}
		if !allNotNull(t, ix.Columns) {
			continue
		}
		if ix.Primary {
			return ix.Columns
		}
		if best == nil || len(ix.Columns) < len(best) {
			best = ix.Columns
		}
	}
	return best
}

func allNotNull(t *catalog.Table, cols []string) bool {
	for _, name := range cols {
		c := t.Column(name)
		if c == nil || !c.NotNull {
			return false
		}
	}
	return true
}
