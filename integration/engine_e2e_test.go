package integration

import (
	"slices"
	"testing"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/state"
)

// TestEngineEndToEnd runs prepare → backfill → cutover → cleanup through
// the migrator on the SaaS schema and checks what a DBA would check: every
// closure column is bigint; constraints, indexes, the view and the
// triggers are as before apart from the type; the serial, the identity and
// every child take values beyond int4; nothing of pgwiden is left on the
// tables; the keys hold the same values.
func TestEngineEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	before := schemaDump(t, db)
	p := saasPlan(t, ctx, db)
	sums := keyChecksums(t, ctx, db, p)
	// Parents first; the composite FK pulls in tag_id but not tenant_id.
	want := []string{"public.Tags.Id", "public.events.tag_id", "public.tag_assignments.tag_id",
		"public.tag_details.TagId", "public.tag_stats.tag_id", "public.tag_stat_snapshots.tag_id"}
	var closure []string
	for _, tc := range p.Tables {
		for _, c := range tc.Columns {
			closure = append(closure, tc.Table.String()+"."+c.Name)
		}
	}
	if !slices.Equal(closure, want) {
		t.Fatalf("closure = %v, want %v", closure, want)
	}

	e := newEngine(t, db, engineConfig(), noHooks)
	e.run(t, ctx, "prepare", "backfill", "cutover", "cleanup")
	e.wantPhase(t, ctx, state.PhaseDone)

	assertWidened(t, ctx, db, p)
	assertSchemaAsBefore(t, p, before, schemaDump(t, db))
	assertNoPgwidenObjects(t, ctx, db)
	assertUnchanged(t, "by the migration", sums, keyChecksums(t, ctx, db, p))
	assertTakesWideValues(t, db)
}

// assertTakesWideValues inserts values beyond int4 everywhere: the serial
// by its default after setval, the identity by its default after setval,
// each child with a key of the new parent row.
func assertTakesWideValues(t *testing.T, db *pgtest.DB) {
	t.Helper()
	db.Exec(t, `
SELECT setval(pg_get_serial_sequence('"Tags"', 'Id'), 3000000000);
INSERT INTO "Tags" (tenant_id, name) VALUES (1, 'wide');
SELECT setval(pg_get_serial_sequence('tag_details', 'TagId'), 3000000001, false);
INSERT INTO tag_details (description) VALUES ('wide, by the identity');
INSERT INTO tag_stats (tag_id, uses) VALUES (3000000001, 1);
INSERT INTO tag_stat_snapshots (tag_id, uses) VALUES (3000000001, 1);
INSERT INTO tag_assignments (tenant_id, tag_id, item_id) VALUES (1, 3000000001, 1);
INSERT INTO events (created_at, tag_id) VALUES ('2025-06-01', 3000000001), ('2026-06-01', 3000000001);
UPDATE "Tags" SET name = 'wide, updated' WHERE "Id" = 3000000001;`)
	var n int
	err := db.Pool.QueryRow(pgtest.Context(t), `SELECT (SELECT count(*) FROM "Tags" WHERE "Id" = 3000000001 AND name = 'wide, updated')
		+ (SELECT count(*) FROM tag_details WHERE "TagId" = 3000000001)
		+ (SELECT count(*) FROM tag_stat_snapshots s JOIN tag_stats USING (tag_id) WHERE s.tag_id = 3000000001)
		+ (SELECT count(*) FROM tag_assignments WHERE tag_id = 3000000001)
		+ (SELECT count(*) FROM events WHERE tag_id = 3000000001)
		+ (SELECT count(*) FROM tag_usage WHERE "Id" = 3000000001 AND assignments = 1)`).Scan(&n)
	if err != nil || n != 7 {
		t.Errorf("rows with key 3000000001: %d (err %v), want 7", n, err)
	}
}
