package catalog

import (
	"context"
	_ "embed" // the queries live in queries/*.sql
)

//go:embed queries/views.sql
var viewsSQL string

// loadViews reads the views, materialized views and rules that read
// columns of the loaded tables, directly or through another such view.
func (l *loader) loadViews(ctx context.Context) error {
	type row struct {
		RuleOID    uint32   `db:"rule_oid"`
		Schema     string   `db:"schema"`
		Name       string   `db:"name"`
		Kind       string   `db:"kind"`
		Definition string   `db:"definition"`
		RuleTable  *string  `db:"rule_table"`
		Owner      string   `db:"owner"`
		Owned      bool     `db:"owned"`
		Options    []string `db:"options"`
		Comment    *string  `db:"comment"`
		Grants     []string `db:"grants"`
		Indexes    []string `db:"indexes"`
		Populated  bool     `db:"populated"`
		RefSchema  string   `db:"ref_schema"`
		RefTable   string   `db:"ref_table"`
		RefColumn  string   `db:"ref_column"`
	}
	// One row per (rule, column read), ordered by rule: consecutive rows of
	// one rule fold into one View.
	rows, err := collect[row](ctx, l.q, viewsSQL, l.oids)
	if err != nil {
		return err
	}
	l.snap.Views = make([]View, 0, len(rows))
	var last uint32
	for i, r := range rows {
		if i == 0 || r.RuleOID != last {
			v := View{Name: QName{Schema: r.Schema, Name: r.Name}, Kind: r.Kind, Definition: r.Definition,
				Owner: r.Owner, Owned: r.Owned, Options: nilIfEmpty(r.Options), Comment: deref(r.Comment), Grants: nilIfEmpty(r.Grants),
				Indexes: nilIfEmpty(r.Indexes), Populated: r.Populated}
			if r.RuleTable != nil {
				v.RuleTable = &QName{Schema: r.Schema, Name: *r.RuleTable}
			}
			l.snap.Views = append(l.snap.Views, v)
			last = r.RuleOID
		}
		v := &l.snap.Views[len(l.snap.Views)-1]
		v.DependsOn = append(v.DependsOn, ColumnRef{
			Table:  QName{Schema: r.RefSchema, Name: r.RefTable},
			Column: r.RefColumn,
		})
	}
	return nil
}
