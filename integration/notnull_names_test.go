package integration

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/catalog"
	"github.com/pgwiden/pgwiden/integration/pgtest"
	"github.com/pgwiden/pgwiden/migrator"
	"github.com/pgwiden/pgwiden/planner"
)

// notNullSchema keys its NOT NULL columns in every way that names the
// constraint differently on PostgreSQL 18; see its header. It is also the
// scenario of the golden plan planner/testdata/pg18-not-null-names.txtar.
var notNullSchema = filepath.Join("testdata", "plans", "pg18-not-null-names.sql")

// notNullRows gives every table of notNullSchema several batches of rows.
const notNullRows = `INSERT INTO "Weird Table" (name) SELECT 'n' || g FROM generate_series(1, 120) g;
INSERT INTO item_revisions (tag_id, body) SELECT 1 + g % 120, 'b' FROM generate_series(1, 300) g;
INSERT INTO events (created_at, tag_id) SELECT date '2025-03-01' + g, 1 + g % 120 FROM generate_series(1, 400) g;
INSERT INTO nullable_refs (tag_id) SELECT CASE WHEN g % 3 <> 0 THEN g END FROM generate_series(1, 100) g;`

var notNullTarget = planner.Target{Table: catalog.QName{Schema: "public", Name: "Weird Table"}, Column: "Id"}

// constraintsQuery lists every constraint of schema public as a DBA would
// compare them: table, name, kind and columns, read from pg_constraint
// (the server packages of the version matrix have no pg_dump).
const constraintsQuery = `
SELECT format('%s %I %s (%s)', c.conrelid::regclass, c.conname, c.contype,
       (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.n)
        FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum))
FROM pg_constraint c
WHERE c.connamespace = 'public'::regnamespace
ORDER BY 1`

// TestNotNullConstraintNames checks that every constraint has the same
// name, kind and columns after a full migration (prepare, backfill,
// cutover, cleanup) and after a rollback from after the cutover (the swap
// back) as before prepare. On PostgreSQL 18 the list includes the NOT NULL
// constraints (contype n), which the swap must carry over by name; before
// 18 there are none, and the rest of the list must still match.
func TestNotNullConstraintNames(t *testing.T) {
	for _, tc := range []struct {
		name   string
		phases []string
	}{
		{"full migration", []string{"prepare", "backfill", "cutover", "cleanup"}},
		{"rollback after cutover", []string{"prepare", "backfill", "cutover", "rollback"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := pgtest.Context(t)
			db := newDBWith(t, notNullSchema)
			db.Exec(t, notNullRows)
			before := readRows(t, ctx, db.Pool, constraintsQuery)
			wantNotNullConstraints(t, before)
			e := newEngine(t, db, engineConfig(), noHooks)
			for _, ph := range tc.phases {
				if err := notNullPhase(ctx, e.m, ph); err != nil {
					t.Fatalf("%s: %v", ph, err)
				}
			}
			after := readRows(t, ctx, db.Pool, constraintsQuery)
			if !slices.Equal(before, after) {
				t.Errorf("constraints after %s differ:\n before:\n  %s\n after:\n  %s", tc.name,
					strings.Join(before, "\n  "), strings.Join(after, "\n  "))
			}
			assertNoPgwidenObjects(t, ctx, db)
			if tc.phases[len(tc.phases)-1] == "cleanup" {
				if typ := columnType(t, ctx, db.Pool, `"item_revisions"`, "tag_id"); typ != "bigint" {
					t.Errorf("item_revisions.tag_id is %s after cleanup", typ)
				}
			}
		})
	}
}

// wantNotNullConstraints makes sure the comparison covers what it is for:
// on 18 the named NOT NULL constraints, the chosen name included; before
// 18, none.
func wantNotNullConstraints(t *testing.T, cons []string) {
	t.Helper()
	var nn []string
	for _, c := range cons {
		if strings.Contains(c, " n (") {
			nn = append(nn, c)
		}
	}
	if pgtest.Version() < 180000 {
		if len(nn) > 0 {
			t.Fatalf("NOT NULL constraints in pg_constraint before PostgreSQL 18: %q", nn)
		}
		return
	}
	for _, want := range []string{
		`item_revisions "custom tag nn" n (tag_id)`,
		`"Weird Table" "Weird Table_Id_not_null" n ("Id")`,
		`events_2025 events_tag_id_not_null n (tag_id)`,
	} {
		if !slices.Contains(nn, want) {
			t.Errorf("no %s among the NOT NULL constraints:\n  %s", want, strings.Join(nn, "\n  "))
		}
	}
}

// notNullPhase runs one engine phase on notNullTarget.
func notNullPhase(ctx context.Context, m *migrator.Migrator, name string) error {
	run := map[string]func(context.Context, planner.Target) error{
		"prepare": m.Prepare, "backfill": m.Backfill, "cutover": m.Cutover,
		"cleanup": m.Cleanup, "rollback": m.Rollback,
	}[name]
	return run(ctx, notNullTarget)
}
