package runway

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/planner"
)

// Change is a runway to take (or, from PlanUndo, to give back).
type Change struct {
	Target   planner.Target
	Sequence catalog.Sequence
	// Type is the column's type; Base is the integer type under it (the
	// same unless Type is a domain).
	Type, Base string
	// From and To are the runway: the sequence's new MINVALUE (and first
	// value) and MAXVALUE. Undo leaves them zero.
	From, To int64
	// Columns are the columns that receive the sequence's values: the
	// target and the foreign keys that copy them (the migration's closure).
	Columns []catalog.ColumnRef
	// Checked lists what Evaluate found to accept the new values.
	Checked []string
	Undo    bool
	Step    planner.Step
}

// Size is how many ids the runway holds.
func (c *Change) Size() int64 { return c.To - c.From + 1 }

// RefusedError is a runway pgwiden will not take: nothing was changed.
type RefusedError struct {
	Object string
	Reason string
	Fix    string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("runway refused: %s %s; %s", e.Object, e.Reason, e.Fix)
}

// probeOnRunway is true when the sequence counts up to a negative MAXVALUE.
const probeOnRunway = `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_sequence WHERE seqrelid = to_regclass($1) AND seqincrement > 0 AND seqmax < 0)`

// Plan decides whether the sequence feeding target can take the runway and
// renders the step. base is the column's integer type (its domain's base
// type for a domain column). seq, when set, is the sequence the operator
// named: it must be the one feeding the column.
func Plan(snap *catalog.Snapshot, target planner.Target, base string, seq *catalog.QName) (*Change, error) {
	ch, err := resolve(snap, target, base, seq)
	if err != nil {
		return nil, err
	}
	s := &ch.Sequence
	obj := s.Name.String()
	switch {
	case s.Increment < 0:
		return nil, &RefusedError{obj, "counts down already (INCREMENT " + fmt.Sprint(s.Increment) + ")",
			"its negative half is in use: widen the column (pgwiden prepare)"}
	case s.OnRunway() || s.Min < 0 || (s.LastValue != nil && *s.LastValue < 0):
		return nil, &RefusedError{obj, fmt.Sprintf("is already in the negative range (MINVALUE %d, MAXVALUE %d)", s.Min, s.Max),
			"there is no second runway: widen the column (pgwiden prepare, backfill, cutover)"}
	case s.Cycle:
		return nil, &RefusedError{obj, "is CYCLE: it never runs out, it wraps around and hands out ids that exist already",
			"decide what the wrap-around means for the application; pgwiden takes no runway on a cycling sequence"}
	}
	if err := notShared(snap, ch); err != nil {
		return nil, err
	}
	ch.From, _ = catalog.TypeMin(base)
	if m, ok := catalog.TypeMin(s.DataType); ok {
		ch.From = max(ch.From, m)
	}
	ch.To = -1
	ch.Columns = receivers(snap, target)
	sql := fmt.Sprintf("ALTER SEQUENCE %s MINVALUE %d MAXVALUE %d START WITH %d RESTART WITH %d", s.Name.Quoted(), ch.From, ch.To, ch.From, ch.From)
	ch.Step = planner.Step{ID: "runway/take/" + obj, Table: target.Table, SQL: sql, Lock: planner.ShareRowExclusive, InTx: true,
		Probe: probeOnRunway, ProbeArgs: []any{s.Name.Quoted()},
		Note: "metadata only; nextval() waits for this statement alone, at most lock_timeout"}
	return ch, nil
}

// resolve finds the target column and the sequence feeding it.
func resolve(snap *catalog.Snapshot, t planner.Target, base string, seq *catalog.QName) (*Change, error) {
	tab := snap.Table(t.Table)
	if tab == nil {
		return nil, &planner.TargetError{Target: t, Msg: fmt.Sprintf("table %s not found; names are case-sensitive, as in the catalog", t.Table.Quoted())}
	}
	col := tab.Column(t.Column)
	if col == nil {
		return nil, &planner.TargetError{Target: t, Msg: fmt.Sprintf("column %s not found in %s", catalog.Ident(t.Column), t.Table.Quoted())}
	}
	if !catalog.IsNarrowInt(base) {
		return nil, &RefusedError{t.String(), "is " + col.Type + ", not smallint or integer",
			"a runway is for an int2/int4 key about to run out; a bigint column needs none (widen its sequence: pgwiden prepare)"}
	}
	if col.Sequence == nil {
		return nil, &RefusedError{t.String(), "is not fed by a sequence or identity (no nextval() default, no identity)",
			"the application chooses its ids: make it choose negative ones, pgwiden cannot"}
	}
	if seq != nil && *seq != *col.Sequence {
		return nil, &RefusedError{t.String(), "is not fed by sequence " + seq.String() + " but by " + col.Sequence.String(),
			"pass --sequence " + col.Sequence.String() + ", or leave --sequence out"}
	}
	s := snap.Sequence(*col.Sequence)
	if s == nil {
		return nil, &RefusedError{col.Sequence.String(), "cannot be read", "connect as the sequence's owner"}
	}
	return &Change{Target: t, Sequence: *s, Type: col.Type, Base: base}, nil
}

// notShared refuses a sequence that also feeds other columns (partitions
// and inheritance children of the target aside, which share its default):
// their ids would go negative too, and their checks are not the target's.
func notShared(snap *catalog.Snapshot, ch *Change) error {
	var others []string
	for i := range snap.Tables {
		t := &snap.Tables[i]
		for _, c := range t.Columns {
			if c.Sequence == nil || *c.Sequence != ch.Sequence.Name || descends(snap, t, ch.Target.Table, 0) {
				continue
			}
			if t.Name != ch.Target.Table || c.Name != ch.Target.Column {
				others = append(others, t.Name.String()+"."+c.Name)
			}
		}
	}
	if len(others) == 0 {
		return nil
	}
	return &RefusedError{ch.Sequence.Name.String(), "also feeds " + strings.Join(others, ", ") + ": their ids would go negative too",
		"give each column its own sequence first, or widen the columns (pgwiden prepare)"}
}

// descends reports whether t is a partition or inheritance child (at any
// depth) of root.
func descends(snap *catalog.Snapshot, t *catalog.Table, root catalog.QName, depth int) bool {
	if depth > 16 {
		return false
	}
	parents := slices.Clone(t.InheritsFrom)
	if t.PartitionOf != nil {
		parents = append(parents, *t.PartitionOf)
	}
	for _, p := range parents {
		if p == root {
			return true
		}
		if pt := snap.Table(p); pt != nil && descends(snap, pt, root, depth+1) {
			return true
		}
	}
	return false
}

// receivers are the columns that hold the sequence's values: the
// migration's closure (the target and the foreign keys that copy it), or
// the target alone when it cannot be planned (a domain column).
func receivers(snap *catalog.Snapshot, t planner.Target) []catalog.ColumnRef {
	p, err := planner.Build(snap, t)
	if err != nil || len(p.Tables) == 0 {
		return []catalog.ColumnRef{{Table: t.Table, Column: t.Column}}
	}
	var out []catalog.ColumnRef
	for _, tc := range p.Tables {
		for _, c := range tc.Columns {
			out = append(out, catalog.ColumnRef{Table: tc.Table, Column: c.Name})
		}
	}
	return out
}
