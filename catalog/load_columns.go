package catalog

import (
	"context"
	_ "embed" // the queries live in queries/*.sql
)

//go:embed queries/columns.sql
var columnsSQL string

// loadColumns reads the live columns of the loaded tables, with the
// sequence feeding each one and the generated columns that read it.
func (l *loader) loadColumns(ctx context.Context) error {
	type row struct {
		OID           uint32   `db:"oid"`
		Num           int      `db:"num"`
		Name          string   `db:"name"`
		Type          string   `db:"type"`
		NotNull       bool     `db:"not_null"`
		NotNullName   *string  `db:"not_null_name"`
		Default       *string  `db:"default_expr"`
		Identity      string   `db:"identity"`
		AlsoLocal     bool     `db:"also_local"`
		Generated     *string  `db:"generated"`
		SeqOID        *uint32  `db:"seq_oid"`
		SeqSchema     *string  `db:"seq_schema"`
		SeqName       *string  `db:"seq_name"`
		GeneratedDeps []string `db:"generated_deps"`
	}
	return forTables(ctx, l, columnsSQL, func(r row) uint32 { return r.OID }, func(t *Table, r row) {
		t.Columns = append(t.Columns, Column{
			Name:          r.Name,
			Num:           r.Num,
			Type:          r.Type,
			NotNull:       r.NotNull,
			NotNullName:   deref(r.NotNullName),
			Default:       deref(r.Default),
			Identity:      r.Identity,
			Generated:     deref(r.Generated),
			Sequence:      qname(r.SeqSchema, r.SeqName),
			GeneratedDeps: nilIfEmpty(r.GeneratedDeps),
			AlsoLocal:     r.AlsoLocal,
		})
		// A column may be fed by a sequence in a schema that is not being
		// loaded; the sequences query fetches those too.
		if r.SeqOID != nil {
			l.seqOIDs = append(l.seqOIDs, *r.SeqOID)
		}
	})
}
