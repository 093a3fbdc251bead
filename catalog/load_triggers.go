package catalog

import (
	"context"
	_ "embed" // the queries live in queries/*.sql
)

var (
	//go:embed queries/triggers.sql
	triggersSQL string
	//go:embed queries/policies.sql
	policiesSQL string
)

// loadTriggers reads the user triggers of the loaded tables, including the
// clones a partitioned parent's trigger puts on its partitions.
func (l *loader) loadTriggers(ctx context.Context) error {
	type row struct {
		OID            uint32   `db:"oid"`
		Name           string   `db:"name"`
		Def            string   `db:"def"`
		FuncSchema     string   `db:"func_schema"`
		FuncName       string   `db:"func_name"`
		FunctionConfig []string `db:"function_config"`
		Enabled        string   `db:"enabled"`
		Inherited      bool     `db:"inherited"`
		Columns        []string `db:"columns"`
	}
	return forTables(ctx, l, triggersSQL, func(r row) uint32 { return r.OID }, func(t *Table, r row) {
		t.Triggers = append(t.Triggers, Trigger{
			Name:           r.Name,
			Def:            r.Def,
			Function:       QName{Schema: r.FuncSchema, Name: r.FuncName},
			Enabled:        r.Enabled,
			Inherited:      r.Inherited,
			FunctionConfig: nilIfEmpty(r.FunctionConfig),
			Columns:        nilIfEmpty(r.Columns),
		})
	})
}

// loadPolicies reads the row-level security policies of the loaded tables.
func (l *loader) loadPolicies(ctx context.Context) error {
	type row struct {
		OID     uint32   `db:"oid"`
		Name    string   `db:"name"`
		Def     string   `db:"def"`
		Columns []string `db:"columns"`
	}
	rows, err := collect[row](ctx, l.q, policiesSQL, l.oids)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if t := l.table(r.OID); t != nil {
			t.Policies = append(t.Policies, Policy{Name: r.Name, Def: r.Def, Columns: nilIfEmpty(r.Columns)})
		}
	}
	return nil
}
