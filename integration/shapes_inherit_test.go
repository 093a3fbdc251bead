package integration

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/planner"
)

// TestShapeInheritance targets a child of a classic inheritance tree: the
// parent and both children widen together (a child's inherited column
// follows its parent's), each table walked on its own (ONLY), the child
// with no key by ctid, and the key referencing a child rebuilt, under a
// writer inserting into every table of the tree.
func TestShapeInheritance(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, filepath.Join("testdata", "shapes", "inherit.sql"))
	const row = `note, concat_ws('|', id, city_id, tableoid::regclass)`
	tables := []shapeTable{
		{name: "measurement", rows: `SELECT ` + row + ` FROM measurement`},
		{name: "reading", rows: `SELECT note, concat_ws('|', reading_id, measurement_id) FROM reading`},
	}
	ops := []shapeOp{}
	for _, tab := range []string{"measurement", "measurement_2023", "measurement_2024"} {
		ops = append(ops, shapeOp{table: "measurement", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			return `INSERT INTO ` + tab + ` (city_id, note) VALUES ($1, $2) RETURNING ` + row, []any{w.rng.IntN(900), w.fresh()}, false, true
		}})
	}
	ops = append(ops,
		shapeOp{table: "measurement", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			note, ok := w.pick("measurement")
			return `UPDATE measurement SET city_id = $1 WHERE note = $2 RETURNING ` + row, []any{w.rng.IntN(900), note}, false, ok
		}},
		shapeOp{table: "reading", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			return `INSERT INTO reading (measurement_id, note) SELECT id, $1 FROM measurement_2023 ORDER BY random() LIMIT 1 RETURNING note, concat_ws('|', reading_id, measurement_id)`,
				[]any{w.fresh()}, false, true
		}},
	)
	target := planner.Target{Table: catalog.QName{Schema: "public", Name: "measurement_2024"}, Column: "id"}
	p := buildPlan(t, ctx, db, target)
	if got := p.Tables[0]; got.Table.Name != "measurement" || len(got.Leaves) != 3 {
		t.Fatalf("first table of the plan: %+v, want measurement with its two children", got)
	}
	walks := walkMethods(p)
	if walks["public.measurement_2024"] == planner.WalkKey || walks["public.measurement_2023"] != planner.WalkKey {
		t.Errorf("walks = %v, want measurement_2023 by its key and measurement_2024 by ctid", walks)
	}
	migrateUnder(t, ctx, db, target, newShapeWriter(t, ctx, db, tables, ops))
}

// TestShapeInheritanceChildAfterPrepare creates a child between prepare
// and cutover: it has the shadow column (inherited) but no sync trigger
// (triggers are not), so its rows would lose their values at the swap.
// The cutover must refuse, naming it.
func TestShapeInheritanceChildAfterPrepare(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, filepath.Join("testdata", "shapes", "inherit.sql"))
	target := planner.Target{Table: catalog.QName{Schema: "public", Name: "measurement"}, Column: "id"}
	e := newEngine(t, db, engineConfig(), noHooks)
	runTarget(t, ctx, e, target, "prepare", "backfill")
	db.Exec(t, `CREATE TABLE measurement_2025 () INHERITS (measurement)`)
	db.Exec(t, `INSERT INTO measurement_2025 (city_id, note) VALUES (1, 'late')`)
	err := e.m.Cutover(ctx, target)
	if err == nil || !strings.Contains(err.Error(), "public.measurement_2025: inheriting from public.measurement since the migration was prepared") {
		t.Fatalf("cutover = %v, want a refusal naming measurement_2025", err)
	}
	if typ := columnType(t, ctx, db.Pool, "measurement", "id"); typ != "integer" {
		t.Errorf("measurement.id is %s after the refused cutover, want integer", typ)
	}
}
