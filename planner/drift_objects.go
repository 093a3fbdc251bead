package planner

import (
	"fmt"
	"slices"

	"github.com/pgwiden/pgwiden/catalog"
)

// named is an object of a table compared by name and definition; cols are
// the columns it uses.
type named struct {
	kind, name, def string
	cols            []string
}

// userObjects lists the indexes, constraints (foreign keys out included),
// triggers and policies of a table that are not pgwiden's.
func userObjects(t *catalog.Table) []named {
	var out []named
	for _, ix := range t.Indexes {
		if ix.Constraint == "" && ix.ParentIndex == nil {
			out = append(out, named{"index", ix.Name, ix.Def, slices.Concat(ix.Columns, ix.Include, ix.ExprColumns)})
		}
	}
	for _, c := range t.Constraints {
		if !c.Inherited {
			out = append(out, named{constraintKind(c), c.Name, c.Def, c.Columns})
		}
	}
	for _, tr := range t.Triggers {
		if !tr.Inherited {
			out = append(out, named{"trigger", tr.Name, tr.Def + " " + tr.Enabled, tr.Columns})
		}
	}
	for _, p := range t.Policies {
		out = append(out, named{"policy", p.Name, fmt.Sprint(p.Columns), p.Columns})
	}
	return slices.DeleteFunc(out, func(o named) bool { return ownObject(o.name) })
}

func constraintKind(c catalog.Constraint) string {
	switch c.Type {
	case catalog.ConPrimary:
		return "primary key"
	case catalog.ConUnique:
		return "unique constraint"
	case catalog.ConForeign:
		return "foreign key"
	case catalog.ConExclusion:
		return "exclusion constraint"
	}
	return "check constraint"
}

// objects reports the user's objects on closure columns of one table that
// were added, dropped or redefined since prepare. The cutover carries them
// all: Replan plans from the recorded catalog with the live objects.
func (d *drift) objects(rt, lt *catalog.Table) {
	before, after := userObjects(rt), userObjects(lt)
	find := func(list []named, o named) *named {
		i := slices.IndexFunc(list, func(x named) bool { return x.kind == o.kind && x.name == o.name })
		if i < 0 {
			return nil
		}
		return &list[i]
	}
	for _, o := range after {
		cols := d.closureCols(lt.Name, o.cols)
		if len(cols) == 0 {
			continue
		}
		obj := o.kind + " " + catalog.Ident(o.name) + " on " + lt.Name.String()
		switch old := find(before, o); {
		case old == nil:
			d.carry(obj, "added on "+catalog.Idents(cols)+" since prepare")
		case old.def != o.def:
			d.carry(obj, "redefined since prepare")
		}
	}
	for _, o := range before {
		if cols := d.closureCols(rt.Name, o.cols); len(cols) > 0 && find(after, o) == nil {
			d.carry(o.kind+" "+catalog.Ident(o.name)+" on "+rt.Name.String(), "dropped since prepare (on "+catalog.Idents(cols)+")")
		}
	}
}

// closureCols returns the columns of cols that belong to the closure.
func (d *drift) closureCols(t catalog.QName, cols []string) []string {
	var out []string
	for _, c := range cols {
		if d.in[catalog.ColumnRef{Table: t, Column: c}] && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// foreignKeysIn finds foreign keys added since prepare that reference a
// closure column. One from a bigint column is carried (the swap rebuilds
// it); one from a narrow column outside the closure is refused: that
// column would have to widen with the others, which prepare did not plan.
func (d *drift) foreignKeysIn() {
	for ti := range d.Live.Tables {
		lt := &d.Live.Tables[ti]
		rt := d.Recorded.Table(lt.Name)
		for _, con := range lt.Constraints {
			if con.Type != catalog.ConForeign || con.Inherited || con.RefTable == nil || ownObject(con.Name) {
				continue
			}
			if rt != nil && slices.ContainsFunc(rt.Constraints, func(c catalog.Constraint) bool { return c.Name == con.Name }) {
				continue // recorded: compared with its table's objects
			}
			d.foreignKeyIn(lt, con)
		}
	}
}

func (d *drift) foreignKeyIn(lt *catalog.Table, con catalog.Constraint) {
	obj := "foreign key " + catalog.Ident(con.Name) + " on " + lt.Name.String()
	for i, rc := range con.RefColumns {
		ref := catalog.ColumnRef{Table: *con.RefTable, Column: rc}
		if !d.in[ref] || i >= len(con.Columns) {
			continue
		}
		col := lt.Column(con.Columns[i])
		from := catalog.ColumnRef{Table: lt.Name, Column: con.Columns[i]}
		switch {
		case d.in[from] && d.Recorded.Table(lt.Name) != nil:
			d.carry(obj, "added since prepare, references "+ref.Table.String()+"."+rc)
		case col != nil && catalog.IsNarrowInt(col.Type):
			t := Target{Table: lt.Name, Column: col.Name}
			d.refuse(obj, fmt.Sprintf("added since prepare: its column %s (%s) references %s.%s, which this migration widens, and is not part of it",
				catalog.Ident(col.Name), col.Type, ref.Table, rc),
				fmt.Sprintf("widen %s.%s to bigint before the cutover (a small new table: ALTER TABLE %s ALTER COLUMN %s TYPE bigint; a large one: see %s), or drop the foreign key until cleanup",
					lt.Name, col.Name, lt.Name.Quoted(), catalog.Ident(col.Name), command("plan", t)))
		default:
			d.carry(obj, "added since prepare, references "+ref.Table.String()+"."+rc)
		}
		return
	}
}

// views reports views, materialized views and rules on closure columns
// created, dropped or redefined since prepare.
func (d *drift) views() {
	reads := func(v catalog.View) bool {
		return slices.ContainsFunc(v.DependsOn, func(r catalog.ColumnRef) bool { return d.in[r] })
	}
	find := func(list []catalog.View, v catalog.View) *catalog.View {
		i := slices.IndexFunc(list, func(x catalog.View) bool { return x.Name == v.Name && x.Kind == v.Kind })
		if i < 0 {
			return nil
		}
		return &list[i]
	}
	for _, v := range d.Live.Views {
		if !reads(v) {
			continue
		}
		switch old := find(d.Recorded.Views, v); {
		case old == nil:
			d.carry(v.Kind+" "+v.Name.String(), "created since prepare on the closure's columns")
		case old.Definition != v.Definition:
			d.carry(v.Kind+" "+v.Name.String(), "redefined since prepare")
		}
	}
	for _, v := range d.Recorded.Views {
		if reads(v) && find(d.Live.Views, v) == nil {
			d.carry(v.Kind+" "+v.Name.String(), "dropped since prepare")
		}
	}
}
