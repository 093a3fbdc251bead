package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pgwiden/pgwiden/catalog"
)

// Target is the column the operator asked to widen, named exactly as in the
// catalog (no case folding: "Weird Table"."Id" is Table{Name: "Weird Table"}).
type Target struct {
	Table  catalog.QName `json:"table"`
	Column string        `json:"column"`
	// Also lists more columns of the same table to widen in the same
	// migration (--column repeated): the union of their closures, each
	// table backfilled once for all its columns.
	Also []string `json:"also,omitempty"`
	// AllIntKeys adds every smallint or integer column of the table that
	// is part of its primary key, a unique constraint or a foreign key
	// (--all-int-keys); Column may then be empty.
	AllIntKeys bool `json:"all_int_keys,omitempty"`
}

// String returns schema.table.column for messages and as the migration's
// key in pgwiden's state: the first column names the migration, whatever
// else it widens ("*" for --all-int-keys alone).
func (t Target) String() string {
	if t.Column == "" && t.AllIntKeys {
		return t.Table.String() + ".*"
	}
	return t.Table.String() + "." + t.Column
}

// Describe names every column the target asks for, for plan's header.
func (t Target) Describe() string {
	s := t.Table.String() + "." + strings.Join(append([]string{t.Column}, t.Also...), ", ")
	switch {
	case t.AllIntKeys && t.Column == "":
		return "every integer key of " + t.Table.String()
	case t.AllIntKeys:
		return s + " and every integer key of " + t.Table.String()
	}
	return s
}

// TargetError reports a target that cannot be planned at all: an unknown
// object or a column of the wrong type. It is the operator's input that is
// wrong, so the CLI exits with a usage status.
type TargetError struct {
	Target Target
	Msg    string
}

func (e *TargetError) Error() string { return fmt.Sprintf("%s: %s", e.Target, e.Msg) }

// resolveAll finds the target's table and every column it names, first
// the primary one, or explains what is wrong. Columns named twice count
// once.
func resolveAll(snap *catalog.Snapshot, t Target) (*catalog.Table, []*catalog.Column, error) {
	names := append([]string{t.Column}, t.Also...)
	if t.AllIntKeys {
		tab := snap.Table(t.Table)
		if tab == nil {
			return resolveErr(snap, t)
		}
		names = append(names, intKeyColumns(tab)...)
		if t.Column == "" {
			names = names[1:]
		}
		if len(names) == 0 {
			return nil, nil, &TargetError{t, "the table has no smallint or integer column in a primary key, unique constraint or foreign key; --all-int-keys finds nothing to widen"}
		}
	}
	var tab *catalog.Table
	var cols []*catalog.Column
	for _, n := range names {
		one := Target{Table: t.Table, Column: n}
		tb, c, err := resolve(snap, one)
		if err != nil {
			return nil, nil, err
		}
		if !slices.Contains(cols, c) {
			tab, cols = tb, append(cols, c)
		}
	}
	return tab, cols, nil
}

// resolveErr explains why the target's table is missing.
func resolveErr(snap *catalog.Snapshot, t Target) (*catalog.Table, []*catalog.Column, error) {
	_, _, err := resolve(snap, Target{Table: t.Table, Column: "?"})
	return nil, nil, err
}

// intKeyColumns lists the table's smallint and integer columns that are
// part of its primary key, a unique constraint or a foreign key, in column
// order: GitLab's rule that one table scan converts every integer id of a
// table.
func intKeyColumns(t *catalog.Table) []string {
	keys := map[string]bool{}
	for _, con := range t.Constraints {
		switch con.Type {
		case catalog.ConPrimary, catalog.ConUnique, catalog.ConForeign:
			for _, c := range con.Columns {
				keys[c] = true
			}
		}
	}
	var out []string
	for _, c := range t.Columns {
		if keys[c.Name] && catalog.IsNarrowInt(c.Type) {
			out = append(out, c.Name)
		}
	}
	return out
}

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
