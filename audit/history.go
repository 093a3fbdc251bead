package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/state"
)

// HistoryTable keeps the readings of `pgwiden audit --record`: one row per
// finding and run (taken_at, object, kind, value, limit).
var HistoryTable = catalog.QName{Schema: "pgwiden", Name: "audit_history"}

// HistoryWindow is how far back ReadHistory looks: growth a month ago says
// little about growth now.
const HistoryWindow = 30 * 24 * time.Hour

// HistoryKey identifies a series: readings taken under another limit (before
// a widening) belong to another series.
type HistoryKey struct {
	Object string
	Limit  int64
}

// History holds recorded samples by series, oldest first.
type History map[HistoryKey][]Sample

// Beginner starts a transaction; *pgxpool.Pool and *pgx.Conn are ones.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// ReadHistory reads the samples taken since then. It only reads: when the
// table does not exist (--record never ran) there is no history.
func ReadHistory(ctx context.Context, q Querier, since time.Time) (History, error) {
	var exists bool
	err := q.QueryRow(ctx, "/* pgwiden audit */ SELECT to_regclass($1) IS NOT NULL", HistoryTable.Quoted()).Scan(&exists)
	if err != nil {
		return nil, fmt.Errorf("look for %s: %w", HistoryTable, err)
	}
	h := History{}
	if !exists {
		return h, nil
	}
	sql := "/* pgwiden audit */ SELECT object, " + catalog.Ident("limit") + ", taken_at, value FROM " + HistoryTable.Quoted() +
		" WHERE taken_at >= $1 ORDER BY taken_at" // names quoted by catalog
	rows, err := q.Query(ctx, sql, since)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", HistoryTable, err)
	}
	var k HistoryKey
	var s Sample
	_, err = pgx.ForEachRow(rows, []any{&k.Object, &k.Limit, &s.At, &s.Value}, func() error {
		h[k] = append(h[k], s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", HistoryTable, err)
	}
	return h, nil
}

// Record stores the findings whose value is known in HistoryTable, creating
// it when missing, and returns how many rows it wrote. It is the only write
// the audit makes.
func Record(ctx context.Context, db Beginner, fs []Finding) (int, error) {
	var objects, kinds []string
	var values, limits []int64
	for _, f := range fs {
		if f.Current != nil {
			objects, kinds = append(objects, f.Object), append(kinds, f.Kind)
			values, limits = append(values, *f.Current), append(limits, f.Limit)
		}
	}
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if err := ensureHistoryTable(ctx, tx); err != nil {
			return err
		}
		sql := "/* pgwiden audit */ INSERT INTO " + HistoryTable.Quoted() + " (object, kind, value, " + catalog.Ident("limit") + ")" +
			" SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])" // names quoted by catalog
		if _, err := tx.Exec(ctx, sql, objects, kinds, values, limits); err != nil {
			return fmt.Errorf("insert into %s: %w", HistoryTable, err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("record audit history: %w", err)
	}
	return len(objects), nil
}

// ensureHistoryTable creates the schema, table and index unless they exist.
// It looks first rather than relying on IF NOT EXISTS alone, because CREATE
// ... IF NOT EXISTS checks the CREATE privilege even when there is nothing
// to create, and a monitoring role may only have INSERT on the table.
func ensureHistoryTable(ctx context.Context, tx pgx.Tx) error {
	// The state package's key: the schema's DDL never runs twice at once. The
	// DDL waits at most 5s for a lock, as state.Ensure's does.
	if _, err := tx.Exec(ctx, "/* pgwiden audit */ SELECT set_config('lock_timeout', '5s', true)"); err != nil {
		return fmt.Errorf("lock schema %s: %w", HistoryTable.Schema, err)
	}
	if _, err := tx.Exec(ctx, "/* pgwiden audit */ SELECT pg_advisory_xact_lock($1)", state.SchemaLockKey); err != nil {
		return fmt.Errorf("lock schema %s: %w", HistoryTable.Schema, err)
	}
	var haveSchema, haveTable bool
	err := tx.QueryRow(ctx, "/* pgwiden audit */ SELECT to_regnamespace($1) IS NOT NULL, to_regclass($2) IS NOT NULL",
		catalog.Ident(HistoryTable.Schema), HistoryTable.Quoted()).Scan(&haveSchema, &haveTable)
	if err != nil {
		return fmt.Errorf("look for %s: %w", HistoryTable, err)
	}
	var ddl []string
	if !haveSchema {
		ddl = append(ddl, "CREATE SCHEMA IF NOT EXISTS "+catalog.Ident(HistoryTable.Schema))
	}
	if !haveTable {
		ddl = append(ddl,
			"CREATE TABLE IF NOT EXISTS "+HistoryTable.Quoted()+" (taken_at timestamptz NOT NULL DEFAULT now(), object text NOT NULL,"+
				" kind text NOT NULL, value bigint NOT NULL, "+catalog.Ident("limit")+" bigint NOT NULL)",
			"CREATE INDEX IF NOT EXISTS "+catalog.Ident(catalog.Derive(HistoryTable.Name, "_taken_at_idx"))+
				" ON "+HistoryTable.Quoted()+" (taken_at)")
	}
	for _, sql := range ddl {
		if _, err := tx.Exec(ctx, "/* pgwiden audit */ "+sql); err != nil {
			return fmt.Errorf("create %s: %w", HistoryTable, err)
		}
	}
	return nil
}
