package integration

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/planner"
)

var (
	keylessSchema = filepath.Join("testdata", "shapes", "keyless.sql")
	keylessTarget = planner.Target{Table: catalog.QName{Schema: "public", Name: "pgbench_accounts"}, Column: "aid"}
)

// keylessTables renders pgbench_accounts and the keyless pgbench_history.
var keylessTables = []shapeTable{
	{name: "pgbench_accounts", rows: `SELECT aid::text, concat_ws('|', aid, bid, abalance) FROM pgbench_accounts`},
	{name: "pgbench_history", rows: historyRow("FROM pgbench_history")},
}

func historyRow(from string) string {
	return `SELECT note, concat_ws('|', tid, bid, coalesce(aid::text, 'null'), delta, mtime) ` + from
}

// keylessOps is a pgbench-like load that also moves history rows (an
// UPDATE writes the new version on another page, often one the walk has
// passed) and deletes them.
var keylessOps = []shapeOp{
	{table: "pgbench_history", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
		return `INSERT INTO pgbench_history (tid, bid, aid, delta, mtime, note) VALUES (1, 1, $1, $2, now(), $3) RETURNING ` +
			strings.TrimPrefix(historyRow(""), "SELECT "), []any{1 + w.rng.IntN(2000), w.rng.IntN(100) - 50, w.fresh()}, false, true
	}},
	{table: "pgbench_history", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
		note, ok := w.pick("pgbench_history")
		return `UPDATE pgbench_history SET aid = $1, delta = delta + 1 WHERE note = $2 RETURNING ` +
			strings.TrimPrefix(historyRow(""), "SELECT "), []any{1 + w.rng.IntN(2000), note}, false, ok
	}},
	{table: "pgbench_history", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
		note, ok := w.pick("pgbench_history")
		return `DELETE FROM pgbench_history WHERE note = $1 RETURNING note`, []any{note}, true, ok
	}},
	{table: "pgbench_accounts", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
		return `UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2 RETURNING aid::text, concat_ws('|', aid, bid, abalance)`,
			[]any{w.rng.IntN(100) - 50, 1 + w.rng.IntN(2000)}, false, true
	}},
}

// TestShapeKeylessTable migrates pgbench_accounts.aid, which pulls in
// pgbench_history.aid, a table with no key, under a pgbench-like writer
// that also moves and deletes history rows: the ctid walk (a TID Range
// Scan on 14+, TID lists before) must copy every row that existed before
// prepare, and the cutover's verification walk must find them all equal.
func TestShapeKeylessTable(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, keylessSchema)
	p := buildPlan(t, ctx, db, keylessTarget)
	want := planner.WalkCtidRange
	if serverVersion(t, ctx, db) < 140000 {
		want = planner.WalkCtidList
	}
	walks := walkMethods(p)
	if walks["public.pgbench_history"] != want || walks["public.pgbench_accounts"] != planner.WalkKey {
		t.Fatalf("walks = %v, want pgbench_history by %s and pgbench_accounts by key", walks, want)
	}
	w := newShapeWriter(t, ctx, db, keylessTables, keylessOps)
	migrateUnder(t, ctx, db, keylessTarget, w)
}

// TestShapeKeylessVerify makes the cutover's verification walk of the
// keyless table find a row whose shadow was written with the sync trigger
// bypassed: the cutover must refuse, and backfill again must repair it.
func TestShapeKeylessVerify(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, keylessSchema)
	e := newEngine(t, db, engineConfig(), noHooks)
	runTarget(t, ctx, e, keylessTarget, "prepare", "backfill")
	before := readModel(t, ctx, db.Pool, historyRow("FROM pgbench_history"))
	// The last page the walk reads, so a walk that stopped short misses it.
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{"SET LOCAL session_replication_role = replica",
		"UPDATE pgbench_history SET aid_pgwiden_new = -7 WHERE note = 'h3999'"} {
		if _, err := tx.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	err = e.m.Cutover(ctx, keylessTarget)
	if err == nil || !strings.Contains(err.Error(), "1 row(s) of public.pgbench_history have a shadow value that differs") {
		t.Fatalf("cutover = %v, want the verification to find the one differing row of pgbench_history", err)
	}
	if typ := columnType(t, ctx, db.Pool, "pgbench_history", "aid"); typ != "integer" {
		t.Fatalf("after the refused cutover pgbench_history.aid is %s, want integer (no swap)", typ)
	}
	runTarget(t, ctx, e, keylessTarget, "backfill", "cutover", "cleanup")
	if after := readModel(t, ctx, db.Pool, historyRow("FROM pgbench_history")); !maps.Equal(after, before) {
		t.Errorf("history rows changed:\n%s", firstDiff(joinLines(modelLines(before)), joinLines(modelLines(after))))
	}
	for _, tab := range []string{"pgbench_accounts", "pgbench_history"} {
		if typ := columnType(t, ctx, db.Pool, tab, "aid"); typ != "bigint" {
			t.Errorf("%s.aid is %s, want bigint", tab, typ)
		}
	}
}

// runTarget runs phases of one target in order, failing on an error.
func runTarget(t *testing.T, ctx context.Context, e *engine, target planner.Target, phases ...string) {
	t.Helper()
	run := map[string]func(context.Context, planner.Target) error{
		"prepare": e.m.Prepare, "backfill": e.m.Backfill, "cutover": e.m.Cutover, "cleanup": e.m.Cleanup, "rollback": e.m.Rollback,
	}
	for _, ph := range phases {
		f := run[ph]
		if f == nil {
			t.Fatal(errors.New("no phase " + ph))
		}
		if err := f(ctx, target); err != nil {
			t.Fatalf("%s %s: %v", ph, target, err)
		}
	}
}
