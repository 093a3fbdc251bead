package catalog

import (
	"context"
	_ "embed" // the queries live in queries/*.sql
)

//go:embed queries/sequences.sql
var sequencesSQL string

// loadSequences reads the sequences of the loaded schemas and those feeding
// loaded columns from other schemas.
func (l *loader) loadSequences(ctx context.Context) error {
	type row struct {
		Schema      string  `db:"schema"`
		Name        string  `db:"name"`
		DataType    string  `db:"data_type"`
		Min         int64   `db:"min"`
		Max         int64   `db:"max"`
		Increment   int64   `db:"increment"`
		Cycle       bool    `db:"cycle"`
		Start       int64   `db:"start"`
		Cache       int64   `db:"cache"`
		LastValue   *int64  `db:"last_value"`
		OwnerSchema *string `db:"owner_schema"`
		OwnerTable  *string `db:"owner_table"`
		OwnerColumn *string `db:"owner_column"`
		Identity    bool    `db:"identity"`
	}
	rows, err := collect[row](ctx, l.q, sequencesSQL, l.nspOIDs, l.seqOIDs)
	if err != nil {
		return err
	}
	l.snap.Sequences = make([]Sequence, 0, len(rows))
	for _, r := range rows {
		s := Sequence{
			Name:      QName{Schema: r.Schema, Name: r.Name},
			DataType:  r.DataType,
			Min:       r.Min,
			Max:       r.Max,
			Increment: r.Increment,
			Cycle:     r.Cycle,
			Start:     r.Start,
			Cache:     r.Cache,
			LastValue: r.LastValue,
			Identity:  r.Identity,
		}
		if t := qname(r.OwnerSchema, r.OwnerTable); t != nil && r.OwnerColumn != nil {
			s.OwnedBy = &ColumnRef{Table: *t, Column: *r.OwnerColumn}
		}
		l.snap.Sequences = append(l.snap.Sequences, s)
	}
	return nil
}
