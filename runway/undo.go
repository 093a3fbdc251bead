package runway

import (
	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/planner"
)

// PlanUndo renders the step that gives the runway back: the sequence
// returns to ascending positive values above the largest key. On an int4
// column that only works while the positive range has room left (rows were
// deleted, or the runway was taken early): the step fails, changing
// nothing, when it has none. The cutover of a migration does the same for
// a bigint column in its swap, so a widened column needs no undo.
func PlanUndo(snap *catalog.Snapshot, target planner.Target, base string) (*Change, error) {
	ch, err := resolve(snap, target, base, nil)
	if err != nil {
		return nil, err
	}
	s := &ch.Sequence
	if !s.OnRunway() {
		return nil, &RefusedError{s.Name.String(), "is not on a runway (it does not count up to a negative MAXVALUE)",
			"nothing to undo"}
	}
	limit, _ := catalog.TypeMax(base)
	if m, ok := catalog.TypeMax(s.DataType); ok {
		limit = min(limit, m)
	}
	ch.Undo = true
	ch.Columns = []catalog.ColumnRef{{Table: target.Table, Column: target.Column}}
	// SHARE blocks writes for the moment the largest key is read and the
	// sequence restarted above it: an explicit id inserted in between
	// could otherwise collide with the restarted sequence.
	sql := "LOCK TABLE " + target.Table.Quoted() + " IN SHARE MODE;\n" +
		planner.RestoreSequenceSQL(s.Name, target.Table, target.Column, "", limit)
	ch.Step = planner.Step{ID: "runway/undo/" + s.Name.String(), Table: target.Table, SQL: sql, Lock: planner.Share, InTx: true,
		Probe: "SELECT NOT (" + probeOnRunway[len("SELECT "):] + ")", ProbeArgs: []any{s.Name.Quoted()},
		Note: "reads the largest key through its index; writes wait at most lock_timeout"}
	return ch, nil
}
