package planner

import (
	"fmt"

	"github.com/pgwiden/pgwiden/catalog"
)

// tableWork is one closure table with the columns it widens.
type tableWork struct {
	t    *catalog.Table
	cols []member
	// leaves are the tables that hold its rows, each walked on its own
	// (rowTables): the leaf partitions of a partitioned table, or the
	// table and its inheritance children, or the table alone.
	leaves []*catalog.Table
	// parts are the partitions (or inheritance children) under the table,
	// each with the same columns: their column follows the parent's, but
	// indexes, constraints and triggers declared on a partition alone (not
	// cloned from the parent) are theirs to rebuild, as a plain table's are.
	parts []*tableWork
}

// units returns w and its partitions or children: everything whose own
// indexes, constraints and triggers the cutover rebuilds.
func (w *tableWork) units() []*tableWork { return append([]*tableWork{w}, w.parts...) }

// builder carries what the step renderers share.
type builder struct {
	snap  *catalog.Snapshot
	work  []*tableWork
	in    map[catalog.ColumnRef]bool
	fks   []fkRef
	views []catalog.View
	seqs  []SequenceChange
	plan  *Plan
	finds findings
	// phase is the phase the shared renderers (indexes, constraints,
	// verification) are rendering for: cutover, or unswap.
	phase Phase
	onto  copyRule
	// unguard collects the steps that lift the swap back's guard; they
	// come last in the plan.
	unguard []Step
	byName  map[catalog.QName]*tableWork
}

// Build plans the widening of target t. It returns a *TargetError when the
// target cannot be planned at all; blockers found along the way are part of
// the plan, so an operator sees all of them at once.
func Build(snap *catalog.Snapshot, t Target) (*Plan, error) {
	tab, cols, err := resolveAll(snap, t)
	if err != nil {
		return nil, err
	}
	// Columns already bigint among several add nothing; one alone is
	// looked at below (its sequence may still be narrow).
	var narrow []*catalog.Column
	for _, c := range cols {
		if catalog.IsNarrowInt(c.Type) {
			narrow = append(narrow, c)
		}
	}
	col := cols[0]
	if len(narrow) > 0 {
		col = narrow[0]
	}
	p := &Plan{FormatVersion: FormatVersion, Target: t, Blockers: []Finding{}, Warnings: []Finding{}, Steps: []Step{}, Tables: []TableChange{}}
	if !catalog.IsNarrowInt(col.Type) {
		p.NothingToDo = true
		p.Reason = fmt.Sprintf("%s is already %s: nothing to widen", t, col.Type)
		if col.Sequence != nil {
			if s := snap.Sequence(*col.Sequence); s != nil && catalog.IsNarrowInt(s.DataType) {
				p.NothingToDo = false
				p.Reason = fmt.Sprintf("%s is already bigint but its sequence %s is %s and stops at %d", t, s.Name, s.DataType, s.Max)
			}
		}
	}
	b := &builder{snap: snap, plan: p, in: map[catalog.ColumnRef]bool{}, byName: map[catalog.QName]*tableWork{}}
	if p.NothingToDo {
		return p, nil
	}
	if !catalog.IsNarrowInt(col.Type) {
		b.seqs = sequenceChanges(snap, []member{{table: tab, col: col}})
		p.Sequences = b.seqs
		b.sequenceSteps()
		b.checkCitusSequences()
		p.Blockers = nonNil(b.finds.blockers)
		return p, nil
	}
	b.collect(closure(snap, tab, narrow))
	b.check()
	b.estimate()
	b.render()
	b.splitForCitus()
	p.Blockers, p.Warnings = nonNil(b.finds.blockers), nonNil(b.finds.warnings)
	return p, nil
}

// collect groups the closure by table and derives everything that follows
// from it: foreign keys to rebuild, sequences to widen, dependent views.
func (b *builder) collect(members []member) {
	for _, m := range members {
		b.in[catalog.ColumnRef{Table: m.table.Name, Column: m.col.Name}] = true
		for _, d := range descendants(b.snap, m.table) {
			b.in[catalog.ColumnRef{Table: d.Name, Column: m.col.Name}] = true
		}
		w := b.byName[m.table.Name]
		if w == nil {
			w = &tableWork{t: m.table, leaves: rowTables(b.snap, m.table)}
			b.byName[m.table.Name] = w
			b.work = append(b.work, w)
		}
		w.cols = append(w.cols, m)
	}
	for _, w := range b.work {
		for _, d := range descendants(b.snap, w.t) {
			pw := &tableWork{t: d, cols: w.cols, leaves: rowTables(b.snap, d)}
			w.parts = append(w.parts, pw)
		}
	}
	b.fks = affectedFKs(b.snap, b.in)
	b.seqs = sequenceChanges(b.snap, members)
	b.plan.Sequences = b.seqs
	for _, w := range b.work {
		tc := TableChange{Table: w.t.Name, BatchKey: batchKey(w.t), Partitioned: w.t.Kind == "partitioned", Citus: w.t.Citus}
		for _, l := range w.leaves {
			if tc.Partitioned || len(w.leaves) > 1 {
				tc.Leaves = append(tc.Leaves, l.Name)
			}
			tc.Walks = append(tc.Walks, walkOf(b.snap, l))
		}
		for _, m := range w.cols {
			tc.Columns = append(tc.Columns, ColumnChange{Name: m.col.Name, Type: m.col.Type, NotNull: m.col.NotNull,
				Shadow: shadowName(m.col.Name), Old: oldName(m.col.Name), Why: m.why})
		}
		b.plan.Tables = append(b.plan.Tables, tc)
	}
}

// check records blockers and warnings for the whole closure.
func (b *builder) check() {
	var tables []*catalog.Table
	for _, w := range b.work {
		tables = append(tables, w.t)
		b.finds.checkTable(b.snap, w.t)
		b.finds.checkUnreadable(b.snap, w.t)
		for _, l := range w.leaves {
			b.finds.checkWalk(b.snap, l)
		}
		for _, m := range w.cols {
			b.finds.checkColumn(w.t, m.col)
			b.finds.checkDependents(w.t, m.col)
		}
		for _, p := range w.parts {
			b.finds.checkTable(b.snap, p.t)
			for _, m := range p.cols {
				if c := p.t.Column(m.col.Name); c != nil {
					b.finds.checkDependents(p.t, c)
				}
			}
		}
		b.finds.checkPublished(w)
	}
	b.checkLeafTriggers()
	b.checkLeafNotNullNames()
	b.views = b.finds.checkViews(b.snap, b.in, b.snap.Superuser)
	b.finds.checkWiderRefs(b.snap, tables)
	b.warnRunways()
	b.checkCitus()
	// No catalog shows which sessions hold prepared statements, and the
	// swap breaks every one that returns a widened column, once.
	b.finds.warn("prepared-statements", b.plan.Target.String(),
		"each server-side prepared statement whose result includes the tables' columns (SELECT *) fails once with \"cached plan must not change result type\" (SQLSTATE 0A000) after prepare adds the shadow columns, after the swap and after a rollback, and one prepared with an int4 parameter for a widened column keeps rejecting values beyond int4 (22003) after the swap until prepared again; pgx, JDBC and Rails prepare again after the first error",
		"make sure the application retries that error once, or uses unnamed statements (as behind PgBouncer in transaction mode)")
}

// sequenceChanges lists narrow sequences feeding closure columns.
func sequenceChanges(snap *catalog.Snapshot, members []member) []SequenceChange {
	var out []SequenceChange
	for _, m := range members {
		if m.col.Sequence == nil {
			continue
		}
		s := snap.Sequence(*m.col.Sequence)
		if s == nil || !catalog.IsNarrowInt(s.DataType) {
			continue
		}
		out = append(out, SequenceChange{Sequence: s.Name, From: s.DataType, Identity: s.Identity,
			Feeds: catalog.ColumnRef{Table: m.table.Name, Column: m.col.Name}})
	}
	return out
}

func nonNil(f []Finding) []Finding {
	if f == nil {
		return []Finding{}
	}
	return f
}
