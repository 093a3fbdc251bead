package planner

import (
	"fmt"
	"slices"

	"github.com/pgwiden/pgwiden/catalog"
)

// Record trims snap to what a drift check compares and a re-plan needs:
// the closure's tables with their partitions, the tables their foreign keys
// reference, the sequences feeding them and every dependent view. Prepare
// stores it with the job; a whole database's catalog would be far larger.
func Record(snap *catalog.Snapshot, p *Plan) *catalog.Snapshot {
	keep := map[catalog.QName]bool{}
	var add func(q catalog.QName)
	add = func(q catalog.QName) {
		t := snap.Table(q)
		if t == nil || keep[q] {
			return
		}
		keep[q] = true
		for _, part := range t.Partitions {
			add(part)
		}
		// Inheritance children widen with their parent, and the parents
		// of a child in the closure are in it too.
		for _, q := range append(slices.Clone(t.InheritedBy), t.InheritsFrom...) {
			add(q)
		}
	}
	for _, tc := range p.Tables {
		add(tc.Table)
	}
	for _, t := range snap.Tables {
		if keep[t.Name] {
			for _, c := range t.Constraints {
				if c.RefTable != nil && snap.Table(*c.RefTable) != nil {
					keep[*c.RefTable] = true
				}
			}
		}
	}
	out := snap.Clone()
	out.Tables = slices.DeleteFunc(out.Tables, func(t catalog.Table) bool { return !keep[t.Name] })
	seqs := map[catalog.QName]bool{}
	for _, t := range out.Tables {
		for _, c := range t.Columns {
			if c.Sequence != nil {
				seqs[*c.Sequence] = true
			}
		}
	}
	out.Sequences = slices.DeleteFunc(out.Sequences, func(s catalog.Sequence) bool { return !seqs[s.Name] })
	return out
}

// Replan plans the migration again as if the live objects of the closure's
// tables and the live views had been there at prepare: from the recorded
// catalog (columns, sequences, partitions as prepare saw them) with the
// user's live indexes, constraints, triggers, policies, foreign keys in and
// views. Steps keep their IDs, so what is done stays done. It returns the
// new plan and the catalog to record with it; it fails when the closure
// itself would change, which only a new migration can take on.
func Replan(recorded, live *catalog.Snapshot, p *Plan) (*Plan, *catalog.Snapshot, error) {
	v := recorded.Clone()
	for _, name := range replanTables(live, p) {
		lt := live.Table(name)
		vt := v.Table(name)
		if vt == nil {
			nt := *lt
			nt.Columns = slices.Clone(lt.Columns)
			v.Tables = append(v.Tables, nt)
			vt = &v.Tables[len(v.Tables)-1]
		}
		mergeLive(vt, lt)
	}
	v.Views = live.Views
	v.Sort()
	np, err := Build(v, p.Target)
	if err != nil {
		return nil, nil, fmt.Errorf("plan %s again: %w", p.Target, err)
	}
	if was, now := closureNames(p), closureNames(np); !slices.Equal(was, now) {
		return nil, nil, fmt.Errorf("plan %s again: the closure changed since prepare (was %v, now %v): roll the migration back (%s) and plan it again",
			p.Target, was, now, command("rollback", p.Target))
	}
	return np, Record(v, np), nil
}

// replanTables lists the live tables whose objects a re-plan takes: the
// closure's tables, their partitions, and tables with a foreign key to a
// closure column.
func replanTables(live *catalog.Snapshot, p *Plan) []catalog.QName {
	in := closureSet(p)
	var out []catalog.QName
	for _, tc := range p.Tables {
		out = append(out, tc.Table)
		out = append(out, tc.Leaves...)
	}
	for _, t := range live.Tables {
		for _, c := range t.Constraints {
			if c.Type == catalog.ConForeign && c.RefTable != nil && !ownObject(c.Name) &&
				slices.ContainsFunc(c.RefColumns, func(col string) bool { return in[catalog.ColumnRef{Table: *c.RefTable, Column: col}] }) {
				out = append(out, t.Name)
				break
			}
		}
	}
	return slices.DeleteFunc(out, func(q catalog.QName) bool { return live.Table(q) == nil })
}

// mergeLive gives vt the live table's own (not pgwiden's) indexes,
// constraints, triggers and policies, and the columns added since.
func mergeLive(vt, lt *catalog.Table) {
	vt.Indexes = slices.DeleteFunc(slices.Clone(lt.Indexes), func(x catalog.Index) bool { return ownObject(x.Name) })
	vt.Constraints = slices.DeleteFunc(slices.Clone(lt.Constraints), func(x catalog.Constraint) bool { return ownObject(x.Name) })
	vt.Triggers = slices.DeleteFunc(slices.Clone(lt.Triggers), func(x catalog.Trigger) bool { return ownObject(x.Name) })
	vt.Policies = slices.Clone(lt.Policies)
	for _, c := range lt.Columns {
		if vt.Column(c.Name) == nil {
			vt.Columns = append(vt.Columns, c)
		}
	}
	vt.Columns = slices.DeleteFunc(vt.Columns, func(c catalog.Column) bool { return ownObject(c.Name) })
}

// closureNames lists a plan's closure columns, table.column.
func closureNames(p *Plan) []string {
	var out []string
	for _, tc := range p.Tables {
		for _, c := range tc.Columns {
			out = append(out, tc.Table.String()+"."+c.Name)
		}
	}
	return out
}

// StepChanges lists how the steps of plan b differ from those of plan a:
// "+ id" for a new step, "- id" for one gone, "~ id" for one whose SQL
// changed. A re-plan after drift shows the operator exactly this.
func StepChanges(a, b *Plan) []string {
	old := map[string]string{}
	for _, s := range a.Steps {
		old[s.ID] = s.SQL
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range b.Steps {
		seen[s.ID] = true
		switch sql, ok := old[s.ID]; {
		case !ok:
			out = append(out, "+ "+s.ID)
		case sql != s.SQL:
			out = append(out, "~ "+s.ID)
		}
	}
	for _, s := range a.Steps {
		if !seen[s.ID] {
			out = append(out, "- "+s.ID)
		}
	}
	return out
}
