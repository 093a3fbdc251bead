package integration

import (
	"path/filepath"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/planner"
)

// TestShapeKeywordColumns migrates series.first, referenced by columns
// named hash, last and "position", whose indexes use USING hash, DESC
// NULLS LAST, NULLS FIRST, INCLUDE, COLLATE, storage parameters and WHERE:
// every index must come back with the same definition (assertFactsAsBefore
// compares them), on the new columns, under a writer.
func TestShapeKeywordColumns(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, filepath.Join("testdata", "shapes", "keywords.sql"))
	const row = `note, concat_ws('|', id, hash, coalesce(last::text, 'null'), "position", name)`
	tables := []shapeTable{
		{name: "series", rows: `SELECT note, concat_ws('|', first, name) FROM series`},
		{name: "point", rows: `SELECT ` + row + ` FROM point`},
	}
	ops := []shapeOp{
		{table: "point", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			return `INSERT INTO point (hash, last, "position", name, note) VALUES ($1, $2, $3, 'new', $4) RETURNING ` + row,
				[]any{1 + w.rng.IntN(200), 1 + w.rng.IntN(200), 1 + w.rng.IntN(200), w.fresh()}, false, true
		}},
		{table: "point", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			note, ok := w.pick("point")
			return `UPDATE point SET last = $1, hash = $2 WHERE note = $3 RETURNING ` + row, []any{1 + w.rng.IntN(200), 1 + w.rng.IntN(200), note}, false, ok
		}},
		{table: "point", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			note, ok := w.pick("point")
			return `DELETE FROM point WHERE note = $1 RETURNING note`, []any{note}, true, ok
		}},
	}
	target := planner.Target{Table: catalog.QName{Schema: "public", Name: "series"}, Column: "first"}
	p := migrateUnder(t, ctx, db, target, newShapeWriter(t, ctx, db, tables, ops))
	if n := len(p.Tables[1].Columns); n != 3 {
		t.Errorf("point widens %d columns, want hash, last and position", n)
	}
}
