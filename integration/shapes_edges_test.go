package integration

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/planner"
)

var edgesSchema = filepath.Join("testdata", "shapes", "edges.sql")

// TestShapeEdgeKeys migrates code.id and code.ext together: keys at both
// ends of integer, negative, with gaps; ext is referenced through a UNIQUE
// constraint with ON UPDATE CASCADE, id by a deferrable key. The writer
// changes ext (the cascade rewrites code_by_ext). Afterwards values beyond
// integer go in, and the deferrable key still defers.
func TestShapeEdgeKeys(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, edgesSchema)
	// code_by_ext rows are compared through the note of the code they
	// reference: the cascade changes their code_ext with the code's ext.
	tables := []shapeTable{
		{name: "code", rows: `SELECT note, concat_ws('|', id, ext) FROM code`},
		{name: "code_by_ext", rows: `SELECT x.note, c.note FROM code_by_ext x JOIN code c ON c.ext = x.code_ext`},
		{name: "code_deferred", rows: `SELECT note, code_id::text FROM code_deferred`},
	}
	ops := []shapeOp{
		{table: "code", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			note, ok := w.pick("code")
			// ext values are small (within +-5610) or the extremes; a step
			// of 100000007 never reaches another row's value, and rows
			// past 1e9 (the extremes) are left alone: integer overflows.
			return `UPDATE code SET ext = ext + 100000007 WHERE note = $1 AND abs(ext::bigint) < 1000000000 RETURNING note, concat_ws('|', id, ext)`,
				[]any{note}, false, ok
		}},
		{table: "code", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			n := w.seq + 1
			return `INSERT INTO code (id, ext, note) VALUES ($1, $2, $3) RETURNING note, concat_ws('|', id, ext)`, []any{-10_000_000 - n, 10_000_000 + n, w.fresh()}, false, true
		}},
		{table: "code_deferred", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			return `INSERT INTO code_deferred (code_id, note) SELECT id, $1 FROM code ORDER BY random() LIMIT 1 RETURNING note, code_id::text`, []any{w.fresh()}, false, true
		}},
	}
	target := planner.Target{Table: catalog.QName{Schema: "public", Name: "code"}, Column: "id", Also: []string{"ext"}}
	migrateUnder(t, ctx, db, target, newShapeWriter(t, ctx, db, tables, ops))

	db.Exec(t, `INSERT INTO code (id, ext, note) VALUES (2147483648, -2147483649, 'beyond'), (-2147483649, 2147483648, 'below')`)
	db.Exec(t, `INSERT INTO code_by_ext (code_ext, note) VALUES (2147483648, 'beyond ref')`)
	db.Exec(t, `UPDATE code SET ext = 3000000000 WHERE note = 'below'`)
	if got := readRows(t, ctx, db.Pool, `SELECT code_ext::text FROM code_by_ext WHERE note = 'beyond ref'`); strings.Join(got, "") != "3000000000" {
		t.Errorf("ON UPDATE CASCADE beyond integer: code_by_ext holds %v, want 3000000000", got)
	}
	// Deferred: the reference comes first, its key later in the same
	// transaction.
	db.Exec(t, `BEGIN; INSERT INTO code_deferred (code_id, note) VALUES (4000000000, 'early'); INSERT INTO code (id, ext, note) VALUES (4000000000, 4000000001, 'late'); COMMIT`)
	if got := readRows(t, ctx, db.Pool, `SELECT count(*)::text FROM code_deferred WHERE code_id = 4000000000`); got[0] != "1" {
		t.Errorf("deferred reference beyond integer: %v rows", got)
	}
}

// TestShapeCompositeSecondColumn targets pair.b, the second column of a
// composite primary key, referenced with MATCH FULL and ON UPDATE CASCADE:
// only pair.b and pair_ref.pb widen; the writer moves keys (the cascade
// follows) at both ends of integer.
func TestShapeCompositeSecondColumn(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, edgesSchema)
	// pair_ref rows are compared through the note of the pair they
	// reference: the cascade changes their pb with the pair's b.
	tables := []shapeTable{
		{name: "pair", rows: `SELECT note, concat_ws('|', a, b) FROM pair`},
		{name: "pair_ref", rows: `SELECT r.note, coalesce(p.note, 'none') FROM pair_ref r LEFT JOIN pair p ON (p.a, p.b) = (r.pa, r.pb)`},
	}
	ops := []shapeOp{
		{table: "pair", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			note, ok := w.pick("pair")
			return `UPDATE pair SET b = CASE WHEN b > 0 THEN b - 1 ELSE b + 1 END WHERE note = $1 RETURNING note, concat_ws('|', a, b)`, []any{note}, false, ok
		}},
		{table: "pair_ref", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			return `INSERT INTO pair_ref (pa, pb, note) SELECT a, b, $1 FROM pair ORDER BY random() LIMIT 1 RETURNING note, (SELECT p.note FROM pair p WHERE (p.a, p.b) = (pa, pb))`,
				[]any{w.fresh()}, false, true
		}},
	}
	target := planner.Target{Table: catalog.QName{Schema: "public", Name: "pair"}, Column: "b"}
	p := migrateUnder(t, ctx, db, target, newShapeWriter(t, ctx, db, tables, ops))
	var widened []string
	for _, tc := range p.Tables {
		for _, c := range tc.Columns {
			widened = append(widened, tc.Table.Name+"."+c.Name)
		}
	}
	if strings.Join(widened, " ") != "pair.b pair_ref.pb" {
		t.Errorf("widened %v, want pair.b and pair_ref.pb only", widened)
	}
	if typ := columnType(t, ctx, db.Pool, "pair", "a"); typ != "integer" {
		t.Errorf("pair.a is %s, want integer (not the target)", typ)
	}
	// MATCH FULL still refuses a half-NULL reference.
	if _, err := db.Pool.Exec(ctx, `INSERT INTO pair_ref (pa, pb, note) VALUES (1, NULL, 'half')`); err == nil || !strings.Contains(err.Error(), "23503") {
		t.Errorf("half-NULL reference under MATCH FULL: %v, want a foreign key violation", err)
	}
	db.Exec(t, `INSERT INTO pair (a, b, note) VALUES (7, 5000000000, 'big'); INSERT INTO pair_ref (pa, pb, note) VALUES (7, 5000000000, 'big ref')`)
	db.Exec(t, `UPDATE pair SET b = -5000000000 WHERE note = 'big'`)
	if got := readRows(t, ctx, db.Pool, `SELECT pb::text FROM pair_ref WHERE note = 'big ref'`); strings.Join(got, "") != "-5000000000" {
		t.Errorf("ON UPDATE CASCADE on the composite key beyond integer: %v", got)
	}
}
