package catalog

import (
	"context"
	_ "embed" // the queries live in queries/*.sql
)

var (
	//go:embed queries/column_meta.sql
	columnMetaSQL string
	//go:embed queries/column_grants.sql
	columnGrantsSQL string
	//go:embed queries/statistics.sql
	statisticsSQL string
	//go:embed queries/publication_columns.sql
	publicationColumnsSQL string
)

// pubColumnsVersion is the first server version with publication column
// lists and row filters (pg_publication_rel.prattrs, prqual).
const pubColumnsVersion = 150000

// loadColumnMeta reads what hangs on the loaded tables' columns beyond
// their definition (ColumnMeta), their extended statistics objects and
// their publications' column lists and row filters. It runs after
// loadColumns: each row attaches to a column already loaded.
func (l *loader) loadColumnMeta(ctx context.Context) error {
	for _, load := range []func(context.Context) error{l.loadColumnSettings, l.loadColumnGrants, l.loadStatistics, l.loadPublishedColumns} {
		if err := load(ctx); err != nil {
			return err
		}
	}
	return nil
}

// meta returns the ColumnMeta of column name of t, creating it, or nil
// when the column is not loaded.
func meta(t *Table, name string) *ColumnMeta {
	c := t.Column(name)
	if c == nil {
		return nil
	}
	if c.Meta == nil {
		c.Meta = &ColumnMeta{}
	}
	return c.Meta
}

func (l *loader) loadColumnSettings(ctx context.Context) error {
	type row struct {
		OID            uint32   `db:"oid"`
		Name           string   `db:"name"`
		Comment        *string  `db:"comment"`
		StatsTarget    *int     `db:"stats_target"`
		Options        []string `db:"options"`
		LabelProviders []string `db:"label_providers"`
		Labels         []string `db:"labels"`
	}
	return forTables(ctx, l, columnMetaSQL, func(r row) uint32 { return r.OID }, func(t *Table, r row) {
		m := meta(t, r.Name)
		if m == nil {
			return
		}
		m.Comment, m.StatsTarget, m.Options = deref(r.Comment), r.StatsTarget, nilIfEmpty(r.Options)
		for i, p := range r.LabelProviders {
			m.Labels = append(m.Labels, SecurityLabel{Provider: p, Label: r.Labels[i]})
		}
	})
}

func (l *loader) loadColumnGrants(ctx context.Context) error {
	type row struct {
		OID       uint32 `db:"oid"`
		Name      string `db:"name"`
		Privilege string `db:"privilege"`
		Grantee   string `db:"grantee"`
		Grantor   string `db:"grantor"`
		Grantable bool   `db:"grantable"`
		AsGrantor bool   `db:"as_grantor"`
	}
	return forTables(ctx, l, columnGrantsSQL, func(r row) uint32 { return r.OID }, func(t *Table, r row) {
		if m := meta(t, r.Name); m != nil {
			m.Grants = append(m.Grants, ColumnGrant{Privilege: r.Privilege, Grantee: r.Grantee, Grantor: r.Grantor,
				Grantable: r.Grantable, AsGrantor: r.AsGrantor})
		}
	})
}

func (l *loader) loadStatistics(ctx context.Context) error {
	type row struct {
		OID     uint32   `db:"oid"`
		Schema  string   `db:"schema"`
		Name    string   `db:"name"`
		Def     string   `db:"def"`
		Columns []string `db:"columns"`
		Target  *int     `db:"target"`
		Owner   string   `db:"owner"`
		Comment *string  `db:"comment"`
	}
	return forTables(ctx, l, statisticsSQL, func(r row) uint32 { return r.OID }, func(t *Table, r row) {
		t.Statistics = append(t.Statistics, Statistics{Name: QName{Schema: r.Schema, Name: r.Name}, Def: r.Def,
			Columns: r.Columns, Target: r.Target, Owner: r.Owner, Comment: deref(r.Comment)})
	})
}

// loadPublishedColumns reads column lists and row filters, which exist
// from PostgreSQL 15 on; before that a publication publishes whole rows.
func (l *loader) loadPublishedColumns(ctx context.Context) error {
	if l.snap.ServerVersion < pubColumnsVersion {
		return nil
	}
	type row struct {
		OID         uint32   `db:"oid"`
		Publication string   `db:"publication"`
		Columns     []string `db:"columns"`
		RowFilter   *string  `db:"row_filter"`
		DependsOn   []string `db:"depends_on"`
		Owned       bool     `db:"owned"`
	}
	return forTables(ctx, l, publicationColumnsSQL, func(r row) uint32 { return r.OID }, func(t *Table, r row) {
		t.PublishedColumns = append(t.PublishedColumns, PublishedTable{Publication: r.Publication, Columns: r.Columns,
			RowFilter: deref(r.RowFilter), DependsOn: r.DependsOn, Owned: r.Owned})
	})
}
