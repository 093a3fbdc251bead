package planner

import (
	"fmt"

	"github.com/pgwiden/pgwiden/catalog"
)

// Target is the column the operator asked to widen, named exactly as in the
// catalog (no case folding: "Weird Table"."Id" is Table{Name: "Weird Table"}).
type Target struct {
	Table  catalog.QName `json:"table"`
	Column string        `json:"column"`
}

// String returns schema.table.column for messages.
func (t Target) String() string { return t.Table.String() + "." + t.Column }

// TargetError reports a target that cannot be planned at all: an unknown
// object or a column of the wrong type. It is the operator's input that is
// wrong, so the CLI exits with a usage status.
type TargetError struct {
	Target Target
	Msg    string
}

func (e *TargetError) Error() string { return fmt.Sprintf("%s: %s", e.Target, e.Msg) }

// resolve finds the target's table and column or explains what is wrong.
func resolve(snap *catalog.Snapshot, t Target) (*catalog.Table, *catalog.Column, error) {
	if !snap.HasSchema(t.Table.Schema) {
		return nil, nil, &TargetError{t, fmt.Sprintf("schema %q has no tables (or does not exist); check --schema", t.Table.Schema)}
	}
	tab := snap.Table(t.Table)
	if tab == nil {
		return nil, nil, &TargetError{t, fmt.Sprintf("table %s not found; names are case-sensitive, as in the catalog (psql \\dt %s.*)", t.Table.Quoted(), catalog.Ident(t.Table.Schema))}
	}
	col := tab.Column(t.Column)
	if col == nil {
		return nil, nil, &TargetError{t, fmt.Sprintf("column %s not found in %s; names are case-sensitive, as in the catalog (psql \\d %s)", catalog.Ident(t.Column), t.Table.Quoted(), t.Table.Quoted())}
	}
	if _, ok := catalog.TypeMax(col.Type); !ok {
		return nil, nil, &TargetError{t, fmt.Sprintf("column is %s, not an integer type; pgwiden widens smallint and integer columns to bigint", col.Type)}
	}
	return tab, col, nil
}
