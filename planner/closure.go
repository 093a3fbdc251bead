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

// closure walks foreign keys from the target columns (one, or several of
// one table: the union of their closures): every narrow integer column
// that references a closure column joins it, and so on down the chain. A
// composite FK pulls in only the column at the referencing position. The
// result is in breadth-first order, so parents come before children.
//
// A partition's column type follows its partitioned table, so a partition
// never joins alone: a foreign key declared on a partition (pagila's
// payment_p2022_01) or a target that is a partition brings in the
// partitioned table at the top of its tree, and with it every sibling.
// Keys referencing any partition of a closure table are walked too.
func closure(snap *catalog.Snapshot, tab *catalog.Table, cols []*catalog.Column) []member {
	var out []member
	seen := map[catalog.ColumnRef]bool{}
	for _, col := range cols {
		start := member{table: tab, col: col, why: "target"}
		if root := partitionRoot(snap, tab); root != tab && root.Column(col.Name) != nil {
			start = member{table: root, col: root.Column(col.Name),
				why: fmt.Sprintf("target %s is a partition of it (or inherits from it): its column type follows", tab.Name)}
		}
		if key := (catalog.ColumnRef{Table: start.table.Name, Column: start.col.Name}); !seen[key] {
			seen[key] = true
			out = append(out, start)
		}
	}
	for i := 0; i < len(out); i++ {
		parent := out[i]
		for _, src := range append([]*catalog.Table{parent.table}, descendants(snap, parent.table)...) {
			for _, ref := range referencing(snap, src.Name, parent.col.Name) {
				table := partitionRoot(snap, ref.table)
				child := table.Column(ref.con.Columns[ref.pos])
				if child == nil {
					continue
				}
				key := catalog.ColumnRef{Table: table.Name, Column: child.Name}
				if seen[key] || !catalog.IsNarrowInt(child.Type) {
					continue
				}
				seen[key] = true
				why := fmt.Sprintf("FK %s references %s.%s", catalog.Ident(ref.con.Name), src.Name, parent.col.Name)
				if table != ref.table {
					why += fmt.Sprintf(" (declared on its partition %s)", ref.table.Name)
				}
				out = append(out, member{table: table, col: child, why: why})
			}
		}
	}
	return out
}

// partitionRoot returns the table at the top of t's partition or
// inheritance tree, t itself when it has no parent. A child of several
// parents stops the climb (it is a blocker: checkTable).
func partitionRoot(snap *catalog.Snapshot, t *catalog.Table) *catalog.Table {
	for {
		var up *catalog.QName
		switch {
		case t.PartitionOf != nil:
			up = t.PartitionOf
		case len(t.InheritsFrom) == 1:
			up = &t.InheritsFrom[0]
		}
		if up == nil || snap.Table(*up) == nil {
			return t
		}
		t = snap.Table(*up)
	}
}

// descendants returns every partition or inheritance child under t,
// sub-partitioned ones and leaves, grandchildren too, depth first.
func descendants(snap *catalog.Snapshot, t *catalog.Table) []*catalog.Table {
	var out []*catalog.Table
	for _, p := range append(slices.Clone(t.Partitions), t.InheritedBy...) {
		if pt := snap.Table(p); pt != nil {
			out = append(out, pt)
			out = append(out, descendants(snap, pt)...)
		}
	}
	return out
}

// rowTables returns the tables that hold t's rows, each walked by the
// backfill on its own: the leaf partitions of a partitioned table; t and
// every table that inherits from it, for a parent in classic inheritance
// (each holds rows, and each walk reads ONLY its own); t otherwise.
func rowTables(snap *catalog.Snapshot, t *catalog.Table) []*catalog.Table {
	if t.Kind == "partitioned" {
		return leaves(snap, t)
	}
	return append([]*catalog.Table{t}, descendants(snap, t)...)
}

// only is the table's name for a statement that must not reach the tables
// inheriting from it.
func only(t *catalog.Table) string {
	if len(t.InheritedBy) > 0 {
		return "ONLY " + t.Name.Quoted()
	}
	return t.Name.Quoted()
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
