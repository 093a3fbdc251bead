package integration

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// TestSyncTriggerCalls: the sync function runs only for a row whose copy
// is missing or stale. The backfill's own UPDATE, and an application's
// UPDATE of a row already copied, never call it (the trigger's WHEN
// condition), yet every row ends with its copy. Counted by the server
// itself, in one transaction (pg_stat_get_xact_function_calls).
func TestSyncTriggerCalls(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	e := newEngine(t, db, engineConfig(), noHooks)
	e.run(t, ctx, "prepare")

	var existing int64
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM "Tags"`).Scan(&existing); err != nil {
		t.Fatal(err)
	}
	if existing == 0 {
		t.Fatal("the schema's fixture has no Tags rows: nothing for the backfill to copy")
	}
	calls := func(tx pgx.Tx) int64 {
		t.Helper()
		var n int64
		err := tx.QueryRow(ctx, `SELECT coalesce(pg_stat_get_xact_function_calls(tgfoid), 0) FROM pg_trigger
			WHERE tgrelid = '"Tags"'::regclass AND tgname = 'zz_pgwiden_sync'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	steps := []struct {
		what, sql string
		want      int64 // calls of the sync function after the statement
	}{
		{"the backfill's UPDATE of every row", `UPDATE "Tags" SET "Id_pgwiden_new" = "Id" WHERE "Id_pgwiden_new" IS DISTINCT FROM "Id"`, 0},
		{"an UPDATE of another column of a copied row", `UPDATE "Tags" SET name = name || '!' WHERE "Id" = (SELECT min("Id") FROM "Tags")`, 0},
		{"an INSERT", `INSERT INTO "Tags" (tenant_id, name) SELECT min(id), 'new tag' FROM tenants`, 1},
		{"an UPDATE of a row whose copy is stale", `UPDATE "Tags" SET "Id_pgwiden_new" = -1 WHERE "Id" = (SELECT min("Id") FROM "Tags")`, 2},
	}
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL track_functions = 'pl'"); err != nil {
			return err
		}
		for _, s := range steps {
			if _, err := tx.Exec(ctx, s.sql); err != nil {
				return err
			}
			if got := calls(tx); got != s.want {
				t.Errorf("after %s: the sync function ran %d times in all, want %d", s.what, got, s.want)
			}
		}
		var wrong int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM "Tags" WHERE "Id_pgwiden_new" IS DISTINCT FROM "Id"`).Scan(&wrong); err != nil {
			return err
		}
		if wrong != 0 {
			t.Errorf("%d rows of %d have no copy or a wrong one", wrong, existing+1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSyncTriggerProtectsColumns: while a migration is under way, the
// server itself refuses to retype a closure column or to drop a shadow
// column, because the sync trigger's WHEN condition depends on both. The
// migration then goes on to the end.
func TestSyncTriggerProtectsColumns(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	e := newEngine(t, db, engineConfig(), noHooks)
	e.run(t, ctx, "prepare", "backfill")
	before := catalogDump(t, db)
	for _, c := range []struct{ sql, code string }{
		{`ALTER TABLE tag_stat_snapshots ALTER COLUMN tag_id TYPE bigint`, "0A000"},
		{`ALTER TABLE tag_details DROP COLUMN "TagId_pgwiden_new"`, "2BP01"},
	} {
		_, err := db.Pool.Exec(ctx, c.sql)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != c.code || !strings.Contains(pe.Detail, "zz_pgwiden_sync") {
			t.Errorf("%s: %v; want SQLSTATE %s naming trigger zz_pgwiden_sync", c.sql, err, c.code)
		}
	}
	if after := catalogDump(t, db); after != before {
		t.Errorf("a refused statement changed the schema:\n%s", firstDiff(before, after))
	}
	e.run(t, ctx, "cutover", "cleanup")
	assertNoPgwidenObjects(t, context.WithoutCancel(ctx), db)
}
