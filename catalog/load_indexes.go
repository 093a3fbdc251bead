package catalog

import (
	"context"
	_ "embed" // the queries live in queries/*.sql
)

//go:embed queries/indexes.sql
var indexesSQL string

// loadIndexes reads the indexes of the loaded tables.
func (l *loader) loadIndexes(ctx context.Context) error {
	type row struct {
		OID            uint32   `db:"oid"`
		Name           string   `db:"name"`
		Def            string   `db:"def"`
		Columns        []string `db:"columns"`
		Include        []string `db:"include"`
		ExprColumns    []string `db:"expr_columns"`
		IsUnique       bool     `db:"is_unique"`
		IsPrimary      bool     `db:"is_primary"`
		Predicate      *string  `db:"predicate"`
		Valid          bool     `db:"valid"`
		Method         string   `db:"method"`
		ConstraintName *string  `db:"constraint_name"`
		ParentSchema   *string  `db:"parent_schema"`
		ParentName     *string  `db:"parent_name"`
		Bytes          int64    `db:"bytes"`
	}
	return forTables(ctx, l, indexesSQL, func(r row) uint32 { return r.OID }, func(t *Table, r row) {
		t.Indexes = append(t.Indexes, Index{
			Name:        r.Name,
			Def:         r.Def,
			Columns:     r.Columns,
			Include:     nilIfEmpty(r.Include),
			ExprColumns: nilIfEmpty(r.ExprColumns),
			Unique:      r.IsUnique,
			Primary:     r.IsPrimary,
			Predicate:   deref(r.Predicate),
			Valid:       r.Valid,
			Method:      r.Method,
			Constraint:  deref(r.ConstraintName),
			ParentIndex: qname(r.ParentSchema, r.ParentName),
			Bytes:       r.Bytes,
		})
	})
}
