package catalog

import (
	"context"
	_ "embed" // the queries live in queries/*.sql
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Querier is what Load needs from a connection. *pgx.Conn, pgx.Tx and
// *pgxpool.Pool all satisfy it.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	// Begin starts a transaction (a savepoint inside a pgx.Tx).
	Begin(ctx context.Context) (pgx.Tx, error)
}

// loadSettings make every definition the server prints schema-qualified
// (pg_get_expr, pg_get_viewdef, ... qualify only names not visible on the
// search_path) so the SQL built from them means the same in any session,
// and bound how long reading a size may wait behind an exclusive lock.
const loadSettings = `SET LOCAL search_path TO pg_catalog, pg_temp; SET LOCAL lock_timeout = '10s'`

//go:embed queries/server.sql
var serverSQL string

// Load reads the tables of schemas (every user schema when schemas is
// empty), their columns, constraints, indexes, triggers, policies and
// inheritance, the sequences that feed them and the views and rules that
// read their columns.
//
// Load runs catalog queries only: it never scans a table and needs no
// superuser, so a table owner on a managed service can run it. Sizes are
// read with pg_relation_size, which takes ACCESS SHARE on each table and
// index for an instant; set lock_timeout on q to avoid waiting behind an
// ACCESS EXCLUSIVE lock. Each query sees its own snapshot unless q is a
// REPEATABLE READ transaction; such a transaction should be short, because
// pg_get_viewdef keeps ACCESS SHARE on the tables a view reads until it ends.
//
// The result is sorted (tables by schema and name, columns by number, the
// rest by name) so that its JSON is stable.
func Load(ctx context.Context, q Querier, schemas []string) (*Snapshot, error) {
	// Load only reads: rolling back ends the transaction or, inside a
	// caller's transaction, the savepoint, and with it the SET LOCALs.
	tx, err := q.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalog: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // nothing was written
	if _, err := tx.Exec(ctx, loadSettings); err != nil {
		return nil, fmt.Errorf("catalog: set search_path: %w", err)
	}
	l := &loader{q: tx, snap: &Snapshot{}, byOID: map[uint32]int{}}
	row := tx.QueryRow(ctx, serverSQL)
	if err := row.Scan(&l.snap.ServerVersion, &l.snap.Database, &l.snap.CurrentUser, &l.snap.Superuser); err != nil {
		return nil, fmt.Errorf("catalog: read server info: %w", err)
	}
	if err := CheckServerVersion(l.snap.ServerVersion); err != nil {
		return nil, fmt.Errorf("database %s: %w", l.snap.Database, err)
	}
	steps := []struct {
		what string
		run  func(context.Context) error
	}{
		{"schemas", func(ctx context.Context) error { return l.loadSchemas(ctx, schemas) }},
		{"tables", l.loadTables},
		{"columns", l.loadColumns},
		{"column metadata", l.loadColumnMeta},
		{"constraints", l.loadConstraints},
		{"indexes", l.loadIndexes},
		{"triggers", l.loadTriggers},
		{"policies", l.loadPolicies},
		{"inheritance", l.loadInherits},
		{"partition keys", l.loadPartKeys},
		{"publications", l.loadPublications},
		{"sequences", l.loadSequences},
		{"views and rules", l.loadViews},
		{"Citus topology", l.loadCitus},
	}
	for _, s := range steps {
		if err := s.run(ctx); err != nil {
			return nil, fmt.Errorf("catalog: load %s of database %s: %w", s.what, l.snap.Database, err)
		}
	}
	sortSnapshot(l.snap)
	return l.snap, nil
}

// loader carries what one Load has read so far: later queries are limited
// to the tables (by OID) that the tables query returned, so every object
// they find has a table to hang on.
type loader struct {
	q    Querier
	snap *Snapshot
	// nspOIDs are the schemas being loaded.
	nspOIDs []uint32
	// oids are the loaded tables; byOID maps a table's OID to its index in
	// snap.Tables.
	oids  []uint32
	byOID map[uint32]int
	// seqOIDs are sequences feeding loaded columns, wherever they live.
	seqOIDs []uint32
}

// table returns the loaded table with OID oid, or nil when it is not loaded
// (it appeared after the tables query ran).
func (l *loader) table(oid uint32) *Table {
	i, ok := l.byOID[oid]
	if !ok {
		return nil
	}
	return &l.snap.Tables[i]
}

// forTables runs sql for the loaded tables and hands each row, with its
// table, to add; rows of tables that appeared after the tables query ran
// are skipped.
func forTables[T any](ctx context.Context, l *loader, sql string, oid func(T) uint32, add func(*Table, T)) error {
	rows, err := collect[T](ctx, l.q, sql, l.oids)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if t := l.table(oid(r)); t != nil {
			add(t, r)
		}
	}
	return nil
}

// collect runs sql and scans every row into a T by column name.
func collect[T any](ctx context.Context, q Querier, sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[T])
}

// qname builds a *QName from nullable parts, nil when the name is absent.
func qname(schema, name *string) *QName {
	if schema == nil || name == nil {
		return nil
	}
	return &QName{Schema: *schema, Name: *name}
}

// deref returns *s, or "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// nilIfEmpty turns an empty slice into nil. Fields tagged omitempty drop an
// empty slice from JSON and decode it as nil, so Load stores nil to make a
// Snapshot round-trip through JSON unchanged.
func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
