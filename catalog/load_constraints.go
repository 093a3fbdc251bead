package catalog

import (
	"context"
	_ "embed" // the queries live in queries/*.sql
)

//go:embed queries/constraints.sql
var constraintsSQL string

// loadConstraints reads the PK, unique, FK, check and exclusion constraints
// of the loaded tables.
func (l *loader) loadConstraints(ctx context.Context) error {
	type row struct {
		OID        uint32   `db:"oid"`
		Name       string   `db:"name"`
		Type       string   `db:"type"`
		Columns    []string `db:"columns"`
		Def        string   `db:"def"`
		Validated  bool     `db:"validated"`
		Inherited  bool     `db:"inherited"`
		Index      *string  `db:"index"`
		RefSchema  *string  `db:"ref_schema"`
		RefName    *string  `db:"ref_name"`
		RefColumns []string `db:"ref_columns"`
	}
	return forTables(ctx, l, constraintsSQL, func(r row) uint32 { return r.OID }, func(t *Table, r row) {
		t.Constraints = append(t.Constraints, Constraint{
			Name:       r.Name,
			Type:       r.Type,
			Columns:    r.Columns,
			Def:        r.Def,
			Validated:  r.Validated,
			Inherited:  r.Inherited,
			Index:      deref(r.Index),
			RefTable:   qname(r.RefSchema, r.RefName),
			RefColumns: nilIfEmpty(r.RefColumns),
		})
	})
}
