package integration

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgwiden/pgwiden/integration/pgtest"
)

// TestPlanFixturesPG15 is TestPlanFixtures for the scenarios of
// testdata/plans-pg15, which need PostgreSQL 15 (publication column lists
// and row filters): their golden plans come from a 15+ catalog, and an
// older server cannot even load their schema.
func TestPlanFixturesPG15(t *testing.T) {
	if v := pgtest.Version(); v < 150000 {
		t.Skipf("PostgreSQL %d: the scenarios of testdata/plans-pg15 need 15 or later", v)
	}
	schemas, _ := filepath.Glob("testdata/plans-pg15/*.sql")
	if len(schemas) == 0 {
		t.Fatal("no scenarios in testdata/plans-pg15")
	}
	for _, path := range schemas {
		name := strings.TrimSuffix(filepath.Base(path), ".sql")
		t.Run(name, func(t *testing.T) {
			db := newDBWith(t, path)
			snap := mustLoad(t, pgtest.Context(t), db.Pool)
			golden := filepath.Join("..", "planner", "testdata", name+".txtar")
			if *updateFixtures {
				writeFixture(t, golden, snap, scenarioTarget(t, path))
				return
			}
			comparePlan(t, golden, snap, scenarioTarget(t, path))
		})
	}
}

// TestColumnMetadataPG15 runs the migration of each plans-pg15 scenario to
// its end, and again up to a rollback after the cutover: what hangs on
// the closure columns, partitions' own included, and the publications'
// column lists and row filters must then be as before prepare.
func TestColumnMetadataPG15(t *testing.T) {
	if v := pgtest.Version(); v < 150000 {
		t.Skipf("PostgreSQL %d: the scenarios of testdata/plans-pg15 need 15 or later", v)
	}
	schemas, _ := filepath.Glob("testdata/plans-pg15/*.sql")
	for _, path := range schemas {
		for _, last := range []string{"cleanup", "rollback"} {
			t.Run(strings.TrimSuffix(filepath.Base(path), ".sql")+"/"+last, func(t *testing.T) {
				t.Parallel()
				ctx := pgtest.Context(t)
				db := newDBWith(t, path)
				target := scenarioTarget(t, path)
				before := columnMetaState(t, ctx, db)
				e := newEngine(t, db, engineConfig(), noHooks)
				for _, ph := range []string{"prepare", "backfill", "cutover", last} {
					if err := phaseOn(ctx, e, target, ph); err != nil {
						t.Fatalf("%s: %v", ph, err)
					}
				}
				if after := columnMetaState(t, ctx, db); after != before {
					t.Errorf("column metadata after %s differs from before prepare:\n%s", last, firstDiff(before, after))
				}
				assertNoPgwidenObjects(t, ctx, db)
			})
		}
	}
}
