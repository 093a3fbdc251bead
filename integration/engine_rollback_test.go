package integration

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/state"
)

// errStopBeforeSwap stops a cutover after its index and constraint builds.
var errStopBeforeSwap = errors.New("stopped by the test before the swap")

// TestEngineRollback rolls back from every point a rollback may start:
// after prepare, after backfill, during the cutover once the new indexes
// and constraints exist but before the swap, and after the swap (which is
// swapped back, with rows written through the new columns meanwhile).
// Each time pg_dump --schema-only, without schema pgwiden, must be
// byte-identical to the dump taken before prepare, nothing of pgwiden may
// remain on the tables, and the keys must hold the same values.
func TestEngineRollback(t *testing.T) {
	for _, tc := range []struct {
		name   string
		phases []string
		after  func(t *testing.T, ctx context.Context, db *pgtest.DB)
	}{
		{name: "after prepare", phases: []string{"prepare"}},
		{name: "after backfill", phases: []string{"prepare", "backfill"}},
		{name: "before the swap", phases: []string{"prepare", "backfill", "cutover"}, after: wantCopiesBuilt},
		{name: "after cutover", phases: []string{"prepare", "backfill", "cutover"}, after: writeAfterCutover},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := pgtest.Context(t)
			db := newDBWith(t, saasSchema)
			before := schemaDump(t, db)
			p := saasPlan(t, ctx, db)
			hooks := noHooks
			if tc.name == "before the swap" {
				hooks.BeforeSwap = func(context.Context) error { return errStopBeforeSwap }
			}
			e := newEngine(t, db, engineConfig(), hooks)
			for _, ph := range tc.phases {
				if err := e.phase(ctx, ph); err != nil && !errors.Is(err, errStopBeforeSwap) {
					t.Fatalf("%s: %v", ph, err)
				}
			}
			if tc.after != nil {
				tc.after(t, ctx, db)
			}
			sums := keyChecksums(t, ctx, db, p)
			e.run(t, ctx, "rollback")
			e.wantPhase(t, ctx, state.PhaseRolledBack)
			if after := schemaDump(t, db); after != before {
				t.Errorf("schema after rollback differs from before prepare:\n%s", firstDiff(before, after))
			}
			assertNoPgwidenObjects(t, ctx, db)
			assertUnchanged(t, "by the rollback", sums, keyChecksums(t, ctx, db, p))
		})
	}
}

// wantCopiesBuilt checks that the stopped cutover got as far as the swap:
// the copies of the key's indexes and constraints exist and are valid.
func wantCopiesBuilt(t *testing.T, ctx context.Context, db *pgtest.DB) {
	t.Helper()
	var n int
	err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_index WHERE indisvalid
		AND indexrelid::regclass::text IN ('"Tags_pkey_pgwiden_new"', 'events_2025_tag_id_idx_pgwiden_new'))
		+ (SELECT count(*) FROM pg_constraint WHERE convalidated AND conname = 'tag_stat_snapshots_tag_id_fkey_pgwiden_new')`).Scan(&n)
	if err != nil || n != 3 {
		t.Fatalf("before the swap: %d of 3 index and constraint copies found valid (err %v)", n, err)
	}
}

// writeAfterCutover writes through the swapped columns, within int4, as
// an application would while the operator decides to roll back.
func writeAfterCutover(t *testing.T, ctx context.Context, db *pgtest.DB) {
	t.Helper()
	db.Exec(t, `
INSERT INTO "Tags" (tenant_id, name) VALUES (2, 'after cutover');
INSERT INTO tag_stats (tag_id, uses) SELECT "Id", 1 FROM "Tags" WHERE name = 'after cutover';
INSERT INTO tag_stat_snapshots (tag_id, uses) SELECT "Id", 1 FROM "Tags" WHERE name = 'after cutover';
INSERT INTO tag_assignments (tenant_id, tag_id, item_id) SELECT tenant_id, "Id", 3 FROM "Tags" WHERE name = 'after cutover';
INSERT INTO tag_details (description) VALUES ('by the identity, after cutover');
INSERT INTO events (created_at, tag_id) SELECT '2026-02-02', "Id" FROM "Tags" WHERE name = 'after cutover';
UPDATE tag_assignments SET tag_id = 2, tenant_id = 3, item_id = 99 WHERE id = 1;
UPDATE events SET tag_id = 5, created_at = '2025-12-31' WHERE id = 1;
DELETE FROM tag_stat_snapshots WHERE id = 2;`)
}

// TestEngineRollbackRefusesWideValues: after the cutover a key beyond
// int4 is stored, which the old column cannot hold. The rollback refuses,
// naming the values beyond the old range; the tables stay usable, and the
// migration can still go forward with cleanup, as the error says.
func TestEngineRollbackRefusesWideValues(t *testing.T) {
	t.Parallel()
	ctx := pgtest.Context(t)
	db := newDBWith(t, saasSchema)
	before := schemaDump(t, db)
	e := newEngine(t, db, engineConfig(), noHooks)
	e.run(t, ctx, "prepare", "backfill", "cutover")
	db.Exec(t, `INSERT INTO "Tags" ("Id", tenant_id, name) VALUES (3000000000, 1, 'wide');
		INSERT INTO events (created_at, tag_id) VALUES ('2026-01-01', 3000000000)`)

	err := e.phase(ctx, "rollback")
	if err == nil || !strings.Contains(err.Error(), "beyond the old column's range") || !strings.Contains(err.Error(), "1 row(s) of public.Tags") {
		t.Fatalf("rollback = %v, want a refusal naming the row of public.Tags beyond the old range", err)
	}
	t.Logf("rollback: %v", err)
	if typ := columnType(t, ctx, db.Pool, `"Tags"`, "Id"); typ != "bigint" {
		t.Errorf(`"Tags"."Id" is %s after the refused rollback, want bigint`, typ)
	}
	db.Exec(t, `INSERT INTO "Tags" ("Id", tenant_id, name) VALUES (3000000001, 2, 'wide too');
		UPDATE "Tags" SET name = 'still wide' WHERE "Id" = 3000000000;
		SELECT count(*) FROM tag_usage WHERE "Id" > 2147483647`)
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM "Tags" WHERE "Id" > 2147483647`).Scan(&n); err != nil || n != 2 {
		t.Errorf("rows beyond int4 after the refused rollback: %d (err %v), want 2", n, err)
	}

	// "the migration can only go forward (pgwiden cleanup)"
	e.run(t, ctx, "cleanup")
	e.wantPhase(t, ctx, state.PhaseDone)
	assertSchemaAsBefore(t, e.job(t, ctx).Plan, before, schemaDump(t, db))
	assertNoPgwidenObjects(t, ctx, db)
}
