package integration

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
)

var tenantTarget = planner.Target{Table: catalog.QName{Schema: "public", Name: "tenant"}, Column: "tenant_id"}

// TestShapePolicies migrates tenant.tenant_id, which row-level security
// policies on both tables and a rule read: the swap drops and re-creates
// them in its transaction (assertFactsAsBefore compares their definitions),
// under a writer whose updates fire the rule.
func TestShapePolicies(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, filepath.Join("testdata", "shapes", "tenants.sql"))
	const row = `note, concat_ws('|', id, tenant_id, body)`
	tables := []shapeTable{
		{name: "document", rows: `SELECT ` + row + ` FROM document`},
		{name: "moves", rows: `SELECT document_id || ' ' || count(*), string_agg(tenant_id::text, ',' ORDER BY tenant_id) FROM document_log GROUP BY document_id`},
	}
	ops := []shapeOp{
		{table: "document", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			return `INSERT INTO document (tenant_id, body, note) VALUES ($1, 'new', $2) RETURNING ` + row, []any{1 + w.rng.IntN(50), w.fresh()}, false, true
		}},
		{table: "document", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			// Same tenant: the rule's condition is false, document_log
			// stays as the model has it.
			note, ok := w.pick("document")
			return `UPDATE document SET body = body || 'x' WHERE note = $1 RETURNING ` + row, []any{note}, false, ok
		}},
		{table: "document", stmt: func(w *shapeWriter) (string, []any, bool, bool) {
			note, ok := w.pick("document")
			return `DELETE FROM document WHERE note = $1 RETURNING note`, []any{note}, true, ok
		}},
	}
	p := buildPlan(t, ctx, db, tenantTarget)
	var policies []string
	for _, f := range p.Warnings {
		if f.Code == "policy" {
			policies = append(policies, f.Object)
		}
	}
	if len(policies) != 3 {
		t.Errorf("policy warnings: %v, want the three policies", policies)
	}
	migrateUnder(t, ctx, db, tenantTarget, newShapeWriter(t, ctx, db, tables, ops))
	// The rule reads the live column: a move between tenants is logged.
	db.Exec(t, `UPDATE document SET tenant_id = 3 - tenant_id % 2 WHERE id = (SELECT min(id) FROM document)`)
	if got := readRows(t, ctx, db.Pool, `SELECT count(*)::text FROM document_log`); got[0] != "1" {
		t.Errorf("document_log has %s rows after one move, want 1", got[0])
	}
}

// TestShapeGeneratedColumnRefused plans a key that a stored generated
// column reads: prepare must refuse with the exact fix and change nothing.
func TestShapeGeneratedColumnRefused(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, filepath.Join("testdata", "shapes", "tenants.sql"))
	db.Exec(t, `ALTER TABLE document ADD COLUMN tenant_key text GENERATED ALWAYS AS ('t-' || tenant_id) STORED`)
	before := schemaFacts(t, ctx, db.Pool)
	e := newEngine(t, db, engineConfig(), noHooks)
	err := e.m.Prepare(ctx, tenantTarget)
	var be *migrator.BlockerError
	if !errors.As(err, &be) || len(be.Blockers) != 1 || be.Blockers[0].Code != "generated-dep" ||
		!strings.Contains(be.Blockers[0].Fix, `ALTER TABLE "public"."document" ALTER COLUMN "tenant_key" DROP EXPRESSION`) {
		t.Fatalf("prepare = %v, want one generated-dep blocker naming ALTER COLUMN tenant_key DROP EXPRESSION", err)
	}
	if after := schemaFacts(t, ctx, db.Pool); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("a refused prepare changed the schema:\n%s", firstDiff(joinLines(before), joinLines(after)))
	}
}
