package catalog

import (
	"context"
	_ "embed" // the queries live in queries/*.sql
	"fmt"
	"slices"
)

var (
	//go:embed queries/schemas.sql
	schemasSQL string
	//go:embed queries/tables.sql
	tablesSQL string
	//go:embed queries/publications.sql
	publicationsSQL string
)

// loadSchemas resolves the schema names to OIDs. A schema that was asked for
// but does not exist is an error rather than an empty result, so a typo in
// --schema cannot look like a database with nothing to widen.
func (l *loader) loadSchemas(ctx context.Context, schemas []string) error {
	type row struct {
		OID  uint32 `db:"oid"`
		Name string `db:"name"`
	}
	rows, err := collect[row](ctx, l.q, schemasSQL, schemas)
	if err != nil {
		return err
	}
	found := make([]string, 0, len(rows))
	for _, r := range rows {
		l.nspOIDs = append(l.nspOIDs, r.OID)
		found = append(found, r.Name)
	}
	var missing []string
	for _, s := range schemas {
		if !slices.Contains(found, s) {
			missing = append(missing, s)
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		return fmt.Errorf("schema %q does not exist (names are case-sensitive)", missing[0])
	default:
		return fmt.Errorf("schemas %q do not exist (names are case-sensitive)", missing)
	}
	return nil
}

// loadTables reads the tables of the loaded schemas.
func (l *loader) loadTables(ctx context.Context) error {
	type row struct {
		OID             uint32  `db:"oid"`
		Schema          string  `db:"schema"`
		Name            string  `db:"name"`
		Relkind         string  `db:"relkind"`
		Unlogged        bool    `db:"unlogged"`
		Owner           string  `db:"owner"`
		Owned           bool    `db:"owned"`
		RowEstimate     float64 `db:"row_estimate"`
		TableBytes      int64   `db:"table_bytes"`
		TotalBytes      int64   `db:"total_bytes"`
		RLSEnabled      bool    `db:"rls_enabled"`
		ReplicaIdentity string  `db:"replica_identity"`
		Pages           int64   `db:"pages"`
		AccessMethod    string  `db:"access_method"`
	}
	rows, err := collect[row](ctx, l.q, tablesSQL, l.nspOIDs)
	if err != nil {
		return err
	}
	l.snap.Tables = make([]Table, 0, len(rows))
	for _, r := range rows {
		kind := "table"
		if r.Relkind == "p" {
			kind = "partitioned"
		}
		l.byOID[r.OID] = len(l.snap.Tables)
		l.oids = append(l.oids, r.OID)
		l.snap.Tables = append(l.snap.Tables, Table{
			Name:            QName{Schema: r.Schema, Name: r.Name},
			Kind:            kind,
			Unlogged:        r.Unlogged,
			Owner:           r.Owner,
			Owned:           r.Owned,
			RowEstimate:     r.RowEstimate,
			TableBytes:      r.TableBytes,
			TotalBytes:      r.TotalBytes,
			RLSEnabled:      r.RLSEnabled,
			ReplicaIdentity: r.ReplicaIdentity,
			Pages:           r.Pages,
			AccessMethod:    r.AccessMethod,
		})
	}
	return nil
}

// loadPublications records which publications publish each table.
func (l *loader) loadPublications(ctx context.Context) error {
	type row struct {
		OID     uint32 `db:"oid"`
		PubName string `db:"pubname"`
	}
	rows, err := collect[row](ctx, l.q, publicationsSQL, l.oids)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if t := l.table(r.OID); t != nil && !slices.Contains(t.Publications, r.PubName) {
			t.Publications = append(t.Publications, r.PubName)
		}
	}
	return nil
}
